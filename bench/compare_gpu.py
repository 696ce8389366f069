#!/usr/bin/env python3
"""typenet's GPU benchmarks side by side with PyTorch CUDA (issue 5).

On a machine with an NVIDIA GPU, nvcc and PyTorch built with CUDA:

    python3 bench/compare_gpu.py                  # build/bench/bench_gpu, then PyTorch
    python3 bench/compare_gpu.py --reps 3         # fewer repetitions

It runs build/bench/bench_gpu --json (typenet: cuda::Model and cuda::Trainer),
then the same workloads in PyTorch on the same GPU in the same run, and prints
a Markdown table: medians (minimum in parentheses), the ratio PyTorch /
typenet (> 1: typenet is faster) and the issue's goals. The workloads (see
bench/bench_gpu.cu): the MNIST MLP 784-256-256-10 trained one epoch with Adam
at batch 64 and 1024, one Adam step of a 64-wide MLP with 4 hidden layers on
2^18 samples, and the MNIST MLP's forward on 65,536 samples. Both sides keep
the data on the GPU, slice consecutive batches, and time until the GPU is
done. PyTorch runs in FP32 (TF32 off, as typenet computes in FP32), with the
faster of its default Adam and fused=True where the version has it, and
without reading the loss back each step (typenet's trainer does read it back:
that cost is typenet's).

--device cpu runs the PyTorch side on the CPU instead: only for checking this
script on a machine without a GPU; its figures are not GPU figures.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOALS = {"gpu_mnist_epoch_b64": 3.0, "gpu_width64_step": 5.0}  # PyTorch / typenet, at least


def measure(call, sync, warmup, reps):
    for _ in range(warmup):
        call()
    sync()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        sync()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples)


def pytorch_results(device_name, reps_override, warmup_override, plans):
    import torch
    import torch.nn.functional as F

    if device_name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("compare_gpu: PyTorch sees no CUDA device (torch %s)" % torch.__version__)
    device = torch.device(device_name)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    sync = torch.cuda.synchronize if device_name == "cuda" else (lambda: None)
    generator = torch.Generator(device="cpu").manual_seed(1)

    def mlp(widths):
        layers = []
        for i in range(len(widths) - 1):
            layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
            if i + 2 < len(widths):
                layers.append(torch.nn.ReLU())
        return torch.nn.Sequential(*layers).to(device)

    def adams(model):
        """The optimizers to try: the default, and fused where available."""
        options = [{}]
        if device_name == "cuda":
            options.append({"fused": True})
        for extra in options:
            try:
                yield torch.optim.Adam(model.parameters(), lr=1e-3, **extra), extra
            except (TypeError, RuntimeError):
                continue

    def plan(name):
        p = plans[name]
        return (warmup_override if warmup_override is not None else p["warmup"],
                reps_override if reps_override is not None else p["reps"])

    results = {}
    mnist_x = torch.rand(48000, 784, generator=generator).to(device)
    mnist_y = torch.randint(0, 10, (48000,), generator=generator).to(device)
    for name, batch in (("gpu_mnist_epoch_b64", 64), ("gpu_mnist_epoch_b1024", 1024)):
        if name not in plans:
            continue
        best = None
        for_model = mlp([784, 256, 256, 10])
        for optimizer, extra in adams(for_model):
            def epoch():
                for r0 in range(0, 48000 - batch + 1, batch):
                    optimizer.zero_grad(set_to_none=True)
                    loss = F.cross_entropy(for_model(mnist_x[r0:r0 + batch]), mnist_y[r0:r0 + batch])
                    loss.backward()
                    optimizer.step()
            t = measure(epoch, sync, *plan(name))
            if best is None or t[0] < best[0][0]:
                best = (t, "Adam" + (" fused" if extra else ""))
        results[name] = best
    if "gpu_width64_step" in plans:
        x = torch.rand(1 << 18, 64, generator=generator).to(device)
        t = torch.randn(1 << 18, 16, generator=generator).to(device)
        model = mlp([64, 64, 64, 64, 64, 16])
        best = None
        for optimizer, extra in adams(model):
            def step():
                optimizer.zero_grad(set_to_none=True)
                F.mse_loss(model(x), t).backward()
                optimizer.step()
            r = measure(step, sync, *plan("gpu_width64_step"))
            if best is None or r[0] < best[0][0]:
                best = (r, "Adam" + (" fused" if extra else ""))
        results["gpu_width64_step"] = best
    if "gpu_inference_b65536" in plans:
        model = mlp([784, 256, 256, 10]).eval()
        x = torch.rand(65536, 784, generator=generator).to(device)

        def forward():
            with torch.no_grad():
                model(x)
        results["gpu_inference_b65536"] = (measure(forward, sync, *plan("gpu_inference_b65536")), "")
    return results, torch.__version__, (torch.cuda.get_device_name(0) if device_name == "cuda" else "CPU")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default=os.path.join(REPO, "build", "bench", "bench_gpu"))
    ap.add_argument("--reps", type=int)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda",
                    help="where PyTorch runs (cpu: only to check this script)")
    a = ap.parse_args()

    args = [a.bench, "--json"] + (["--reps", str(a.reps)] if a.reps else []) + (
        ["--warmup", str(a.warmup)] if a.warmup is not None else [])
    typenet = {}
    plans = {}
    device = "no GPU"
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode == 0:
        doc = json.loads(r.stdout)
        device = doc["device"]
        for w in doc["results"]:
            typenet[w["name"]] = (w["median_seconds"], w["min_seconds"])
            plans[w["name"]] = {"warmup": w["warmup"], "reps": w["reps"]}
    elif r.returncode == 77 and a.device == "cpu":
        print("typenet: %s" % r.stderr.strip(), file=sys.stderr)
        listing = subprocess.run([a.bench, "--list"], capture_output=True, text=True, check=True).stdout.split()
        plans = {name: {"warmup": 1, "reps": 3} for name in listing}
    else:
        raise SystemExit("compare_gpu: %s failed (status %d): %s" % (a.bench, r.returncode, r.stderr.strip()))

    pytorch, version, pytorch_device = pytorch_results(a.device, a.reps, a.warmup, plans)
    print("## typenet on the GPU, side by side with PyTorch\n")
    print("- typenet: %s on %s; PyTorch %s on %s, FP32 (TF32 off)" % (os.path.relpath(a.bench, REPO), device,
                                                                   version, pytorch_device))
    print("- command: python3 bench/compare_gpu.py" + "".join(" " + x for x in sys.argv[1:]))
    print("- times are medians over repetitions (minimum in parentheses)\n")
    print("| workload | typenet | PyTorch | PyTorch / typenet | goal |")
    print("|---|---|---|---|---|")
    for name in plans:
        t = typenet.get(name)
        (p_median, p_min), how = pytorch[name]
        ratio = "%.2f" % (p_median / t[0]) if t else "n/a"
        goal = ">= %.0fx: %s" % (GOALS[name], "met" if t and p_median / t[0] >= GOALS[name] else "not met") \
            if name in GOALS else ""
        typenet_cell = "%.4f s (%.4f s)" % t if t else "n/a (no GPU)"
        print("| %s | %s | %.4f s (%.4f s)%s | %s | %s |" % (name, typenet_cell, p_median, p_min,
                                                          ", " + how if how else "", ratio, goal))
    return 0


if __name__ == "__main__":
    sys.exit(main())
