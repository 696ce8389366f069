// The rules a layer list must follow, checked at compile time: each layer is
// described as a constexpr record, and one walk over the records returns
// the first rule broken. The sentences that report each rule are in
// topology_rules.inc; the plan of a valid list is in plan.hpp.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>

#include "typenet/topology/activations.hpp"
#include "typenet/topology/layers.hpp"
#include "typenet/topology/normalization.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// Each rule of a network's topology, by the error that breaks it (topology_rules.inc has each one's sentence).
enum class TopologyError {
  none,
  not_a_network,
  not_a_layer,
  normalization_contract,
  normalization_epsilon,
  normalization_momentum,
  activation_contract,
  empty,
  first_not_input,
  input_not_first,
  zero_width,
  no_linear,
  normalization_before_linear,
  activation_before_linear,
  dropout_before_linear,
  softmax_before_linear,
  dropout_probability,
  two_normalizations,
  normalization_after_activation,
  normalization_after_dropout,
  two_activations,
  activation_after_dropout,
  two_dropouts,
  softmax_not_last,
  softmax_single_output,
};

/// The contract of the activation slot: a formula of x = Var<0> (its
/// derivative, and what backward keeps, are derived from it) and a name.
template <class L>
concept ActivationLayer = requires {
  requires L::kind == LayerKind::activation;
  requires expr::Expr<std::remove_cvref_t<decltype(L::expression)>>;
  { L::name() } -> std::convertible_to<std::string>;
};

namespace plan_detail {

/// What the planner needs of one layer.
struct LayerInfo {
  TopologyError contract = TopologyError::none;  ///< not_a_layer, or a slot's contract it claims and misses
  LayerKind kind = LayerKind::activation;
  std::size_t width = 0;  ///< Input, Linear
  bool bias = false;      ///< Linear
  float probability = 0;  ///< Dropout
  /// A normalisation layer: whether it cancels the bias before it, and its
  /// parameter and state values per feature.
  bool cancels_bias = false;
  std::size_t parameters_per_feature = 0, state_per_feature = 0;
};

template <class L>
constexpr LayerInfo describe() {
  LayerInfo info;
  if constexpr (!requires { L::kind; }) {
    info.contract = TopologyError::not_a_layer;
  } else {
    info.kind = L::kind;
    if constexpr (L::kind == LayerKind::input || L::kind == LayerKind::linear) info.width = L::width;
    if constexpr (L::kind == LayerKind::linear) info.bias = L::bias;
    if constexpr (L::kind == LayerKind::dropout) info.probability = L::probability;
    if constexpr (L::kind == LayerKind::normalization) {
      if constexpr (NormalizationLayer<L>) {
        if (!(L::template epsilon<double>() > 0)) info.contract = TopologyError::normalization_epsilon;
        if constexpr (L::axis == NormalizationAxis::batch)
          if (!(L::momentum >= 0 && L::momentum <= 1)) info.contract = TopologyError::normalization_momentum;
        info.cancels_bias = L::cancels_bias;
        info.parameters_per_feature = L::parameters.size();
        info.state_per_feature = L::state.size();
      } else {
        info.contract = TopologyError::normalization_contract;
      }
    }
    if constexpr (L::kind == LayerKind::activation)
      if constexpr (!ActivationLayer<L>) info.contract = TopologyError::activation_contract;
  }
  return info;
}

/// Walks the layers once and returns the first rule they break.
template <std::size_t N>
constexpr TopologyError validate(const std::array<LayerInfo, N>& layers) {
  using enum TopologyError;
  if constexpr (N == 0) {
    return empty;
  } else {
    for (const auto& l : layers)
      if (l.contract != none) return l.contract;
    if (layers[0].kind != LayerKind::input) return first_not_input;
    // stage within the current block: 0 after Linear, 1 normalisation, 2 activation, 3 dropout
    bool seen_linear = false;
    int stage = 0;
    std::size_t last_width = layers[0].width;
    for (std::size_t i = 0; i < N; ++i) {
      const LayerInfo& l = layers[i];
      switch (l.kind) {
        case LayerKind::input:
          if (i != 0) return input_not_first;
          if (l.width == 0) return zero_width;
          break;
        case LayerKind::linear:
          if (l.width == 0) return zero_width;
          seen_linear = true;
          stage = 0;
          last_width = l.width;
          break;
        case LayerKind::normalization:
          if (!seen_linear) return normalization_before_linear;
          if (stage == 1) return two_normalizations;
          if (stage == 2) return normalization_after_activation;
          if (stage == 3) return normalization_after_dropout;
          stage = 1;
          break;
        case LayerKind::activation:
          if (!seen_linear) return activation_before_linear;
          if (stage == 2) return two_activations;
          if (stage == 3) return activation_after_dropout;
          stage = 2;
          break;
        case LayerKind::dropout:
          if (!seen_linear) return dropout_before_linear;
          if (!(l.probability >= 0.0f && l.probability < 1.0f)) return dropout_probability;
          if (stage == 3) return two_dropouts;
          stage = 3;
          break;
        case LayerKind::softmax:
          if (!seen_linear) return softmax_before_linear;
          if (i + 1 != N) return softmax_not_last;
          if (last_width < 2) return softmax_single_output;
          break;
      }
    }
    if (!seen_linear) return no_linear;
    return none;
  }
}

}  // namespace plan_detail

/// A network as a type (declared here for the rules; topology/sequential.hpp defines it).
template <class... Layers>
struct Sequential;

template <TopologyError Error, TopologyError Rule>
inline constexpr bool rule_kept = Error != Rule;  ///< Whether `Error` is not the broken rule `Rule` (the static_assert of that rule's sentence).

/// The sentences for Sequential<...> itself (see topology_rules.inc).
template <TopologyError topology_error>
struct TopologyRules {
#include "typenet/topology/topology_rules.inc"
};

/// The first rule a network type breaks, found without instantiating the
/// type itself: a model checks its network with this before it touches it,
/// so that an invalid network is reported once (topology_rules.inc).
template <class Net>
inline constexpr TopologyError topology_error_of = TopologyError::not_a_network;
/// A Sequential's first broken rule, from the layers' descriptions.
template <class... Layers>
inline constexpr TopologyError topology_error_of<Sequential<Layers...>> =
    plan_detail::validate(std::array<plan_detail::LayerInfo, sizeof...(Layers)>{plan_detail::describe<Layers>()...});

}  // namespace typenet
