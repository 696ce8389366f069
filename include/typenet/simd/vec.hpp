// A thin SIMD layer: one native vector register per type, with the handful of
// operations the micro-kernels need (loads and stores that stop at a column
// tail, fused multiply-add, broadcast, blend, horizontal sum).
//
// GCC/Clang vector extensions carry the arithmetic and comparisons, so the
// kernels read like scalar code; intrinsics appear only where the extensions
// have no spelling (masked memory access, explicit FMA). GCC contracts a
// plain a*b+c into an FMA wherever it chooses in C++ (-ffp-contract=fast is
// its default there, even with -std=c++20), and on aarch64 it chose
// differently in two paths meant to round alike: see docs/reliability.md.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "typenet/config.hpp"

#if TYPENET_AVX512 || TYPENET_AVX2_FMA
#include <immintrin.h>
#endif

namespace typenet::inline TYPENET_ISA_NAMESPACE::simd {

#if TYPENET_AVX512
inline constexpr std::size_t register_bytes = 64;
inline constexpr const char* instruction_set = "AVX-512";
#elif TYPENET_AVX2_FMA
inline constexpr std::size_t register_bytes = 32;
inline constexpr const char* instruction_set = "AVX2+FMA";
#else
inline constexpr std::size_t register_bytes = 16;  ///< the bytes of one vector register
inline constexpr const char* instruction_set = "portable (128-bit vectors)";  ///< the instruction set the kernels were compiled for
#endif

// In nvcc's device pass a vector is one lane, its own scalar (see
// TYPENET_AVX512 in config.hpp): the functions written for both scalars and
// vectors (splat, fma, select, the expression evaluator) then compile for
// the GPU however the host side instantiated them.
#if defined(__CUDA_ARCH__)
#define TYPENET_VECTOR(T) T
#else
#define TYPENET_VECTOR(T) T __attribute__((vector_size(register_bytes)))
#endif

template <class T>
struct native;
/// The float vector and its mask and bit lanes.
template <>
struct native<float> {
  typedef TYPENET_VECTOR(float) type;  ///< the vector type
  typedef std::int32_t mask_lane;  ///< The lanes of a comparison's result.
  typedef std::uint32_t bits_lane;  ///< The lanes for bit manipulation.
};
/// The double vector and its mask and bit lanes.
template <>
struct native<double> {
  typedef TYPENET_VECTOR(double) type;  ///< the vector type
  typedef std::int64_t mask_lane;  ///< The lanes of a comparison's result.
  typedef std::uint64_t bits_lane;  ///< The lanes for bit manipulation.
};
/// The vector of int32 lanes.
template <>
struct native<std::int32_t> {
  typedef TYPENET_VECTOR(std::int32_t) type;  ///< the vector type
};
/// The vector of int64 lanes.
template <>
struct native<std::int64_t> {
  typedef TYPENET_VECTOR(std::int64_t) type;  ///< the vector type
};
/// The vector of uint32 lanes.
template <>
struct native<std::uint32_t> {
  typedef TYPENET_VECTOR(std::uint32_t) type;  ///< the vector type
};
/// The vector of uint64 lanes.
template <>
struct native<std::uint64_t> {
  typedef TYPENET_VECTOR(std::uint64_t) type;  ///< the vector type
};

/// vec<float>: one register of floats; lanes<float>: how many.
template <class T>
using vec = typename native<T>::type;
template <class T>
#if defined(__CUDA_ARCH__)
inline constexpr int lanes = 1;
#else
inline constexpr int lanes = static_cast<int>(register_bytes / sizeof(T));  ///< how many T one vector holds (1 in nvcc's device pass)
#endif
/// The integer vector a comparison of vec<T> yields (all ones where true).
template <class T>
using mask = vec<typename native<T>::mask_lane>;
/// Unsigned lanes of the same width, for bit manipulation (hashes, exponents).
template <class T>
using bits = vec<typename native<T>::bits_lane>;

/// The scalar type behind a vector, and the identity for scalars, so that the
/// expression evaluator can be written once for both.
template <class V>
struct scalar_of {
  /// A scalar is its own scalar type.
  using type = V;
};
/// The float vector's scalar is float.
template <>
struct scalar_of<vec<float>> {
  /// The scalar type.
  using type = float;
};
/// The double vector's scalar is double.
template <>
struct scalar_of<vec<double>> {
  /// The scalar type.
  using type = double;
};
/// The scalar type behind V (V itself for a scalar).
template <class V>
using scalar_of_t = typename scalar_of<V>::type;
template <class V>
inline constexpr bool is_vector = !std::is_same_v<scalar_of_t<V>, V>;  ///< whether V is a vector, not a scalar

namespace detail {
/// One copy of x per index, in a single initializer: GCC and clang emit one
/// broadcast for it (shufps, movddup; ld1r or dup on aarch64), where filling
/// the lanes one by one became a chain of four dependent inserts on SSE,
/// five instructions per broadcast in the kernels' inner loops (the
/// x86-64-v2 build's batch 1000 ran at half the speed of Eigen's).
template <class V, class S, std::size_t... I>
TYPENET_HD TYPENET_INLINE V broadcast(S x, std::index_sequence<I...>) {
  return V{((void)I, x)...};
}
}  // namespace detail

/// x in every lane. (Not V{} + x: adding to zero is not an identity for -0.0,
/// so the compiler would emit an addition before the broadcast.)
template <class V>
TYPENET_HD TYPENET_INLINE V splat(scalar_of_t<V> x) {
  if constexpr (is_vector<V>) {
#if TYPENET_AVX512
    if constexpr (std::is_same_v<V, vec<float>>) return (V)_mm512_set1_ps(x);
    else return (V)_mm512_set1_pd(x);
#elif TYPENET_AVX2_FMA
    if constexpr (std::is_same_v<V, vec<float>>) return (V)_mm256_set1_ps(x);
    else return (V)_mm256_set1_pd(x);
#else
    return detail::broadcast<V>(x, std::make_index_sequence<lanes<scalar_of_t<V>>>{});
#endif
  } else {
    return x;
  }
}

/// A full vector from p (unaligned).
template <class T>
TYPENET_HD TYPENET_INLINE vec<T> load(const T* p) {
  vec<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// A full vector to p (unaligned).
template <class T>
TYPENET_HD TYPENET_INLINE void store(T* p, vec<T> v) {
  std::memcpy(p, &v, sizeof v);
}

#if TYPENET_AVX2_FMA
/// All-ones in lanes [0, n), zero beyond: AVX2's mask for n valid lanes.
template <class T>
TYPENET_INLINE typename native<typename std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>>::type
tail_mask(int n) {
  using I = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  using M = typename native<I>::type;
  // An array copied in, not subscripts: nvcc's front end parses this host
  // code too and has no vector subscripts; GCC folds it to one constant.
  I lane[lanes<T>];
  for (int i = 0; i < lanes<T>; ++i) lane[i] = i;
  M index;
  std::memcpy(&index, lane, sizeof index);
  return index < static_cast<I>(n);
}
#endif

/// Loads the first n lanes (0 < n <= lanes<T>) and zeroes the rest, never
/// touching memory past p[n-1]: column tails of widths that are not a multiple
/// of the vector width end exactly where the matrix ends.
template <class T>
TYPENET_HD TYPENET_INLINE vec<T> load_n(const T* p, int n) {
  if (n >= lanes<T>) return load(p);
#if TYPENET_AVX512
  if constexpr (std::is_same_v<T, float>) {
    return (vec<T>)_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), p);
  } else {
    return (vec<T>)_mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1u), p);
  }
