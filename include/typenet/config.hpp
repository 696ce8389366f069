// Portability macros shared by the CPU headers and the CUDA kernels.
#pragma once

// Elementwise math is compiled for both host and device: the CPU tests thereby
// exercise the very functors the GPU runs.
#if defined(__CUDACC__)
#define TYPENET_HD __host__ __device__
#else
#define TYPENET_HD
#endif

// The instruction sets the CPU kernels use. nvcc's device pass preprocesses
// with the host compiler's macros, but has none of them: there a "vector" is
// one lane (simd/vec.hpp), so the elementwise code compiles for the GPU too.
#if defined(__AVX512F__) && !defined(__CUDA_ARCH__)
#define TYPENET_AVX512 1
#else
#define TYPENET_AVX512 0
#endif
#if defined(__AVX2__) && defined(__FMA__) && !defined(__CUDA_ARCH__)
#define TYPENET_AVX2_FMA 1
#else
#define TYPENET_AVX2_FMA 0
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
// (nvcc compiles a .cu file twice: its device pass reads CUDA's pragma; its
// host pass knows neither pragma, so host code in .cu files, the CPU side of
// the CUDA tests, goes without.)
#if defined(__CUDA_ARCH__) || defined(__clang__)
#define TYPENET_UNROLL _Pragma("unroll")
#elif defined(__CUDACC__)
#define TYPENET_UNROLL
#elif defined(__GNUC__)
#define TYPENET_UNROLL _Pragma("GCC unroll 64")
#else
#define TYPENET_UNROLL
#endif
