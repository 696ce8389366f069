// Scalar automatic differentiation: the compile-time counterpart of
// micrograd's Value. Variables are placeholders, an expression's type is its
// graph, and every partial derivative is an expression derived at compile
// time; evaluating at a point gives the value and the whole gradient.
//
//   using namespace typenet::autodiff;
//   auto [x, w, b] = variables<3>();
//   auto out = tanh(x * w + b);
//   auto r = gradient(out, 2.0, -3.0, 6.88);   // r.value, r.partial[0..2]
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <tuple>
#include <utility>

#include "typenet/expr/nodes.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::autodiff {

using expr::exp;
using expr::log;
using expr::max;
using expr::pow;
using expr::sigmoid;
using expr::tanh;

template <int I>
inline constexpr expr::Var<I> variable{};  ///< The I-th variable of a function to differentiate.

/// auto [a, b, c] = variables<3>();
template <int N>
constexpr auto variables() {
  return []<int... I>(std::integer_sequence<int, I...>) { return std::tuple{expr::Var<I>{}...}; }(
      std::make_integer_sequence<int, N>{});
}

/// max(e, 0) as an expression.
template <expr::Expr E>
constexpr auto relu(E e) {
  return expr::max(e, expr::lit<0.0>);
}

/// A function's value and its partial derivatives at a point.
template <std::size_t N>
struct ValueAndGradient {
  double value;  ///< the function's value
  std::array<double, N> partial;  ///< partial[i] = d value / d `variable<i>`
};

/// Value and every partial derivative of e at the point (x0, x1, ...).
template <expr::Expr E, class... X>
ValueAndGradient<sizeof...(X)> gradient(const E& e, X... point) {
  const std::array<double, sizeof...(X)> env{static_cast<double>(point)...};
  ValueAndGradient<sizeof...(X)> out{e.template eval<double>(env), {}};
  [&]<int... I>(std::integer_sequence<int, I...>) {
    ((out.partial[I] = expr::derivative<I>(e).template eval<double>(env)), ...);
  }(std::make_integer_sequence<int, static_cast<int>(sizeof...(X))>{});
  return out;
}

}  // namespace typenet::autodiff
