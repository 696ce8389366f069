#!/usr/bin/env python3
"""Determinism: runs an example twice with different thread counts and
requires identical output (lines starting with 'time:' excepted).

  same_output.py EXE [--mnist-like DIR] -- ARGS...

With --mnist-like, first writes a small MNIST-format data set (synthetic
digits: a class-dependent stroke pattern plus noise) into DIR and passes
--data DIR: CI has no MNIST, and the point is the thread count, not the data.
"""
import os
import random
import struct
import subprocess
import sys


def write_idx_set(folder: str, prefix: str, count: int, seed: int) -> None:
    rng = random.Random(seed)
    images = bytearray()
    labels = bytearray()
    for _ in range(count):
        label = rng.randrange(10)
        labels.append(label)
        for r in range(28):
            for c in range(28):
                on = (r // 3 == label) or (c // 3 == (label * 7) % 9)
                images.append(min(255, (200 if on else 0) + rng.randrange(40)))
    with open(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, 28, 28) + bytes(images))
    with open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + bytes(labels))


def write_mnist_like(folder: str) -> None:
    """3000 training and 500 test images in MNIST's files, in `folder`."""
    os.makedirs(folder, exist_ok=True)
    write_idx_set(folder, "train", 3000, 1)
    write_idx_set(folder, "t10k", 500, 2)


def run(exe: str, args: list) -> str:
    r = subprocess.run([exe] + args, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        sys.exit(f"{exe} {' '.join(args)} exited with {r.returncode}")
    return "\n".join(line for line in r.stdout.splitlines() if not line.startswith("time:"))


def main() -> int:
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    head, args = argv[:split], argv[split + 1:]
    exe = head[0]
    if "--mnist-like" in head:
        folder = head[head.index("--mnist-like") + 1]
        write_mnist_like(folder)
        args = args + ["--data", folder]
    one = run(exe, args + ["--threads", "1"])
    two = run(exe, args + ["--threads", "2"])
    print(one)
    if one != two:
        for a, b in zip(one.splitlines(), two.splitlines()):
            if a != b:
                print(f"1 thread : {a}\n2 threads: {b}")
                break
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
