// Softmax over one row of logits, numerically stable, written once for the
// CPU model, the GPU's kernels and the softmax cross-entropy losses.
//
//   p = exp(l - max l) / sum exp(l - max l)
//   log-sum-exp = max l + log sum exp(l - max l)
//   backward: dl = p (dp - sum_j dp_j p_j)
#pragma once

#include <cmath>
#include <cstddef>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::softmax {

/// The largest of the n logits at l.
template <class T>
TYPENET_HD TYPENET_INLINE T row_max(const T* l, std::size_t n) {
  T m = l[0];
  for (std::size_t j = 1; j < n; ++j) m = l[j] > m ? l[j] : m;
  return m;
}

/// The softmax of the n logits at l into p, the largest subtracted first so that no exponential overflows.
template <class T>
TYPENET_HD TYPENET_INLINE void probabilities(const T* l, T* p, std::size_t n) {
  const T m = row_max(l, n);
  T sum = 0;
  for (std::size_t j = 0; j < n; ++j) sum += (p[j] = std::exp(l[j] - m));
  for (std::size_t j = 0; j < n; ++j) p[j] /= sum;
}

/// log(sum exp(l)) of the n logits at l, computed stably.
template <class T>
TYPENET_HD TYPENET_INLINE T log_sum_exp(const T* l, std::size_t n) {
  const T m = row_max(l, n);
  T sum = 0;
  for (std::size_t j = 0; j < n; ++j) sum += std::exp(l[j] - m);
  return m + std::log(sum);
}

/// g holds dLoss/dp on entry and dLoss/dl on return.
template <class T>
TYPENET_HD TYPENET_INLINE void backward(const T* p, T* g, std::size_t n) {
  T dot = 0;
  for (std::size_t j = 0; j < n; ++j) dot += g[j] * p[j];
  for (std::size_t j = 0; j < n; ++j) g[j] = p[j] * (g[j] - dot);
}

}  // namespace typenet::softmax
