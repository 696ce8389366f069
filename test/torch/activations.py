"""typenet's SiLU, Softplus, Mish and Hardswish against torch.nn's.

    activations.py PROBE

PROBE (test/torch/activations_probe.cpp) prints typenet's values and
derivatives on a grid, in float and double, on the SIMD-vector path of the
CPU kernels and the scalar path of the GPU's. Here torch.nn.SiLU, Softplus
(beta, threshold), Mish and Hardswish run on the same grid, float in float32
and double in float64, and autograd gives their derivatives (the backward of
a sum).

Tolerances, by |x| (each side's error is a few ulps of its own formula):
  values       rtol 1e-6 in float (8 ulps: each side is within 2 to 3 ulps
               of the exact value), 1e-14 in double; atol FLT_MIN (1.2e-38)
               and 1e-300, for results below the normal range, where one side
               may give a subnormal and the other 0.
  derivatives  rtol as the values; atol 2e-7 (1 + |x|) in float and
               1e-15 (1 + |x|) in double up to |x| = 40 (the largest |x| of
               each band): the formulas add terms of order 1 that cancel near
               a zero of f' (SiLU at -2.4, Mish at -1.19) and multiply x by
               1 - sigmoid(x) or 1 - tanh^2, which each side rounds to a few
               ulps of 1 absolute; beyond |x| = 40, those terms are exactly 0
               or 1, and atol is that of the values.
  x < -87 in float, point by point: atol FLT_MIN (1 + |x|). typenet's float
               vectors clamp e^x at x = -87.3 (simd::exp_f32), so sigmoid(x)
               stays at 6e-39 below, and SiLU, SiLU' and Mish' carry
               6e-39 x where PyTorch gives 0 or a subnormal.

Differences that are documented, and checked as such:
  - Softplus in float with a threshold above 87 (Softplus(1, 100)): for
    beta x from about 87 (88.7 on PyTorch's scalar path) to the threshold,
    PyTorch's log1p(exp(beta x)) overflows to inf and its gradient is NaN;
    typenet gives log(1 + e^(beta x)) / beta and sigmoid(beta x), checked
    against the exact values (rtol 1e-6).
  - Hardswish at x = 3: PyTorch 1.13's CPU backward gives 3/2 on its scalar
    path (x <= 3, as its CUDA kernel) but 1 on its vectorised path (x >= 3),
    which takes most elements of a long tensor. typenet gives 3/2, the
    documented x/3 + 1/2 for -3 <= x <= 3; the reference there is PyTorch on
    a one-element tensor (its scalar path).
"""

import math
import sys

from torch_check import Comparison, import_torch, run_probe

FLT_MIN = 1.1754943508222875e-38
TOLERANCES = {
    # dtype: (rtol, atol of values, atol of derivatives per unit of 1 + |x| up to |x| = 40)
    "float": (1e-6, FLT_MIN, 2e-7),
    "double": (1e-14, 1e-300, 1e-15),
}
BANDS = [(0.0, 1.0), (1.0, 4.0), (4.0, 16.0), (16.0, 40.0)]  # |x| in (lo, hi], 0 included in the first


def make_module(torch, act):
    if act["module"] == "Softplus":
        return torch.nn.Softplus(beta=act["beta"], threshold=act["threshold"])
    return getattr(torch.nn, act["module"])()


def torch_values(torch, module, xs, dtype):
    """Values and autograd derivatives of module at xs, as lists."""
    x = torch.tensor(xs, dtype=dtype, requires_grad=True)
    y = module(x)
    y.backward(torch.ones_like(y))
    return y.detach().tolist(), x.grad.tolist()


def exact_softplus(x, beta):
    """log(1 + e^(beta x)) / beta and sigmoid(beta x), in double, stably."""
    z = beta * x
    value = (max(z, 0.0) + math.log1p(math.exp(-abs(z)))) / beta
    return value, 1 / (1 + math.exp(-z))


