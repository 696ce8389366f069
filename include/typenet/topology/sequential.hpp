// Sequential<Input<N>, layers...>: the network as a type.
//
// At compile time the layer list is checked (validation.hpp; each rule a
// static_assert whose message is one sentence, topology_rules.inc, and only
// the first broken rule is reported), its shapes are inferred, and it is
// planned into blocks (plan.hpp): each Linear with the normalisation,
// activation and dropout that follow it.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <boost/hana/type.hpp>
#include <cstddef>
#include <string>
#include <utility>

#include "typenet/topology/activations.hpp"
#include "typenet/topology/batch_norm.hpp"
#include "typenet/topology/layer_norm.hpp"
#include "typenet/topology/layers.hpp"
#include "typenet/topology/plan.hpp"
#include "typenet/topology/rms_norm.hpp"
#include "typenet/topology/validation.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// A network as a type: its layers in order, from Input to the last. Its rules are checked at compile time, each broken one a sentence; the plan fuses each Linear with what follows.
template <class... Layers>
struct Sequential {
  static constexpr TopologyError topology_error = topology_error_of<Sequential>;  ///< the first rule the layers break (TopologyError::none: none)
  /// Reports the first broken rule, if any (instantiating the sentences).
  static_assert(sizeof(TopologyRules<topology_error>) > 0);

  static constexpr bool valid = topology_error == TopologyError::none;
  /// The fused blocks the layers plan into.
  using plan = typename plan_detail::plan_of<valid, Layers...>::type;
  /// What the plan adds up to (counts, widths).
  using traits = plan_detail::plan_traits<plan>;

  static constexpr std::size_t block_count = traits::block_count;  ///< the number of fused blocks
  static constexpr std::size_t parameter_count = traits::parameter_count;  ///< the number of trained parameters
  static constexpr std::size_t state_count = traits::state_count;  ///< the number of state values (BatchNorm's running statistics)
  /// The width of one input sample.
  static constexpr std::size_t input_size = [] {
    if constexpr (valid) return plan_detail::Planner<Layers...>::layers[0].width;
    else return std::size_t{0};
  }();
  /// The width of one output sample.
  static constexpr std::size_t output_size = [] {
    if constexpr (valid) return plan_detail::last_linear_width(plan_detail::Planner<Layers...>::layers);
    else return std::size_t{0};
  }();
  static constexpr std::size_t max_width = traits::max_width;  ///< the widest layer
  /// Whether any block normalises over the batch (BatchNorm): training then
  /// needs batches of two samples or more.
  static constexpr bool batch_statistics = traits::batch_statistics;
  /// Whether the network ends in Softmax (the model then outputs probabilities).
  static constexpr bool softmax_head = [] {
    if constexpr (valid) return plan_detail::Planner<Layers...>::layers[sizeof...(Layers) - 1].kind == LayerKind::softmax;
    else return false;
  }();

  /// The B-th fused block (topology/block.hpp).
  template <std::size_t B>
  using block = typename traits::template block<B>;

  /// Readable name, also the topology signature stored in checkpoints.
  static std::string name() {
    std::string s = "Sequential<";
    bool first = true;
    ((s += (first ? "" : ","), s += Layers::name(), first = false), ...);
    return s + ">";
  }
};

/// Net itself if it is a valid network, else a small valid one: a model of an
/// invalid network reports the first broken rule (topology_rules.inc) and
/// builds everything else from this stand-in, so that no second error follows.
template <class Net>
using checked_network_t =
    std::conditional_t<topology_error_of<Net> == TopologyError::none, Net, Sequential<Input<1>, Linear<1>>>;

/// Calls f(boost::hana::type_c<Block>) for each block of Net, first to last.
template <class Net, class F>
constexpr void for_each_block(F&& f) {
  [&]<std::size_t... B>(std::index_sequence<B...>) {
    (f(boost::hana::type_c<typename Net::template block<B>>), ...);
  }(std::make_index_sequence<Net::block_count>{});
}

/// The same, last block first (backward).
template <class Net, class F>
constexpr void for_each_block_reversed(F&& f) {
  [&]<std::size_t... B>(std::index_sequence<B...>) {
    (f(boost::hana::type_c<typename Net::template block<Net::block_count - 1 - B>>), ...);
  }(std::make_index_sequence<Net::block_count>{});
}

}  // namespace typenet
