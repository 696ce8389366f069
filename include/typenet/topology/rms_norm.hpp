// RMSNorm: each sample scaled by the root mean square of its features, with
// PyTorch's semantics (nn.RMSNorm(width, eps, elementwise_affine=True)).
//
//   x-hat = z / sqrt(mean_row(z^2) + eps)     u = gamma x-hat
// eps defaults as PyTorch's eps=None does: the machine epsilon of the
// model's scalar type (torch.finfo(dtype).eps); RMSNorm<1e-6f> fixes it.
// The same in training and evaluation; the Linear before it keeps its bias.
#pragma once

#include <array>
#include <limits>
#include <string>

#include "typenet/topology/normalization.hpp"

namespace typenet {

/// RMSNorm's default: the scalar type's machine epsilon (a value no valid
/// epsilon has, so that the default can be a float template argument).
inline constexpr float machine_epsilon = -1.0f;

template <float Eps = machine_epsilon>
struct RMSNorm {
  static constexpr LayerKind kind = LayerKind::normalization;
  static constexpr NormalizationAxis axis = NormalizationAxis::features;
  static constexpr bool centred = false;
  static constexpr bool cancels_bias = false;
  template <class T>
  static constexpr T epsilon() {
    return Eps == machine_epsilon ? std::numeric_limits<T>::epsilon() : T(Eps);
  }
  static constexpr std::array<ValueSpec, 1> parameters{{
      feature_vector(ParameterRole::scale, "gamma", "weight", Initial::ones),
  }};
  static constexpr std::array<ValueSpec, 0> state{};
  static std::string name() {
    if (Eps == machine_epsilon) return "RMSNorm";
    return "RMSNorm<" + format_constant(Eps) + ">";
  }
};

}  // namespace typenet
