#!/usr/bin/python3
"""typenet's CSV reader side by side with pandas' read_csv, on the same file.

Run it with Debian's interpreter, the one that has pandas (python3-pandas):

    /usr/bin/python3 bench/compare_csv.py                  # 200,000 x 30, about a minute
    /usr/bin/python3 bench/compare_csv.py --quick          # a smoke test: 20,000 rows, 1 round
    /usr/bin/python3 bench/compare_csv.py --bench PATH     # another build's bench_csv

What it does, in one run:
  1. build/bench/bench_csv --write writes the table (a header, then rows of
     standard normal floats from typenet's Rng as their shortest text: the
     same file on every machine);
  2. in each of --rounds rounds, in turn: typenet's read_csv_matrix<float>
     and <double> (bench_csv --read: one warm-up read, then --reps timed
     reads, their median), and pandas.read_csv(file) with its defaults (the C
     parser, float64), then with dtype=numpy.float32 (one warm-up read, --reps
     timed reads, their median); alternating the sides within each round
     spreads a noisy neighbour's spells over both;
  3. prints a Markdown table: the median over rounds of each side's median,
     the ratio pandas / typenet (> 1: typenet is faster) and the issue's goal
     (3x), with the instruction set and the load average before and after.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOAL = 3.0


def pandas_seconds(path, reps, **options):
    import pandas as pd

    pd.read_csv(path, **options)  # warm-up (and the page cache)
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        frame = pd.read_csv(path, **options)
        samples.append(time.perf_counter() - start)
        assert frame.shape[0] > 0
    return statistics.median(samples), frame.shape


def typenet_seconds(bench, path, kind, reps):
    done = subprocess.run([bench, "--read", path, "--type", kind, "--reps", str(reps), "--warmup", "1"],
                          capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    return report["median_seconds"], (report["rows"], report["cols"])


def instruction_set():
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return "unknown"
    for name in ("avx512f", "avx2", "sse4_2"):
        if f" {name}" in flags:
            return name
    return "baseline x86-64"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "unknown")
    except OSError:
        return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default=os.path.join(REPO, "build", "bench", "bench_csv"))
    ap.add_argument("--rows", type=int, default=200000)
    ap.add_argument("--cols", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="20,000 rows, 1 round of 3 reads")
    a = ap.parse_args()
    if a.quick:
        a.rows, a.rounds, a.reps = 20000, 1, 3
    try:
        import numpy as np
        import pandas as pd
    except ImportError:
        sys.exit(f"pandas is not installed for {sys.executable} (Debian: apt-get install python3-pandas)")
    if not os.access(a.bench, os.X_OK):
        sys.exit(f"no {a.bench}: build it first (meson setup build && ninja -C build bench/bench_csv)")

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "table.csv")
        subprocess.run([a.bench, "--write", path, "--rows", str(a.rows), "--cols", str(a.cols)], check=True)
        size_mb = os.path.getsize(path) / 1e6
        load_before = os.getloadavg()
        sides = {"typenet read_csv_matrix<float>": [], "typenet read_csv_matrix<double>": [],
                 "pandas read_csv (float64)": [], "pandas read_csv (dtype float32)": []}
        shapes = set()
        for _ in range(a.rounds):
            for name in sides:
                if name.startswith("typenet"):
                    seconds, shape = typenet_seconds(a.bench, path, "float" if "float>" in name else "double", a.reps)
                else:
                    options = {"dtype": np.float32} if "float32" in name else {}
                    seconds, shape = pandas_seconds(path, a.reps, **options)
                sides[name].append(seconds)
                shapes.add(tuple(shape))
        load_after = os.getloadavg()

    if len(shapes) != 1:
        sys.exit(f"the sides read different shapes: {shapes}")
    median = {name: statistics.median(v) for name, v in sides.items()}
    reference = median["pandas read_csv (float64)"]
    print(f"CSV reading: {a.rows:,} rows x {a.cols} float columns ({size_mb:.1f} MB), median of {a.rounds} rounds "
          f"of {a.reps} reads each")
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, instruction set {instruction_set()}; "
          f"pandas {pd.__version__}, numpy {np.__version__}; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after\n")
    print("| reader | seconds | MB/s | pandas (float64) / this | goal |")
    print("|---|---|---|---|---|")
    for name, seconds in median.items():
        ratio = reference / seconds
        goal = f">= {GOAL:g}x: {'met' if ratio >= GOAL else 'NOT met'}" if name.startswith("typenet") else ""
        print(f"| {name} | {seconds:.3f} | {size_mb / seconds:.0f} | {ratio:.2f}x | {goal} |")
    print("\nevery round (seconds):")
    for name, v in sides.items():
        print(f"  {name}: " + ", ".join(f"{s:.3f}" for s in v))


if __name__ == "__main__":
    main()
