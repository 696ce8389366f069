#!/usr/bin/env python3
"""What picking the kernels at run time costs: each copy inside
bench_dispatch (bench/bench_dispatch.cpp) beside bench.cpp built for that ISA
alone, in interleaved rounds on the same machine.

It builds the single-ISA binaries itself, with the flags of the copies
(g++ -std=c++20 -O2 -DNDEBUG -fPIC -march=x86-64-vN, as bench/meson.build
builds them: Meson's release build defines NDEBUG and compiles a static
library's code position-independent),
then for each round runs, per ISA the CPU has, the single build and the
copy (TYPENET_ISA=...), and prints per workload the medians over the rounds
of each run's median and their ratio.

  /usr/bin/python3 bench/compare_dispatch.py --dispatch build/bench/bench_dispatch
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

LEVELS = {"sse": "x86-64-v2", "avx2": "x86-64-v3", "avx512": "x86-64-v4"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(binary, isa, args):
    env = dict(os.environ)
    env.pop("TYPENET_ISA", None)
    if isa:
        env["TYPENET_ISA"] = isa
    out = subprocess.run([binary] + args, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{binary} (TYPENET_ISA={isa}) failed:\n{out.stderr}")
    times = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if line.startswith("#") or len(parts) != 4:
            continue
        times[parts[0]] = float(parts[1])
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dispatch", required=True, help="the bench_dispatch binary")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="moons_step,inference_batch1,inference_batch1000,mnist_epoch_plain")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--reps", default="5")
    a = ap.parse_args()

    flags = open("/proc/cpuinfo").read()
    isas = ["sse", "avx2"] + (["avx512"] if " avx512f " in flags and " avx512bw " in flags else [])
    tmp = tempfile.mkdtemp(prefix="typenet_dispatch_")
    singles = {}
    for isa in isas:
        singles[isa] = os.path.join(tmp, f"bench_{isa}")
        cmd = ["g++", "-std=c++20", "-O2", "-DNDEBUG", "-fPIC", "-pthread", f"-march={LEVELS[isa]}", f"-I{ROOT}/include",
               "-I/usr/include/x86_64-linux-gnu/openblas-pthread", f"{ROOT}/bench/bench.cpp", "-lopenblas",
               "-o", singles[isa]]
        print("#", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)

    args = ["--threads", a.threads, "--reps", a.reps, "--only", a.only]
    results = {(isa, kind): {} for isa in isas for kind in ("single", "copy")}
    for r in range(a.rounds):
        for isa in isas:
            for kind, binary, override in (("single", singles[isa], None), ("copy", a.dispatch, isa)):
                for name, t in run(binary, override, args).items():
                    results[(isa, kind)].setdefault(name, []).append(t)
        print(f"# round {r + 1} of {a.rounds} done", flush=True)

    # Each cell: the median over the rounds of each run's median, and the
    # range of those run medians (the noise between runs).
    print("\n| ISA | workload | built for the ISA alone | its copy in bench_dispatch | copy / alone |")
    print("|---|---|---|---|---|")
    for isa in isas:
        for name in a.only.split(","):
            singles_t, copies_t = results[(isa, "single")][name], results[(isa, "copy")][name]
            s, c = statistics.median(singles_t), statistics.median(copies_t)
            unit, scale = ("ms", 1e3) if s >= 1e-3 else ("us", 1e6)
            cell = lambda m, ts: f"{m * scale:.3g} {unit} ({min(ts) * scale:.3g}-{max(ts) * scale:.3g})"
            print(f"| {isa} | {name} | {cell(s, singles_t)} | {cell(c, copies_t)} | {c / s:.3f} |")


if __name__ == "__main__":
    main()
