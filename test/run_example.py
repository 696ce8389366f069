#!/usr/bin/env python3
"""Runs an example end to end and checks what it prints.

  run_example.py EXE [--expect-final NAME MIN] [--expect-status N]
                 [--expect-stderr TEXT] [--mnist-like DIR]
                 [--skip-if-stderr TEXT] -- ARGS...

The example's last line must be `final NAME: VALUE` (VALUE may end in %)
with VALUE >= MIN (or <= MIN with --at-most). With --mnist-like, first
writes same_output.py's small synthetic MNIST-format set into DIR and
passes --data DIR (CI has no MNIST). EXE may be mpirun, with the example
among ARGS. With --skip-if-stderr, a failed run whose stderr says TEXT
(--device cuda on a machine without a GPU) reports itself skipped (exit
status 77, meson's SKIP) instead of failing.
"""
import argparse
import re
import subprocess
import sys

from same_output import write_mnist_like


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("--expect-final", nargs=2, metavar=("NAME", "BOUND"))
    ap.add_argument("--at-most", action="store_true")
    ap.add_argument("--expect-status", default="0",
                    help="the exit status, or 'nonzero' for any failure")
    ap.add_argument("--expect-stderr")
    ap.add_argument("--expect-stdout")
    ap.add_argument("--mnist-like")
    ap.add_argument("--skip-if-stderr")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    a = ap.parse_args(argv[:split])
    a.args = argv[split + 1:]
    if a.mnist_like:
        write_mnist_like(a.mnist_like)
        a.args += ["--data", a.mnist_like]

    r = subprocess.run([a.exe] + a.args, capture_output=True, text=True, timeout=600)
    print(r.stdout[-3000:])
    print(r.stderr[-3000:], file=sys.stderr)
    if a.skip_if_stderr and r.returncode != 0 and a.skip_if_stderr in r.stderr:
        print(f"SKIPPED: {a.skip_if_stderr}")
        return 77
    failed_as_expected = a.expect_status == "nonzero" and r.returncode != 0
    if not failed_as_expected and str(r.returncode) != a.expect_status:
        print(f"exit status {r.returncode}, expected {a.expect_status}")
        return 1
    if a.expect_stderr and a.expect_stderr not in r.stderr:
        print(f"stderr lacks: {a.expect_stderr}")
        return 1
    if a.expect_stdout and a.expect_stdout not in r.stdout:
        print(f"stdout lacks: {a.expect_stdout}")
        return 1
    if a.expect_final:
        name, bound = a.expect_final[0], float(a.expect_final[1])
        lines = r.stdout.strip().splitlines()
        m = re.fullmatch(rf"final {re.escape(name)}: ([-+0-9.eE]+)%?", lines[-1] if lines else "")
        if not m:
            print(f"last line is not 'final {name}: VALUE': {lines[-1] if lines else ''!r}")
            return 1
        value = float(m.group(1))
        ok = value <= bound if a.at_most else value >= bound
        if not ok:
            print(f"final {name} {value} is {'above' if a.at_most else 'below'} {bound}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
