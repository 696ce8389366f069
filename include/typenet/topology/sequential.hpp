// Sequential<Input<N>, layers...>: the network as a type.
//
// At compile time the layer list is checked (each rule a static_assert whose
// message is one sentence, and only the first broken rule is reported), its
// shapes are inferred, and it is planned into blocks: each Linear with the
// BatchNorm, activation and dropout that follow it.
#pragma once

#include <algorithm>
#include <array>
#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <cstddef>
#include <string>
#include <utility>

#include "typenet/topology/block.hpp"

namespace typenet {

enum class TopologyError {
  none,
  not_a_layer,
  empty,
  first_not_input,
  input_not_first,
  zero_width,
  no_linear,
  batchnorm_before_linear,
  activation_before_linear,
  dropout_before_linear,
  softmax_before_linear,
  dropout_probability,
  two_batchnorms,
  batchnorm_after_activation,
  batchnorm_after_dropout,
  two_activations,
  activation_after_dropout,
  two_dropouts,
  softmax_not_last,
  softmax_single_output,
};

namespace plan_detail {

struct LayerInfo {
  bool is_layer = false;
  LayerKind kind = LayerKind::activation;
  std::size_t width = 0;
  bool bias = false;
  float probability = 0.0f;
};

template <class L>
constexpr LayerInfo describe() {
  LayerInfo info;
  if constexpr (requires { L::kind; }) {
    info.is_layer = true;
    info.kind = L::kind;
    if constexpr (L::kind == LayerKind::input || L::kind == LayerKind::linear) info.width = L::width;
    if constexpr (L::kind == LayerKind::linear) info.bias = L::bias;
    if constexpr (L::kind == LayerKind::dropout) info.probability = L::probability;
  }
  return info;
}

// Walks the layers once and returns the first rule they break.
template <std::size_t N>
constexpr TopologyError validate(const std::array<LayerInfo, N>& layers) {
  using enum TopologyError;
  if constexpr (N == 0) {
    return empty;
  } else {
    for (const auto& l : layers)
      if (!l.is_layer) return not_a_layer;
    if (layers[0].kind != LayerKind::input) return first_not_input;
    // stage within the current block: 0 after Linear, 1 BatchNorm, 2 activation, 3 dropout
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
        case LayerKind::batchnorm:
          if (!seen_linear) return batchnorm_before_linear;
          if (stage == 1) return two_batchnorms;
          if (stage == 2) return batchnorm_after_activation;
          if (stage == 3) return batchnorm_after_dropout;
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

// Where each block's parts are in the layer list (-1: absent).
struct BlockInfo {
  std::size_t in = 0, out = 0;
  bool bias = true;
  int batchnorm = -1, activation = -1, dropout = -1;
  std::size_t parameter_offset = 0, state_offset = 0;
};

template <std::size_t Blocks, std::size_t N>
constexpr std::array<BlockInfo, Blocks> make_blocks(const std::array<LayerInfo, N>& layers) {
  std::array<BlockInfo, Blocks> blocks{};
  std::size_t width = layers[0].width, b = 0, params = 0, state = 0;
  for (std::size_t i = 1; i < N; ++i) {
    const LayerInfo& l = layers[i];
    if (l.kind == LayerKind::linear) {
      if (b > 0) {
        const BlockInfo& prev = blocks[b - 1];
        params += prev.in * prev.out + (prev.batchnorm >= 0 ? 2 * prev.out : (prev.bias ? prev.out : 0));
        state += prev.batchnorm >= 0 ? 2 * prev.out : 0;
      }
      blocks[b] = BlockInfo{width, l.width, l.bias, -1, -1, -1, params, state};
      width = l.width;
      ++b;
    } else if (l.kind == LayerKind::batchnorm) {
      blocks[b - 1].batchnorm = static_cast<int>(i);
    } else if (l.kind == LayerKind::activation) {
      blocks[b - 1].activation = static_cast<int>(i);
    } else if (l.kind == LayerKind::dropout) {
      blocks[b - 1].dropout = static_cast<int>(i);
    }
  }
  return blocks;
}

template <std::size_t N>
constexpr std::size_t count_linear(const std::array<LayerInfo, N>& layers) {
  std::size_t n = 0;
  for (const auto& l : layers) n += l.kind == LayerKind::linear ? 1 : 0;
  return n;
}

// The plan: the blocks of a network, in order.
template <class... B>
struct BlockList {};

// The plan of a valid layer list.
template <class... Layers>
struct Planner {
  static constexpr std::array<LayerInfo, sizeof...(Layers)> layers{describe<Layers>()...};
  static constexpr std::size_t block_count = count_linear(layers);
  static constexpr auto blocks = make_blocks<block_count>(layers);
  static constexpr auto layer_types = boost::hana::tuple_t<Layers...>;

  template <int I, class Default>
  static auto layer_or() {
    if constexpr (I < 0) return boost::hana::type_c<Default>;
    else return boost::hana::at_c<static_cast<std::size_t>(I)>(layer_types);
  }
  template <std::size_t B>
  using block = Block<B, blocks[B].in, blocks[B].out, blocks[B].bias,
                      typename decltype(layer_or<blocks[B].batchnorm, NoBatchNorm>())::type,
                      typename decltype(layer_or<blocks[B].activation, Identity>())::type,
                      typename decltype(layer_or<blocks[B].dropout, NoDropout>())::type, blocks[B].parameter_offset,
                      blocks[B].state_offset>;

  template <std::size_t... B>
  static auto make(std::index_sequence<B...>) {
    return BlockList<block<B>...>{};
  }
  using type = decltype(make(std::make_index_sequence<block_count>{}));
};

template <bool Valid, class... Layers>
struct plan_of {
  using type = BlockList<>;  // an invalid network plans to nothing, so no second error follows
};
template <class... Layers>
struct plan_of<true, Layers...> {
  using type = typename Planner<Layers...>::type;
};

template <class Plan>
struct plan_traits;
template <class... B>
struct plan_traits<BlockList<B...>> {
  static constexpr std::size_t block_count = sizeof...(B);
  static constexpr std::size_t parameter_count = (std::size_t{0} + ... + B::parameter_count);
  static constexpr std::size_t state_count = (std::size_t{0} + ... + B::state_count);
  static constexpr std::size_t max_width = std::max({std::size_t{0}, B::out...});
  template <std::size_t I>
  using block = typename decltype(+boost::hana::at_c<I>(boost::hana::tuple_t<B...>))::type;
};
template <>
struct plan_traits<BlockList<>> {
  static constexpr std::size_t block_count = 0, parameter_count = 0, state_count = 0, max_width = 0;
};

template <std::size_t N>
constexpr std::size_t last_linear_width(const std::array<LayerInfo, N>& layers) {
  std::size_t w = 0;
  for (const auto& l : layers)
    if (l.kind == LayerKind::linear) w = l.width;
  return w;
}

}  // namespace plan_detail

template <class... Layers>
struct Sequential {
  static constexpr std::array<plan_detail::LayerInfo, sizeof...(Layers)> layer_infos{
      plan_detail::describe<Layers>()...};
  static constexpr TopologyError error = plan_detail::validate(layer_infos);

  // One rule, one sentence; `error` holds a single value so at most one fires.
  static_assert(error != TopologyError::not_a_layer,
                "typenet: every argument of Sequential must be a typenet layer (Input, Linear, BatchNorm, Dropout, "
                "an activation or Softmax).");
  static_assert(error != TopologyError::empty,
                "typenet: the network is empty: Sequential needs Input<N> followed by at least one Linear layer.");
  static_assert(error != TopologyError::first_not_input,
                "typenet: the first layer of a Sequential must be Input<N>, the number of input features.");
  static_assert(error != TopologyError::input_not_first,
                "typenet: Input<N> may appear only once, as the first layer.");
  static_assert(error != TopologyError::zero_width,
                "typenet: a layer width is zero: Input<N> and Linear<N> need N >= 1.");
  static_assert(error != TopologyError::no_linear,
                "typenet: the network has no Linear layer: add at least one Linear<N> after Input.");
  static_assert(error != TopologyError::batchnorm_before_linear,
                "typenet: BatchNorm comes before any Linear layer; it must follow a Linear.");
  static_assert(error != TopologyError::activation_before_linear,
                "typenet: an activation comes before any Linear layer; it must follow a Linear (or its BatchNorm).");
  static_assert(error != TopologyError::dropout_before_linear,
                "typenet: Dropout comes before any Linear layer; it must follow a Linear (or its activation).");
  static_assert(error != TopologyError::softmax_before_linear,
                "typenet: Softmax comes before any Linear layer; it must be the last layer, after a Linear.");
  static_assert(error != TopologyError::dropout_probability,
                "typenet: a Dropout probability is outside [0, 1); Dropout<P> needs 0 <= P < 1.");
  static_assert(error != TopologyError::two_batchnorms,
                "typenet: two BatchNorm layers follow the same Linear; use one.");
  static_assert(error != TopologyError::batchnorm_after_activation,
                "typenet: BatchNorm comes after an activation; put it between the Linear and its activation.");
  static_assert(error != TopologyError::batchnorm_after_dropout,
                "typenet: BatchNorm comes after Dropout; put it between the Linear and its activation.");
  static_assert(error != TopologyError::two_activations,
                "typenet: two activations follow the same Linear; use one per Linear.");
  static_assert(error != TopologyError::activation_after_dropout,
                "typenet: an activation comes after Dropout; the order is Linear, BatchNorm, activation, Dropout.");
  static_assert(error != TopologyError::two_dropouts, "typenet: two Dropout layers follow the same Linear; use one.");
  static_assert(error != TopologyError::softmax_not_last,
                "typenet: Softmax is not the last layer; it may only end the network.");
  static_assert(error != TopologyError::softmax_single_output,
                "typenet: Softmax over a single output is always 1; use Sigmoid for one output.");

  static constexpr bool valid = error == TopologyError::none;
  using plan = typename plan_detail::plan_of<valid, Layers...>::type;
  using traits = plan_detail::plan_traits<plan>;

  static constexpr std::size_t block_count = traits::block_count;
  static constexpr std::size_t parameter_count = traits::parameter_count;
  static constexpr std::size_t state_count = traits::state_count;
  static constexpr std::size_t input_size = valid ? layer_infos[0].width : 0;
  static constexpr std::size_t output_size = valid ? plan_detail::last_linear_width(layer_infos) : 0;
  static constexpr std::size_t max_width = traits::max_width;
  static constexpr bool softmax_head = valid && layer_infos[sizeof...(Layers) - 1].kind == LayerKind::softmax;

  template <std::size_t B>
  using block = typename traits::template block<B>;

  // Readable name, also the topology signature stored in checkpoints.
  static std::string name() {
    std::string s = "Sequential<";
    bool first = true;
    ((s += (first ? "" : ","), s += Layers::name(), first = false), ...);
    return s + ">";
  }
};

}  // namespace typenet

namespace typenet {

// Calls f(boost::hana::type_c<Block>) for each block of Net, first to last.
template <class Net, class F>
constexpr void for_each_block(F&& f) {
  [&]<std::size_t... B>(std::index_sequence<B...>) {
    (f(boost::hana::type_c<typename Net::template block<B>>), ...);
  }(std::make_index_sequence<Net::block_count>{});
}

// The same, last block first (backward).
template <class Net, class F>
constexpr void for_each_block_reversed(F&& f) {
  [&]<std::size_t... B>(std::index_sequence<B...>) {
    (f(boost::hana::type_c<typename Net::template block<Net::block_count - 1 - B>>), ...);
  }(std::make_index_sequence<Net::block_count>{});
}

}  // namespace typenet
