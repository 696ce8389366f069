"""typenet's ONNX export against ONNX's own checker (Debian: python3-onnx).

Usage: check_model.py PROBE (test/onnx/onnx_probe.cpp, built by meson).

Each exported model passes onnx.checker.check_model with full_check (which
runs strict shape inference too); imports operator set 17 or later of the
default domain only; has the input "input" and the output "output" of shape
[batch, features] with the batch dimension symbolic, of the model's type;
inference gives the output that shape; and its metadata names the network.
Skipped (exit status 77) without the onnx package.
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_check import SKIP, run_probe  # noqa: E402 (the shared probe runner, no torch needed)


def shape_of(value):
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in value.type.tensor_type.shape.dim]


def main():
    try:
        import onnx  # noqa: PLC0415 (a missing onnx is a skip, not a crash)
    except ImportError:
        onnx = None
    # Without the package, test/onnx/ itself (test/ is on the path) is found
    # as a namespace package, which has no __file__.
    if getattr(onnx, "__file__", None) is None:
        print(f"skipped: the onnx package is not installed for {sys.executable} (Debian: apt-get install python3-onnx)")
        sys.exit(SKIP)
    failures = []
    with tempfile.TemporaryDirectory() as directory:
        results = run_probe(sys.argv[1], directory)
        for label, r in results.items():
            path = os.path.join(directory, f"{label}.onnx")
            model = onnx.load(path)
            try:
                onnx.checker.check_model(model, full_check=True)
            except onnx.checker.ValidationError as e:
                failures.append(f"{label}: {e}")
                continue
            opsets = {o.domain: o.version for o in model.opset_import}
            if set(opsets) != {""} or opsets[""] < 17:
                failures.append(f"{label}: imports operator sets {opsets}, expected the default one at 17 or later")
            elem = onnx.TensorProto.FLOAT if r["dtype"] == "float32" else onnx.TensorProto.DOUBLE
            for value, name, width in ((model.graph.input, "input", r["cols"]), (model.graph.output, "output", r["outputs"])):
                if len(value) != 1 or value[0].name != name:
                    failures.append(f"{label}: its graph's {name}s are {[v.name for v in value]}")
                    continue
                if shape_of(value[0]) != ["batch", width] or value[0].type.tensor_type.elem_type != elem:
                    failures.append(f"{label}: {name} is {shape_of(value[0])} of type {value[0].type.tensor_type.elem_type}")
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
            out = [v for v in inferred.graph.output if v.name == "output"]
            if not out or shape_of(out[0]) != ["batch", r["outputs"]]:
                failures.append(f"{label}: inference gives the output {shape_of(out[0]) if out else 'no shape'}")
            metadata = {p.key: p.value for p in model.metadata_props}
            if metadata.get("typenet_network") != r["network"]:
                failures.append(f"{label}: its metadata names {metadata.get('typenet_network')!r}")
            print(f"{label}: {len(model.graph.node)} nodes, operators "
                  f"{', '.join(sorted({n.op_type for n in model.graph.node}))}")
    if failures:
        print(f"{len(failures)} problems:")
        for f in failures:
            print("  " + f)
        sys.exit(1)
    print(f"{len(results)} models pass onnx.checker (onnx {onnx.__version__})")


if __name__ == "__main__":
    main()