#elif TYPENET_AVX2_FMA
  // AVX2's masked load (no fault on the lanes left out), not a copy of n
  // elements: a copy is a call inside the kernels' loops, around which the
  // compiler moves accumulators out of the registers.
  if constexpr (std::is_same_v<T, float>) return (vec<T>)_mm256_maskload_ps(p, (__m256i)tail_mask<T>(n));
  else return (vec<T>)_mm256_maskload_pd(p, (__m256i)tail_mask<T>(n));
#else
  vec<T> v{};
  std::memcpy(&v, p, sizeof(T) * static_cast<std::size_t>(n));
  return v;
#endif
}

/// The first n lanes of v to p.
template <class T>
TYPENET_HD TYPENET_INLINE void store_n(T* p, vec<T> v, int n) {
  if (n >= lanes<T>) return store(p, v);
#if TYPENET_AVX512
  if constexpr (std::is_same_v<T, float>) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1u), (__m512)v);
  } else {
    _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1u), (__m512d)v);
  }
#elif TYPENET_AVX2_FMA
  if constexpr (std::is_same_v<T, float>) _mm256_maskstore_ps(p, (__m256i)tail_mask<T>(n), (__m256)v);
  else _mm256_maskstore_pd(p, (__m256i)tail_mask<T>(n), (__m256d)v);
