#!/usr/bin/python3
"""typenet side by side with PyTorch and oneDNN on the workloads of issue 4.

Run it with Debian's interpreter, the one that can import PyTorch
(python3-torch, PyTorch 1.13 for the CPU):

    /usr/bin/python3 bench/compare.py            # full run: 12 minutes on the 2-vCPU machine, busy, compiles included
    /usr/bin/python3 bench/compare.py --quick    # smoke test: 3 repetitions
    /usr/bin/python3 bench/compare.py --wait-idle 600   # shared machine: wait for quiet first

(the first `python3` on PATH may be another interpreter, without torch).

What it does, in one run:
  1. compiles bench/bench.cpp and every examples/*.cpp with
     g++ -std=c++20 -O2 -march=native -Iinclude, timing each translation unit
     (compile time is tracked like run time); --bench PATH skips this and
     uses an already built binary;
  2. runs the C++ benchmark (typenet on a 2-thread pool, the OpenBLAS ceiling
     on 1 and 2 threads, the FP32 FMA peak on 1 and 2 threads);
  3. runs the same workloads in oneDNN (bench/bench_onednn.cpp, issue 16:
     Debian's libdnnl-dev, matmul primitives with bias and ReLU post-ops,
     created once, with hand-written losses and Adam), compiled with
     g++ -std=c++20 -O2 -march=native -fopenmp -fno-math-errno -Iinclude
     ... -ldnnl (--onednn PATH uses an already built binary), with
     OMP_NUM_THREADS 1 and 2, keeping the faster per workload; without
     oneDNN its column says "not built" and the rest goes on;
  4. runs the same workloads in PyTorch, in a subprocess of this script with
     PyTorch's best configuration: OPENBLAS_CORETYPE unset (the environment
     may force OpenBLAS's Haswell kernels; the ceilings table shows what that
     costs on the step's GEMMs), MALLOC_TOP_PAD_=100000000
     (otherwise glibc maps and unmaps Adam's buffers every step),
     torch.set_num_threads(1), torch.set_flush_denormal(True) (on Intel
     cores the moments of Adam's dead units otherwise stick at subnormals,
     whose every use takes a microcode assist), and OPENBLAS_NUM_THREADS 1
     and 2, keeping the faster per workload;
  5. prints Markdown tables: each workload's medians, the ratios
     PyTorch / typenet and oneDNN / typenet (> 1: typenet is faster), the
     issue's required and goal figures and whether they are met; then the
     ceilings and compile times (typenet's translation units),
     with how much CPU time others took during the run (the machine is shared;
     a busy neighbour hurts typenet's 2-thread pool most).

The PyTorch workloads are built from the parameters the C++ binary reports
(shapes, batch, steps, learning rates, repetitions, calls per repetition), so
the two sides cannot drift apart; bench_onednn reports the same parameters,
and a run where they differ from bench.cpp's stops with the difference.
bench_onednn checks itself before timing (its forward against plain loops,
its gradients and first losses against typenet's); a failed check shows in
its column. The C++ side also runs with OPENBLAS_CORETYPE unset, so the
OpenBLAS ceiling is OpenBLAS at its best.
"""

import argparse
import datetime
import glob
import importlib.util
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPILE_COMMAND = ["g++", "-std=c++20", "-O2", "-march=native", "-Iinclude"]
# bench_onednn's loops run on oneDNN's OpenMP threads and vectorise by omp
# simd pragmas (-fopenmp); Adam's sqrt vectorises only without errno.
ONEDNN_SOURCE = "bench/bench_onednn.cpp"
ONEDNN_COMPILE_COMMAND = COMPILE_COMMAND + ["-fopenmp", "-fno-math-errno"]
PYTORCH_BLAS_THREADS = (1, 2)
ONEDNN_THREADS = (1, 2)

