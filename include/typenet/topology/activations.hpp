// Activation layers. Each one is its formula, written once as an expression
// of x = Var<0>; the derivative, and whether backward reads the output or the
// pre-activation, are derived from it (expr/analysis.hpp).
#pragma once

#include <string>

#include "typenet/expr/analysis.hpp"
#include "typenet/topology/layers.hpp"

namespace typenet {

namespace activation_detail {
inline constexpr expr::Var<0> x{};
}

struct Identity {
  static constexpr LayerKind kind = LayerKind::activation;
  static constexpr auto expression = activation_detail::x;
  static std::string name() { return "Identity"; }
};

// relu(x) = max(x, 0)
struct ReLU {
  static constexpr LayerKind kind = LayerKind::activation;
  static constexpr auto expression = expr::max(activation_detail::x, expr::lit<0.0>);
  static std::string name() { return "ReLU"; }
};

// leaky(x) = x > 0 ? x : slope x
template <float Slope = 0.01f>
struct LeakyReLU {
  static constexpr LayerKind kind = LayerKind::activation;
  static constexpr auto expression =
      expr::select(activation_detail::x > expr::lit<0.0>, activation_detail::x,
                   expr::lit<static_cast<double>(Slope)> * activation_detail::x);
  static std::string name() { return "LeakyReLU<" + format_constant(Slope) + ">"; }
};

// tanh(x)
struct Tanh {
  static constexpr LayerKind kind = LayerKind::activation;
  static constexpr auto expression = expr::tanh(activation_detail::x);
  static std::string name() { return "Tanh"; }
};

// sigmoid(x) = 1 / (1 + e^-x)
struct Sigmoid {
  static constexpr LayerKind kind = LayerKind::activation;
  static constexpr auto expression = expr::sigmoid(activation_detail::x);
  static std::string name() { return "Sigmoid"; }
};

// elu(x) = x > 0 ? x : alpha (e^x - 1)
template <float Alpha = 1.0f>
struct ELU {
  static constexpr LayerKind kind = LayerKind::activation;
  static constexpr auto expression =
      expr::select(activation_detail::x > expr::lit<0.0>, activation_detail::x,
                   expr::lit<static_cast<double>(Alpha)> * (expr::exp(activation_detail::x) - expr::lit<1.0>));
  static std::string name() { return "ELU<" + format_constant(Alpha) + ">"; }
};

// gelu(x) = x/2 (1 + erf(x / sqrt 2))   (the exact form, PyTorch's default)
struct GELU {
  static constexpr LayerKind kind = LayerKind::activation;
  static constexpr auto expression =
      expr::lit<0.5> * activation_detail::x *
      (expr::lit<1.0> + expr::erf(expr::lit<0.70710678118654752> * activation_detail::x));
  static std::string name() { return "GELU"; }
};

// What backward of activation A needs (derivative in x and in y, and which of
// the two forward keeps).
template <class A>
using ActivationBackward = expr::ElementwiseBackward<std::remove_cvref_t<decltype(A::expression)>>;

}  // namespace typenet
