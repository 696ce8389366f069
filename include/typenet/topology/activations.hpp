// Activation layers. Each one is its formula, written once as an expression
// of x = Var<0>; the derivative, and whether backward reads the output or the
// pre-activation, are derived from it (expr/analysis.hpp).
#pragma once

#include "typenet/config.hpp"

#include <string>

#include "typenet/expr/analysis.hpp"
#include "typenet/topology/layers.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace activation_detail {
inline constexpr expr::Var<0> x{};
}

/// f(x) = x: a block without an activation.
struct Identity {
  static constexpr LayerKind kind = LayerKind::activation;  ///< what the planner reads: an activation layer
  static constexpr auto expression = activation_detail::x;  ///< the formula, in x = `Var<0>`
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "Identity"; }
};

/// relu(x) = max(x, 0)
struct ReLU {
  static constexpr LayerKind kind = LayerKind::activation;  ///< what the planner reads: an activation layer
  static constexpr auto expression = expr::max(activation_detail::x, expr::lit<0.0>);  ///< max(x, 0)
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "ReLU"; }
};

/// leaky(x) = x > 0 ? x : slope x
template <float Slope = 0.01f>
struct LeakyReLU {
  static constexpr LayerKind kind = LayerKind::activation;  ///< what the planner reads: an activation layer
  /// The formula: x if x > 0, else Slope x.
  static constexpr auto expression =
      expr::select(activation_detail::x > expr::lit<0.0>, activation_detail::x,
                   expr::lit<static_cast<double>(Slope)> * activation_detail::x);
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "LeakyReLU<" + format_constant(Slope) + ">"; }
};

/// tanh(x)
struct Tanh {
  static constexpr LayerKind kind = LayerKind::activation;  ///< what the planner reads: an activation layer
  static constexpr auto expression = expr::tanh(activation_detail::x);  ///< tanh(x)
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "Tanh"; }
};

/// sigmoid(x) = 1 / (1 + e^-x)
struct Sigmoid {
  static constexpr LayerKind kind = LayerKind::activation;  ///< what the planner reads: an activation layer
  static constexpr auto expression = expr::sigmoid(activation_detail::x);  ///< 1 / (1 + e^-x)
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "Sigmoid"; }
};

/// elu(x) = x > 0 ? x : alpha (e^x - 1)
template <float Alpha = 1.0f>
struct ELU {
  static constexpr LayerKind kind = LayerKind::activation;  ///< what the planner reads: an activation layer
  /// The formula: x if x > 0, else Alpha (e^x - 1).
  static constexpr auto expression =
      expr::select(activation_detail::x > expr::lit<0.0>, activation_detail::x,
                   expr::lit<static_cast<double>(Alpha)> * (expr::exp(activation_detail::x) - expr::lit<1.0>));
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "ELU<" + format_constant(Alpha) + ">"; }
};

/// gelu(x) = x/2 (1 + erf(x / sqrt 2))   (the exact form, PyTorch's default)
struct GELU {
  static constexpr LayerKind kind = LayerKind::activation;  ///< what the planner reads: an activation layer
  /// The formula: x (1 + erf(x / sqrt 2)) / 2 (PyTorch's exact GELU).
  static constexpr auto expression =
      expr::lit<0.5> * activation_detail::x *
      (expr::lit<1.0> + expr::erf(expr::lit<0.70710678118654752> * activation_detail::x));
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "GELU"; }
};

/// silu(x) = x sigmoid(x)   (torch.nn.SiLU, also called swish)
///
/// Backward keeps the pre-activation: silu is not monotonic (its minimum is
/// at x = -1.28), so y does not tell which x it came from.
struct SiLU {
  static constexpr LayerKind kind = LayerKind::activation;  ///< what the planner reads: an activation layer
  static constexpr auto expression = activation_detail::x * expr::sigmoid(activation_detail::x);  ///< x sigmoid(x)
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "SiLU"; }
};

