#!/usr/bin/env python3
"""The compiler check in typenet/config.hpp, with older compilers simulated.

No older compiler is needed: the check reads only the version macros, so the
compiler at hand is made to report a version one below the minimum
(-U__GNUC__ -D__GNUC__=10 for GCC, -U__clang_major__ -D__clang_major__=17
for clang). Every public header must then stop at the check, with the sentence
as its first error and nothing after it but, on GCC, the stop that follows the
sentence; at the minimum version itself, the umbrella header must compile.
"""
import argparse
import concurrent.futures
import os
import pathlib
import shlex
import subprocess
import sys

MINIMUM = {"gcc": ("__GNUC__", 11), "clang": ("__clang_major__", 18)}
NAME = {"gcc": "GCC", "clang": "clang"}
# Headers that any compiler may read: the version macros (a program may test
# them before it includes anything else) and the check itself.
UNCHECKED = {"typenet/version.hpp", "typenet/config.hpp"}


def compile_header(cxx, includes, header, macro, version):
    source = f"#include <{header}>\n"
    command = shlex.split(cxx) + ["-std=c++20", "-fsyntax-only", "-x", "c++", f"-U{macro}", f"-D{macro}={version}"]
    command += [f"-I{i}" for i in includes] + ["-"]
    return subprocess.run(command, input=source, capture_output=True, text=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cxx", required=True, help="compiler command (shell-quoted)")
    ap.add_argument("--kind", required=True, choices=sorted(MINIMUM))
    ap.add_argument("--include", action="append", default=[], help="an include directory whose typenet/ is checked")
    a = ap.parse_args()

    macro, minimum = MINIMUM[a.kind]
    headers = sorted(str(p.relative_to(root)) for root in map(pathlib.Path, a.include)
                     for p in (root / "typenet").rglob("*.hpp"))
    headers = [h for h in headers if h not in UNCHECKED]
    if len(headers) < 50:
        print(f"only {len(headers)} public headers found under {a.include}")
        return 1
    # The minor version is the compiler's own; only the major one is redefined.
    expected_start = f"typenet: this is {NAME[a.kind]} {minimum - 1}."
    expected_end = f", and typenet needs {NAME[a.kind]} {minimum} or later."
    failures = []
    # One compiler per core: clang reads each header to its end after the
    # sentence (GCC stops there), about a second a header.
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(lambda h: compile_header(a.cxx, a.include, h, macro, minimum - 1), headers))
    for header, r in zip(headers, results):
        errors = [line for line in r.stderr.splitlines() if "error:" in line]
        if r.returncode == 0 or not errors:
            failures.append(f"{header}: compiled, or failed without an error, as {NAME[a.kind]} {minimum - 1}")
            continue
        first = errors[0]
        if expected_start not in first or expected_end not in first:
            failures.append(f"{header}: the first error is not the sentence:\n  {first}")
            continue
        after = errors[1:]
        if a.kind == "gcc" and len(after) == 1 and "stopped at the compiler check above" in after[0]:
            after = []
        if after:
            failures.append(f"{header}: more errors after the sentence:\n  " + "\n  ".join(after))
    at_minimum = compile_header(a.cxx, a.include, "typenet/typenet.hpp", macro, minimum)
    if at_minimum.returncode != 0:
        failures.append(f"typenet/typenet.hpp does not compile as {NAME[a.kind]} {minimum}:\n{at_minimum.stderr[:2000]}")
    for f in failures:
        print(f)
    print(f"{len(headers) - len(failures)} of {len(headers)} headers stop at the sentence as "
          f"{NAME[a.kind]} {minimum - 1}; typenet.hpp as {NAME[a.kind]} {minimum}: "
          + ("compiles" if at_minimum.returncode == 0 else "fails"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
