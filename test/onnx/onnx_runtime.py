"""typenet's ONNX export run in ONNX Runtime, against typenet's own outputs.

Usage: onnx_runtime.py PROBE (test/onnx/onnx_probe.cpp, built by meson).

ONNX Runtime is the npm package onnxruntime-node (its CPU library), run by
node (test/onnx/run_onnxruntime.js); install it with
`npm install --ignore-scripts` in test/onnx. Each model's outputs on the
probe's inputs agree with typenet's evaluation outputs within 1e-5 of
max(1, |value|) in float and 1e-12 in double.

Two things of ONNX Runtime's CPU provider (1.30), in double only: it has no
double Erf (the probe exports no GELU network in double), and its "extended"
graph optimisations fuse x * sigmoid(x) (SiLU) into a com.microsoft
QuickGelu that has only a float kernel; double models therefore run with the
"basic" optimisations. Float models run with all of them, as by default.
Skipped (exit status 77), saying why, without node or onnxruntime-node.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_check import SKIP, Comparison, run_probe  # noqa: E402 (the shared helpers, no torch needed)

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_onnxruntime.js")


def main():
    node = shutil.which("node")
    if node is None:
        print("skipped: node is not installed (Debian: apt-get install nodejs)")
        sys.exit(SKIP)
    check = Comparison()
    worst = {}
    with tempfile.TemporaryDirectory() as directory:
        results = run_probe(sys.argv[1], directory)
        for label, r in results.items():
            input_path = os.path.join(directory, f"{label}_input.json")
            with open(input_path, "w", encoding="utf-8") as f:
                json.dump({"dtype": r["dtype"], "rows": r["rows"], "cols": r["cols"], "x": r["x"]}, f)
            env = dict(os.environ, ORT_LEVEL="all" if r["dtype"] == "float32" else "basic")
            done = subprocess.run([node, RUNNER, os.path.join(directory, f"{label}.onnx"), input_path],
                                  capture_output=True, text=True, check=False, env=env)
            if done.returncode == SKIP:
                print(done.stdout.strip())
                sys.exit(SKIP)
            if done.returncode != 0:
                check.failures.append(f"{label}: ONNX Runtime failed: {done.stderr.strip()}")
                continue
            ran = json.loads(done.stdout)
            if ran["dims"] != [r["rows"], r["outputs"]]:
                check.failures.append(f"{label}: ONNX Runtime's output is {ran['dims']}")
                continue
            bound = 1e-5 if r["dtype"] == "float32" else 1e-12
            theirs = ran["output"]
            check.close(f"{label} output", r["y"], theirs, 0, [bound * max(1.0, abs(v)) for v in theirs])
            worst[label] = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(r["y"], theirs))
    for label, w in worst.items():
        print(f"{label}: largest difference from ONNX Runtime, relative to max(1, |value|): {w:.2g}")
    if check.failures:
        print(f"{len(check.failures)} mismatches with ONNX Runtime:")
        for f in check.failures:
            print("  " + f)
        sys.exit(1)
    print(f"{check.checked} values agree with ONNX Runtime")


if __name__ == "__main__":
    main()
