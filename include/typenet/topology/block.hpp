// A block is the unit of fusion: one Linear and the layers that follow it,
// in the order normalisation, activation, dropout. Each block becomes one
// fused forward kernel and one fused backward kernel. The block lays out the
// values its layers declare (topology/parameters.hpp) in the model's
// parameter and state buffers, and says what forward keeps for backward.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include "typenet/topology/activations.hpp"
#include "typenet/topology/normalization.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// The stand-in for a block without Dropout.
struct NoDropout {
  static constexpr float probability = 0.0f;  ///< no dropout drops nothing
};

/// What a block's forward keeps for its backward, besides its output (which
/// the next block reads anyway):
///   nothing        the activation's derivative is a function of its output
///                  (ReLU, tanh, sigmoid) or a constant
///   preactivation  u, the activation's input, which its derivative needs (GELU, ELU)
///   normalized     a normalisation's x-hat, from which u is one multiply-add
enum class Keeps { nothing, preactivation, normalized };

/// A laid-out value: its declaration and where it starts in its buffer.
struct BlockValue {
  ValueSpec spec;  ///< what the layer declares about the value (topology/parameters.hpp)
  std::size_t offset = 0;  ///< where the value starts in the block's parameters or state
  std::size_t size = 0;  ///< how many numbers it holds
};

namespace block_detail {

/// The values of a block's layers in buffer order, each after the one before.
template <std::size_t N, std::size_t M>
constexpr auto lay_out(std::size_t first, const std::array<ValueSpec, N>& a, const std::array<ValueSpec, M>& b,
                       bool keep_bias, std::size_t in, std::size_t out) {
  std::array<BlockValue, N + M> values{};
  std::size_t n = 0, at = first;
  auto add = [&](const ValueSpec& v) {
    if (v.role == ParameterRole::bias && !keep_bias) return;
    values[n++] = BlockValue{v, at, v.size(in, out)};
    at += v.size(in, out);
  };
  for (const ValueSpec& v : a) add(v);
  for (const ValueSpec& v : b) add(v);
  return std::pair{values, n};
}

}  // namespace block_detail

/// Layer: where the block's Linear stands in the Sequential (Input is 0), so
/// that the block's values can be named as a PyTorch nn.Sequential names them.
template <std::size_t Index, std::size_t In, std::size_t Out, bool Bias, class Norm, class Act, class Drop,
          std::size_t ParamOffset, std::size_t StateOffset, std::size_t Layer>
struct Block {
  static constexpr std::size_t index = Index;  ///< the block's position in the network
  static constexpr std::size_t in = In;  ///< the width of its input
  static constexpr std::size_t out = Out;  ///< the width of its output
  static constexpr std::size_t layer = Layer;  ///< the position of its Linear among the network's layers
  /// The normalisation that follows the Linear (NoNormalization when none does).
  using normalization = Norm;
  /// The activation that follows (Identity when none does).
  using activation = Act;
  /// The dropout that follows (NoDropout when none does).
  using dropout = Drop;

  static constexpr bool has_normalization = !std::is_same_v<Norm, NoNormalization>;  ///< whether a normalisation follows the Linear
  /// Statistics per feature over the batch (BatchNorm), or per sample over
  /// its features (LayerNorm, RMSNorm): the two shapes of normalisation kernel.
  static constexpr bool batch_statistics = [] {
    if constexpr (has_normalization) return Norm::axis == NormalizationAxis::batch;
    else return false;
  }();
  static constexpr bool sample_statistics = has_normalization && !batch_statistics;  ///< whether its statistics are per sample (LayerNorm, RMSNorm)
  /// Whether the Linear adds a bias (not when a normalisation follows, which would cancel it).
  static constexpr bool has_bias = [] {
    if constexpr (has_normalization) return Bias && !Norm::cancels_bias;
    else return Bias;
  }();
  static constexpr bool has_dropout = !std::is_same_v<Drop, NoDropout> && Drop::probability > 0.0f;  ///< whether a dropout with probability above 0 follows

 private:
  static constexpr std::array<ValueSpec, 2> linear_parameters = Linear<Out, Bias>::parameters;
  static constexpr auto parameter_layout =
      block_detail::lay_out(ParamOffset, linear_parameters, Norm::parameters, has_bias, In, Out);
  static constexpr auto state_layout =
      block_detail::lay_out(StateOffset, std::array<ValueSpec, 0>{}, Norm::state, false, In, Out);

