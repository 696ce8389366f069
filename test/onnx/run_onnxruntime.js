// Runs an ONNX model in ONNX Runtime (the npm package onnxruntime-node, CPU):
//   node run_onnxruntime.js MODEL.onnx INPUT.json
// INPUT.json: {"dtype": "float32" | "float64", "rows": R, "cols": C, "x": [...]}
// (row-major). Prints {"dims": [...], "output": [...]} as JSON. Exits with
// status 77 (skipped) when onnxruntime-node is not installed.
"use strict";
const fs = require("fs");

let ort;
try {
  ort = require("onnxruntime-node");
} catch (e) {
  console.log("skipped: onnxruntime-node is not installed (npm install --ignore-scripts, in test/onnx): " +
              e.message.split("\n")[0]);
  process.exit(77);
}

async function main() {
  const [model, inputPath] = process.argv.slice(2);
  const input = JSON.parse(fs.readFileSync(inputPath, "utf8"));
  const Values = input.dtype === "float64" ? Float64Array : Float32Array;
  const x = new ort.Tensor(input.dtype, Values.from(input.x), [input.rows, input.cols]);
  const session = await ort.InferenceSession.create(model, {graphOptimizationLevel: process.env.ORT_LEVEL || "all"});
  const result = await session.run({input: x});
  const y = result.output;
  console.log(JSON.stringify({dims: y.dims, output: Array.from(y.data)}));
}

main().catch((e) => {
  console.error(`${process.argv[2]}: ${e.message}`);
  process.exit(1);
});
