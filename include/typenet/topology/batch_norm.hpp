// BatchNorm: normalisation over the batch, with PyTorch's semantics (nn.BatchNorm1d).
//
//   train:  x-hat = (z - mean_batch) / sqrt(var_batch + eps)   (biased variance)
//           running = (1 - momentum) running + momentum batch   (unbiased variance)
//   eval:   x-hat = (z - running_mean) / sqrt(running_var + eps), folded into
//           u = z s + t by the kernels
//   u = gamma x-hat + beta
// A bias before it is cancelled by the mean, so the plan drops the Linear's.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <string>

#include "typenet/topology/normalization.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// Batch normalisation over each feature, with running estimates for evaluation (torch.nn.BatchNorm1d's eps and momentum).
template <float Eps = 1e-5f, float Momentum = 0.1f>
struct BatchNorm {
  static constexpr LayerKind kind = LayerKind::normalization;  ///< what the planner reads: a normalisation layer
  static constexpr NormalizationAxis axis = NormalizationAxis::batch;  ///< per feature, over the batch
  static constexpr bool centred = true;  ///< it subtracts the mean
  static constexpr bool cancels_bias = true;  ///< so the Linear before it has no bias
  /// Eps in the scalar type T.
  template <class T>
  static constexpr T epsilon() {
    return T(Eps);
  }
  static constexpr float momentum = Momentum;  ///< the weight of the new batch's statistics in the running ones
  /// Its parameters: gamma (1) and beta (0), PyTorch's weight and bias.
  static constexpr std::array<ValueSpec, 2> parameters{{
      feature_vector(ParameterRole::scale, "gamma", "weight", Initial::ones),
      feature_vector(ParameterRole::shift, "beta", "bias", Initial::zeros),
  }};
  /// Its state: the running mean (0) and variance (1).
  static constexpr std::array<ValueSpec, 2> state{{
      feature_vector(ParameterRole::running_mean, "running_mean", "running_mean", Initial::zeros),
      feature_vector(ParameterRole::running_var, "running_var", "running_var", Initial::ones),
  }};
  /// The layer's name in messages and checkpoints.
  static std::string name() {
    if (Eps == 1e-5f && Momentum == 0.1f) return "BatchNorm";
    return "BatchNorm<" + format_constant(Eps) + "," + format_constant(Momentum) + ">";
  }
};

}  // namespace typenet
