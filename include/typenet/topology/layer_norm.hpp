// LayerNorm: normalisation of each sample over its features, with PyTorch's
// semantics (nn.LayerNorm(width, eps, elementwise_affine)).
//
//   x-hat = (z - mean_row) / sqrt(var_row + eps)   (biased variance, per sample)
//   u = gamma x-hat + beta                          (Affine; else u = x-hat)
// The same in training and evaluation; the Linear before it keeps its bias
// (a per-feature bias is not a per-sample constant, so the mean does not
// cancel it).
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <string>

#include "typenet/topology/normalization.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// Layer normalisation over each sample's features (torch.nn.LayerNorm over the last dimension); Affine adds gamma and beta.
template <float Eps = 1e-5f, bool Affine = true>
struct LayerNorm {
  static constexpr LayerKind kind = LayerKind::normalization;  ///< what the planner reads: a normalisation layer
  static constexpr NormalizationAxis axis = NormalizationAxis::features;  ///< per sample, over its features
  static constexpr bool centred = true;  ///< it subtracts the mean
  static constexpr bool cancels_bias = false;  ///< a bias before it is not cancelled (the mean of a sample is not the bias)
  /// Eps in the scalar type T.
  template <class T>
  static constexpr T epsilon() {
    return T(Eps);
  }
  /// Its parameters: gamma and beta when Affine, none otherwise.
  static constexpr auto parameters = [] {
    if constexpr (Affine)
      return std::array<ValueSpec, 2>{{feature_vector(ParameterRole::scale, "gamma", "weight", Initial::ones),
                                       feature_vector(ParameterRole::shift, "beta", "bias", Initial::zeros)}};
    else
      return std::array<ValueSpec, 0>{};
  }();
  static constexpr std::array<ValueSpec, 0> state{};  ///< it keeps no state
  /// The layer's name in messages and checkpoints.
  static std::string name() {
    if (Eps == 1e-5f && Affine) return "LayerNorm";
    return "LayerNorm<" + format_constant(Eps) + (Affine ? "" : ",false") + ">";
  }
};

}  // namespace typenet
