#!/usr/bin/env python3
"""The serve example answers with the mnist example's accuracy for the same checkpoint.

  serve_matches_mnist.py MNIST SERVE MOONS CHECKPOINT_TO_SAFETENSORS DIR

Trains each mnist variant briefly on same_output.py's synthetic MNIST-format
set (CI has no MNIST) with --save, serves the checkpoint (and the BatchNorm
one converted to safetensors) from three threads
in requests of 7 images, and compares the two `final test accuracy` lines:
equal. Then the refusals: a missing file, another network's checkpoint.
"""
import os
import re
import subprocess
import sys

from same_output import write_mnist_like


def final_accuracy(out):
    m = re.search(r"final test accuracy: ([0-9.]+)%", out)
    return m.group(1) if m else None


def main():
    mnist, serve, moons, convert, folder = sys.argv[1:6]
    write_mnist_like(folder)
    failures = []
    for variant, suffix in (("plain", "tn"), ("dropout", "tn"), ("batchnorm", "tn"), ("batchnorm", "safetensors")):
        checkpoint = os.path.join(folder, f"serve-{variant}.{suffix}")
        if suffix == "tn":
            trained = subprocess.run([mnist, "--variant", variant, "--epochs", "1", "--threads", "1", "--data", folder,
                                      "--save", checkpoint], capture_output=True, text=True, timeout=600)
        else:  # the BatchNorm checkpoint just trained, as safetensors; mnist's accuracy is that run's
            converted = subprocess.run([convert, os.path.join(folder, f"serve-{variant}.tn"), checkpoint],
                                       capture_output=True, text=True)
            if converted.returncode:
                failures.append(f"converting to safetensors: {converted.stderr}")
                continue
        served = subprocess.run([serve, "--load", checkpoint, "--data", folder, "--threads", "3", "--batch", "7"],
                                capture_output=True, text=True, timeout=600)
        a, b = final_accuracy(trained.stdout), final_accuracy(served.stdout)
        print(f"{variant} ({suffix}): mnist {a}%, serve {b}%")
        print(served.stdout)
        if trained.returncode or served.returncode or a is None or a != b:
            failures.append(f"{variant} ({suffix}): mnist said {a}, serve said {b}\n{trained.stderr}{served.stderr}")
    missing = subprocess.run([serve, "--load", os.path.join(folder, "no-such.tn"), "--data", folder],
                             capture_output=True, text=True)
    if missing.returncode != 1 or "no-such.tn" not in missing.stderr:
        failures.append(f"a missing checkpoint: status {missing.returncode}, stderr {missing.stderr!r}")
    other = os.path.join(folder, "serve-moons.tn")
    subprocess.run([moons, "--steps", "2", "--save", other], capture_output=True, check=True)
    wrong = subprocess.run([serve, "--load", other, "--data", folder], capture_output=True, text=True)
    if wrong.returncode != 1 or "serve knows the mnist example's networks" not in wrong.stderr:
        failures.append(f"another network's checkpoint: status {wrong.returncode}, stderr {wrong.stderr!r}")
    if failures:
        print("\n".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
