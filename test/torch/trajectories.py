"""200 training steps of every optimizer, typenet against PyTorch itself.

Usage: trajectories.py PROBE (test/torch/trajectories_probe.cpp, built by meson).

The probe trains four small networks (plain, BatchNorm, LayerNorm, RMSNorm;
tanh and GELU, MSE loss, batches of 16 in a fixed order) for 200 steps with
SGD (plain, momentum, Nesterov, weight decay), Adam, AdamW, RMSprop and
Adagrad, in float and in double, each from initial values it saved as
safetensors. Here each network is built from that file (typenet_torch.load)
and trained by torch.optim on the same batches in the same order. Compared:
the loss at every step, and after the last step every parameter, the
running statistics and num_batches_tracked (typenet's count of train-mode
forwards). Bounds: relative 1e-4 in float and 1e-10 in double, of the loss
and, for a tensor, of its largest value.

Float rounding compounds over 200 steps, in PyTorch as in typenet: each
float case is therefore also run in PyTorch from initial values perturbed
by a relative 6e-8 (a rounding), and must stay within a tenth of the bound
of the unperturbed run. That premise holds for the learning rates the
probe uses; it fails, for PyTorch against itself, with Adam at 0.01 on the
BatchNorm network (about 1e-3 after 200 steps): no implementation could be
compared at 1e-4 there.

PyTorch 1.13 has no nn.RMSNorm: typenet_torch's RMSNorm module is its
definition, x / sqrt(mean(x^2) + eps) * weight (eps the machine epsilon of
the dtype when none is given), written in torch operations.

typenet's Linear before BatchNorm has no bias (BatchNorm cancels it);
PyTorch's nn.Linear there has one, zero from the file, whose exact gradient
is zero but whose computed gradient is rounding noise, which Adam's and
RMSprop's normalised steps would turn into steps of the size of the
learning rate. So that both train the same network, that bias is frozen
here (requires_grad False); docs/interop.md says so.
"""

import os
import sys
import tempfile

from torch_check import Comparison, import_torch, run_probe


def freeze_cancelled_biases(torch, net):
    for i, m in enumerate(net):
        if isinstance(m, torch.nn.BatchNorm1d) and net[i - 1].bias is not None:
            net[i - 1].bias.requires_grad_(False)


def train(torch, net, case, x, y, batch, steps):
    """The case's steps in PyTorch; the loss of each."""
    freeze_cancelled_biases(torch, net)
    opt = getattr(torch.optim, case["optimizer"])([p for p in net.parameters() if p.requires_grad],
                                                   foreach=False, **case["options"])
    groups = x.shape[0] // batch
    losses = []
    net.train()
    for k in range(steps):
        first = batch * (k % groups)
        loss = torch.nn.functional.mse_loss(net(x[first:first + batch]), y[first:first + batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def main():
    torch = import_torch()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python"))
    import typenet_torch as tt  # noqa: PLC0415 (after torch: it imports torch itself)

    check = Comparison()
    worst, sensitivity = {}, {}
    with tempfile.TemporaryDirectory() as directory:
        results = run_probe(sys.argv[1], directory)
        data = tt.read_tensors(os.path.join(directory, "data.safetensors"))[0]
        batch = results["batch"]
        for case in results["cases"]:
            dtype = getattr(torch, case["dtype"])
            rtol = 1e-4 if dtype == torch.float32 else 1e-10
            label = f"{case['network']} {case['case']} {case['dtype']}"
            net = tt.load(os.path.join(directory, f"{case['network']}_{case['dtype']}_initial.safetensors"))
            if next(net.parameters()).dtype != dtype:
                check.failures.append(f"{label}: the initial file is not {dtype}")
                continue
            x, y = data["x"].to(dtype), data["y"].to(dtype)
            losses = train(torch, net, case, x, y, batch, results["steps"])
            ours = case["losses"]
            check.close(f"{label} losses", ours, losses, rtol, 0)
            difference = max(abs(a - b) / abs(b) for a, b in zip(ours, losses))
            final = tt.read_tensors(os.path.join(directory, f"{case['network']}_{case['dtype']}_{case['case']}"
                                                            "_final.safetensors"))[0]
            state = net.state_dict()
            if set(final) != set(state):
                check.failures.append(f"{label}: typenet saved {sorted(final)}, PyTorch has {sorted(state)}")
                continue
            for key, theirs in state.items():
                if key.endswith("num_batches_tracked"):
                    check.close(f"{label} {key}", final[key].flatten().tolist(), theirs, 0, 0)
                    continue
                scale = float(theirs.abs().max())
                check.close(f"{label} final {key}", final[key].flatten().tolist(), theirs.detach(), 0, rtol * scale)
                if scale > 0:
                    difference = max(difference, float((final[key] - theirs).abs().max()) / scale)
            group = (case["network"], case["dtype"])
            worst[group] = max(worst.get(group, 0.0), difference)
            if dtype == torch.float32:
                # The premise: the case is well-conditioned enough for the bound.
                twin = tt.load(os.path.join(directory, f"{case['network']}_{case['dtype']}_initial.safetensors"))
                generator = torch.Generator().manual_seed(1)
                with torch.no_grad():
                    for p in twin.parameters():
                        p.mul_(1 + 6e-8 * torch.randn(p.shape, generator=generator, dtype=p.dtype))
                twin_losses = train(torch, twin, case, x, y, batch, results["steps"])
                own = max(abs(a - b) / abs(b) for a, b in zip(twin_losses, losses))
                sensitivity[group] = max(sensitivity.get(group, 0.0), own)
                if own > rtol / 10:
                    check.failures.append(f"{label}: PyTorch from initial values a rounding (6e-8) away differs from "
                                          f"itself by {own:.2g}: the case is too sensitive to compare at {rtol}")
    for (network, dtype), difference in worst.items():
        own = f"; PyTorch against itself a rounding away: {sensitivity[network, dtype]:.2g}" if dtype == "float32" else ""
        print(f"{network} {dtype}: largest relative difference over the 8 optimizers (losses, final values): "
              f"{difference:.2g}{own}")
    check.finish()


if __name__ == "__main__":
    main()
