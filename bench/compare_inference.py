#!/usr/bin/python3
"""Inference latency: typenet's InferenceModel, oneDNN, Eigen and PyTorch, one thread each, in one run.

Run it with Debian's interpreter (the one with python3-torch):

    /usr/bin/python3 bench/compare_inference.py                 # compiles bench/bench_inference.cpp
    /usr/bin/python3 bench/compare_inference.py --bench build/bench/bench_inference

1. compiles bench/bench_inference.cpp (g++ -std=c++20 -O2 -march=native -Iinclude -ldnnl, with
   -I/usr/include/eigen3 -DTYPENET_BENCH_EIGEN when Eigen's headers are there) unless --bench names
   a built binary (meson builds it with Eigen when it finds eigen3);
2. runs it with OMP_NUM_THREADS=1 (oneDNN's threads): typenet, oneDNN and, when the binary has it,
   the hand-written Eigen MLP (bench/eigen_mlp.hpp) on every workload, the FMA peak of one core and
   the read bandwidth of the cache holding each workload's weights;
3. runs the same networks in PyTorch in a subprocess: torch.set_num_threads(1),
   torch.inference_mode(), OPENBLAS_NUM_THREADS=1, MALLOC_TOP_PAD_=100000000, as compare.py runs it;
4. prints a Markdown table: ns per call (medians), the ratios, and typenet's time as a fraction of
   the workload's limit: the larger of FLOP / FMA peak and weight bytes / the bandwidth of the cache
   that holds them (1.0 would be at the limit). The Eigen column and its eigen / typenet ratio are
   shown only when the binary reported Eigen results.
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

# name: (widths, activation of the hidden layers and of a lone layer, softmax, batch)
NETWORKS = {
    "mnist_batch1": ([784, 256, 256, 10], "relu", True, 1),
    "mnist_batch16": ([784, 256, 256, 10], "relu", True, 16),
    "mnist_batch1000": ([784, 256, 256, 10], "relu", True, 1000),
    "dense16_tanh_batch1": ([16, 16], "tanh", False, 1),
    "dense64_tanh_batch1": ([64, 64], "tanh", False, 1),
    "moons_batch1": ([2, 16, 16, 1], "relu", False, 1),
}
CALLS = {1: 20000, 16: 2000, 1000: 20}


def torch_worker(reps):
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(1)
    results = {}
    for name, (widths, activation, softmax, batch) in NETWORKS.items():
        layers = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b))
            lone = len(widths) == 2
            if i < len(widths) - 2 or lone:
                layers.append(nn.ReLU() if activation == "relu" else nn.Tanh())
        if softmax:
            layers.append(nn.Softmax(dim=1))
        model = nn.Sequential(*layers).eval()
        x = torch.randn(batch, widths[0])
        calls = CALLS[batch] if widths[0] > 64 else 100000
        per_call = []
        with torch.inference_mode():
            for _ in range(calls):
                model(x)
            for _ in range(reps):
                start = time.perf_counter()
                for _ in range(calls):
                    model(x)
                per_call.append((time.perf_counter() - start) / calls)
        results[name] = statistics.median(per_call)
    json.dump({"torch": torch.__version__, "results": results}, sys.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", help="a built bench_inference binary")
    parser.add_argument("--reps", type=int, default=21)
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args.reps)

    binary = args.bench
    if not binary:
        binary = os.path.join(tempfile.mkdtemp(), "bench_inference")
        eigen = ["-I/usr/include/eigen3", "-DTYPENET_BENCH_EIGEN"] if os.path.isdir("/usr/include/eigen3") else []
        subprocess.run(["g++", "-std=c++20", "-O2", "-march=native", "-I" + os.path.join(REPO, "include"), *eigen,
                        os.path.join(REPO, "bench", "bench_inference.cpp"), "-o", binary, "-ldnnl"], check=True)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    ours = json.loads(subprocess.run([binary, "--reps", str(args.reps)], env=env, check=True,
                                     capture_output=True, text=True).stdout)
    torch_env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MALLOC_TOP_PAD_="100000000")
    torch_env.pop("OPENBLAS_CORETYPE", None)
    theirs = json.loads(subprocess.run([sys.executable, __file__, "--torch-worker", "--reps", str(args.reps)],
                                       env=torch_env, check=True, capture_output=True, text=True).stdout)

    peak = ours["fma_peak_flops_1thread"]
    rows = {}
    for r in ours["results"]:
        rows.setdefault(r["name"], {})[r["system"]] = r
    print(f"# Inference latency, {time.strftime('%Y-%m-%d %H:%M')}, one thread each\n")
    print(f"- machine: {platform.processor() or platform.machine()}; typenet kernels {ours['instruction_set']}; "
          f"FMA peak of one core {peak / 1e9:.1f} GFLOP/s (bench/ceilings.hpp; its assembly check "
          f"{ours.get('fma_check_flops_1thread', 0) / 1e9:.1f})")
    if ours.get("fma_check_flops_1thread") and peak < 0.9 * ours["fma_check_flops_1thread"]:
        print("- **Warning: the C++ FMA loop reaches less than 0.9 of its assembly check: the limits below are "
              "understated.**")
    # The binary has Eigen rows only when it was built with Eigen (TYPENET_BENCH_EIGEN).
    has_eigen = all("eigen" in rows[name] for name in NETWORKS)
    print(f"- PyTorch {theirs['torch']} (torch.inference_mode(), 1 thread); oneDNN matmul + post-ops, "
          "OMP_NUM_THREADS=1" + ("; Eigen hand-written (bench/eigen_mlp.hpp), 1 thread" if has_eigen else "") +
          "; medians of the per-call times\n")
    eigen_head = (" Eigen |", " eigen / typenet |") if has_eigen else ("", "")
    print(f"| workload | typenet | oneDNN |{eigen_head[0]} PyTorch | oneDNN / typenet |{eigen_head[1]} "
          "PyTorch / typenet | limit | typenet / limit |")
    print("|---|---|---|" + ("---|---|" if has_eigen else "") + "---|---|---|---|---|")
    for name in NETWORKS:
        t, d = rows[name]["typenet"], rows[name]["onednn"]
        p = theirs["results"][name]
        compute = t["flop"] / peak
        memory = t["weight_bytes"] / t["bandwidth_of_weights_cache"]
        limit = max(compute, memory)
        bound = "FMA" if compute >= memory else f"weights at {t['bandwidth_of_weights_cache'] / 1e9:.0f} GB/s"
        ns = lambda s: f"{s * 1e9:,.0f} ns" if s < 1e-4 else f"{s * 1e3:.3f} ms"
        e = rows[name]["eigen"]["median_seconds"] if has_eigen else None
        eigen_cells = (f" {ns(e)} |", f" {e / t['median_seconds']:.2f} |") if has_eigen else ("", "")
        print(f"| {name} | {ns(t['median_seconds'])} | {ns(d['median_seconds'])} |{eigen_cells[0]} {ns(p)} | "
              f"{d['median_seconds'] / t['median_seconds']:.2f} |{eigen_cells[1]} {p / t['median_seconds']:.1f} | "
              f"{ns(limit)} ({bound}) | {t['median_seconds'] / limit:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