  template <std::size_t N>
  static constexpr std::size_t offset_in(const std::pair<std::array<BlockValue, N>, std::size_t>& layout,
                                         ParameterRole role) {
    for (std::size_t i = 0; i < layout.second; ++i)
      if (layout.first[i].spec.role == role) return layout.first[i].offset;
    return ~std::size_t{0};  // absent: a kernel reading it is a bug the tests catch
  }

 public:
  /// Every learned value of the block, in buffer order, and every state value.
  static constexpr std::size_t value_count = parameter_layout.second;
  /// The block's parameters as declared, with their offsets in the block.
  static constexpr std::array<BlockValue, value_count> parameters = [] {
    std::array<BlockValue, value_count> v{};
    for (std::size_t i = 0; i < value_count; ++i) v[i] = parameter_layout.first[i];
    return v;
  }();
  static constexpr std::size_t state_value_count = state_layout.second;  ///< how many state values the block declares
  /// The block's state values (BatchNorm's running statistics) as declared, with their offsets.
  static constexpr std::array<BlockValue, state_value_count> state = [] {
    std::array<BlockValue, state_value_count> v{};
    // (Not compiled with no state: nvcc's front end warns of the loop's i < 0.)
    if constexpr (state_value_count > 0)
      for (std::size_t i = 0; i < state_value_count; ++i) v[i] = state_layout.first[i];
    return v;
  }();

  static constexpr std::size_t parameter_offset = ParamOffset;  ///< where the block's parameters start in the model's parameter buffer
  /// The number of the block's parameters.
  static constexpr std::size_t parameter_count = [] {
    std::size_t n = 0;
    for (const BlockValue& v : parameters) n += v.size;
    return n;
  }();
  static constexpr std::size_t state_offset = StateOffset;  ///< where the block's state starts in the model's state buffer
  /// The number of the block's state values.
  static constexpr std::size_t state_count = [] {
    std::size_t n = 0;
    for (const BlockValue& v : state) n += v.size;
    return n;
  }();

  /// Where the kernels find each value (W in x out row-major; the rest vectors).
  static constexpr std::size_t weight_offset = offset_in(parameter_layout, ParameterRole::weight);
  static constexpr std::size_t bias_offset = offset_in(parameter_layout, ParameterRole::bias);  ///< where its bias starts in the model's parameters
  static constexpr bool has_scale = offset_in(parameter_layout, ParameterRole::scale) != ~std::size_t{0};  ///< whether its normalisation has a scale (gamma)
  static constexpr bool has_shift = offset_in(parameter_layout, ParameterRole::shift) != ~std::size_t{0};  ///< whether its normalisation has a shift (beta)
  static constexpr std::size_t scale_offset = offset_in(parameter_layout, ParameterRole::scale);  ///< where gamma starts in the model's parameters
  static constexpr std::size_t shift_offset = offset_in(parameter_layout, ParameterRole::shift);  ///< where beta starts in the model's parameters
  static constexpr std::size_t running_mean_offset = offset_in(state_layout, ParameterRole::running_mean);  ///< where the running mean starts in the model's state
  static constexpr std::size_t running_var_offset = offset_in(state_layout, ParameterRole::running_var);  ///< where the running variance starts in the model's state

  /// What backward reads of the activation (its output, its input, or
  /// nothing: derived from its formula), and so what forward keeps.
  using activation_backward = ActivationBackward<Act>;
  /// What forward keeps for backward: the normalised values, the pre-activation, or nothing (derived from the activation's derivative).
  static constexpr Keeps keeps = has_normalization                                           ? Keeps::normalized
                                 : activation_backward::saved == expr::Saved::preactivation ? Keeps::preactivation
                                                                                            : Keeps::nothing;

  /// "Linear<256>, BatchNorm, ReLU": the layers this block fuses, for messages.
  static std::string name() {
    std::string s = "Linear<" + std::to_string(Out) + (Bias ? "" : ",false") + ">";
    if constexpr (has_normalization) s += ", " + Norm::name();
    if constexpr (!std::is_same_v<Act, Identity>) s += ", " + Act::name();
    if constexpr (!std::is_same_v<Drop, NoDropout>) s += ", " + Drop::name();
    return s;
  }
};

}  // namespace typenet
