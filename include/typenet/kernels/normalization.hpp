// The arithmetic of normalisation that both backends run, written once for
// a scalar (the GPU's threads, the host executor) or a SIMD vector (the CPU's
// kernels): V is either, T its scalar.
//
//   eval folding      u = z s + t,  s = gamma / sqrt(running_var + eps),  t = beta - running_mean s
//   running update    running = (1 - momentum) running + momentum batch   (unbiased variance)
//   x-hat             (z - mean) inv_std   (centred)      z inv_std   (RMSNorm)
#pragma once

#include <cstddef>

#include "typenet/config.hpp"
#include "typenet/simd/math.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::norm {

/// BatchNorm in evaluation mode as one scale and shift per feature: scale = gamma / sqrt(running_var + eps), shift = beta - running_mean scale.
template <class Norm, class T, class V>
TYPENET_HD TYPENET_INLINE void fold_running_statistics(V gamma, V beta, V running_mean, V running_var, V& scale,
                                                       V& shift) {
  scale = gamma / simd::sqrt(running_var + simd::splat<V>(Norm::template epsilon<T>()));
  shift = beta - running_mean * scale;
}

/// The running estimates after a batch of `n` samples with this mean and
/// biased variance (PyTorch stores the unbiased one).
template <class Norm, class T, class V>
TYPENET_HD TYPENET_INLINE void update_running_statistics(V& running_mean, V& running_var, V mean, V variance,
                                                         std::size_t n) {
  const T momentum = T(Norm::momentum);
  const T unbiased = n > 1 ? T(n) / T(n - 1) : T(1);
  running_mean = running_mean * (1 - momentum) + mean * momentum;
  running_var = running_var * (1 - momentum) + variance * (unbiased * momentum);
}

/// 1/sqrt(variance + eps): the statistics' inverse standard deviation (or,
/// for RMSNorm, the inverse root mean square from the mean of squares).
template <class Norm, class T, class V>
TYPENET_HD TYPENET_INLINE V inverse_deviation(V variance) {
  return simd::splat<V>(T(1)) / simd::sqrt(variance + simd::splat<V>(Norm::template epsilon<T>()));
}

}  // namespace typenet::norm