# The targets for typenet, in seconds per call: (required, goal).
TARGETS = {
    "mnist_epoch_plain": (0.28, 0.20),
    "mnist_epoch_batchnorm": (0.31, 0.23),
    "moons_step": (2.5e-6, 1.3e-6),
    "inference_batch1": (8e-6, 5e-6),
    "inference_batch1000": (2.0e-3, 1.6e-3),
}
# The workloads PyTorch and oneDNN run too, in the order of the table.
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
    # Subnormals flushed (FTZ and DAZ): on Intel cores Adam's moments of dead
    # units stick at subnormals otherwise and every update takes microcode
    # assists; this is PyTorch's best setting for it (typenet flushes them in
    # the update instead, without touching the floating-point environment).
    torch.set_flush_denormal(True)
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


def compile_command(source):
    """The command that compiles one translation unit; the examples also see
    examples/ (their shared support/ headers), as examples/meson.build has it."""
    folder = os.path.dirname(source)
    return COMPILE_COMMAND + ([f"-I{folder}"] if folder == "examples" else []) + ["-c", source]


def compile_all(build_dir):
    """Compiles every example and the benchmark (-c, one at a time, timed),
    then links the benchmark. Returns (binary, [(command, seconds)])."""
    sources = sorted(glob.glob("examples/*.cpp", root_dir=REPO)) + ["bench/bench.cpp"]
    times = []
    for source in sources:
        obj = os.path.join(build_dir, os.path.basename(source) + ".o")
        start = time.perf_counter()
        done = subprocess.run(compile_command(source) + ["-o", obj], cwd=REPO, capture_output=True, text=True)
        seconds_taken = time.perf_counter() - start
        if done.returncode != 0:
            if source == "bench/bench.cpp":
                sys.exit(f"compare.py: bench/bench.cpp does not compile:\n{done.stderr}")
            # An example others are editing must not stop the comparison.
            print(f"compare.py: {source} does not compile (left out):\n{done.stderr}", file=sys.stderr)
            seconds_taken = None
        times.append((shlex.join(compile_command(source)), seconds_taken))
    binary = os.path.join(build_dir, "bench")
    run(["g++", os.path.join(build_dir, "bench.cpp.o"), "-lopenblas", "-o", binary])
    return binary, times


def compile_onednn(build_dir):
    """Compiles and links bench_onednn; returns (binary, None), or (None, why
    not) when it does not build (no libdnnl-dev, say)."""
    binary = os.path.join(build_dir, "bench_onednn")
    command = ONEDNN_COMPILE_COMMAND + [ONEDNN_SOURCE, "-ldnnl", "-o", binary]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "error" in line] or done.stderr.splitlines() or ["?"]
        print(f"compare.py: {shlex.join(command)} failed; the oneDNN column is left out:\n{done.stderr}",
              file=sys.stderr)
        return None, f"{ONEDNN_SOURCE} does not build: {errors[0].strip()}"
    return binary, None


