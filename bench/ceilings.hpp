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

// In the ISA's namespace, as typenet's own code is (config.hpp): each copy
// of a benchmark built for another ISA (bench_dispatch) measures its own
// peak, not whichever copy of these inline functions the linker kept.
namespace bench::inline TYPENET_ISA_NAMESPACE {

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
constexpr long fma_iterations = 20'000'000;  // about 0.05 s per repetition at 100 GFLOP/s
constexpr double fma_flop_per_thread =
    2.0 * fma_accumulators * typenet::simd::lanes<float> * static_cast<double>(fma_iterations);

// An empty asm statement that takes v in a vector register and may change
// it: the compiler must keep every accumulator in a register, each
// iteration. Without it GCC 12, once the loop was inlined into its caller,
// kept the twelve AVX2 accumulators in memory and stored each of them every
// iteration: the loop then measured the store port, a third of the peak.
template <class V>
TYPENET_INLINE void in_register(V& v) {
#if TYPENET_AVX512
  asm volatile("" : "+v"(v));  // any of the 32 zmm registers
#elif defined(__x86_64__) || defined(__i386__)
  asm volatile("" : "+x"(v));
#elif defined(__aarch64__)
  asm volatile("" : "+w"(v));
#else
  asm volatile("" : "+m"(v));  // no vector constraint known: the loop may then measure memory too
#endif
}

[[gnu::noinline]] inline float fma_loop(long iterations) {
  using V = typenet::simd::vec<float>;
  // Every loop over the accumulators is unrolled: an array indexed by a
  // loop variable lives in memory, one indexed by constants in registers.
  V acc[fma_accumulators];
#pragma GCC unroll 16
  for (int k = 0; k < fma_accumulators; ++k) acc[k] = typenet::simd::splat<V>(0.001f * static_cast<float>(k));
  // acc -> 0.999999 acc + 1e-6 converges to 1: no overflow, no denormals.
  const V a = typenet::simd::splat<V>(0.999999f), b = typenet::simd::splat<V>(1e-6f);
  for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int k = 0; k < fma_accumulators; ++k) {
      acc[k] = typenet::simd::fma(acc[k], a, b);
      in_register(acc[k]);
    }
  }
  float total = 0;
#pragma GCC unroll 16
  for (int k = 0; k < fma_accumulators; ++k) total += typenet::simd::reduce_add(acc[k]);
  return total;
}

// The independent check of that loop: the same chains written in assembly,
// so that no compiler decides where the accumulators live. It counts the
// same FLOP per iteration as fma_loop (fma_accumulators chains of one
// vector FMA each, or of one multiply and one add on x86-64-v2, which has no
// FMA: there typenet's kernels also multiply and add). Where neither runs
// (another architecture) it is not built: has_fma_check says so.
#if (defined(__x86_64__) && (defined(__AVX2__) || defined(__SSE2__))) || defined(__aarch64__)
constexpr bool has_fma_check = true;
#else
constexpr bool has_fma_check = false;
#endif

#define TYPENET_BENCH_REPEAT12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define TYPENET_BENCH_REPEAT16(X) TYPENET_BENCH_REPEAT12(X) X(12) X(13) X(14) X(15)