def compare(comparison, torch, dtype_name, dtype, xs, act, module):
    rtol, atol_value, atol_slope = TOLERANCES[dtype_name]
    theirs_value, theirs_derivative = torch_values(torch, module, xs, dtype)
    name = f"{dtype_name} {act['name']}"
    documented = []

    special = set()
    noted_kink = False
    for i, x in enumerate(xs):
        # Softplus in float above exp's range: PyTorch overflows.
        if act["module"] == "Softplus" and math.isinf(theirs_value[i]) and math.isfinite(x):
            special.add(i)
            value, slope = exact_softplus(x, act["beta"])
            for path in ("vector", "scalar"):
                comparison.close(f"{name} {path} value at x = {x!r} (exact; PyTorch: inf)",
                                 [act[path]["value"][i]], [value], 1e-6, 0)
                comparison.close(f"{name} {path} derivative at x = {x!r} (exact; PyTorch: {theirs_derivative[i]})",
                                 [act[path]["derivative"][i]], [slope], 1e-6, 0)
            documented.append(x)
        # Hardswish at 3: PyTorch's scalar path, not its vectorised one.
        if act["module"] == "Hardswish" and x == 3.0:
            special.add(i)
            scalar_value, scalar_derivative = torch_values(torch, module, [x], dtype)
            for path in ("vector", "scalar"):
                comparison.close(f"{name} {path} value at x = 3", [act[path]["value"][i]], scalar_value, rtol,
                                 atol_value)
                comparison.close(f"{name} {path} derivative at x = 3 (PyTorch, one element)",
                                 [act[path]["derivative"][i]], scalar_derivative, 0, 0)
            if scalar_derivative[0] != theirs_derivative[i] and not noted_kink:
                noted_kink = True
                print(f"note: {name}: PyTorch's derivative at x = 3 is {scalar_derivative[0]} on one element and "
                      f"{theirs_derivative[i]} in a tensor of {len(xs)}; typenet: {act['vector']['derivative'][i]}")
    if documented:
        print(f"note: {name}: at {len(documented)} points ({min(documented)} to {max(documented)}) PyTorch's "
              f"softplus overflows to inf (gradient NaN); typenet's matches the exact values there")

    def pick(path, quantity, indices):
        ours = [act[path][quantity][i] for i in indices]
        theirs = [(theirs_value if quantity == "value" else theirs_derivative)[i] for i in indices]
        return ours, theirs

    for lo, hi in BANDS:
        band = [i for i, x in enumerate(xs) if i not in special and (lo < abs(x) <= hi or (lo == 0 and x == 0))]
        for path in ("vector", "scalar"):
            ours, theirs = pick(path, "value", band)
            comparison.close(f"{name} {path} value, {lo} < |x| <= {hi}", ours, theirs, rtol, atol_value)
            ours, theirs = pick(path, "derivative", band)
            comparison.close(f"{name} {path} derivative, {lo} < |x| <= {hi}", ours, theirs, rtol,
                             atol_slope * (1 + hi))
    # Beyond |x| = 40, point by point.
    for i, x in enumerate(xs):
        if i in special or abs(x) <= BANDS[-1][1]:
            continue
        atol = FLT_MIN * (1 + abs(x)) if dtype_name == "float" and x < -87 else atol_value
        for path in ("vector", "scalar"):
            for quantity in ("value", "derivative"):
                ours, theirs = pick(path, quantity, [i])
                comparison.close(f"{name} {path} {quantity} at x = {x!r}", ours, theirs, rtol, atol)


def main():
    torch = import_torch()
    if len(sys.argv) != 2:
        sys.exit("usage: activations.py PROBE")
    probe = run_probe(sys.argv[1])
    comparison = Comparison()
    for dtype_name, dtype in (("float", torch.float32), ("double", torch.float64)):
        part = probe[dtype_name]
        for act in part["activations"]:
            compare(comparison, torch, dtype_name, dtype, part["x"], act, make_module(torch, act))
    comparison.finish()


if __name__ == "__main__":
    main()
