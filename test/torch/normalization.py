"""typenet's LayerNorm and RMSNorm against PyTorch itself.

Runs test/torch/normalization_probe (typenet's forward and backward of
networks with LayerNorm and RMSNorm, every parameter named as the
torch.nn.Sequential of the same layers names it), builds that Sequential,
loads the parameters with load_state_dict, and compares the output, every
parameter gradient and the input gradient.

PyTorch 1.13 (Debian 12's) has no nn.RMSNorm (it arrived in 2.4); the
reference here is its definition, y = x / sqrt(mean(x^2) + eps) * weight, with
eps = torch.finfo(dtype).eps when none is given, written in torch operations.

Tolerances: double 1e-12 (both sides exact to rounding; they sum in other
orders); float 2e-5 of max(1, |value|) (float32 rounding through four blocks,
the same bound the GPU-vs-CPU suite uses).
"""

import sys

from torch_check import Comparison, import_torch, run_probe


def main():
    torch = import_torch()
    nn = torch.nn

    class RMSNorm(nn.Module):
        def __init__(self, width, eps):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(width))

        def forward(self, x):
            eps = torch.finfo(x.dtype).eps if self.eps is None else self.eps
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * self.weight

    def f32(v):  # a float template argument, as typenet reads it
        return float(torch.tensor(v, dtype=torch.float32))

    networks = {
        "mixed": lambda: nn.Sequential(
            nn.Linear(6, 10), nn.LayerNorm(10, eps=f32(1e-5)), nn.GELU(),
            nn.Linear(10, 8), RMSNorm(8, None), nn.Tanh(),
            nn.Linear(8, 7), nn.LayerNorm(7, eps=f32(1e-3), elementwise_affine=False), nn.ReLU(),
            nn.Linear(7, 9), RMSNorm(9, f32(1e-5)), nn.Linear(9, 3)),
        "wide": lambda: nn.Sequential(nn.Linear(20, 67), nn.LayerNorm(67, eps=f32(1e-5)), nn.ELU(), nn.Linear(67, 5)),
    }
    results = run_probe(sys.argv[1])
    check = Comparison()
    for label, r in results.items():
        name, precision = label.rsplit("_", 1)
        dtype = torch.float64 if precision == "double" else torch.float32
        rtol, atol = (1e-12, 1e-12) if precision == "double" else (2e-5, 2e-5)
        net = networks[name]().to(dtype)
        state = net.state_dict()
        loaded = {k: torch.tensor(v, dtype=dtype).reshape(state[k].shape) for k, v in r["parameters"].items()}
        missing = set(state) - set(loaded)
        if missing:
            check.failures.append(f"{label}: typenet printed no value for {sorted(missing)}")
            continue
        net.load_state_dict(loaded)
        batch = r["batch"]
        x = torch.tensor(r["x"], dtype=dtype).reshape(batch, -1).requires_grad_()
        y = net(x)
        (y * torch.tensor(r["weight"], dtype=dtype).reshape(y.shape)).sum().backward()
        check.close(f"{label} output", r["y"], y.detach(), rtol, atol)
        for k, p in net.named_parameters():
            check.close(f"{label} d/d {k}", r["gradients"][k], p.grad, rtol, atol)
        check.close(f"{label} input gradient", r["input_gradient"], x.grad, rtol, atol)
    check.finish()


if __name__ == "__main__":
    main()
