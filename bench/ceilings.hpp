// The machine's ceilings, measured by the benchmarks beside the workloads:
// the FP32 FMA peak of one core (and of several), and the read bandwidth
// from whichever cache holds a buffer of a given size.
#pragma once

#include <cstddef>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "typenet/base/aligned_buffer.hpp"
#include "typenet/simd/vec.hpp"

namespace bench {

// A register-only loop of FMAs on typenet's native vector: every
// accumulator depends only on itself, so with enough of them in flight the
// loop runs at the FMA units' throughput (latency 4 cycles x 2 pipes = 8 on
// Zen 3, 4 and 5) and touches no memory. They must all fit in registers
// with the loop's two constants, or the loop measures a spill instead: 16
// of 32 zmm with AVX-512, 12 of the 16 ymm or xmm registers otherwise.
#if TYPENET_AVX512
constexpr int fma_accumulators = 16;
#else
constexpr int fma_accumulators = 12;
#endif
constexpr long fma_iterations = 20'000'000;  // about 0.1 s per repetition with AVX-512
constexpr double fma_flop_per_thread =
    2.0 * fma_accumulators * typenet::simd::lanes<float> * static_cast<double>(fma_iterations);

inline float fma_loop(long iterations) {
  using V = typenet::simd::vec<float>;
  V acc[fma_accumulators];
  for (int k = 0; k < fma_accumulators; ++k) acc[k] = typenet::simd::splat<V>(0.001f * static_cast<float>(k));
  // acc -> 0.999999 acc + 1e-6 converges to 1: no overflow, no denormals.
  const V a = typenet::simd::splat<V>(0.999999f), b = typenet::simd::splat<V>(1e-6f);
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int k = 0; k < fma_accumulators; ++k) acc[k] = typenet::simd::fma(acc[k], a, b);
  }
  float total = 0;
  for (int k = 0; k < fma_accumulators; ++k) total += typenet::simd::reduce_add(acc[k]);
  return total;
}

inline Timing fma_peak(const Plan& plan, unsigned threads) {
  return measure(plan, [threads] {
    std::vector<float> totals(threads);
    std::vector<std::thread> helpers;
    for (unsigned t = 1; t < threads; ++t) helpers.emplace_back([&totals, t] { totals[t] = fma_loop(fma_iterations); });
    totals[0] = fma_loop(fma_iterations);
    for (auto& h : helpers) h.join();
    double sum = 0;
    for (float v : totals) sum += static_cast<double>(v);
    result_sink = sum;
  });
}

// Bytes per second read from a buffer of `bytes`, read again and again, on
// one thread: the bandwidth of the cache level that holds that many bytes
// (L1, L2, L3 or memory). Eight independent sums keep the loads in flight.
inline double read_bandwidth(std::size_t bytes, const Plan& plan) {
  using V = typenet::simd::vec<float>;
  constexpr std::size_t W = static_cast<std::size_t>(typenet::simd::lanes<float>);
  const std::size_t n = std::max<std::size_t>(bytes / sizeof(float) / (8 * W), 1) * 8 * W;
  typenet::AlignedBuffer<float> buffer(n);
  for (std::size_t i = 0; i < n; ++i) buffer[i] = 1e-3f * static_cast<float>(i % 7);
  const long passes = static_cast<long>(std::max<std::size_t>(64u << 20 >> 2, n) / n);  // ~64 MB a repetition
  const Timing t = measure(plan, [&] {
    V acc[8] = {};
    for (long p = 0; p < passes; ++p)
      for (std::size_t i = 0; i < n; i += 8 * W)
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) acc[k] += typenet::simd::load(buffer.data() + i + static_cast<std::size_t>(k) * W);
    float total = 0;
    for (auto& a : acc) total += typenet::simd::reduce_add(a);
    result_sink = total;
  });
  return static_cast<double>(passes) * static_cast<double>(n * sizeof(float)) / t.median_seconds;
}

}  // namespace bench
