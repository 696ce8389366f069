// The plan of a valid layer list: each Linear with the normalisation,
// activation and dropout that follow it becomes a Block (block.hpp), laid
// out one after another in the model's parameter and state buffers.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <array>
#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <cstddef>
#include <utility>

#include "typenet/topology/block.hpp"
#include "typenet/topology/validation.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::plan_detail {

/// Where each block's parts are in the layer list (-1: absent), and where its
/// values start in the buffers.
struct BlockInfo {
  std::size_t in = 0, out = 0;
  bool bias = true;
  int linear = -1, normalization = -1, activation = -1, dropout = -1;
  std::size_t parameter_offset = 0, state_offset = 0;
};

template <std::size_t Blocks, std::size_t N>
constexpr std::array<BlockInfo, Blocks> make_blocks(const std::array<LayerInfo, N>& layers) {
  std::array<BlockInfo, Blocks> blocks{};
  std::size_t width = layers[0].width, b = 0, params = 0, state = 0;
  // The values of the block just finished: W, b unless cancelled or absent,
  // and its normalisation's per-feature values (block.hpp lays them out).
  // (A copy, not a pointer into `layers`: GCC's UndefinedBehaviorSanitizer
  // adds a null check to such a pointer that constant evaluation rejects.)
  auto finish = [&](const BlockInfo& prev) {
    const LayerInfo norm = prev.normalization >= 0 ? layers[static_cast<std::size_t>(prev.normalization)] : LayerInfo{};
    const bool bias = prev.bias && !norm.cancels_bias;
    params += prev.in * prev.out + (bias ? prev.out : 0) + norm.parameters_per_feature * prev.out;
    state += norm.state_per_feature * prev.out;
  };
  for (std::size_t i = 1; i < N; ++i) {
    const LayerInfo& l = layers[i];
    if (l.kind == LayerKind::linear) {
      if (b > 0) finish(blocks[b - 1]);
      blocks[b] = BlockInfo{width, l.width, l.bias, static_cast<int>(i), -1, -1, -1, params, state};
      width = l.width;
      ++b;
    } else if (l.kind == LayerKind::normalization) {
      blocks[b - 1].normalization = static_cast<int>(i);
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

template <std::size_t N>
constexpr std::size_t last_linear_width(const std::array<LayerInfo, N>& layers) {
  std::size_t w = 0;
  for (const auto& l : layers)
    if (l.kind == LayerKind::linear) w = l.width;
  return w;
}

/// The plan: the blocks of a network, in order.
template <class... B>
struct BlockList {};

/// The plan of a valid layer list.
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
                      typename decltype(layer_or<blocks[B].normalization, NoNormalization>())::type,
                      typename decltype(layer_or<blocks[B].activation, Identity>())::type,
                      typename decltype(layer_or<blocks[B].dropout, NoDropout>())::type, blocks[B].parameter_offset,
                      blocks[B].state_offset, static_cast<std::size_t>(blocks[B].linear)>;

  template <std::size_t... B>
  static auto make(std::index_sequence<B...>) {
    return BlockList<block<B>...>{};
  }
  using type = decltype(make(std::make_index_sequence<block_count>{}));
};

template <bool Valid, class... Layers>
struct plan_of {
  using type = BlockList<>;  ///< an invalid network plans to nothing, so no second error follows
};
template <class... Layers>
struct plan_of<true, Layers...> {
  using type = typename Planner<Layers...>::type;
};

/// What the whole network is made of, from its plan.
template <class Plan>
struct plan_traits;
template <class... B>
struct plan_traits<BlockList<B...>> {
  static constexpr std::size_t block_count = sizeof...(B);
  static constexpr std::size_t parameter_count = (std::size_t{0} + ... + B::parameter_count);
  static constexpr std::size_t state_count = (std::size_t{0} + ... + B::state_count);
  static constexpr std::size_t max_width = std::max({std::size_t{0}, B::out...});
  static constexpr bool batch_statistics = (false || ... || B::batch_statistics);
  template <std::size_t I>
  using block = typename decltype(+boost::hana::at_c<I>(boost::hana::tuple_t<B...>))::type;
};
template <>
struct plan_traits<BlockList<>> {
  static constexpr std::size_t block_count = 0, parameter_count = 0, state_count = 0, max_width = 0;
  static constexpr bool batch_statistics = false;
  template <std::size_t I>
  using block = void;  ///< an invalid network has no blocks; asking for one is not a second error
};

}  // namespace typenet::plan_detail
