"""Models between PyTorch and typenet through safetensors, and Dropout, against PyTorch itself.

Usage: interop.py PROBE (test/torch/interop_probe.cpp, built by meson).

- Import: three networks that between them have every layer and activation
  typenet has are built in PyTorch from their typenet type names
  (typenet_torch.build), trained for 20 steps in PyTorch (so that
  BatchNorm's running statistics and every value move; the biases of the
  nn.Linear before BatchNorm stay non-zero, so the import folds them), saved
  with typenet_torch.save and loaded by the probe into the same types. In
  evaluation both give the same outputs on the same inputs, within 1e-5 (of
  max(1, |value|)) in float.
- Export: the probe trains the same networks a little in typenet and saves
  them; typenet_torch.load builds them in PyTorch, which gives typenet's
  outputs, within the same bound.
- typenet_torch.save through a name map, for a module that is not an
  nn.Sequential (an activation applied as a function), read by typenet
  with SafetensorsNames; and what save and load refuse.
- Dropout: its random stream is typenet's own, so its semantics are compared
  statistically with nn.Dropout's: in training, the share of zeros is p
  (within 5 standard deviations, in each step, each column, and against
  PyTorch's share), the survivors are scaled to 1/(1-p) exactly as
  PyTorch's, the mean stays 1, the mask differs between steps and is
  independent between neighbours, and the input gradient is the mask scaled
  as the output; in evaluation it is the identity, as PyTorch's.
"""

import math
import os
import sys
import tempfile

from torch_check import Comparison, import_torch, run_probe


def float_bound(values):
    return [1e-5 * max(1.0, abs(v)) for v in values]


def worst_difference(ours, theirs):
    return max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(ours, theirs))


def check_import(torch, tt, check, probe, networks, directory):
    report = {}
    expected = {}
    for k, (label, network) in enumerate(networks.items()):
        torch.manual_seed(10 + k)
        net = tt.build(network)
        width = net[0].in_features
        out = [m for m in net if isinstance(m, torch.nn.Linear)][-1].out_features
        x = torch.randn(32, width) * 1.5 + 0.5
        target = torch.rand(32, out)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        net.train()
        for _ in range(20):
            opt.zero_grad()
            torch.nn.functional.mse_loss(net(x), target).backward()
            opt.step()
        net.eval()
        for i, m in enumerate(net):
            if isinstance(m, torch.nn.BatchNorm1d):
                if float((m.running_var - 1).abs().max()) < 0.05 or float(m.running_mean.abs().max()) < 0.05:
                    check.failures.append(f"import {label}: BatchNorm {i}'s running statistics barely moved")
                if net[i - 1].bias is not None and float(net[i - 1].bias.abs().max()) == 0:
                    check.failures.append(f"import {label}: the bias before BatchNorm {i} is zero: no fold to test")
        inputs = torch.randn(13, width)
        tt.write_tensors(os.path.join(directory, f"{label}_input.safetensors"), {"x": inputs})
        tt.save(net, os.path.join(directory, f"{label}.safetensors"))
        with torch.no_grad():
            expected[label] = net(inputs).flatten().tolist()
    results = run_probe(probe, "import", directory)
    for label, theirs in expected.items():
        ours = results[label]["y"]
        check.close(f"import {label} output", ours, theirs, 0, float_bound(theirs))
        report[label] = worst_difference(ours, theirs)
    return report


def check_export(torch, tt, check, probe, networks, directory):
    report = {}
    results = run_probe(probe, "export", directory)
    for label, network in networks.items():
        net = tt.load(os.path.join(directory, f"{label}.safetensors")).eval()
        x = tt.read_tensors(os.path.join(directory, f"{label}_input.safetensors"))[0]["x"]
        if results[label]["network"] != network:
            check.failures.append(f"export {label}: the probe saved {results[label]['network']}")
        with torch.no_grad():
            theirs = net(x).flatten().tolist()
        ours = results[label]["y"]
        check.close(f"export {label} output", ours, theirs, 0, float_bound(theirs))
        report[label] = worst_difference(ours, theirs)
    return report


