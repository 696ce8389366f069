"""typenet's optimizers and ExponentialLR against torch.optim (PyTorch 1.13).

Usage: optimizers.py PROBE (test/torch/optimizers_probe.cpp, built by meson).

The probe runs every optimizer and variant for 20 steps on fixed parameters
and gradients, in double and in float, and prints the parameters and the
whole state after each step. Here torch.optim runs on the same numbers:

- float64: torch's own 20-step trajectory, uninterrupted. Both sides compute
  the same formulas in double and round differently (typenet's fused
  multiply-adds, Adam's rearranged denominator), about 1e-16 relative per
  operation, a few dozen operations per step: parameters and state agree to
  1e-12 relative (of each vector's largest value, which judges the entries
  near zero by the vector's scale).
- float32: each step from typenet's own previous step (parameters and state
  handed to torch), so that rounding does not compound over the steps. As
  test_optimizers reasons for Adam: the parameters may differ by their final
  roundings (1.5 ulps of p: AdamW's decay rounds once more in torch) plus a
  few ulps of the step (4: the reciprocal square root, the division and the
  multiply-adds round in another order); each state value by 4 ulps of the
  terms it sums (bounded by 2 |previous| + |new|).

ExponentialLR: torch multiplies the previous rate by gamma at each step
(one rounding a step), typenet takes lr * gamma^k at once: they agree to
(k + 1) ulps at step k.
"""

import math
import struct
import sys

from torch_check import Comparison, import_torch, run_probe

# torch's names of the state buffers, in the order typenet declares them.
TORCH_BUFFERS = {
    "SGD": ["momentum_buffer"],
    "Adam": ["exp_avg", "exp_avg_sq"],
    "AdamW": ["exp_avg", "exp_avg_sq"],
    "RMSprop": ["square_avg", "momentum_buffer", "grad_avg"],
    "Adagrad": ["sum"],
}
COUNTS_STEPS = {"Adam", "AdamW", "Adagrad"}


def ulp32(x):
    """The spacing of float32 numbers at |x|."""
    x = abs(x)
    if x < 2.0**-126:
        return 2.0**-149
    return 2.0 ** (math.frexp(x)[1] - 24)


def make_optimizer(torch, case, p):
    options = dict(case["options"])
    if "betas" in options:
        options["betas"] = tuple(options["betas"])
    return getattr(torch.optim, case["optimizer"])([p], foreach=False, **options)


def describe(case):
    options = ", ".join(f"{k}={v}" for k, v in case["options"].items())
    return f"{case['optimizer']}({options}) {case['dtype']}"


def state_pairs(check, what, case, opt, p, step):
    """typenet's and torch's state buffers, as (torch's name, ours, theirs);
    checks on the way that both keep the same buffers, step count and flags."""
    state = opt.state[p]
    name = case["optimizer"]
    pairs = []
    for k, key in enumerate(TORCH_BUFFERS[name]):
        ours, theirs = step["buffers"][k], state.get(key)
        if (ours is None) != (theirs is None):
            check.failures.append(f"{what} {key}: typenet has {'none' if ours is None else 'one'}, "
                                  f"PyTorch {'none' if theirs is None else 'one'}")
        elif ours is not None:
            pairs.append((key, ours, theirs))
    if name in COUNTS_STEPS:
        check.close(f"{what} step count", step["counters"], [float(state["step"])], 0, 0)
    if name == "SGD":
        started = state.get("momentum_buffer") is not None
        check.close(f"{what} started", [float(step["flags"][0])], [float(started)], 0, 0)
    return pairs


def compare_double(check, torch, case, data):
    p = torch.tensor(data["start"], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(torch, case, p)
    for s, step in enumerate(case["trajectory"]):
        p.grad = torch.tensor(data["gradients"][s], dtype=torch.float64)
        opt.step()
        what = f"{describe(case)} step {s + 1}"

        def close(label, ours, theirs):
            theirs = theirs.detach().flatten().tolist()
            scale = max(abs(v) for v in theirs)
            check.close(f"{what} {label}", ours, theirs, 1e-12, 1e-12 * scale)

        close("parameters", step["p"], p)
        for key, ours, theirs in state_pairs(check, what, case, opt, p, step):
            close(key, ours, theirs)


def inject_state(torch, case, opt, p, previous, steps_taken):
    """typenet's state after `steps_taken` steps, as torch keeps it."""
    name = case["optimizer"]
    state = opt.state[p]
    for k, key in enumerate(TORCH_BUFFERS[name]):
        if previous["buffers"][k] is not None:
            state[key] = torch.tensor(previous["buffers"][k], dtype=torch.float32)
    if name in COUNTS_STEPS:
        state["step"] = torch.tensor(float(previous["counters"][0]))
    elif name == "RMSprop":
        state["step"] = steps_taken


def compare_float(check, torch, case, data):
    previous = None
    for s, step in enumerate(case["trajectory"]):
        start = data["start"] if previous is None else previous["p"]
        p = torch.tensor(start, dtype=torch.float32, requires_grad=True)
        before = p.detach().flatten().tolist()
        opt = make_optimizer(torch, case, p)
        if previous is not None:
            inject_state(torch, case, opt, p, previous, s)
        p.grad = torch.tensor(data["gradients"][s], dtype=torch.float32)
        opt.step()
        what = f"{describe(case)} step {s + 1} from typenet's step {s}"
        after = p.detach().flatten().tolist()
        check.close(f"{what} parameters", step["p"], after, 0,
                    [1.5 * ulp32(a) + 4 * ulp32(a - b) for a, b in zip(after, before)])
        for key, ours, theirs in state_pairs(check, what, case, opt, p, step):
            k = TORCH_BUFFERS[case["optimizer"]].index(key)
            old = previous["buffers"][k] if previous is not None and previous["buffers"][k] is not None else None
            theirs = theirs.detach().flatten().tolist()
            old = old if old is not None else [0.0] * len(theirs)
            check.close(f"{what} {key}", ours, theirs, 0,
                        [4 * ulp32(2 * abs(o) + abs(t)) for o, t in zip(old, theirs)])
        previous = step


def compare_exponential_lr(check, torch, schedule):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=schedule["lr"])
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=schedule["gamma"])
    rates = []
    for _ in schedule["rates"]:
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    check.close("ExponentialLR rates", schedule["rates"], rates, 0,
                [(k + 1) * 2.0**-52 * abs(r) for k, r in enumerate(rates)])


