// The layers a network type is written with. They carry only compile-time
// facts (widths, probabilities, constants, what values they own); the
// values themselves live in the Model. The normalisation layers have headers
// of their own (batch_norm.hpp, layer_norm.hpp, rms_norm.hpp), the
// activations too (activations.hpp).
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "typenet/topology/parameters.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// The slot a layer takes in a block (Linear, normalisation, activation,
/// Dropout, in that order; see block.hpp). The slots are the fusion grammar;
/// any number of layers may fill each (normalization.hpp, activations.hpp say
/// what such a layer must declare).
enum class LayerKind { input, linear, normalization, dropout, activation, softmax };

/// Formats a float template argument for topology signatures: six decimals
/// with the trailing zeros cut ("0.2", "0.001"), or, where six decimals would
/// lose the value (1e-8 would read "0"), its shortest exact form ("1e-08").
inline std::string format_constant(float v) {
  std::string s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (std::strtof(s.c_str(), nullptr) == v) return s;
  char shortest[32];
  const auto end = std::to_chars(shortest, shortest + sizeof shortest, v).ptr;
  return std::string(shortest, end);
}

/// The network's input: N features per sample.
template <std::size_t N>
struct Input {
  static constexpr LayerKind kind = LayerKind::input;  ///< what the planner reads: the input
  static constexpr std::size_t width = N;  ///< the width of a sample
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "Input<" + std::to_string(N) + ">"; }
};

/// y = x W + b, W of shape in x Out. With Bias = false (or when BatchNorm
/// follows, which cancels any bias) there is no b.
template <std::size_t Out, bool Bias = true>
struct Linear {
  static constexpr LayerKind kind = LayerKind::linear;  ///< what the planner reads: a Linear layer
  static constexpr std::size_t width = Out;  ///< its output width
  static constexpr bool bias = Bias;  ///< whether it adds a bias
  /// W first, then b (dropped by the plan where it is cancelled or absent).
  static constexpr std::array<ValueSpec, 2> parameters{{
      {ParameterRole::weight, "weight", "weight", Extent::in, Extent::out, TorchLayout::transposed,
       Initial::linear_weight},
      {ParameterRole::bias, "bias", "bias", Extent::one, Extent::out, TorchLayout::same, Initial::linear_bias},
  }};
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "Linear<" + std::to_string(Out) + (Bias ? "" : ",false") + ">"; }
};

/// Inverted dropout: in training each value is zeroed with probability P and
/// the survivors scaled by 1/(1-P); in evaluation it is the identity.
template <float P>
struct Dropout {
  static constexpr LayerKind kind = LayerKind::dropout;  ///< what the planner reads: a dropout layer
  static constexpr float probability = P;  ///< the probability that a value is dropped
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "Dropout<" + format_constant(P) + ">"; }
};

/// Softmax over each sample's outputs; only as the last layer. Evaluation
/// returns probabilities; training with softmax_cross_entropy reads the
/// logits before it (fused and numerically stable).
struct Softmax {
  static constexpr LayerKind kind = LayerKind::softmax;  ///< what the planner reads: the softmax head
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "Softmax"; }
};

}  // namespace typenet
