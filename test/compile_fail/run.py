#!/usr/bin/env python3
"""Compile-fail test: a source file is compiled twice with -fsyntax-only.

Without TYPENET_COMPILE_FAIL it must compile (the correct network). With it,
it must fail with exactly one error, whose line contains the sentence given
in the file's `// expect:` comment: no internal error may follow a mistake.
A `// max-lines: N` comment bounds everything the compiler prints for it.
"""
import argparse
import re
import shlex
import subprocess
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cxx", required=True, help="compiler command (shell-quoted)")
    ap.add_argument("--include", action="append", default=[])
    ap.add_argument("source")
    a = ap.parse_args()

    text = open(a.source, encoding="utf-8").read()
    m = re.search(r"^// expect: (.+)$", text, re.M)
    if not m:
        print(f"{a.source}: no '// expect:' line")
        return 1
    expected = m.group(1).strip()
    limit = re.search(r"^// max-lines: (\d+)$", text, re.M)
    base = shlex.split(a.cxx) + ["-std=c++20", "-fsyntax-only"] + [f"-I{i}" for i in a.include] + [a.source]

    good = subprocess.run(base, capture_output=True, text=True)
    if good.returncode != 0:
        print(f"the correct variant of {a.source} does not compile:\n{good.stderr}")
        return 1

    bad = subprocess.run(base + ["-DTYPENET_COMPILE_FAIL"], capture_output=True, text=True)
    if bad.returncode == 0:
        print(f"the faulty variant of {a.source} compiled, but must not")
        return 1
    errors = [line for line in bad.stderr.splitlines() if "error:" in line]
    if not errors:
        print(f"the compiler failed without an error line:\n{bad.stderr}")
        return 1
    if expected not in errors[0]:
        print(f"first error line:\n  {errors[0]}\ndoes not contain:\n  {expected}")
        return 1
    if len(errors) != 1:
        print(f"{len(errors)} errors, not one; after the sentence:\n" + "\n".join(errors[1:]))
        return 1
    lines = bad.stderr.rstrip("\n").splitlines()
    if limit and len(lines) > int(limit.group(1)):
        print(f"the compiler printed {len(lines)} lines, more than {limit.group(1)}:\n{bad.stderr}")
        return 1
    print(f"ok: {errors[0].split('error:', 1)[1].strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
