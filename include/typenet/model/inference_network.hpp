// The network that inference runs, derived from a trained one at compile
// time: Dropout gone (the identity in evaluation), every BatchNorm folded
// into the Linear before it (in evaluation it is the affine map u = z s + t,
// s = gamma / sqrt(running_var + eps), t = beta - running_mean s, so
// W' = W diag(s) and b' = t), everything else as it was. LayerNorm and
// RMSNorm stay: their statistics are each sample's own.
//
//   inference_network_t<Sequential<Input<784>, Linear<256>, BatchNorm<>, ReLU, Dropout<0.2f>, Linear<10>>>
//     = Sequential<Input<784>, Linear<256>, ReLU, Linear<10>>
//
// fold_parameters fills the inference network's parameters from the
// trained network's parameters and state, reading both networks' value
// declarations (topology/parameters.hpp).
#pragma once

#include "typenet/config.hpp"

#include <cmath>
#include <cstddef>
#include <span>
#include <tuple>
#include <type_traits>

#include "typenet/topology/sequential.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace inference_detail {

template <class L>
constexpr bool folds_away() {
  if constexpr (requires { L::kind; }) {
    if constexpr (L::kind == LayerKind::dropout) return true;
    if constexpr (L::kind == LayerKind::normalization) return L::axis == NormalizationAxis::batch;
  }
  return false;
}

template <class... R>
constexpr bool next_folds_into_linear() {
  if constexpr (sizeof...(R) == 0) {
    return false;
  } else {
    using Next = std::tuple_element_t<0, std::tuple<R...>>;
    if constexpr (requires { Next::kind; })
      if constexpr (Next::kind == LayerKind::normalization) return Next::axis == NormalizationAxis::batch;
    return false;
  }
}

/// Walks the layers, appending what inference keeps to Done.
template <class Done, class... Rest>
struct strip;
template <class... Done>
struct strip<Sequential<Done...>> {
  using type = Sequential<Done...>;
};
template <class... Done, class L, class... Rest>
struct strip<Sequential<Done...>, L, Rest...> {
  static auto next() {
    if constexpr (folds_away<L>()) {
      return std::type_identity<typename strip<Sequential<Done...>, Rest...>::type>{};
    } else if constexpr (requires { L::kind; }) {
      if constexpr (L::kind == LayerKind::linear && next_folds_into_linear<Rest...>())
        return std::type_identity<typename strip<Sequential<Done..., Linear<L::width, true>>, Rest...>::type>{};
      else
        return std::type_identity<typename strip<Sequential<Done..., L>, Rest...>::type>{};
    } else {
      return std::type_identity<typename strip<Sequential<Done..., L>, Rest...>::type>{};
    }
  }
  using type = typename decltype(next())::type;
};

template <class Net>
struct inference_of;
template <class... Layers>
struct inference_of<Sequential<Layers...>> {
  using type = typename strip<Sequential<>, Layers...>::type;
};

}  // namespace inference_detail

/// The network InferenceModel runs for Net: each BatchNorm folded into its Linear, each Dropout removed.
template <class Net>
using inference_network_t = typename inference_detail::inference_of<Net>::type;

/// The inference network's parameters from the trained network's parameters
/// and state. Block b of one is block b of the other (every Linear stays).
/// The folding runs in double and rounds once.
template <class Net, class T>
void fold_parameters(std::span<const T> parameters, std::span<const T> state, std::span<T> folded) {
  using Inference = inference_network_t<Net>;
  static_assert(Inference::block_count == Net::block_count);
  for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    using F = typename Inference::template block<B::index>;
    static_assert(F::in == B::in && F::out == B::out);
    // BatchNorm's evaluation-mode affine map, per output column.
    auto scale = [&](std::size_t j) {
      if constexpr (B::batch_statistics) {
        const double eps = static_cast<double>(B::normalization::template epsilon<T>());
        return static_cast<double>(parameters[B::scale_offset + j]) /
               std::sqrt(static_cast<double>(state[B::running_var_offset + j]) + eps);
      } else {
        return 1.0;
      }
    };
    for (std::size_t k = 0; k < B::in; ++k)
      for (std::size_t j = 0; j < B::out; ++j) {
        const double w = static_cast<double>(parameters[B::weight_offset + k * B::out + j]);
        folded[F::weight_offset + k * F::out + j] = static_cast<T>(w * scale(j));
      }
    if constexpr (F::has_bias) {
      for (std::size_t j = 0; j < B::out; ++j) {
        double bias = 0;
        if constexpr (B::has_bias) bias = static_cast<double>(parameters[B::bias_offset + j]);
        if constexpr (B::batch_statistics)
          bias = static_cast<double>(parameters[B::shift_offset + j]) +
                 (bias - static_cast<double>(state[B::running_mean_offset + j])) * scale(j);
        folded[F::bias_offset + j] = static_cast<T>(bias);
      }
    }
    if constexpr (F::has_scale)
      for (std::size_t j = 0; j < B::out; ++j) folded[F::scale_offset + j] = parameters[B::scale_offset + j];
    if constexpr (F::has_shift)
      for (std::size_t j = 0; j < B::out; ++j) folded[F::shift_offset + j] = parameters[B::shift_offset + j];
  });
}

}  // namespace typenet
