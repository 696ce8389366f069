#!/usr/bin/python3
"""typenet side by side with PyTorch on the workloads of issue 4.

Run it with Debian's interpreter, the one that can import PyTorch
(python3-torch, PyTorch 1.13 for the CPU):

    /usr/bin/python3 bench/compare.py            # full run, about a minute
    /usr/bin/python3 bench/compare.py --quick    # smoke test: 3 repetitions

(the first `python3` on PATH may be another interpreter, without torch).

What it does, in one run:
  1. compiles bench/bench.cpp and every examples/*.cpp with
     g++ -std=c++20 -O2 -march=native -Iinclude, timing each translation unit
     (compile time is tracked like run time); --bench PATH skips this and
     uses an already built binary;
  2. runs the C++ benchmark (typenet on a 2-thread pool, the OpenBLAS ceiling
     on 1 and 2 threads, the FP32 FMA peak on 1 and 2 threads);
  3. runs the same workloads in PyTorch, in a subprocess of this script with
     PyTorch's best configuration: OPENBLAS_CORETYPE unset (forcing Haswell
     halves OpenBLAS's speed on this machine), MALLOC_TOP_PAD_=100000000
     (otherwise glibc maps and unmaps Adam's buffers every step),
     torch.set_num_threads(1), and OPENBLAS_NUM_THREADS 1 and 2, keeping the
     faster per workload;
  4. prints Markdown tables: each workload's medians, the ratio
     PyTorch / typenet (> 1: typenet is faster), the issue's required and goal
     figures and whether they are met; then the ceilings and compile times.

The PyTorch workloads are built from the parameters the C++ binary reports
(shapes, batch, steps, learning rates, repetitions, calls per repetition), so
the two sides cannot drift apart. The C++ side also runs with
OPENBLAS_CORETYPE unset, so the OpenBLAS ceiling is OpenBLAS at its best.
"""

import argparse
import datetime
import glob
import importlib.util
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPILE_COMMAND = ["g++", "-std=c++20", "-O2", "-march=native", "-Iinclude"]
PYTORCH_BLAS_THREADS = (1, 2)

# The targets for typenet, in seconds per call: (required, goal).
TARGETS = {
    "mnist_epoch_plain": (0.28, 0.20),
    "mnist_epoch_batchnorm": (0.31, 0.23),
    "moons_step": (2.5e-6, 1.3e-6),
    "inference_batch1": (8e-6, 5e-6),
    "inference_batch1000": (2.0e-3, 1.6e-3),
}
# The workloads PyTorch runs too, in the order of the table.
COMPARED = list(TARGETS)


# --------------------------------------------------------------------- PyTorch worker
# Runs in the subprocess, after the environment is set: OpenBLAS reads its
# variables when the library loads, i.e. when torch is imported.


