// Portability macros shared by the CPU headers and the CUDA kernels, and the
// check that the compiler is new enough. Every public header includes this
// file before any of its own code.
#pragma once

// The oldest compilers that build typenet: GCC 11 (the first whose standard
// library has std::bit_cast and std::from_chars for floating point) and
// clang 18 (the first with floating-point template arguments, as in
// Dropout<0.2f>). An older one stops here with one sentence that names both
// versions, not deep inside a template; clang stops at the sentence itself,
// GCC, which has no fatal pragma, at the missing header that follows it.
// (test/compiler_version/ simulates older versions by redefining the macros.)
#define TYPENET_STRINGIFY_(...) #__VA_ARGS__
#define TYPENET_STRINGIFY(...) TYPENET_STRINGIFY_(__VA_ARGS__)
#if defined(__clang__) && !defined(__apple_build_version__)
#if __clang_major__ < 18
#pragma clang diagnostic fatal "-W#pragma-messages"
#pragma message TYPENET_STRINGIFY(typenet: this is clang __clang_major__.__clang_minor__, and typenet needs clang 18 or later.)
#endif
#elif defined(__GNUC__) && !defined(__clang__) && !defined(__INTEL_LLVM_COMPILER)
#if __GNUC__ < 11
#define TYPENET_PRAGMA_(text) _Pragma(#text)
#define TYPENET_PRAGMA(text) TYPENET_PRAGMA_(text)
TYPENET_PRAGMA(GCC error TYPENET_STRINGIFY(typenet: this is GCC __GNUC__.__GNUC_MINOR__, and typenet needs GCC 11 or later.))
#include "typenet: stopped at the compiler check above"
#endif
#endif

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

// Every typenet name lives in an inline namespace named after the instruction
// set its translation unit is compiled for: typenet::Model is
// typenet::isa_avx2::Model in an AVX2 build. Code compiled for one ISA then
// never links to another's inline functions under the same symbol. Without
// it, a program whose files are built with different -march flags (as a
// binary that picks its kernels at run time is, see cpu/isa_dispatch.hpp)
// would keep one arbitrary copy of each typenet function, possibly an
// AVX-512 one on a CPU that has none, or one whose data layout differs from
// its caller's. The name follows the host compiler's macros, which nvcc's
// device pass sees too, so a .cu file's two passes agree on it; a .cu file
// and a .cpp file that share typenet types must be built for the same ISA
// (meson.build passes -march=native to nvcc's host compiler as well).
// TYPENET_ISA_ID is the same choice as an enumerator of typenet::Isa.
#if defined(__AVX512F__)
#define TYPENET_ISA_NAMESPACE isa_avx512
#define TYPENET_ISA_ID avx512
#elif defined(__AVX2__) && defined(__FMA__)
#define TYPENET_ISA_NAMESPACE isa_avx2
#define TYPENET_ISA_ID avx2
#elif defined(__AVX__)
#define TYPENET_ISA_NAMESPACE isa_avx
#define TYPENET_ISA_ID avx
#elif defined(__SSE2__)
#define TYPENET_ISA_NAMESPACE isa_sse
#define TYPENET_ISA_ID sse
#elif defined(__ARM_NEON)
#define TYPENET_ISA_NAMESPACE isa_neon
#define TYPENET_ISA_ID neon
#else
#define TYPENET_ISA_NAMESPACE isa_portable
#define TYPENET_ISA_ID portable
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