/// softplus(x) = log(1 + e^(beta x)) / beta, and x itself where
/// beta x > threshold   (torch.nn.Softplus(beta, threshold), and its defaults)
///
/// The logarithm is evaluated as max(z, 0) + log1p(e^-|z|), z = beta x
/// (simd::softplus): finite for every finite x, whatever the threshold, and
/// accurate for very negative x. PyTorch evaluates log1p(e^z) as written, so
/// in float, with a threshold above 87, it gives inf and a NaN gradient for
/// z between about 87 (88.7 on its scalar path) and the threshold, where
/// typenet gives log(1 + e^z) / beta (test/torch/activations.py checks it).
///
/// Backward keeps the pre-activation: in y the derivative would be
/// 1 - e^(-beta y), but whether beta x > threshold (derivative 1) cannot be
/// read from y exactly, y being a little above x just below the threshold.
/// Its arguments' check, a class of its own: a failed static_assert in
/// Softplus's own body would make clang treat Softplus as invalid, and every
/// use of the network a second error.
template <float Beta, float Threshold>
struct SoftplusArguments {
  static constexpr bool valid = Beta != 0.0f && Beta - Beta == 0.0f;  ///< whether Beta is finite and not 0
  static_assert(valid, "typenet: Softplus<Beta, Threshold>: Beta must be finite and not 0 (the formula divides by it).");
};

/// Softplus: log(1 + e^(Beta x)) / Beta, and x itself where Beta x > Threshold (as torch.nn.Softplus).
template <float Beta = 1.0f, float Threshold = 20.0f>
struct Softplus {
  static_assert(sizeof(SoftplusArguments<Beta, Threshold>) > 0);  ///< reports a bad Beta
  static constexpr LayerKind kind = LayerKind::activation;
  /// The formula, in x = `Var<0>`.
  static constexpr auto expression = [] {
    // (With a bad Beta, 1: the sentence above is then the only error.)
    constexpr auto beta = expr::lit<SoftplusArguments<Beta, Threshold>::valid ? static_cast<double>(Beta) : 1.0>;
    constexpr auto z = beta * activation_detail::x;
    return expr::select(z > expr::lit<static_cast<double>(Threshold)>, activation_detail::x,
                        expr::softplus(z) / beta);
  }();
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "Softplus<" + format_constant(Beta) + "," + format_constant(Threshold) + ">"; }
};

/// mish(x) = x tanh(softplus(x)), softplus with beta 1 and threshold 20
/// (torch.nn.Mish; PyTorch's Mish applies no threshold, but above 20
/// tanh(softplus(x)) and tanh(x) are both 1 in float and in double, so the
/// two agree there too).
///
/// Backward keeps the pre-activation: mish is not monotonic (minimum at
/// x = -1.19).
struct Mish {
  static constexpr LayerKind kind = LayerKind::activation;  ///< what the planner reads: an activation layer
  static constexpr auto expression = activation_detail::x * expr::tanh(Softplus<>::expression);  ///< x tanh(softplus(x))
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "Mish"; }
};

/// hardswish(x) = x relu6(x + 3) / 6, relu6(u) = min(max(u, 0), 6)
/// (torch.nn.Hardswish)
///
/// relu6(x + 3) is written as x > 3 ? 6 : (-3 > x ? 0 : x + 3): at both kinks
/// the selection takes the middle piece, so that the derived derivative is
/// PyTorch's (hardswish_backward): 0 for x < -3, x/3 + 1/2 for -3 <= x <= 3,
/// 1 above; -1/2 at x = -3 and 3/2 at x = 3. The conditions test x, as that
/// backward does, not x + 3, whose rounding moves the upper kink (x + 3 is 6
/// for the float or double just above 3). The value rounds as PyTorch's
/// x * min(max(x + 3, 0), 6) / 6, overflow above FLT_MAX / 6 included.
/// (PyTorch 1.13's vectorised CPU backward tests x >= 3 and so gives 1 at
/// x = 3, for most elements of a long tensor; its scalar path and its CUDA
/// kernel give 3/2, as here. test/torch/activations.py shows both.)
///
/// Backward keeps the pre-activation: hardswish is not monotonic (minimum at
/// x = -3/2).
struct Hardswish {
  static constexpr LayerKind kind = LayerKind::activation;  ///< what the planner reads: an activation layer
  /// The formula: x min(max(x + 3, 0), 6) / 6.
  static constexpr auto expression = [] {
    constexpr auto x = activation_detail::x;
    constexpr auto relu6 = expr::select(x > expr::lit<3.0>, expr::lit<6.0>,
                                        expr::select(expr::lit<-3.0> > x, expr::lit<0.0>, x + expr::lit<3.0>));
    return x * relu6 / expr::lit<6.0>;
  }();
  /// The layer's name in messages and checkpoints.
  static std::string name() { return "Hardswish"; }
};

/// What backward of activation A needs (derivative in x and in y, and which of
/// the two forward keeps).
template <class A>
using ActivationBackward = expr::ElementwiseBackward<std::remove_cvref_t<decltype(A::expression)>>;

}  // namespace typenet
