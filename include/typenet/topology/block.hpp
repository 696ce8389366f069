// A block is the unit of fusion: one Linear and the elementwise layers that
// follow it (BatchNorm, activation, dropout). Each block becomes one fused
// forward kernel and one fused backward kernel. The block also fixes where its
// parameters live in the model's single parameter buffer.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>

#include "typenet/topology/activations.hpp"

namespace typenet {

// Stand-ins for the parts a block does not have.
struct NoBatchNorm {
  static constexpr float eps = 0.0f;
  static constexpr float momentum = 0.0f;
};
struct NoDropout {
  static constexpr float probability = 0.0f;
};

template <std::size_t Index, std::size_t In, std::size_t Out, bool Bias, class BN, class Act, class Drop,
          std::size_t ParamOffset, std::size_t StateOffset>
struct Block {
  static constexpr std::size_t index = Index;
  static constexpr std::size_t in = In;
  static constexpr std::size_t out = Out;
  using batchnorm = BN;
  using activation = Act;
  using dropout = Drop;

  static constexpr bool has_batchnorm = !std::is_same_v<BN, NoBatchNorm>;
  static constexpr bool has_bias = Bias && !has_batchnorm;  // BatchNorm cancels a bias
  static constexpr bool has_dropout = !std::is_same_v<Drop, NoDropout> && Drop::probability > 0.0f;

  // Parameter buffer layout: W (In x Out, row-major), then b, or gamma and beta.
  static constexpr std::size_t weight_offset = ParamOffset;
  static constexpr std::size_t bias_offset = ParamOffset + In * Out;
  static constexpr std::size_t gamma_offset = ParamOffset + In * Out;
  static constexpr std::size_t beta_offset = gamma_offset + Out;
  static constexpr std::size_t parameter_count = In * Out + (has_bias ? Out : 0) + (has_batchnorm ? 2 * Out : 0);

  // Non-learned state (BatchNorm running statistics) in the state buffer.
  static constexpr std::size_t running_mean_offset = StateOffset;
  static constexpr std::size_t running_var_offset = StateOffset + Out;
  static constexpr std::size_t state_count = has_batchnorm ? 2 * Out : 0;

  // What backward reads of the activation: the output, the pre-activation, or
  // nothing. With BatchNorm forward keeps the normalised values (x-hat), from
  // which the pre-activation is one multiply-add away.
  using activation_backward = ActivationBackward<Act>;
  static constexpr expr::Saved activation_saves = activation_backward::saved;
  static constexpr bool keeps_preactivation = !has_batchnorm && activation_saves == expr::Saved::input;
  static constexpr bool keeps_normalized = has_batchnorm;

  // "Linear<256>, BatchNorm, ReLU": the layers this block fuses, for messages.
  static std::string name() {
    std::string s = "Linear<" + std::to_string(Out) + (Bias ? "" : ",false") + ">";
    if constexpr (has_batchnorm) s += ", " + BN::name();
    if constexpr (!std::is_same_v<Act, Identity>) s += ", " + Act::name();
    if constexpr (!std::is_same_v<Drop, NoDropout>) s += ", " + Drop::name();
    return s;
  }
};

}  // namespace typenet