def float32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def decay_factors(case, key):
    """The factor a state buffer is multiplied by each step under zero
    gradients: typenet's, then torch's, as each rounds it in float32."""
    options = case["options"]
    name = case["optimizer"]
    if key == "momentum_buffer":  # both multiply by float32(momentum)
        beta = float32(options["momentum"])
        return beta, beta
    if name in ("Adam", "AdamW"):
        beta = options.get("betas", [0.9, 0.999])[0 if key == "exp_avg" else 1]
    else:  # RMSprop's square_avg and grad_avg
        beta = options.get("alpha", 0.99)
    return 1 - float32(1 - beta), float32(beta)


def compare_decay(check, torch, decay):
    """The moving averages' decay under zero gradients (float32): from
    typenet's state after `snapshot` steps, torch takes the remaining steps.
    The one designed difference: torch's averages decay into subnormals and
    stick there (round-to-nearest of 0.9 x 4 ulps is 4 ulps), typenet's
    flush to zero (simd::flush_subnormal). The parameters and every value
    that stays normal agree; torch's must really end subnormal for at least
    one buffer of each case, or the comparison would show nothing."""
    for case in decay["cases"]:
        snap, end = case["snapshot"], case["end"]
        p = torch.tensor(snap["p"], dtype=torch.float32, requires_grad=True)
        opt = make_optimizer(torch, case, p)
        inject_state(torch, case, opt, p, snap, decay["snapshot"])
        for _ in range(decay["end"] - decay["snapshot"]):
            p.grad = torch.zeros_like(p)
            opt.step()
        what = f"{describe(case)}, {decay['end']} steps, the last {decay['end'] - decay['snapshot']} from typenet's state"
        check.close(f"{what}: parameters", end["p"], p.detach().flatten().tolist(), 0,
                    [4 * ulp32(a) for a in end["p"]])
        subnormal_in_torch = 0
        steps = decay["end"] - decay["snapshot"]
        for k, key in enumerate(TORCH_BUFFERS[case["optimizer"]]):
            ours = end["buffers"][k]
            if ours is None:
                continue
            # Each step multiplies by the decay factor and rounds, on each
            # side: torch by float32(beta), typenet (for Adam's and
            # RMSprop's averages) by 1 - float32(1 - beta), in one fma. The
            # two factors differ in the eighth digit, and the difference
            # compounds: relative bound steps x (that difference + two
            # roundings).
            ours_factor, torch_factor = decay_factors(case, key)
            bound = steps * (abs(ours_factor - torch_factor) / torch_factor + 2 * 2.0**-24)
            theirs = opt.state[p][key].detach().flatten().tolist()
            for i, (o, t) in enumerate(zip(ours, theirs)):
                if t != 0 and abs(t) < 2.0**-126:
                    subnormal_in_torch += 1
                    if o != 0:
                        check.failures.append(f"{what}: {key}[{i}] is subnormal in torch ({t:g}) and {o:g} in typenet, not 0")
                elif o == 0 and abs(t) < 2.0**-126 * (1 + bound):
                    pass  # normal in torch, below the smallest normal in typenet: flushed
                elif abs(o - t) > bound * abs(t) + ulp32(t):
                    check.failures.append(f"{what}: {key}[{i}]: typenet {o:g}, torch {t:g} "
                                          f"(bound {bound:.2g} relative)")
        if subnormal_in_torch == 0:
            check.failures.append(f"{what}: torch's state has no subnormal value, so nothing shows the flush")
        print(f"{what}: torch keeps {subnormal_in_torch} subnormal state values, typenet has them at 0")


def main():
    torch = import_torch()
    data = run_probe(sys.argv[1])
    check = Comparison()
    for case in data["cases"]:
        if case["dtype"] == "float64":
            compare_double(check, torch, case, data)
        else:
            compare_float(check, torch, case, data)
    compare_decay(check, torch, data["decay"])
    compare_exponential_lr(check, torch, data["exponential_lr"])
    check.finish()


if __name__ == "__main__":
    main()
