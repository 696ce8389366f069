"""The exported headers compile with no include path and agree with InferenceModel.

Runs the probe (which writes each network's header, inputs and
InferenceModel's outputs into a folder), then, for each header and for g++
and clang++ (-std=c++17 -O2, no -I), compiles a small program that includes
only that header, runs it on the inputs and compares its outputs with
InferenceModel's: within 1e-6 of max(1, |y|) (the products accumulate in
InferenceModel's order; the elementwise functions are <cmath>'s in the
header, typenet's polynomials in InferenceModel). Prints each compile time.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

MAIN = r"""
#include <cstdio>
#include <vector>
#include "NAME.hpp"
int main(int argc, char** argv) {
  std::FILE* f = std::fopen(argv[1], "r");
  std::size_t rows = 0, cols = 0;
  if (!f || std::fscanf(f, "%zu %zu", &rows, &cols) != 2 || cols != NAME::input_size) return 3;
  std::vector<float> x(rows * cols), y(rows * NAME::output_size);
  for (float& v : x) if (std::fscanf(f, "%f", &v) != 1) return 4;
  NAME::predict(x.data(), rows, y.data());
  for (float v : y) std::printf("%.9g\n", v);
}
"""


def read(path):
    with open(path) as f:
        rows, cols = map(int, f.readline().split())
        return [float(v) for v in f.read().split()], rows, cols


def main():
    probe = sys.argv[1]
    compilers = [c for c in ("g++", "clang++") if shutil.which(c)]
    folder = tempfile.mkdtemp(prefix="typenet_export_")
    subprocess.run([probe, folder], check=True, stdout=subprocess.DEVNULL)
    failures = []
    names = sorted(n[:-4] for n in os.listdir(folder) if n.endswith(".hpp"))
    for name in names:
        source = os.path.join(folder, name + "_main.cpp")
        with open(source, "w") as f:
            f.write(MAIN.replace("NAME", name))
        expected, rows, cols = read(os.path.join(folder, name + "_y.txt"))
        for cxx in compilers:
            binary = os.path.join(folder, f"{name}_{cxx.replace('+', 'x')}")
            start = time.monotonic()
            built = subprocess.run([cxx, "-std=c++17", "-O2", "-o", binary, source], capture_output=True, text=True)
            seconds = time.monotonic() - start
            if built.returncode != 0:
                failures.append(f"{name} with {cxx}: does not compile:\n{built.stderr[:2000]}")
                continue
            out = subprocess.run([binary, os.path.join(folder, name + "_x.txt")], capture_output=True, text=True)
            got = [float(v) for v in out.stdout.split()]
            if out.returncode != 0 or len(got) != len(expected):
                failures.append(f"{name} with {cxx}: exit {out.returncode}, {len(got)} values for {len(expected)}")
                continue
            worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(got, expected))
            print(f"{name:22s} {cxx:8s} compile {seconds:5.1f} s  worst difference {worst:.2e}")
            if worst > 1e-6:
                failures.append(f"{name} with {cxx}: differs from InferenceModel by {worst:.3g} > 1e-6")
    shutil.rmtree(folder)
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    if not compilers:
        print("skipped: no g++ or clang++ on PATH")
        sys.exit(77)


if __name__ == "__main__":
    main()
