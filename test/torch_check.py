"""What the tests that compare typenet with PyTorch itself share.

Such a test is a Python script: it runs a small C++ probe (built by meson
from test/torch/*.cpp) that prints typenet's results as one JSON object, computes the
same things with PyTorch, and compares them. Without PyTorch for this
interpreter (Debian: apt-get install python3-torch, for /usr/bin/python3)
the test reports itself skipped (exit status 77), as meson expects.
"""

import json
import math
import subprocess
import sys

SKIP = 77


def import_torch():
    """torch, or exit as skipped when this interpreter has none."""
    try:
        import torch  # noqa: PLC0415 (imported here so that a missing torch is a skip, not a crash)
    except ImportError:
        torch = None
    # Without PyTorch, test/torch/ (the comparison scripts, on PYTHONPATH
    # through this folder) imports as an empty namespace package.
    if torch is None or getattr(torch, "__file__", None) is None:
        print(f"skipped: PyTorch is not installed for {sys.executable} (Debian: apt-get install python3-torch)")
        sys.exit(SKIP)
    torch.set_num_threads(1)
    return torch


def run_probe(binary, *args):
    """The probe's standard output, parsed as one JSON object."""
    done = subprocess.run([binary, *map(str, args)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{binary} failed with status {done.returncode}:\n{done.stderr}")
    return json.loads(done.stdout)


class Comparison:
    """Collects every mismatch, so that one run reports all of them."""

    def __init__(self):
        self.failures = []
        self.checked = 0

    def close(self, what, ours, theirs, rtol, atol):
        """ours and theirs: numbers or flat sequences of numbers; atol: one
        tolerance for all, or a sequence of one per value."""
        ours = list(ours) if hasattr(ours, "__len__") else [ours]
        theirs = [float(v) for v in (theirs.flatten().tolist() if hasattr(theirs, "flatten") else
                                     (list(theirs) if hasattr(theirs, "__len__") else [theirs]))]
        if len(ours) != len(theirs):
            self.failures.append(f"{what}: typenet gave {len(ours)} values, PyTorch {len(theirs)}")
            return
        atols = list(atol) if hasattr(atol, "__len__") else [atol] * len(theirs)
        worst, at = 0.0, -1
        for i, (a, b) in enumerate(zip(ours, theirs)):
            self.checked += 1
            if math.isnan(a) or math.isnan(b):
                if not (math.isnan(a) and math.isnan(b)):
                    self.failures.append(f"{what}[{i}]: typenet {a}, PyTorch {b}")
                continue
            # An infinity matches only itself (inf - inf is NaN, which the
            # tolerance test below would let pass).
            if math.isinf(a) or math.isinf(b):
                if a != b:
                    self.failures.append(f"{what}[{i}]: typenet {a}, PyTorch {b}")
                continue
            excess = abs(a - b) - (atols[i] + rtol * abs(b))
            if excess > worst:
                worst, at = excess, i
        if at >= 0:
            self.failures.append(f"{what}[{at}]: typenet {ours[at]!r}, PyTorch {theirs[at]!r} "
                                 f"(rtol {rtol}, atol {atols[at]})")

    def finish(self):
        if self.failures:
            print(f"{len(self.failures)} mismatches with PyTorch:")
            for f in self.failures:
                print("  " + f)
            sys.exit(1)
        print(f"{self.checked} values agree with PyTorch")
