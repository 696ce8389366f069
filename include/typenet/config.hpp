// Portability macros shared by the CPU headers and the CUDA kernels.
#pragma once

// Elementwise math is compiled for both host and device: the CPU tests thereby
// exercise the very functors the GPU runs.
#if defined(__CUDACC__)
#define TYPENET_HD __host__ __device__
#else
#define TYPENET_HD
#endif

// Hot helpers called from micro-kernels: forcing inlining keeps accumulators in
// registers across the call boundary.
#if defined(__GNUC__) || defined(__clang__)
#define TYPENET_INLINE inline __attribute__((always_inline))
#define TYPENET_RESTRICT __restrict__
#else
#define TYPENET_INLINE inline
#define TYPENET_RESTRICT
#endif

// Fully unrolls a short loop over register-tile indices, so that tile arrays
// become registers (GCC at -O2 would otherwise keep them in memory).
#if defined(__clang__)
#define TYPENET_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define TYPENET_UNROLL _Pragma("GCC unroll 64")
#else
#define TYPENET_UNROLL
#endif