def run_onednn(binary, threads, extra):
    """bench_onednn's JSON with OMP_NUM_THREADS=threads, or a string saying
    why there is none (a failed self-check: exit status 3)."""
    env = without_coretype()
    env["OMP_NUM_THREADS"] = str(threads)
    done = subprocess.run([binary, "--json"] + extra, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode == 3:
        print(f"compare.py: {done.stderr.strip()}", file=sys.stderr)
        return done.stderr.strip().removeprefix("bench_onednn: ").removeprefix("check failed: ")
    if done.returncode != 0:
        sys.exit(f"compare.py: {binary} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    report = json.loads(done.stdout)
    if report["threads"] != threads:
        sys.exit(f"compare.py: bench_onednn ran on {report['threads']} threads with OMP_NUM_THREADS={threads}")
    return report


def check_same_workloads(cxx, onednn):
    """Stops the run when bench_onednn's workloads are not bench.cpp's (the
    two sources define them separately)."""
    ours = {r["name"]: r for r in cxx["results"]}
    theirs = {r["name"]: r for r in onednn["results"]}
    differences = [f"{key}: bench {cxx[key]} vs bench_onednn {onednn[key]}"
                   for key in ("mnist", "moons") if cxx[key] != onednn[key]]
    for name in COMPARED:
        for key in ("per", "warmup", "reps", "calls_per_rep", "flop_per_call", "samples_per_call"):
            if ours[name][key] != theirs[name][key]:
                differences.append(f"{name} {key}: bench {ours[name][key]} vs bench_onednn {theirs[name][key]}")
    if differences:
        sys.exit("compare.py: bench.cpp and bench_onednn.cpp define different workloads:\n  " +
                 "\n  ".join(differences))


def run_bench(binary, extra, coretype=None):
    env = without_coretype()
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    return json.loads(run([binary, "--json"] + extra, env=env))


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


def cpu_jiffies():
    """(idle, total, steal) CPU time of all CPUs since boot, in clock ticks."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return values[3] + values[4], sum(values), values[7]  # idle + iowait, total, stolen by the hypervisor


def idle_fraction(seconds=1.0):
    """Fraction of all CPUs' time spent idle over the next `seconds`."""
    idle0, total0, _ = cpu_jiffies()
    time.sleep(seconds)
    idle1, total1, _ = cpu_jiffies()
    return (idle1 - idle0) / max(1, total1 - total0)


class OtherProcessesMeter:
    """CPU time used by processes other than this script and its children
    between start and stop (the busy time of all CPUs minus our own), and the
    time the hypervisor gave to other machines. Neither sees a neighbour on
    the host's other hyperthread: the FMA peak's scaling does."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        idle, total, steal = cpu_jiffies()
        ours = sum(getattr(resource.getrusage(who), field)
                   for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                   for field in ("ru_utime", "ru_stime"))
        tick = os.sysconf("SC_CLK_TCK")
        return (total - idle) / tick, total / tick, steal / tick, ours

    def stop(self):
        """{others, stolen: CPU-seconds; others_fraction: of all CPU time}."""
        busy, total, stolen, ours = (b - a for a, b in zip(self.start, self._sample()))
        others = max(0.0, busy - stolen - ours)
        return {"others": others, "stolen": stolen, "others_fraction": (others + stolen) / max(total, 1e-9)}


def fma_scaling(binary, threads):
    """How many cores' worth of FMA throughput `threads` threads get now."""
    peaks = {r["name"]: r for r in run_bench(binary, ["--only", f"fma_peak_1thread,fma_peak_{threads}threads",
                                                      "--threads", str(threads), "--reps", "1", "--warmup", "0"])
             ["results"]}
    one, many = peaks["fma_peak_1thread"], peaks[f"fma_peak_{threads}threads"]
    return gflops(many) / gflops(one)


def wait_until_idle(limit_seconds, binary, threads, quiet_seconds=5):
    """Waits, at most `limit_seconds`, until no process has used the CPUs
    for `quiet_seconds` in a row and `threads` FMA threads scale to 95% of
    `threads` cores (a neighbour on the host's hyperthreads shows only
    there; no binary, no such test); returns whether it got there."""
    deadline = time.monotonic() + limit_seconds
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if idle_fraction() >= 0.95 else 0
        if quiet >= quiet_seconds:
            if binary is None or threads < 2 or fma_scaling(binary, threads) >= 0.95 * threads:
                return True
            quiet = 0
    return False


def git_revision():
    """The short HEAD, and which tracked files differ from it (the lead may be
    tuning kernels in the working tree)."""
    rev = run(["git", "rev-parse", "--short", "HEAD"]).strip()
    changed = run(["git", "diff", "--name-only", "HEAD"]).split()
    return rev + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def gflops(result):
    return result["flop_per_call"] / result["median_seconds"] / 1e9


def run_everything(args, binary, onednn, onednn_missing):
    """Runs the C++ side, then oneDNN (the binary `onednn`; None, and why in
    `onednn_missing`, when there is none), then PyTorch; returns the raw
    results."""
    reps = ["--reps", "3", "--warmup", "1"] if args.quick else []
    blas_alone = ["--threads", "1", "--only", "openblas_step_gemms"] + reps
    # The memory side of this machine has slow spells (other tenants; docs/
    # performance.md) that neither /proc/stat nor the FMA loop sees, and they
    # come and go within a run: a canary (Adam's separate update, bound by
    # memory) measured before, between and after the two sides shows one.
    canary_args = ["--threads", str(args.threads), "--only", "adam_update", "--reps", "7", "--warmup", "5"]
    raw = {"canary": []}

    def canary():
        raw["canary"].append(run_bench(binary, canary_args)["results"][0]["median_seconds"])

    canary()
    print("running the C++ benchmark ...", file=sys.stderr)
    raw["cxx"] = run_bench(binary, ["--threads", str(args.threads)] + reps)
    canary()
    raw["openblas_1thread"] = run_bench(binary, blas_alone)["results"][0]
    # What forcing OpenBLAS's Haswell kernels (as this environment may) costs on these shapes.
    raw["openblas_1thread_haswell"] = run_bench(binary, blas_alone, coretype="Haswell")["results"][0]

    # oneDNN's column: its reports by thread count, or what the column says instead and why.
    raw["onednn"], raw["onednn_missing"] = {}, None
    if onednn is None:
        raw["onednn_missing"] = {"cell": "not built", "why": onednn_missing}
    else:
        for threads in ONEDNN_THREADS:
            print(f"running oneDNN with OMP_NUM_THREADS={threads} ...", file=sys.stderr)
            report = run_onednn(onednn, threads, ["--only", ",".join(COMPARED)] + reps)
            if isinstance(report, str):
                raw["onednn"], raw["onednn_missing"] = {}, {"cell": "check failed", "why": report}
                break
            check_same_workloads(raw["cxx"], report)
            raw["onednn"][threads] = report
        canary()

    cxx = raw["cxx"]
    by_name = {r["name"]: r for r in cxx["results"]}
    spec = {
        "seed": 42,
        "mnist": cxx["mnist"],
        "moons": cxx["moons"],
        "plans": {n: {"warmup": by_name[n]["warmup"], "reps": by_name[n]["reps"],
                      "calls": by_name[n]["calls_per_rep"]} for n in COMPARED},
    }
    raw["torch"] = {}
    for blas_threads in PYTORCH_BLAS_THREADS:
        print(f"running PyTorch with OPENBLAS_NUM_THREADS={blas_threads} ...", file=sys.stderr)
        raw["torch"][blas_threads] = run_torch(spec, blas_threads)
    canary()
    return raw


def print_header(args, raw, started, load_before, others):
    cxx, torch_run = raw["cxx"], raw["torch"][PYTORCH_BLAS_THREADS[0]]
    built = (f"binary {args.bench} (given with --bench)" if args.bench
             else f"compiled with {' '.join(COMPILE_COMMAND)} -lopenblas")
    print(f"# typenet vs PyTorch and oneDNN, measured on {started:%Y-%m-%d %H:%M} at commit {git_revision()}\n")
    print(f"- machine: {machine_summary()}")
    print(f"- command: /usr/bin/python3 bench/compare.py{' --quick' if args.quick else ''}")
    print(f"- typenet: {cxx['threads']} threads, kernels {cxx['typenet_instruction_set']}; {built}")
    print(f"- PyTorch {torch_run['torch']} (Python {platform.python_version()}), torch.set_num_threads(1), "
          "torch.set_flush_denormal(True), "
          f"BLAS {', '.join(torch_run['blas']['libraries'])} (OpenBLAS kernels: {torch_run['blas']['openblas_core']}), "
          "OPENBLAS_CORETYPE unset, MALLOC_TOP_PAD_=100000000")
    if raw["onednn"]:
        dnn = raw["onednn"][ONEDNN_THREADS[0]]
        dnn_built = (f"binary {args.onednn} (given with --onednn)" if args.onednn
                     else f"compiled with {' '.join(ONEDNN_COMPILE_COMMAND)} {ONEDNN_SOURCE} -ldnnl")
        impls = sorted(set(dnn["implementations"].values()))
        print(f"- oneDNN {dnn['onednn']} ({dnn['cpu_runtime']} runtime, ISA {dnn['cpu_isa']}; implementations "
              f"{', '.join(impls)}), bench/bench_onednn.cpp {dnn_built}, subnormals flushed (MXCSR FTZ and DAZ); its self-checks passed")
    else:
        missing = raw["onednn_missing"]
        print(f"- oneDNN: {missing['cell']} ({missing['why']})")
    print(f"- load average (1 min) before the run: {load_before:.2f}; during it, other processes used "
          f"{others['others']:.1f} CPU-seconds and the hypervisor gave {others['stolen']:.1f} to other machines "
          f"({100 * others['others_fraction']:.1f}% of the CPU time)")
    print("- times are medians over repetitions (minimum in parentheses); PyTorch: the faster of "
          "OPENBLAS_NUM_THREADS=1 and 2, oneDNN: the faster of OMP_NUM_THREADS=1 and 2, named in the column")
    canary = raw["canary"]
    print(f"- memory-side canary (adam_update, {raw['cxx']['threads']} threads) before the C++ side, after it, "
          f"{'after oneDNN, ' if raw['onednn'] else ''}and after PyTorch: {', '.join(seconds(c) for c in canary)}")
    if max(canary) > 1.3 * min(canary):
        print(f"\n**Warning: the canary moved by {max(canary) / min(canary):.2f}x during this run: the machine's memory "
              "side changed speed (a slow spell began or ended), so the sides did not run under the same "
              "conditions and the ratios below are not representative. Run again.**")
    if others["others_fraction"] > 0.05:
        print(f"\n**Warning: others used {100 * others['others_fraction']:.0f}% of the CPU time during this run; "
              "typenet's 2-thread figures suffer most (a preempted worker stalls the whole step). "
              "Run again on an idle machine (--wait-idle 600).**")


def by_name_of(report):
    return {r["name"]: r for r in report["results"]}


def print_comparison(raw):
    by_name = by_name_of(raw["cxx"])
    rows = []
    for name in COMPARED:
        ours = by_name[name]
        best_threads = min(PYTORCH_BLAS_THREADS, key=lambda t: raw["torch"][t]["results"][name]["median_seconds"])
        theirs = raw["torch"][best_threads]["results"][name]
        required, goal = TARGETS[name]
        median = ours["median_seconds"]
        if raw["onednn"]:
            dnn_threads = min(ONEDNN_THREADS,
                              key=lambda t: by_name_of(raw["onednn"][t])[name]["median_seconds"])
            dnn = by_name_of(raw["onednn"][dnn_threads])[name]
            dnn_cells = [f"{seconds(dnn['median_seconds'])} ({seconds(dnn['min_seconds'])}), {dnn_threads}",
                         f"{dnn['median_seconds'] / median:.2f}"]
        else:
            dnn_cells = [raw["onednn_missing"]["cell"], "-"]
        rows.append([
            name, ours["per"],
            f"{seconds(median)} ({seconds(ours['min_seconds'])})",
            f"{seconds(theirs['median_seconds'])} ({seconds(theirs['min_seconds'])}), {best_threads}",
            f"{theirs['median_seconds'] / median:.2f}",
            *dnn_cells,
            f"<= {seconds(required)}: {'met' if median <= required else 'NOT met'}",
            f"<= {seconds(goal)}: {'met' if median <= goal else 'not met'}",
            ours["reps"],
        ])
    print()
    print(table(["workload", "per", "typenet", "PyTorch, OPENBLAS_NUM_THREADS", "PyTorch / typenet",
                 "oneDNN, OMP_NUM_THREADS", "oneDNN / typenet", "required", "goal", "reps"], rows))


def print_ceilings(args, raw):
    """What the machine can do at all on these shapes, and what each figure
    and target means against it."""
    cxx = raw["cxx"]
    by_name = {r["name"]: r for r in cxx["results"]}
    flop, mnist = cxx["mnist_step_flop"], cxx["mnist"]
    steps = mnist["steps_per_epoch"]
    peak = {t: by_name[f"fma_peak_{t}thread" + ("s" if t > 1 else "")] for t in (1, args.threads)}
    top = gflops(peak[args.threads])
    blas = {1: raw["openblas_1thread"], args.threads: by_name["openblas_step_gemms"]}
    best_blas_threads = min(blas, key=lambda t: blas[t]["median_seconds"])
    best_blas = blas[best_blas_threads]["median_seconds"]
    blas_core = cxx["openblas"].split(",")[0]

    print(f"\n## Ceilings\n\nFLOP of one MNIST training step (batch {mnist['batch']}): forward "
          f"{flop['forward']:.0f} + dW {flop['weight_gradient']:.0f} + dX {flop['input_gradient']:.0f} "
          f"= {flop['total']:.0f} ({steps} steps per epoch: {flop['total'] * steps / 1e9:.1f} GFLOP).\n")
    rows = [[f"FP32 FMA peak, {t} thread(s) ({cxx['fma_instruction_set']})", seconds(r["median_seconds"]),
             f"{gflops(r):.1f}"] for t, r in peak.items()]
    # The independent check: the same chains written in assembly
    # (bench/ceilings.hpp), so a compiler that spills the C++ loop's
    # accumulators cannot understate the peak unnoticed.
    check = {t: by_name.get(f"fma_check_{t}thread" + ("s" if t > 1 else "")) for t in (1, args.threads)}
    rows += [[f"the same, checked by the assembly loop, {t} thread(s)", seconds(r["median_seconds"]),
              f"{gflops(r):.1f}"] for t, r in check.items() if r]
    rows += [[f"OpenBLAS ({blas_core}), the GEMMs of one MNIST step, {t} thread(s)", seconds(r["median_seconds"]),
              f"{gflops(r):.1f}"] for t, r in blas.items()]
    haswell = raw["openblas_1thread_haswell"]
    rows.append(["OpenBLAS, the same, 1 thread, OPENBLAS_CORETYPE=Haswell (for comparison)",
                 seconds(haswell["median_seconds"]), f"{gflops(haswell):.1f}"])
    print(table(["ceiling", "median time", "GFLOP/s"], rows))
    if check[1] and gflops(peak[1]) < 0.9 * gflops(check[1]):
        print(f"\n**Warning: the C++ FMA loop reaches only {gflops(peak[1]) / gflops(check[1]):.2f} of the assembly "
              "loop: the compiler did not keep its accumulators in registers, and every fraction of the peak below "
              "is overstated.**")
    # Spinning thread pools (typenet's, OpenBLAS's) collapse when another
    # process holds a core; the FMA loop's scaling shows whether one did.
    if args.threads > 1 and top < 0.9 * args.threads * gflops(peak[1]):
        print(f"\n**Warning: the {args.threads}-thread FMA peak is only {top / gflops(peak[1]):.2f} x the "
              "1-thread peak: other processes held a core, and the multi-threaded figures are not representative.**")

    def of_peak(rate):
        return f"{rate:.0f} GFLOP/s ({100 * rate / top:.0f}% of the {args.threads}-thread peak)"

    rows = []
    for name in ("mnist_epoch_plain", "mnist_epoch_batchnorm"):
        epoch = by_name[name]["median_seconds"]
        rows.append([f"typenet {name}", f"{of_peak(gflops(by_name[name]))}; per step {seconds(epoch / steps)}",
                     f"{epoch / steps / best_blas:.2f} x OpenBLAS's GEMMs alone"])
    rows.append([f"an epoch at the {args.threads}-thread FMA peak", seconds(flop["total"] * steps / (top * 1e9)),
                 "lower bound"])
    rows.append([f"an epoch of OpenBLAS's GEMMs alone ({best_blas_threads} thread(s))", seconds(best_blas * steps),
                 "GEMMs only, no elementwise work or optimizer"])
    adam = by_name.get("adam_update")
    if adam:
        plain_epoch = by_name["mnist_epoch_plain"]["median_seconds"]
        per_epoch = adam["median_seconds"] * steps
        rows.append([f"Adam's update alone, as a separate step ({cxx['threads']} threads)",
                     f"{seconds(adam['median_seconds'])} per step, {seconds(per_epoch)} per epoch",
                     f"{100 * per_epoch / plain_epoch:.0f}% of typenet's plain epoch (fused there)"])
    b1, b1000 = by_name["inference_batch1"], by_name["inference_batch1000"]
    rows.append(["typenet inference_batch1000", of_peak(gflops(b1000)),
                 f"{seconds(b1000['flop_per_call'] / (top * 1e9))} at the peak"])
    widths = mnist["widths"]
    weight_bytes = 4 * sum(i * o + o for i, o in zip(widths[:-1], widths[1:]))
    rows.append(["typenet inference_batch1", f"{weight_bytes / b1['median_seconds'] / 1e9:.0f} GB/s of weights "
                 f"({weight_bytes / 1e6:.2f} MB per forward)", of_peak(gflops(b1))])
    for name, (required, goal) in TARGETS.items():
        if name.startswith("mnist") or name == "inference_batch1000":
            work = by_name[name]["flop_per_call"] / 1e9
            rows.append([f"{name}: what the targets ask", f"required {of_peak(work / required)}",
                         f"goal {of_peak(work / goal)}"])
    rows.append(["inference_batch1: what the targets ask",
                 f"required {weight_bytes / TARGETS['inference_batch1'][0] / 1e9:.0f} GB/s of weights",
                 f"goal {weight_bytes / TARGETS['inference_batch1'][1] / 1e9:.0f} GB/s"])
    print()
    print(table(["derived", "figure", "compared with"], rows))


def print_compile_times(raw):
    if not raw["compile_seconds"]:
        return
    print("\n## Compile time per translation unit\n")
    print(table(["command (one compile each)", "seconds"],
                [[f"`{command}`", "did not compile" if t is None else f"{t:.1f}"]
                 for command, t in raw["compile_seconds"]]))
    print(f"\nOther processes used {100 * raw['compile_others_fraction']:.1f}% of the CPU time during the compiles "
          "(a compile uses one of the cores).")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions per workload (smoke test)")
    parser.add_argument("--bench", help="an already built bench binary (skips compiling and compile times)")
    parser.add_argument("--onednn", help="an already built bench_onednn binary (skips compiling it; meson builds "
                        "it as bench/bench_onednn when dnnl is found)")
    parser.add_argument("--threads", type=int, default=2, help="typenet's thread pool (default 2)")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="on a shared machine: before compiling and again before running, wait up to SECONDS "
                        "for 5 s without other processes (and, before running, for the FMA threads to scale)")
    parser.add_argument("--save", help="also write every raw result to this JSON file")
    parser.add_argument("--torch-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(json.loads(args.torch_worker))

    if importlib.util.find_spec("torch") is None:
        sys.exit(f"compare.py: {sys.executable} cannot import torch. Run it as /usr/bin/python3 bench/compare.py; "
                 "on Debian, PyTorch is installed by: apt-get install python3-torch")
    def wait(binary):
        if args.wait_idle > 0:
            print(f"waiting up to {args.wait_idle:.0f} s for idle CPUs ...", file=sys.stderr)
            if not wait_until_idle(args.wait_idle, binary, args.threads):
                print("the CPUs did not become idle; going on anyway", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="typenet-bench-") as build_dir:
        compile_seconds, compile_others = [], None
        if args.bench:
            binary = os.path.abspath(args.bench)
        else:
            wait(None)
            compile_meter = OtherProcessesMeter()
            print("compiling examples and bench/bench.cpp ...", file=sys.stderr)
            binary, compile_seconds = compile_all(build_dir)
            compile_others = compile_meter.stop()["others_fraction"]
        if args.onednn:
            onednn, onednn_missing = os.path.abspath(args.onednn), None
            if not (os.path.isfile(onednn) and os.access(onednn, os.X_OK)):
                sys.exit(f"compare.py: --onednn {args.onednn}: not an executable file")
        else:
            print(f"compiling {ONEDNN_SOURCE} ...", file=sys.stderr)
            onednn, onednn_missing = compile_onednn(build_dir)
        wait(binary)
        started = datetime.datetime.now()
        load_before = load_average()
        meter = OtherProcessesMeter()
        raw = run_everything(args, binary, onednn, onednn_missing)
        others = meter.stop()
    raw["compile_seconds"] = compile_seconds
    raw["compile_others_fraction"] = compile_others

    print_header(args, raw, started, load_before, others)
    print_comparison(raw)
    print_ceilings(args, raw)
    print_compile_times(raw)
    if args.save:
        with open(args.save, "w") as out:
            json.dump({"started": started.isoformat(), "other_processes_cpu": others} | raw, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
