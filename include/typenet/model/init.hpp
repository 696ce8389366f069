// Initial values, with PyTorch's definitions: each value a layer declares
// (topology/parameters.hpp) starts as its Initial says, Linear's weights and
// biases by the model's Init scheme.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "typenet/random/rng.hpp"
#include "typenet/topology/sequential.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// How a Linear's weights and bias start (normalisations start at gamma = 1, beta = 0, as in PyTorch).
enum class Init {
  torch_default,    ///< PyTorch's nn.Linear: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  uniform,          ///< micrograd: W ~ U(-1, 1), b = 0
  xavier_uniform,   ///< W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)), b = 0
  xavier_normal,    ///< W ~ N(0, 2 / (fan_in + fan_out)), b = 0
  kaiming_uniform,  ///< W ~ U(-a, a), a = sqrt(6 / fan_in) (ReLU gain), b = 0
  kaiming_normal,   ///< W ~ N(0, 2 / fan_in), b = 0
};

/// Fills one value of a layer whose Linear has fan_in inputs and fan_out
/// outputs. Values are drawn in buffer order, so a seed gives the same
/// numbers whatever else changes.
template <class T>
void initialize_value(Initial initial, std::span<T> values, std::size_t fan_in, std::size_t fan_out, Init init,
                      Rng& rng) {
  const double in = static_cast<double>(fan_in), out = static_cast<double>(fan_out);
  auto uniform = [&](double a) {
    for (T& v : values) v = static_cast<T>(rng.uniform(-a, a));
  };
  auto normal = [&](double sd) {
    for (T& v : values) v = static_cast<T>(rng.normal(0.0, sd));
  };
  switch (initial) {
    case Initial::ones: std::fill(values.begin(), values.end(), T(1)); return;
    case Initial::zeros: std::fill(values.begin(), values.end(), T(0)); return;
    case Initial::linear_bias:
      if (init == Init::torch_default) uniform(1.0 / std::sqrt(in));
      else std::fill(values.begin(), values.end(), T(0));
      return;
    case Initial::linear_weight: break;
  }
  switch (init) {
    case Init::torch_default: uniform(1.0 / std::sqrt(in)); break;
    case Init::uniform: uniform(1.0); break;
    case Init::xavier_uniform: uniform(std::sqrt(6.0 / (in + out))); break;
    case Init::xavier_normal: normal(std::sqrt(2.0 / (in + out))); break;
    case Init::kaiming_uniform: uniform(std::sqrt(6.0 / in)); break;
    case Init::kaiming_normal: normal(std::sqrt(2.0 / in)); break;
  }
}

/// Every parameter and state value of Net, as its layers declare them.
template <class Net, class T>
void initialize_values(std::span<T> parameters, std::span<T> state, Init init, std::uint64_t seed) {
  Rng rng(seed);
  for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    for (const BlockValue& v : B::parameters)
      initialize_value<T>(v.spec.initial, parameters.subspan(v.offset, v.size), B::in, B::out, init, rng);
    for (const BlockValue& v : B::state)
      initialize_value<T>(v.spec.initial, state.subspan(v.offset, v.size), B::in, B::out, init, rng);
  });
}

}  // namespace typenet
