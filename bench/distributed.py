#!/usr/bin/env python3
"""Data-parallel scaling of the MNIST example on this machine (docs/distributed.md).

  bench/distributed.py [--build build] [--launches 5] [--epochs 2]

Runs `mpirun -np N build/examples/mnist --distributed --threads 1` for 1 and
2 ranks at global batches of 64 and 512, with the default gradient buckets,
one bucket per block and one bucket after backward, each configuration
`--launches` times, and prints one table row per configuration: the median
(and range) of the epoch time, samples/s, ms per step and ms per step spent
waiting for the gradient allreduce, all read from the example's `time:`
lines. Needs MNIST in data/mnist (meson compile -C build mnist-data).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

CONFIGS = [  # (global batch, ranks, bucket flag, label)
    (64, 1, [], "-"),
    (64, 2, [], "256 KiB (default)"),
    (64, 2, ["--bucket-kb", "0"], "one per block (`--bucket-kb 0`)"),
    (64, 2, ["--bucket-kb", "1048576"], "one after backward (`--bucket-kb 1048576`)"),
    (512, 1, [], "-"),
    (512, 2, [], "256 KiB (default)"),
    (512, 2, ["--bucket-kb", "1048576"], "one after backward"),
]

TIME = re.compile(r"time: ([0-9.]+) s training, ([0-9]+) samples/s")
STEP = re.compile(r"time: ([0-9.]+) ms per step, of which ([0-9.]+) ms waiting")


def launch(build: str, ranks: int, batch: int, epochs: int, extra: list) -> tuple:
    env = dict(os.environ, OMPI_MCA_plm="isolated", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    cmd = ["mpirun", "--bind-to", "core", "-np", str(ranks), os.path.join(build, "examples", "mnist"),
           "--distributed", "--threads", "1", "--epochs", str(epochs), "--batch-size", str(batch)] + extra
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    t, s = TIME.search(r.stdout), STEP.search(r.stdout)
    if not (t and s):
        sys.exit(f"{' '.join(cmd)}: no time lines in its output")
    return float(t.group(1)) / epochs, float(t.group(2)), float(s.group(1)), float(s.group(2))


def summary(values: list, digits: int) -> str:
    m = statistics.median(values)
    if len(values) == 1:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--launches", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=2)
    a = ap.parse_args()
    print("| global batch | ranks | gradient buckets | epoch (s) | samples/s | ms per step | of which waiting |")
    print("|---|---|---|---|---|---|---|")
    for batch, ranks, extra, label in CONFIGS:
        runs = [launch(a.build, ranks, batch, a.epochs, extra) for _ in range(a.launches)]
        epoch, rate, step, wait = zip(*runs)
        print(f"| {batch} | {ranks} | {label} | {summary(epoch, 2)} | {statistics.median(rate):,.0f} | "
              f"{summary(step, 3)} | {summary(wait, 3)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