def check_python_side(torch, tt, check, probe, directory):
    """save() through a name map, for a module that is not an nn.Sequential,
    read by typenet through SafetensorsNames; and save's and load's refusals."""
    nn = torch.nn

    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Module()
            self.net.fc1, self.net.bn1, self.net.fc2 = nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)

        def forward(self, x):
            return self.net.fc2(torch.relu(self.net.bn1(self.net.fc1(x))))

    torch.manual_seed(5)
    model = Custom()
    x = torch.randn(64, 2)
    model.train()
    for _ in range(3):
        model(x)  # running statistics away from 0 and 1
    model.eval()
    tt.save(model, os.path.join(directory, "named.safetensors"), names=["net.fc1", "net.bn1", nn.ReLU(), "net.fc2"])
    inputs = torch.randn(9, 2)
    tt.write_tensors(os.path.join(directory, "named_input.safetensors"), {"x": inputs})
    r = run_probe(probe, "import_named", directory)
    with torch.no_grad():
        theirs = model(inputs).flatten().tolist()
    check.close("import through a name map", r["y"], theirs, 0, float_bound(theirs))

    def refuses(what, call, fragment):
        try:
            call()
        except ValueError as e:
            if fragment not in str(e):
                check.failures.append(f"{what}: {e}")
        else:
            check.failures.append(f"{what}: no ValueError")
        check.checked += 1

    refuses("save of a Conv1d", lambda: tt.save(nn.Sequential(nn.Linear(2, 2), nn.Conv1d(1, 1, 1)),
                                                os.path.join(directory, "x.safetensors")), "typenet has no such layer")
    refuses("save of GELU(tanh)", lambda: tt.save(nn.Sequential(nn.Linear(2, 2), nn.GELU(approximate="tanh")),
                                                  os.path.join(directory, "x.safetensors")), "exact (erf) form")
    refuses("save of a module without names", lambda: tt.save(model, os.path.join(directory, "x.safetensors")),
            "needs names=")
    refuses("load without metadata", lambda: tt.load(os.path.join(directory, "named_input.safetensors")),
            "names no typenet network")


def share(values):
    return sum(1 for v in values if v == 0.0) / len(values)


def check_dropout(torch, check, probe):
    r = run_probe(probe, "dropout")
    p, rows, width = r["probability"], r["rows"], r["width"]
    n = rows * width

    def within(what, value, expected, samples, variance):
        sigma = math.sqrt(variance / samples)
        if abs(value - expected) > 5 * sigma:
            check.failures.append(f"dropout {what}: {value:.5f}, expected {expected:.5f} within 5 x {sigma:.5f}")
        check.checked += 1

    layer = torch.nn.Dropout(p)
    torch.manual_seed(3)
    theirs = []
    for _ in range(3):
        x = torch.ones(rows, width, requires_grad=True)
        y = layer(x)
        y.backward(torch.ones_like(y))
        theirs.append((y.detach().flatten().tolist(), x.grad.flatten().tolist()))

    scale = {v for step in r["train"] for v in step["y"] if v != 0.0}
    torch_scale = {v for y, _ in theirs for v in y if v != 0.0}
    if scale != torch_scale:
        check.failures.append(f"dropout survivors: typenet scales them to {sorted(scale)}, PyTorch to {sorted(torch_scale)}")
    if len(scale) != 1 or abs(next(iter(scale)) - 1 / (1 - p)) > 1e-6:
        check.failures.append(f"dropout survivors: {sorted(scale)}, expected 1/(1-p) = {1 / (1 - p)}")
    for s, step in enumerate(r["train"]):
        y = step["y"]
        within(f"step {s} share of zeros", share(y), p, n, p * (1 - p))
        within(f"step {s} share of zeros against PyTorch's", share(y) - share(theirs[s][0]), 0, n, 2 * p * (1 - p))
        within(f"step {s} mean", sum(y) / n, 1.0, n, p / (1 - p))
        if step["input_gradient"] != y:
            check.failures.append(f"dropout step {s}: the input gradient is not the output's mask, scaled")
        if theirs[s][1] != theirs[s][0]:
            check.failures.append(f"dropout step {s}: PyTorch's input gradient is not its output's mask (the "
                                  "comparison's premise)")
        neighbours = sum(1 for i in range(rows) for j in range(width - 1)
                         if y[i * width + j] == 0 and y[i * width + j + 1] == 0) / (rows * (width - 1))
        within(f"step {s} neighbours both zero", neighbours, p * p, rows * (width - 1), p * p * (1 - p * p))
    both = sum(1 for a, b in zip(r["train"][0]["y"], r["train"][1]["y"]) if a == 0 and b == 0) / n
    within("zero in steps 0 and 1", both, p * p, n, p * p * (1 - p * p))
    for j in range(width):
        column = [step["y"][i * width + j] for step in r["train"] for i in range(rows)]
        within(f"column {j} share of zeros", share(column), p, len(column), p * (1 - p))
    if any(v != 1.0 for v in r["eval"]):
        check.failures.append("dropout in evaluation is not the identity")
    layer.eval()
    if not bool((layer(torch.ones(rows, width)) == 1).all()):
        check.failures.append("PyTorch's dropout in evaluation is not the identity (the comparison's premise)")


def main():
    torch = import_torch()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python"))
    import typenet_torch as tt  # noqa: PLC0415 (after torch: it imports torch itself)

    probe = sys.argv[1]
    check = Comparison()
    networks = run_probe(probe, "networks")
    with tempfile.TemporaryDirectory() as directory:
        imported = check_import(torch, tt, check, probe, networks, directory)
    with tempfile.TemporaryDirectory() as directory:
        exported = check_export(torch, tt, check, probe, networks, directory)
    with tempfile.TemporaryDirectory() as directory:
        check_python_side(torch, tt, check, probe, directory)
    check_dropout(torch, check, probe)
    for label in networks:
        print(f"{label}: largest difference of the outputs, relative to max(1, |PyTorch's|): "
              f"import {imported[label]:.2g}, export {exported[label]:.2g}")
    check.finish()


if __name__ == "__main__":
    main()