def moons(samples, noise, seed):
    """scikit-learn's make_moons geometry, as typenet's data::make_moons."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_out = samples // 2
    n_in = samples - n_out
    a_out = np.linspace(0, np.pi, n_out)
    a_in = np.linspace(0, np.pi, n_in)
    x = np.concatenate([
        np.stack([np.cos(a_out), np.sin(a_out)], 1),
        np.stack([1 - np.cos(a_in), 1 - np.sin(a_in) - 0.5], 1),
    ])
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    order = rng.permutation(samples)
    x = x[order] + rng.normal(0, noise, x.shape)
    return x.astype(np.float32), y[order].astype(np.float32).reshape(-1, 1)


def mlp(widths, batchnorm):
    """ReLU MLP; with BatchNorm, Linear (no bias: BatchNorm subtracts the
    mean, as typenet plans it) -> BatchNorm1d -> ReLU for the hidden layers."""
    from torch import nn

    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        if i == len(widths) - 2:
            layers.append(nn.Linear(n_in, n_out))
        elif batchnorm:
            layers += [nn.Linear(n_in, n_out, bias=False), nn.BatchNorm1d(n_out), nn.ReLU()]
        else:
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers)


def measure(plan, call):
    """bench.cpp's harness: warm-up repetitions, then the median and minimum
    over repetitions of (time of `calls` calls) / calls."""
    for _ in range(plan["warmup"] * plan["calls"]):
        call()
    per_call = []
    for _ in range(plan["reps"]):
        start = time.perf_counter()
        for _ in range(plan["calls"]):
            call()
        per_call.append((time.perf_counter() - start) / plan["calls"])
    return {"median_seconds": statistics.median(per_call), "min_seconds": min(per_call), "reps": plan["reps"]}


def loaded_blas():
    """Which BLAS library torch loaded, and the kernels OpenBLAS chose."""
    import ctypes

    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "blas" in line and line.split()[-1].startswith("/")})
    core = None
    for path in paths:
        try:
            get_corename = ctypes.CDLL(path).openblas_get_corename
        except (OSError, AttributeError):
            continue
        get_corename.restype = ctypes.c_char_p
        core = get_corename().decode()
        break
    return {"libraries": paths, "openblas_core": core}


def torch_worker(spec):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    torch.manual_seed(spec["seed"])
    mnist, moon = spec["mnist"], spec["moons"]
    plans = spec["plans"]
    results = {}

    x_all = torch.rand(mnist["samples"], mnist["widths"][0])
    y_all = torch.randint(0, mnist["widths"][-1], (mnist["samples"],))
    batch = mnist["batch"]
    batches = [(x_all[i * batch:(i + 1) * batch], y_all[i * batch:(i + 1) * batch])
               for i in range(mnist["steps_per_epoch"])]

    for name, batchnorm in (("mnist_epoch_plain", False), ("mnist_epoch_batchnorm", True)):
        if name not in plans:
            continue
        model = mlp(mnist["widths"], batchnorm)
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=mnist["lr"])

        def epoch():
            for x, y in batches:
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()

        results[name] = measure(plans[name], epoch)

    if "moons_step" in plans:
        x_np, y_np = moons(moon["samples"], moon["noise"], spec["seed"])
        x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
        model = mlp(moon["widths"], False)
        opt = torch.optim.SGD(model.parameters(), lr=moon["lr"])

        def step():
            opt.zero_grad()
            loss = F.relu(1 - y * model(x)).mean()  # hinge, targets -1 / +1
            loss.backward()
            opt.step()

        results["moons_step"] = measure(plans["moons_step"], step)

    model = mlp(mnist["widths"], False)
    model.eval()
    with torch.no_grad():
        for name, rows in (("inference_batch1", 1), ("inference_batch1000", 1000)):
            if name in plans:
                x = x_all[:rows]
                results[name] = measure(plans[name], lambda: model(x))

    json.dump({"torch": torch.__version__, "blas": loaded_blas(), "results": results}, sys.stdout)


# --------------------------------------------------------------------- driver


def run(command, env=None, cwd=REPO):
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"compare.py: {shlex.join(command)} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    return done.stdout


def without_coretype():
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    return env


def compile_all(build_dir):
    """Compiles every example and the benchmark (-c, one at a time, timed),
    then links the benchmark. Returns (binary, [(source, seconds)])."""
    sources = sorted(glob.glob("examples/*.cpp", root_dir=REPO)) + ["bench/bench.cpp"]
    times = []
    for source in sources:
        obj = os.path.join(build_dir, os.path.basename(source) + ".o")
        start = time.perf_counter()
        run(COMPILE_COMMAND + ["-c", source, "-o", obj])
        times.append((source, time.perf_counter() - start))
    binary = os.path.join(build_dir, "bench")
    run(["g++", os.path.join(build_dir, "bench.cpp.o"), "-lopenblas", "-o", binary])
    return binary, times


def run_bench(binary, extra):
    return json.loads(run([binary, "--json"] + extra, env=without_coretype()))


def run_torch(spec, blas_threads):
    env = without_coretype()
    env.update(MALLOC_TOP_PAD_="100000000", OPENBLAS_NUM_THREADS=str(blas_threads), OMP_NUM_THREADS="1")
    return json.loads(run([sys.executable, os.path.abspath(__file__), "--torch-worker", json.dumps(spec)], env=env))


def seconds(s):
    if s >= 0.1:
        return f"{s:.3f} s"
    if s >= 1e-4:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.2f} us"


def machine_summary():
    fields = {}
    for line in run(["lscpu"]).splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    flags = fields.get("Flags", "").split()
    simd = ", ".join(f for f in ("avx2", "fma", "avx512f", "avx512_bf16") if f in flags)
    return (f"{fields.get('Model name')} (family {fields.get('CPU family')}, model {fields.get('Model')}), "
            f"{fields.get('CPU(s)')} CPUs, {fields.get('Thread(s) per core')} thread(s) per core, "
            f"{fields.get('Hypervisor vendor', 'no')} hypervisor; L1d {fields.get('L1d cache')}, "
            f"L2 {fields.get('L2 cache')}, L3 {fields.get('L3 cache')}; {simd}")


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def git_revision():
    rev = run(["git", "rev-parse", "--short", "HEAD"]).strip()
    dirty = run(["git", "status", "--porcelain", "--untracked-files=no"]).strip()
    return rev + (" + uncommitted changes" if dirty else "")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions per workload (smoke test)")
    parser.add_argument("--bench", help="an already built bench binary (skips compiling and compile times)")
    parser.add_argument("--threads", type=int, default=2, help="typenet's thread pool (default 2)")
    parser.add_argument("--save", help="also write every raw result to this JSON file")
    parser.add_argument("--torch-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(json.loads(args.torch_worker))

    if importlib.util.find_spec("torch") is None:
        sys.exit(f"compare.py: {sys.executable} cannot import torch. Run it as /usr/bin/python3 bench/compare.py; "
                 "on Debian, PyTorch is installed by: apt-get install python3-torch")

    started = datetime.datetime.now()
    load_before = load_average()
    compile_times = []
    with tempfile.TemporaryDirectory(prefix="typenet-bench-") as build_dir:
        binary = args.bench
        if binary is None:
            print("compiling examples and bench/bench.cpp ...", file=sys.stderr)
            binary, compile_times = compile_all(build_dir)
        reps = ["--reps", "3", "--warmup", "1"] if args.quick else []
        print("running the C++ benchmark ...", file=sys.stderr)
        cxx = run_bench(binary, ["--threads", str(args.threads)] + reps)
        blas_one = run_bench(binary, ["--threads", "1", "--only", "openblas_step_gemms"] + reps)

    by_name = {r["name"]: r for r in cxx["results"]}
    spec = {
        "seed": 42,
        "mnist": cxx["mnist"],
        "moons": cxx["moons"],
        "plans": {n: {k: by_name[n][k] for k in ("warmup", "reps")} | {"calls": by_name[n]["calls_per_rep"]}
                  for n in COMPARED},
    }
    torch_runs = {}
    for blas_threads in PYTORCH_BLAS_THREADS:
        print(f"running PyTorch with OPENBLAS_NUM_THREADS={blas_threads} ...", file=sys.stderr)
        torch_runs[blas_threads] = run_torch(spec, blas_threads)
    any_run = torch_runs[PYTORCH_BLAS_THREADS[0]]

    print(f"# typenet vs PyTorch, measured on {started:%Y-%m-%d %H:%M} at commit {git_revision()}\n")
    print(f"- machine: {machine_summary()}")
    print(f"- command: /usr/bin/python3 bench/compare.py{' --quick' if args.quick else ''}")
    print(f"- typenet: {cxx['threads']} threads, kernels {cxx['typenet_instruction_set']}; "
          f"compiled with {' '.join(COMPILE_COMMAND) if not args.bench else args.bench}")
    print(f"- PyTorch {any_run['torch']} (Python {platform.python_version()}), torch.set_num_threads(1), "
          f"BLAS {', '.join(any_run['blas']['libraries'])} (OpenBLAS kernels: {any_run['blas']['openblas_core']}), "
          "OPENBLAS_CORETYPE unset, MALLOC_TOP_PAD_=100000000")
    print(f"- load average (1 min) before the run: {load_before:.2f}")
    print("- times are medians over repetitions (minimum in parentheses); PyTorch: the faster of "
          "OPENBLAS_NUM_THREADS=1 and 2, named in the column\n")

    rows = []
    for name in COMPARED:
        ours = by_name[name]
        best_threads = min(PYTORCH_BLAS_THREADS,
                           key=lambda t: torch_runs[t]["results"][name]["median_seconds"])
        theirs = torch_runs[best_threads]["results"][name]
        required, goal = TARGETS[name]
        median = ours["median_seconds"]
        rows.append([
            name, ours["per"],
            f"{seconds(median)} ({seconds(ours['min_seconds'])})",
            f"{seconds(theirs['median_seconds'])} ({seconds(theirs['min_seconds'])}), {best_threads}",
            f"{theirs['median_seconds'] / median:.2f}",
            f"<= {seconds(required)}: {'met' if median <= required else 'NOT met'}",
            f"<= {seconds(goal)}: {'met' if median <= goal else 'not met'}",
            ours["reps"],
        ])
    print(table(["workload", "per", "typenet", "PyTorch, OPENBLAS_NUM_THREADS", "PyTorch / typenet",
                 "required", "goal", "reps"], rows))

    # Ceilings: what the machine can do at all on these shapes.
    flop = cxx["mnist_step_flop"]
    steps = cxx["mnist"]["steps_per_epoch"]
    peak = {t: by_name[f"fma_peak_{t}thread" + ("s" if t > 1 else "")] for t in (1, args.threads)}
    peak_gflops = {t: r["flop_per_call"] / r["median_seconds"] / 1e9 for t, r in peak.items()}
    blas = {1: blas_one["results"][0], args.threads: by_name["openblas_step_gemms"]}
    best_blas_threads = min(blas, key=lambda t: blas[t]["median_seconds"])
    best_blas = blas[best_blas_threads]["median_seconds"]
    print(f"\n## Ceilings\n\nFLOP of one MNIST training step (batch {cxx['mnist']['batch']}): forward "
          f"{flop['forward']:.0f} + dW {flop['weight_gradient']:.0f} + dX {flop['input_gradient']:.0f} "
          f"= {flop['total']:.0f} ({steps} steps per epoch: {flop['total'] * steps / 1e9:.1f} GFLOP).\n")
    ceiling_rows = [[f"FP32 FMA peak, {t} thread(s) ({cxx['fma_instruction_set']})",
                     seconds(r["median_seconds"]), f"{peak_gflops[t]:.1f}"] for t, r in peak.items()]
    ceiling_rows += [[f"OpenBLAS, the GEMMs of one MNIST step, {t} thread(s) ({cxx['openblas'].split(',')[0]})",
                      seconds(r["median_seconds"]), f"{r['flop_per_call'] / r['median_seconds'] / 1e9:.1f}"]
                     for t, r in blas.items()]
    print(table(["ceiling", "median time", "GFLOP/s"], ceiling_rows))

    top = peak_gflops[args.threads]
    # Spinning thread pools (typenet's, OpenBLAS's) collapse when another
    # process holds a core; the FMA loop's scaling shows whether one did.
    if args.threads > 1 and top < 0.9 * args.threads * peak_gflops[1]:
        print(f"\n**Warning: the {args.threads}-thread FMA peak is only {top / peak_gflops[1]:.2f} x the 1-thread "
              "peak: other processes held a core during this run, and the multi-threaded figures above are "
              "not representative. Run again on an idle machine.**")
    derived = []
    for name in ("mnist_epoch_plain", "mnist_epoch_batchnorm"):
        epoch = by_name[name]["median_seconds"]
        derived.append([f"typenet {name}: per step {seconds(epoch / steps)}",
                        f"{flop['total'] * steps / epoch / 1e9:.1f} GFLOP/s, "
                        f"{100 * flop['total'] * steps / epoch / 1e9 / top:.0f}% of the {args.threads}-thread peak",
                        f"{epoch / steps / best_blas:.2f} x OpenBLAS's GEMMs alone"])
    derived.append([f"epoch at the {args.threads}-thread FMA peak (lower bound)",
                    seconds(flop["total"] * steps / (top * 1e9)), ""])
    derived.append([f"epoch of OpenBLAS GEMMs alone ({best_blas_threads} thread(s))", seconds(best_blas * steps), ""])
    b1000 = by_name["inference_batch1000"]
    derived.append(["typenet inference_batch1000",
                    f"{b1000['flop_per_call'] / b1000['median_seconds'] / 1e9:.1f} GFLOP/s",
                    f"lower bound at the peak {seconds(b1000['flop_per_call'] / (top * 1e9))}"])
    for name, (required, goal) in TARGETS.items():
        work = by_name[name]["flop_per_call"]
        if name.startswith("mnist") or name == "inference_batch1000":
            derived.append([f"{name}: what the targets ask",
                            f"required {work / required / 1e9:.0f} GFLOP/s ({100 * work / required / 1e9 / top:.0f}% "
                            f"of peak)", f"goal {work / goal / 1e9:.0f} GFLOP/s ({100 * work / goal / 1e9 / top:.0f}% "
                            f"of peak)"])
    print()
    print(table(["derived", "figure", "compared with"], derived))

    if compile_times:
        print("\n## Compile time per translation unit\n")
        print(table(["translation unit", "seconds (one compile, -c)"],
                    [[f"`{s}`", f"{t:.1f}"] for s, t in compile_times]))
        print(f"\nCommand: `time {' '.join(COMPILE_COMMAND)} -c <file>`")

    if args.save:
        with open(args.save, "w") as out:
            json.dump({"started": started.isoformat(), "cxx": cxx, "openblas_1thread": blas_one,
                       "torch": torch_runs, "compile_seconds": compile_times}, out, indent=1)


if __name__ == "__main__":
    sys.exit(main())
