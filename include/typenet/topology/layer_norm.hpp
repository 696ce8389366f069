// LayerNorm: normalisation of each sample over its features, with PyTorch's
// semantics (nn.LayerNorm(width, eps, elementwise_affine)).
//
//   x-hat = (z - mean_row) / sqrt(var_row + eps)   (biased variance, per sample)
//   u = gamma x-hat + beta                          (Affine; else u = x-hat)
// The same in training and evaluation; the Linear before it keeps its bias
// (a per-feature bias is not a per-sample constant, so the mean does not
// cancel it).
#pragma once

#include <array>
#include <string>

#include "typenet/topology/normalization.hpp"

namespace typenet {

template <float Eps = 1e-5f, bool Affine = true>
struct LayerNorm {
  static constexpr LayerKind kind = LayerKind::normalization;
  static constexpr NormalizationAxis axis = NormalizationAxis::features;
  static constexpr bool centred = true;
  static constexpr bool cancels_bias = false;
  template <class T>
  static constexpr T epsilon() {
    return T(Eps);
  }
  static constexpr auto parameters = [] {
    if constexpr (Affine)
      return std::array<ValueSpec, 2>{{feature_vector(ParameterRole::scale, "gamma", "weight", Initial::ones),
                                       feature_vector(ParameterRole::shift, "beta", "bias", Initial::zeros)}};
    else
      return std::array<ValueSpec, 0>{};
  }();
  static constexpr std::array<ValueSpec, 0> state{};
  static std::string name() {
    if (Eps == 1e-5f && Affine) return "LayerNorm";
    return "LayerNorm<" + format_constant(Eps) + (Affine ? "" : ",false") + ">";
  }
};

}  // namespace typenet