#else
  std::memcpy(p, &v, sizeof(T) * static_cast<std::size_t>(n));
#endif
}

/// The valid lanes of a vector at a column tail, computed once outside a loop
/// so that the loads and stores inside it stay single instructions.
template <class T>
struct Tail {
  int count = lanes<T>;  ///< the valid lanes
#if TYPENET_AVX512
  std::uint32_t bits = (1u << lanes<T>) - 1u;
#endif
  TYPENET_HD Tail() {}
  /// The first n lanes (all of them if n is larger).
  TYPENET_HD explicit Tail(int n) : count(n < lanes<T> ? n : lanes<T>) {
#if TYPENET_AVX512
    bits = (1u << count) - 1u;
#endif
  }
  /// Whether every lane is valid.
  TYPENET_HD bool full() const { return count == lanes<T>; }
};

/// The valid lanes from p; the others are zero.
template <class T>
TYPENET_HD TYPENET_INLINE vec<T> load(const T* p, Tail<T> t) {
#if TYPENET_AVX512
  if constexpr (std::is_same_v<T, float>) return (vec<T>)_mm512_maskz_loadu_ps(static_cast<__mmask16>(t.bits), p);
  else return (vec<T>)_mm512_maskz_loadu_pd(static_cast<__mmask8>(t.bits), p);
#else
  return load_n(p, t.count);
#endif
}

/// The valid lanes to p; the memory beyond is not touched.
template <class T>
TYPENET_HD TYPENET_INLINE void store(T* p, vec<T> v, Tail<T> t) {
#if TYPENET_AVX512
  if constexpr (std::is_same_v<T, float>) _mm512_mask_storeu_ps(p, static_cast<__mmask16>(t.bits), (__m512)v);
  else _mm512_mask_storeu_pd(p, static_cast<__mmask8>(t.bits), (__m512d)v);
#else
  store_n(p, v, t.count);
#endif
}

/// Lanes 0, 1, ..., as unsigned integers of the width of T (element indices).
/// (Built in an array and copied, not by subscripting the vector: nvcc's
/// front end, which also parses the host code of .cu files, has no vector
/// subscripts; GCC turns the copy into one constant load.)
template <class T>
TYPENET_INLINE bits<T> lane_indices() {
  typename native<T>::bits_lane index[lanes<T>];
  for (int i = 0; i < lanes<T>; ++i) index[i] = static_cast<typename native<T>::bits_lane>(i);
  bits<T> v;
  std::memcpy(&v, index, sizeof v);
  return v;
}

/// a*b + c in one rounding where the hardware has it.
template <class V>
TYPENET_HD TYPENET_INLINE V fma(V a, V b, V c) {
  if constexpr (!is_vector<V>) {
#if defined(__CUDA_ARCH__)
    // On the GPU a "vector" is this scalar: it must fuse as the CPU's
    // vectors do, so that shared code (the optimizers' updates) rounds alike.
    return std::fma(a, b, c);
#else
    return a * b + c;
#endif
  } else {
#if TYPENET_AVX512
    if constexpr (std::is_same_v<V, vec<float>>) return (V)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
    else return (V)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#elif TYPENET_AVX2_FMA
    if constexpr (std::is_same_v<V, vec<float>>) return (V)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
    else return (V)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#else
    return a * b + c;
#endif
  }
}

