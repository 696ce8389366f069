// Compile-time rewriting of expressions: substitution, and the decision of
// what an elementwise function's backward pass must keep from forward.
#pragma once

#include "typenet/config.hpp"

#include "typenet/expr/nodes.hpp"
#include "typenet/expr/sign.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::expr {

// ---------------------------------------------------------------- replace
// replace<P>(e, r): every subtree of e whose type is P becomes r. Leaves that
// are not P stay; inner nodes are rebuilt through the simplifying
// constructors, so a substitution can simplify further.

template <class P, Expr E, Expr R>
constexpr auto replace(const E& e, const R& r);

/// The node with its children replaced by r(child).
template <class P, class R, class A, class B>
constexpr auto replace_children(const Add<A, B>& e, const R& r) {
  return add(replace<P>(e.a, r), replace<P>(e.b, r));
}
/// The node with its children replaced by r(child).
template <class P, class R, class A, class B>
constexpr auto replace_children(const Sub<A, B>& e, const R& r) {
  return sub(replace<P>(e.a, r), replace<P>(e.b, r));
}
/// The node with its children replaced by r(child).
template <class P, class R, class A, class B>
constexpr auto replace_children(const Mul<A, B>& e, const R& r) {
  return mul(replace<P>(e.a, r), replace<P>(e.b, r));
}
/// The node with its children replaced by r(child).
template <class P, class R, class A, class B>
constexpr auto replace_children(const Div<A, B>& e, const R& r) {
  return div(replace<P>(e.a, r), replace<P>(e.b, r));
}
/// The node with its child replaced by r(child).
template <class P, class R, class A>
constexpr auto replace_children(const Neg<A>& e, const R& r) {
  return neg(replace<P>(e.arg, r));
}
/// The node with its child replaced by r(child).
template <class P, class R, int N, class A>
constexpr auto replace_children(const Pow<N, A>& e, const R& r) {
  return pow<N>(replace<P>(e.arg, r));
}
/// The node with its child replaced by r(child).
template <class P, class R, class F, class A>
constexpr auto replace_children(const Unary<F, A>& e, const R& r) {
  const auto arg = replace<P>(e.arg, r);
  return Unary<F, decltype(arg)>{{}, arg};
}
/// The node with its children replaced by r(child).
template <class P, class R, class A, class B>
constexpr auto replace_children(const Greater<A, B>& e, const R& r) {
  return greater(replace<P>(e.a, r), replace<P>(e.b, r));
}
/// The node with its children replaced by r(child).
template <class P, class R, class C, class A, class B>
constexpr auto replace_children(const Select<C, A, B>& e, const R& r) {
  return select(replace<P>(e.cond, r), replace<P>(e.a, r), replace<P>(e.b, r));
}

/// e with every subexpression rewritten by r, bottom up (r returns its argument where it rewrites nothing).
template <class P, Expr E, Expr R>
constexpr auto replace(const E& e, const R& r) {
  if constexpr (std::is_same_v<E, P>) return r;
  else if constexpr (requires { replace_children<P>(e, r); }) return replace_children<P>(e, r);
  else return e;  // a leaf that is not P
}

// ---------------------------------------------------------------- backward storage
// For y = f(x), backward needs f'(x). Rewritten in terms of y where possible,
// backward can read the output, which the next layer keeps anyway, and forward
// need not store the pre-activation at all.

/// What forward must keep for an activation's backward.
enum class Saved {
  nothing,  ///< f' is a constant (Identity)
  output,  ///< f' is a function of y = f(x) (sigmoid, tanh, ReLU, LeakyReLU)
  preactivation,  ///< f' needs x itself (GELU, ELU, SiLU): forward keeps the pre-activation
};

namespace detail {

/// f = (x > 0 ? a(x) : b(x)) with a > 0 on x > 0 and b <= 0 on x <= 0 means
/// f(x) > 0 exactly when x > 0: the condition may then test y instead of x.
/// (The condition is compared with is_same, not matched by a partial
/// specialisation on Lit<0.0>: GCC 12 crashes matching that pattern against
/// another constant, as in Softplus's x > 20.)
template <class F>
struct sign_preserving_selection : std::false_type {};
template <class C, class A, class B>
struct sign_preserving_selection<Select<C, A, B>>
    : std::bool_constant<std::is_same_v<C, Greater<Var<0>, Lit<0.0>>> && is_positive(A::sign(Sign::positive)) &&
                         is_nonpositive(B::sign(Sign::nonpositive))> {};

template <Expr F, Expr D>
constexpr auto rewrite_in_output(const F&, const D& d) {
  const auto by_value = replace<F>(d, Var<1>{});
  if constexpr (sign_preserving_selection<F>::value) {
    return replace<Greater<Var<0>, Lit<0.0>>>(by_value, greater(Var<1>{}, Lit<0.0>{}));
  } else {
    return by_value;
  }
}

}  // namespace detail

/// Everything backward needs to know about an elementwise f(x), x = Var<0>:
///   derivative            f'(x) in terms of x (Var<0>)
///   derivative_of_output  f'(x) in terms of y = f(x) (Var<1>), when possible
///   saved                 which of the two forward must keep
template <Expr F>
struct ElementwiseBackward {
  static constexpr F function{};  ///< f itself
  static constexpr auto derivative = expr::derivative<0>(function);  ///< f'(x), in terms of x (`Var<0>`)
  static constexpr auto derivative_of_output = detail::rewrite_in_output(function, derivative);  ///< f'(x) in terms of y = f(x) (`Var<1>`), where it can be written so
  /// What forward keeps: nothing, the output, or the pre-activation.
  static constexpr Saved saved =
      !decltype(derivative)::template depends_on<0>
          ? Saved::nothing
          : (!decltype(derivative_of_output)::template depends_on<0> ? Saved::output : Saved::preactivation);
};

}  // namespace typenet::expr
