// The elementwise pieces of a fused block, evaluated on SIMD vectors inside
// the GEMM epilogue (forward) and prologue (backward). Each is an expression
// (expr/), so its derivative is derived, not written by hand.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <cstdint>

#include "typenet/expr/analysis.hpp"
#include "typenet/random/counter_hash.hpp"
#include "typenet/simd/vec.hpp"
#include "typenet/topology/activations.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

namespace pieces {
inline constexpr expr::Var<0> x{};
inline constexpr expr::Var<1> y{};
inline constexpr expr::Var<2> z{};
/// Linear's bias:              u = x0 + x1 (accumulator, bias)
inline constexpr auto bias = x + y;
/// BatchNorm normalise:        x-hat = (x0 - x1) * x2 (value, mean, 1/std)
inline constexpr auto normalize = (x - y) * z;
/// BatchNorm affine:           u = x0 * x1 + x2 (x-hat, gamma, beta)
inline constexpr auto affine = x * y + z;
/// Inverted dropout:           y = x0 * x1 * x2 (value, keep 0/1, 1/(1-p))
inline constexpr auto dropout = x * y * z;
}  // namespace pieces

/// The expression e of the arguments (scalars or vectors), as the fused kernels evaluate it.
template <class V, class E, class... A>
TYPENET_INLINE V apply(const E& e, A... args) {
  return e.template eval<V>(std::array<V, sizeof...(A)>{args...});
}

/// y = act(u)
template <class Act, class V>
TYPENET_INLINE V activation(V u) {
  return apply<V>(Act::expression, u);
}

/// act'(u), from whichever value the block kept: the pre-activation u when the
/// derivative needs it, else the output y.
template <class Act, class V>
TYPENET_INLINE V activation_derivative(V u, V y) {
  using B = ActivationBackward<Act>;
  if constexpr (B::saved == expr::Saved::preactivation) return apply<V>(B::derivative, u);
  else return apply<V>(B::derivative_of_output, u, y);
}

/// 1 where element `first_index + lane` survives dropout, else 0, as T lanes.
template <class T>
TYPENET_INLINE simd::vec<T> dropout_keep(std::uint32_t key, std::uint64_t first_index, std::uint32_t threshold) {
  using Bits = simd::bits<T>;
  using Lane = typename simd::native<T>::bits_lane;
  const Bits index = simd::lane_indices<T>() + static_cast<Lane>(first_index & 0xffffffffu);
  const Bits r = dropout_bits<Bits>(Bits{} + static_cast<Lane>(key), index & 0xffffffffu);
  using V = simd::vec<T>;
  return simd::select(r >= static_cast<Lane>(threshold), simd::splat<V>(1), simd::splat<V>(0));
}

/// Backward through inverted dropout with probability P at the elements
/// `keep` marks: g becomes dLoss/d(activation output), g * keep / (1 - P)
/// from the dropout expression (0 where dropped, whatever act' is), and y, the
/// block's output, becomes the activation's output before dropout (y (1 - P)
/// where kept), which act' may need.
template <class T, float P, class V>
TYPENET_INLINE void back_through_dropout(V& g, V& y, V keep) {
  constexpr T keep_scale = T(1) / (T(1) - T(P));
  g = g * expr::derivative<0>(pieces::dropout).template eval<V>(std::array<V, 3>{y, keep, simd::splat<V>(keep_scale)});
  y = y * simd::splat<V>(T(1) - T(P));
}

/// Scalar form of the same draw (tests, reference implementations).
inline bool dropout_kept(std::uint32_t key, std::uint64_t index, std::uint32_t threshold) {
  return dropout_bits<std::uint32_t>(key, static_cast<std::uint32_t>(index)) >= threshold;
}

}  // namespace typenet::cpu
