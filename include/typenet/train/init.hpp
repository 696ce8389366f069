// Weight initialisers, with PyTorch's definitions of each.
#pragma once

#include <cmath>
#include <span>
#include <string>
#include <string_view>

#include "typenet/random/rng.hpp"

namespace typenet {

enum class Init {
  torch_default,    // PyTorch's nn.Linear: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  uniform,          // micrograd: W ~ U(-1, 1), b = 0
  xavier_uniform,   // W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)), b = 0
  xavier_normal,    // W ~ N(0, 2 / (fan_in + fan_out)), b = 0
  kaiming_uniform,  // W ~ U(-a, a), a = sqrt(6 / fan_in) (ReLU gain), b = 0
  kaiming_normal,   // W ~ N(0, 2 / fan_in), b = 0
};

inline std::string_view to_string(Init i) {
  switch (i) {
    case Init::torch_default: return "torch_default";
    case Init::uniform: return "uniform";
    case Init::xavier_uniform: return "xavier_uniform";
    case Init::xavier_normal: return "xavier_normal";
    case Init::kaiming_uniform: return "kaiming_uniform";
    case Init::kaiming_normal: return "kaiming_normal";
  }
  return "?";
}

// Fills one Linear's weights (fan_in x fan_out) and bias (may be empty).
template <class T>
void initialize_linear(std::span<T> weight, std::span<T> bias, std::size_t fan_in, std::size_t fan_out, Init init,
                       Rng& rng) {
  const double in = static_cast<double>(fan_in), out = static_cast<double>(fan_out);
  auto uniform = [&](std::span<T> s, double a) {
    for (T& v : s) v = static_cast<T>(rng.uniform(-a, a));
  };
  auto normal = [&](std::span<T> s, double sd) {
    for (T& v : s) v = static_cast<T>(rng.normal(0.0, sd));
  };
  for (T& b : bias) b = T(0);
  switch (init) {
    case Init::torch_default:
      uniform(weight, 1.0 / std::sqrt(in));
      uniform(bias, 1.0 / std::sqrt(in));
      break;
    case Init::uniform: uniform(weight, 1.0); break;
    case Init::xavier_uniform: uniform(weight, std::sqrt(6.0 / (in + out))); break;
    case Init::xavier_normal: normal(weight, std::sqrt(2.0 / (in + out))); break;
    case Init::kaiming_uniform: uniform(weight, std::sqrt(6.0 / in)); break;
    case Init::kaiming_normal: normal(weight, std::sqrt(2.0 / in)); break;
  }
}

}  // namespace typenet