[[gnu::noinline]] inline void fma_loop_assembly(long iterations) {
  if constexpr (!has_fma_check) return;
  long n = iterations;
#if TYPENET_AVX512
  static_assert(fma_accumulators == 16);
  // zmm0-15 accumulate, zmm30 and zmm31 are the constants (zero: the
  // throughput of an FMA does not depend on its values unless they are
  // denormal, and 0 x 0 + 0 never is).
#define TYPENET_BENCH_ZERO(k) "vpxord %%zmm" #k ", %%zmm" #k ", %%zmm" #k "\n"
#define TYPENET_BENCH_FMA(k) "vfmadd231ps %%zmm30, %%zmm31, %%zmm" #k "\n"
  asm volatile(TYPENET_BENCH_REPEAT16(TYPENET_BENCH_ZERO) "vpxord %%zmm30, %%zmm30, %%zmm30\n"
               "vpxord %%zmm31, %%zmm31, %%zmm31\n"
               "1:\n" TYPENET_BENCH_REPEAT16(TYPENET_BENCH_FMA) "dec %0\n jnz 1b\n"
               : "+r"(n)::"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                 "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm30", "xmm31", "cc");
#elif defined(__x86_64__) && defined(__FMA__) && defined(__AVX2__)
  static_assert(fma_accumulators == 12);
#define TYPENET_BENCH_ZERO(k) "vxorps %%ymm" #k ", %%ymm" #k ", %%ymm" #k "\n"
#define TYPENET_BENCH_FMA(k) "vfmadd231ps %%ymm14, %%ymm15, %%ymm" #k "\n"
  asm volatile(TYPENET_BENCH_REPEAT12(TYPENET_BENCH_ZERO) "vxorps %%ymm14, %%ymm14, %%ymm14\n"
               "vxorps %%ymm15, %%ymm15, %%ymm15\n"
               "1:\n" TYPENET_BENCH_REPEAT12(TYPENET_BENCH_FMA) "dec %0\n jnz 1b\n"
               : "+r"(n)::"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                 "xmm11", "xmm14", "xmm15", "cc");
#elif defined(__x86_64__)
  static_assert(fma_accumulators == 12);
  // SSE: a multiply and an add per chain, as typenet's portable fma();
  // all the multiplies, then all the adds, so that each add's input is ready.
#define TYPENET_BENCH_ZERO(k) "xorps %%xmm" #k ", %%xmm" #k "\n"
#define TYPENET_BENCH_FMA(k) "mulps %%xmm14, %%xmm" #k "\n"
#define TYPENET_BENCH_ADD(k) "addps %%xmm15, %%xmm" #k "\n"
  asm volatile(TYPENET_BENCH_REPEAT12(TYPENET_BENCH_ZERO) "xorps %%xmm14, %%xmm14\n xorps %%xmm15, %%xmm15\n"
               "1:\n" TYPENET_BENCH_REPEAT12(TYPENET_BENCH_FMA) TYPENET_BENCH_REPEAT12(TYPENET_BENCH_ADD)
               "dec %0\n jnz 1b\n"
               : "+r"(n)::"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                 "xmm11", "xmm14", "xmm15", "cc");
#elif defined(__aarch64__)
  static_assert(fma_accumulators == 12);
#define TYPENET_BENCH_ZERO(k) "movi v" #k ".4s, #0\n"
#define TYPENET_BENCH_FMA(k) "fmla v" #k ".4s, v30.4s, v31.4s\n"
  asm volatile(TYPENET_BENCH_REPEAT12(TYPENET_BENCH_ZERO) "movi v30.4s, #0\n movi v31.4s, #0\n"
               "1:\n" TYPENET_BENCH_REPEAT12(TYPENET_BENCH_FMA) "subs %0, %0, #1\n b.ne 1b\n"
               : "+r"(n)::"v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v30", "v31",
                 "cc");
#endif
#if defined(TYPENET_BENCH_ZERO)
#undef TYPENET_BENCH_ZERO
#undef TYPENET_BENCH_FMA
#endif
#if defined(TYPENET_BENCH_ADD)
#undef TYPENET_BENCH_ADD
#endif
}
#undef TYPENET_BENCH_REPEAT12
#undef TYPENET_BENCH_REPEAT16

// The peak on `threads` threads, each running the C++ loop, or (assembly)
// the independent check.
inline Timing fma_peak(const Plan& plan, unsigned threads, bool assembly = false) {
  return measure(plan, [threads, assembly] {
    auto run = [assembly] {
      if (!assembly) return fma_loop(fma_iterations);
      fma_loop_assembly(fma_iterations);
      return 0.0f;
    };
    std::vector<float> totals(threads);
    std::vector<std::thread> helpers;
    for (unsigned t = 1; t < threads; ++t) helpers.emplace_back([&totals, t, &run] { totals[t] = run(); });
    totals[0] = run();
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

}  // namespace bench::inline TYPENET_ISA_NAMESPACE
