"""examples/from_pytorch end to end: PyTorch trains and saves, typenet loads and agrees.

Usage: from_pytorch_example.py SCRIPT PROGRAM DIR

Runs SCRIPT (examples/from_pytorch.py, with Debian's python, which has
torch) to train the network and write DIR/moons.safetensors and
DIR/moons_test.safetensors, then PROGRAM (the C++ example) on them. Passes
when typenet's "final test accuracy" is PyTorch's, to the sample. Skipped
(exit status 77) where the script says torch is missing.
"""

import re
import subprocess
import sys


def main():
    script, program, directory = sys.argv[1:4]
    trained = subprocess.run([sys.executable, script, "--out", directory], capture_output=True, text=True, check=False)
    print(trained.stdout, trained.stderr)
    if trained.returncode == 77:
        sys.exit(77)
    if trained.returncode != 0:
        sys.exit(f"{script} failed with status {trained.returncode}")
    theirs = re.search(r"PyTorch test accuracy: ([0-9.]+)% \((\d+) of (\d+)\)", trained.stdout)
    evaluated = subprocess.run([program, "--model", f"{directory}/moons.safetensors",
                                "--data", f"{directory}/moons_test.safetensors"],
                               capture_output=True, text=True, check=False)
    print(evaluated.stdout, evaluated.stderr)
    if evaluated.returncode != 0:
        sys.exit(f"{program} failed with status {evaluated.returncode}")
    ours = re.search(r"(\d+) of (\d+) correct\nfinal test accuracy: ([0-9.]+)%\n$", evaluated.stdout)
    if not theirs or not ours:
        sys.exit("the accuracy lines are missing")
    if (ours.group(1), ours.group(2)) != (theirs.group(2), theirs.group(3)):
        sys.exit(f"typenet: {ours.group(1)} of {ours.group(2)} correct; PyTorch: {theirs.group(2)} of {theirs.group(3)}")
    if float(theirs.group(1)) < 90:
        sys.exit(f"PyTorch's accuracy is only {theirs.group(1)}%: the example no longer trains")
    print(f"typenet and PyTorch both classify {ours.group(1)} of {ours.group(2)} test points correctly")


if __name__ == "__main__":
    main()