/// Lane-wise choice; `m` comes from a comparison of vectors (all ones = true).
template <class V, class M>
TYPENET_HD TYPENET_INLINE V select(M m, V a, V b) {
  if constexpr (!is_vector<V>) {
    return m ? a : b;
  } else {
    using B = bits<scalar_of_t<V>>;
    const B mb = (B)m;
    return (V)(((B)a & mb) | ((B)b & ~mb));
  }
}

/// The sum of the lanes.
template <class V>
TYPENET_INLINE scalar_of_t<V> reduce_add(V v) {
  if constexpr (!is_vector<V>) {
    return v;
  } else {
#if TYPENET_AVX512
    // Halving by hand: GCC 12's _mm512_reduce_add_* trip -Wmaybe-uninitialized.
    const __m512d whole = (__m512d)v;
    const __m256d lower = _mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xFF, whole, 0);
    const __m256d upper = _mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xFF, whole, 1);
    if constexpr (std::is_same_v<V, vec<float>>) {
      const __m256 s8 = _mm256_castpd_ps(lower) + _mm256_castpd_ps(upper);
      __m128 s4 = _mm256_castps256_ps128(s8) + _mm256_extractf128_ps(s8, 1);
      s4 = s4 + _mm_movehl_ps(s4, s4);
      s4 = s4 + _mm_shuffle_ps(s4, s4, 1);
      return _mm_cvtss_f32(s4);
    } else {
      const __m256d s4 = lower + upper;
      __m128d s2 = _mm256_castpd256_pd128(s4) + _mm256_extractf128_pd(s4, 1);
      s2 = s2 + _mm_unpackhi_pd(s2, s2);
      return _mm_cvtsd_f64(s2);
    }
#else
    scalar_of_t<V> s = 0;
    for (int i = 0; i < lanes<scalar_of_t<V>>; ++i) s += v[i];
    return s;
#endif
  }
}

/// The larger of a and b, lane by lane (b where either is NaN).
template <class V>
TYPENET_HD TYPENET_INLINE V max(V a, V b) {
  return select(a > b, a, b);
}
/// The smaller of a and b, lane by lane (b where either is NaN).
template <class V>
TYPENET_HD TYPENET_INLINE V min(V a, V b) {
  return select(a < b, a, b);
}

/// x with its subnormal lanes (0 < |x| < the smallest normal number) set to
/// zero. For the optimizers' moving averages: while a gradient is zero they
/// decay geometrically, and in round-to-nearest a decaying subnormal stops
/// at a few ulps (0.9 times 4 ulps rounds back to 4) and stays there for
/// good. Intel cores then take a microcode assist on every operation that
/// reads it: the MNIST epoch, whose dead units leave most of Adam's first
/// moment subnormal, ran 2.8x slower (docs/performance.md, "Subnormal
/// numbers"). The comparisons read subnormals without an assist.
template <class V>
TYPENET_HD TYPENET_INLINE V flush_subnormal(V x) {
  using S = scalar_of_t<V>;
  constexpr S smallest = std::numeric_limits<S>::min();
  if constexpr (!is_vector<V>) {
    return x < smallest && x > -smallest ? S(0) : x;
  } else {
    // |x| < smallest as one integer comparison of the magnitude's bits (two
    // float comparisons and their and cost the separate Adam step 16 %).
    using M = mask<S>;
    using L = typename native<S>::mask_lane;
    constexpr L smallest_bits = static_cast<L>(std::bit_cast<std::make_unsigned_t<L>>(smallest));
    const M magnitude = (M)x & std::numeric_limits<L>::max();
    return (V)((M)x & (magnitude >= smallest_bits));
  }
}

}  // namespace typenet::simd
