// RMSNorm: each sample scaled by the root mean square of its features, with
// PyTorch's semantics (nn.RMSNorm(width, eps, elementwise_affine=True)).
//
//   x-hat = z / sqrt(mean_row(z^2) + eps)     u = gamma x-hat
// eps defaults as PyTorch's eps=None does: the machine epsilon of the
// model's scalar type (torch.finfo(dtype).eps); RMSNorm<1e-6f> fixes it.
// The same in training and evaluation; the Linear before it keeps its bias.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <limits>
#include <string>

#include "typenet/topology/normalization.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// RMSNorm's default: the scalar type's machine epsilon (a value no valid
/// epsilon has, so that the default can be a float template argument).
inline constexpr float machine_epsilon = -1.0f;

/// RMS normalisation over each sample's features (torch.nn.RMSNorm: x / rms(x) gamma), eps the machine epsilon unless given.
template <float Eps = machine_epsilon>
struct RMSNorm {
  static constexpr LayerKind kind = LayerKind::normalization;  ///< what the planner reads: a normalisation layer
  static constexpr NormalizationAxis axis = NormalizationAxis::features;  ///< per sample, over its features
  static constexpr bool centred = false;  ///< it does not subtract the mean
  static constexpr bool cancels_bias = false;  ///< a bias before it is not cancelled
  /// Eps in the scalar type T (its machine epsilon by default).
  template <class T>
  static constexpr T epsilon() {
    return Eps == machine_epsilon ? std::numeric_limits<T>::epsilon() : T(Eps);
  }
  /// Its one parameter: gamma (1), PyTorch's weight.
  static constexpr std::array<ValueSpec, 1> parameters{{
      feature_vector(ParameterRole::scale, "gamma", "weight", Initial::ones),
  }};
  static constexpr std::array<ValueSpec, 0> state{};  ///< it keeps no state
  /// The layer's name in messages and checkpoints.
  static std::string name() {
    if (Eps == machine_epsilon) return "RMSNorm";
    return "RMSNorm<" + format_constant(Eps) + ">";
  }
};

}  // namespace typenet
