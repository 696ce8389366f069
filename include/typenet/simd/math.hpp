// Transcendental functions for scalars and SIMD vectors.
//
// Scalars use the C library (exact to the last bit or so, which the double
// gradient checks rely on). Float vectors use short polynomials accurate to a
// few float ulps (test_simd_math measures the error); double vectors fall back
// to the C library lane by lane, because double is for checking, not speed.
#pragma once

#include "typenet/config.hpp"

#include <cmath>
#include <limits>

#include "typenet/simd/vec.hpp"

#if !defined(__CUDA_ARCH__) && !TYPENET_AVX512 && !TYPENET_AVX2_FMA
#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif
#endif

namespace typenet::inline TYPENET_ISA_NAMESPACE::simd {

namespace detail {

template <class V, class F>
TYPENET_INLINE V per_lane(V x, F f) {
  for (int i = 0; i < lanes<scalar_of_t<V>>; ++i) x[i] = f(x[i]);
  return x;
}

/// n, a whole number in [-126, 127] or NaN, as int32 lanes. Converting NaN
/// to an integer is undefined in C++, and clang folds exp of a constant NaN
/// to 0 through it; the instructions define it (the result is then NaN
/// through the polynomial whatever the exponent), so they convert here.
template <class V>
TYPENET_INLINE vec<std::int32_t> exponent_of(V n) {
#if TYPENET_AVX512
  // The zero-masked form with every lane selected: the same instruction,
  // where GCC 12's _mm512_cvttps_epi32 passes an uninitialised vector that
  // -Wmaybe-uninitialized (and so -Werror) reports in every caller.
  return (vec<std::int32_t>)_mm512_maskz_cvttps_epi32(static_cast<__mmask16>(0xFFFF), (__m512)n);
#elif TYPENET_AVX2_FMA
  return (vec<std::int32_t>)_mm256_cvttps_epi32((__m256)n);
#elif defined(__SSE2__)
  return (vec<std::int32_t>)_mm_cvttps_epi32((__m128)n);
#elif defined(__ARM_NEON)
  return (vec<std::int32_t>)vcvtq_s32_f32((float32x4_t)n);
#else
  return __builtin_convertvector(select(n == n, n, splat<V>(0.0f)), vec<std::int32_t>);
#endif
}

/// exp for float lanes: Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2,
/// then the degree-6 minimax polynomial of Cephes' expf, then 2^n by writing
/// the exponent field. Inputs are clamped to [-87.3, 88]; beyond, every caller
/// (sigmoid, tanh, ELU, softplus) has saturated anyway. NaN propagates.
/// (A template only so that nvcc's device pass, where vec<float> is a
/// scalar, never compiles it.)
template <class V = vec<float>>
TYPENET_INLINE V exp_f32(V x) {
  // Clamped so that NaN stays NaN (a comparison with NaN is false).
  x = select(x < splat<V>(-87.3f), splat<V>(-87.3f), x);
  x = select(x > splat<V>(88.0f), splat<V>(88.0f), x);
  const V magic = splat<V>(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  V n = fma(x, splat<V>(1.44269504088896341f), magic) - magic;
  V r = fma(n, splat<V>(-0.693359375f), x);
  r = fma(n, splat<V>(2.12194440e-4f), r);
  V p = splat<V>(1.9875691500e-4f);
  p = fma(p, r, splat<V>(1.3981999507e-3f));
  p = fma(p, r, splat<V>(8.3334519073e-3f));
  p = fma(p, r, splat<V>(4.1665795894e-2f));
  p = fma(p, r, splat<V>(1.6666665459e-1f));
  p = fma(p, r, splat<V>(5.0000001201e-1f));
  p = fma(p, r * r, r + splat<V>(1.0f));
  const auto e = exponent_of(n) + 127;
  return p * (V)(e << 23);
}

/// log(1 + t) for float lanes with t in [0, 1] (softplus's e^-|x|): Cephes'
/// logf polynomial on the reduced argument f, log(1 + t) = e ln2 + log(1 + f),
/// with f = t itself (e = 0) for t <= sqrt 2 - 1, so that no precision is
/// lost to 1 + t when t is small, and f = (t - 1) / 2 (e = 1) above.
template <class V = vec<float>>
TYPENET_INLINE V log1p_unit_f32(V t) {
  const auto upper = t > splat<V>(0.41421356f);
  const V f = select(upper, fma(t, splat<V>(0.5f), splat<V>(-0.5f)), t);
  const V e = select(upper, splat<V>(1.0f), splat<V>(0.0f));
  const V z = f * f;
  V p = splat<V>(7.0376836292e-2f);
  p = fma(p, f, splat<V>(-1.1514610310e-1f));
  p = fma(p, f, splat<V>(1.1676998740e-1f));
  p = fma(p, f, splat<V>(-1.2420140846e-1f));
  p = fma(p, f, splat<V>(1.4249322787e-1f));
  p = fma(p, f, splat<V>(-1.6668057665e-1f));
  p = fma(p, f, splat<V>(2.0000714765e-1f));
  p = fma(p, f, splat<V>(-2.4999993993e-1f));
  p = fma(p, f, splat<V>(3.3333331174e-1f));
  V y = p * f * z;
  y = fma(e, splat<V>(-2.12194440e-4f), y);
  y = fma(z, splat<V>(-0.5f), y);
  return fma(e, splat<V>(0.693359375f), f + y);
}

}  // namespace detail

/// e^x for a scalar or a vector (float vectors: a polynomial accurate to a few ulps).
template <class V>
TYPENET_HD TYPENET_INLINE V exp(V x) {
  if constexpr (!is_vector<V>) return std::exp(x);
  else if constexpr (std::is_same_v<V, vec<float>>) return detail::exp_f32(x);
  else return detail::per_lane(x, [](double v) { return std::exp(v); });
}

/// The natural logarithm, lane by lane through the C library.
template <class V>
TYPENET_HD TYPENET_INLINE V log(V x) {
  if constexpr (!is_vector<V>) return std::log(x);
  else return detail::per_lane(x, [](scalar_of_t<V> v) { return std::log(v); });
}

/// log(1 + x), lane by lane through the C library.
template <class V>
TYPENET_HD TYPENET_INLINE V log1p(V x) {
  if constexpr (!is_vector<V>) return std::log1p(x);
  else return detail::per_lane(x, [](scalar_of_t<V> v) { return std::log1p(v); });
}

/// The square root, exact (the instruction where there is one).
template <class V>
TYPENET_HD TYPENET_INLINE V sqrt(V x) {
  if constexpr (!is_vector<V>) {
    return std::sqrt(x);
  } else {
#if TYPENET_AVX512
    // The masked forms: the plain ones trip GCC 12's -Wmaybe-uninitialized.
    if constexpr (std::is_same_v<V, vec<float>>) return (V)_mm512_mask_sqrt_ps((__m512)x, 0xFFFF, (__m512)x);
    else return (V)_mm512_mask_sqrt_pd((__m512d)x, 0xFF, (__m512d)x);
#elif TYPENET_AVX2_FMA
    if constexpr (std::is_same_v<V, vec<float>>) return (V)_mm256_sqrt_ps((__m256)x);
    else return (V)_mm256_sqrt_pd((__m256d)x);
#else
    return detail::per_lane(x, [](scalar_of_t<V> v) { return std::sqrt(v); });
#endif
  }
}

/// 1 / (1 + e^-x); e^-x saturates for x < -87 and the quotient goes to 0.
template <class V>
TYPENET_HD TYPENET_INLINE V sigmoid(V x) {
  if constexpr (!is_vector<V>) {
    return x >= 0 ? V(1) / (V(1) + std::exp(-x)) : std::exp(x) / (V(1) + std::exp(x));
  } else if constexpr (std::is_same_v<V, vec<float>>) {
    return splat<V>(1.0f) / (splat<V>(1.0f) + detail::exp_f32(-x));
  } else {
    return detail::per_lane(x, [](double v) { return sigmoid(v); });
  }
}

/// tanh: an odd polynomial near zero (Cephes tanhf, |x| < 0.625) where the
/// exp-based form would cancel, 1 - 2/(e^{2|x|} + 1) elsewhere.
template <class V>
TYPENET_HD TYPENET_INLINE V tanh(V x) {
  if constexpr (!is_vector<V>) {
    return std::tanh(x);
  } else if constexpr (std::is_same_v<V, vec<float>>) {
    const V ax = simd::max(x, -x);
    const V z = x * x;
    V p = splat<V>(-5.70498872745e-3f);
    p = fma(p, z, splat<V>(2.06390887954e-2f));
    p = fma(p, z, splat<V>(-5.37397155531e-2f));
    p = fma(p, z, splat<V>(1.33314422036e-1f));
    p = fma(p, z, splat<V>(-3.33332819422e-1f));
    const V small = fma(p * z, x, x);
    const V big = splat<V>(1.0f) - splat<V>(2.0f) / (detail::exp_f32(ax + ax) + splat<V>(1.0f));
    const V signed_big = select(x < splat<V>(0.0f), -big, big);
    return select(ax < splat<V>(0.625f), small, signed_big);
  } else {
    return detail::per_lane(x, [](double v) { return std::tanh(v); });
  }
}

/// softplus(x) = log(1 + e^x), as max(x, 0) + log1p(e^-|x|): e^-|x| is in
/// (0, 1], so nothing overflows for large x, and for very negative x the
/// result is e^x to full relative precision (log1p, not log of 1 + e^x).
/// Float lanes: within a few float ulps (test_expr measures it) down to
/// x = -87.3, where exp_f32 clamps; below, where the exact result is a
/// subnormal float or 0, they give 0 (and x softplus(x) stays 0 too, which
/// the clamped e^-87.3 = FLT_MIN would not for huge |x|).
template <class V>
TYPENET_HD TYPENET_INLINE V softplus(V x) {
  if constexpr (!is_vector<V>) {
    return (x > V(0) ? x : V(0)) + std::log1p(std::exp(-std::fabs(x)));
  } else if constexpr (std::is_same_v<V, vec<float>>) {
    const V ax = simd::max(x, -x);  // NaN stays NaN, and so do e^-|x| and the result
    const V t = select(ax > splat<V>(87.3f), splat<V>(0.0f), detail::exp_f32(-ax));
    return simd::max(x, splat<V>(0.0f)) + detail::log1p_unit_f32(t);
  } else {
    return detail::per_lane(x, [](double v) { return softplus(v); });
  }
}

/// erf for float lanes: Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7),
/// enough for GELU, whose value is x/2 (1 + erf(x/sqrt 2)).
template <class V>
TYPENET_HD TYPENET_INLINE V erf(V x) {
  if constexpr (!is_vector<V>) {
    return std::erf(x);
  } else if constexpr (std::is_same_v<V, vec<float>>) {
    const V ax = simd::max(x, -x);
    const V t = splat<V>(1.0f) / fma(splat<V>(0.3275911f), ax, splat<V>(1.0f));
    V p = splat<V>(1.061405429f);
    p = fma(p, t, splat<V>(-1.453152027f));
    p = fma(p, t, splat<V>(1.421413741f));
    p = fma(p, t, splat<V>(-0.284496736f));
    p = fma(p, t, splat<V>(0.254829592f));
    const V y = splat<V>(1.0f) - p * t * detail::exp_f32(-ax * ax);
    return select(x < splat<V>(0.0f), -y, y);
  } else {
    return detail::per_lane(x, [](double v) { return std::erf(v); });
  }
}

/// 1 / (sqrt(v) c + e), for v >= 0: the denominator of Adam's step.
///
/// Float vectors with AVX-512 start from the hardware's 14-bit estimates of
/// 1/sqrt and 1/x and refine each with one Newton step, on the multiply-add
/// units: within a few float ulps of the exact expression (test_optimizers
/// bounds it). A fused Adam step spends most of its extra time waiting on the
/// divider otherwise (docs/performance.md measures what it costs). Everything else (scalars, the GPU, double, other instruction
/// sets) computes it exactly, so the GPU's Adam agrees with the CPU's to a few
/// ulps per step, not bit for bit.
template <class V>
TYPENET_HD TYPENET_INLINE V inverse_of_scaled_sqrt(V v, V c, V e) {
#if TYPENET_AVX512 && !defined(__CUDA_ARCH__)
  if constexpr (std::is_same_v<V, vec<float>>) {
    // (The zero-masking forms: GCC 12's unmasked ones warn of an
    // uninitialised operand.) v = 0 would give 0 * inf: the smallest
    // normal number instead keeps the estimate finite, and v r stays
    // exactly 0. Not a subnormal: where the program runs with
    // denormals-are-zero (MXCSR's DAZ, set by -ffast-math's startup code
    // and by many audio hosts) the estimate would read it as 0, and every
    // zero second moment gave NaN.
    const __mmask16 all = 0xffff;
    const V r0 = (V)_mm512_maskz_rsqrt14_ps(
        all, (__m512)select(v > splat<V>(0.0f), v, splat<V>(std::numeric_limits<float>::min())));
    const V r = r0 * fma(-(v * splat<V>(0.5f) * r0), r0, splat<V>(1.5f));  // r (3 - v r^2) / 2
    const V d = fma(v * r, c, e);
    const V q0 = (V)_mm512_maskz_rcp14_ps(all, (__m512)d);
    return fma(q0, fma(-d, q0, splat<V>(1.0f)), q0);  // q (2 - d q)
  }
#endif
  return splat<V>(scalar_of_t<V>(1)) / fma(sqrt(v), c, e);
}

}  // namespace typenet::simd
