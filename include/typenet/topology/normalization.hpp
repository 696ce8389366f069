// The normalisation slot of a block (Linear -> normalisation -> activation ->
// Dropout) and the contract a normalisation layer meets. BatchNorm,
// LayerNorm and RMSNorm are three declarations of it; the kernels read the
// declaration, never the layer's name.
//
// A normalisation layer N declares:
//   kind            LayerKind::normalization
//   axis            which values share statistics (NormalizationAxis below)
//   centred         x-hat = (z - mean) / sqrt(var + eps) when true,
//                   z / sqrt(mean(z^2) + eps) when false (RMSNorm)
//   cancels_bias    whether a bias before it has no effect (the plan drops it)
//   epsilon<T>()    eps in the model's scalar type
//   momentum        running = (1 - momentum) running + momentum batch
//                   (axis batch only: it keeps running statistics)
//   parameters      ValueSpecs, each one value per feature: at most a scale
//                   (gamma) and a shift (beta); u = gamma x-hat + beta
//   state           running_mean and running_var (axis batch), else none
//   name()          its part of the network's signature
// What forward keeps for backward follows from that: x-hat, and the
// statistics (per feature or per sample) in the model's workspace.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <concepts>
#include <cstddef>
#include <string>

#include "typenet/topology/layers.hpp"
#include "typenet/topology/parameters.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// Over what a normalisation computes its statistics.
enum class NormalizationAxis {
  batch,  ///< per feature, over the batch's samples; running estimates for evaluation (BatchNorm)
  features,  ///< per sample, over its features; the same in training and evaluation (LayerNorm, RMSNorm)
};

/// The stand-in for a block without a normalisation layer.
struct NoNormalization {
  static constexpr std::array<ValueSpec, 0> parameters{};  ///< no parameters
  static constexpr std::array<ValueSpec, 0> state{};  ///< no state
};

namespace normalization_detail {

template <std::size_t N>
constexpr bool feature_vectors(const std::array<ValueSpec, N>& values) {
  for (const ValueSpec& v : values)
    if (v.rows != Extent::one || v.cols != Extent::out) return false;
  return true;
}
template <std::size_t N>
constexpr int count_role(const std::array<ValueSpec, N>& values, ParameterRole role) {
  int n = 0;
  for (const ValueSpec& v : values) n += v.role == role ? 1 : 0;
  return n;
}

template <class L>
constexpr bool declarations_fit() {
  constexpr auto& p = L::parameters;
  constexpr auto& s = L::state;
  if (!feature_vectors(p) || !feature_vectors(s)) return false;
  if (count_role(p, ParameterRole::scale) > 1 || count_role(p, ParameterRole::shift) > 1) return false;
  if (count_role(p, ParameterRole::scale) + count_role(p, ParameterRole::shift) != static_cast<int>(p.size()))
    return false;
  const bool running = count_role(s, ParameterRole::running_mean) == 1 && count_role(s, ParameterRole::running_var) == 1 &&
                       s.size() == 2;
  if (L::axis == NormalizationAxis::batch) return running && L::centred;
  return s.size() == 0;
}

}  // namespace normalization_detail

/// Whether L meets the contract above; the planner reports a layer that
/// claims the slot without meeting it in one sentence.
template <class L>
concept NormalizationLayer = requires {
  requires L::kind == LayerKind::normalization;
  { L::axis } -> std::convertible_to<NormalizationAxis>;
  { L::centred } -> std::convertible_to<bool>;
  { L::cancels_bias } -> std::convertible_to<bool>;
  { L::template epsilon<float>() } -> std::same_as<float>;
  { L::template epsilon<double>() } -> std::same_as<double>;
  L::parameters.size();
  L::state.size();
  { L::name() } -> std::convertible_to<std::string>;
  requires L::axis != NormalizationAxis::batch || requires { { L::momentum } -> std::convertible_to<double>; };
  requires normalization_detail::declarations_fit<L>();
};

}  // namespace typenet
