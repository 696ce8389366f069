// The layers of a typenet network type as a hand-written peer (oneDNN,
// Eigen) lists them: each Linear's widths and its activation in the peer's
// own terms. ReLU, Tanh and Identity only: the compared networks use no
// other.
#pragma once

#include <type_traits>
#include <vector>

#include "typenet/typenet.hpp"

namespace bench {

template <class Net, class Layer, class Activation>
std::vector<Layer> peer_layers(Activation relu, Activation tanh, Activation identity) {
  std::vector<Layer> layers;
  typenet::for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    using A = typename B::activation;
    const Activation act = std::is_same_v<A, typenet::ReLU> ? relu : std::is_same_v<A, typenet::Tanh> ? tanh : identity;
    layers.push_back({static_cast<int>(B::in), static_cast<int>(B::out), act});
  });
  return layers;
}

}  // namespace bench
