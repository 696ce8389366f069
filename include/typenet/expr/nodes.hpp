// Expression templates over placeholders, with compile-time differentiation.
//
// An expression is a small object whose *type* is its syntax tree:
//   Var<I>     the I-th input (placeholder)       eval: env[I]
//   Lit<V>     a constant known at compile time   (enables 0*x -> 0, 1*x -> x)
//   Const      a constant known at run time       (the autodiff API's 2.0 * x)
//   Add, Sub, Mul, Div, Neg, Pow<N>, Unary<Function, A>, Greater, Select
// Each node evaluates itself for any scalar or SIMD vector type T, and returns
// its derivative with respect to Var<I> as another expression, built through
// simplifying constructors (add, mul, ...) so that 0*x and 1*x vanish and
// constant subtrees fold. Derivatives are therefore types too: the backward
// kernels are generated from the same formula as the forward ones.
#pragma once

#include "typenet/config.hpp"

#include <string>
#include <type_traits>

#include "typenet/expr/sign.hpp"
#include "typenet/expr/strings.hpp"
#include "typenet/simd/math.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::expr {

/// Every node derives from this tag; the operators below apply only to nodes.
struct Expression {};
template <class E>
concept Expr = std::is_base_of_v<Expression, std::remove_cvref_t<E>>;

/// Variable i of an environment (an array of scalars or of SIMD vectors).
template <class T, class Env>
TYPENET_HD TYPENET_INLINE T env_at(const Env& env, int i) {
  return env[i];
}

// ---------------------------------------------------------------- leaves

/// A literal V known at compile time; arithmetic on literals folds while expressions are built.
template <double V>
struct Lit : Expression {
  static constexpr double value = V;  ///< The literal's value.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env&) const {
    return simd::splat<T>(static_cast<simd::scalar_of_t<T>>(V));
  }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int I>
  constexpr auto derivative() const { return Lit<0.0>{}; }
  template <int I>
  static constexpr bool depends_on = false;  ///< Whether `Var<I>` occurs in the node.
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign) { return V > 0 ? Sign::positive : V < 0 ? Sign::negative : Sign::zero; }
  /// The node as text (messages, tests).
  std::string str() const { return join({number_to_string(V)}); }
};

template <double V>
inline constexpr Lit<V> lit{};  ///< The literal V as a value: `lit<0.5>`.

/// The I-th variable of the environment the expression is evaluated in (`Var<0>` is an activation's input).
template <int I>
struct Var : Expression {
  static constexpr int index = I;  ///< The variable's position in the environment.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env& env) const {
    return env_at<T>(env, I);
  }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int J>
  constexpr auto derivative() const {
    if constexpr (I == J) return Lit<1.0>{};
    else return Lit<0.0>{};
  }
  template <int J>
  static constexpr bool depends_on = (I == J);  ///< Whether `Var<I>` occurs in the node.
  /// The sign of the variable under analysis is given; others are unknown.
  static constexpr Sign sign(Sign x0) { return I == 0 ? x0 : Sign::unknown; }
  /// The node as text (messages, tests).
  std::string str() const { return join({"x", std::to_string(I)}); }
};

/// A number known only at run time (a layer's parameter such as LeakyReLU's slope given as a double).
struct Const : Expression {
  double value = 0;  ///< The number.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env&) const {
    return simd::splat<T>(static_cast<simd::scalar_of_t<T>>(value));
  }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int I>
  constexpr auto derivative() const { return Lit<0.0>{}; }
  template <int I>
  static constexpr bool depends_on = false;  ///< Whether `Var<I>` occurs in the node.
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign) { return Sign::unknown; }
  /// The node as text (messages, tests).
  std::string str() const { return join({number_to_string(value)}); }
};

template <class E>
inline constexpr bool is_lit = false;  ///< Whether E is a literal (`Lit<V>`).
template <double V>
inline constexpr bool is_lit<Lit<V>> = true;  ///< A literal is a literal.

template <class E, double V>
inline constexpr bool is_lit_value = false;  ///< Whether E is the literal V.
template <double V>
inline constexpr bool is_lit_value<Lit<V>, V> = true;  ///< `Lit<V>` is the literal V.

// ---------------------------------------------------------------- nodes

template <class A, class B>
struct Add;
template <class A, class B>
struct Sub;
template <class A, class B>
struct Mul;
template <class A, class B>
struct Div;
template <class A>
struct Neg;
template <int N, class A>
struct Pow;
template <class F, class A>
struct Unary;
template <class A, class B>
struct Greater;
template <class C, class A, class B>
struct Select;

/// Simplifying constructors. They decide the node type, so simplification
/// happens once, at compile time, while the derivative is being built.
template <Expr A, Expr B>
constexpr auto add(A a, B b) {
  if constexpr (is_lit<A> && is_lit<B>) return Lit<A::value + B::value>{};
  else if constexpr (is_lit_value<A, 0.0>) return b;
  else if constexpr (is_lit_value<B, 0.0>) return a;
  else return Add<A, B>{{}, a, b};
}

/// -a, folded for literals and double negation.
template <Expr A>
constexpr auto neg(A a) {
  if constexpr (is_lit<A>) return Lit<-A::value>{};
  else if constexpr (requires { typename A::negated; }) return a.arg;  // -(-x) = x
  else return Neg<A>{{}, a};
}

/// a - b, simplified (literals folded, zero dropped).
template <Expr A, Expr B>
constexpr auto sub(A a, B b) {
  if constexpr (is_lit<A> && is_lit<B>) return Lit<A::value - B::value>{};
  else if constexpr (is_lit_value<B, 0.0>) return a;
  else if constexpr (is_lit_value<A, 0.0>) return neg(b);
  else return Sub<A, B>{{}, a, b};
}

/// a * b, simplified (literals folded, zero and one absorbed).
template <Expr A, Expr B>
constexpr auto mul(A a, B b) {
  if constexpr (is_lit<A> && is_lit<B>) return Lit<A::value * B::value>{};
  else if constexpr (is_lit_value<A, 0.0> || is_lit_value<B, 0.0>) return Lit<0.0>{};
  else if constexpr (is_lit_value<A, 1.0>) return b;
  else if constexpr (is_lit_value<B, 1.0>) return a;
  else if constexpr (is_lit_value<A, -1.0>) return neg(b);
  else if constexpr (is_lit_value<B, -1.0>) return neg(a);
  else if constexpr (is_lit<B>) return Mul<B, A>{{}, b, a};  // constants first: c*x
  else return Mul<A, B>{{}, a, b};
}

/// a / b, simplified (literals folded, division by one dropped).
template <Expr A, Expr B>
constexpr auto div(A a, B b) {
  if constexpr (is_lit_value<A, 0.0>) return Lit<0.0>{};
  else if constexpr (is_lit_value<B, 1.0>) return a;
  else if constexpr (is_lit<A> && is_lit<B>) return Lit<A::value / B::value>{};
  else return Div<A, B>{{}, a, b};
}

/// a to the compile-time power N.
template <int N, Expr A>
constexpr auto pow(A a) {
  if constexpr (N == 0) return Lit<1.0>{};
  else if constexpr (N == 1) return a;
  else return Pow<N, A>{{}, a};
}

/// c ? a : b, lane by lane.
template <Expr C, Expr A, Expr B>
constexpr auto select(C c, A a, B b) {
  if constexpr (std::is_same_v<A, B> && std::is_empty_v<A>) return a;  // both branches equal
  else return Select<C, A, B>{{}, c, a, b};
}

/// The condition a > b, for select().
template <Expr A, Expr B>
constexpr auto greater(A a, B b) {
  return Greater<A, B>{{}, a, b};
}

/// Formula:    a + b            d/dx: a' + b'
template <class A, class B>
struct Add : Expression {
  [[no_unique_address]] A a;  ///< The first operand.
  [[no_unique_address]] B b;  ///< The second operand.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env& env) const { return a.template eval<T>(env) + b.template eval<T>(env); }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int I>
  constexpr auto derivative() const { return add(a.template derivative<I>(), b.template derivative<I>()); }
  template <int I>
  static constexpr bool depends_on = A::template depends_on<I> || B::template depends_on<I>;  ///< Whether `Var<I>` occurs in the node.
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign x) { return sign_sum(A::sign(x), B::sign(x)); }
  /// The node as text (messages, tests).
  std::string str() const { return join({"(", a.str(), " + ", b.str(), ")"}); }
};

/// Formula:    a - b            d/dx: a' - b'
template <class A, class B>
struct Sub : Expression {
  [[no_unique_address]] A a;  ///< The first operand.
  [[no_unique_address]] B b;  ///< The second operand.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env& env) const { return a.template eval<T>(env) - b.template eval<T>(env); }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int I>
  constexpr auto derivative() const { return sub(a.template derivative<I>(), b.template derivative<I>()); }
  template <int I>
  static constexpr bool depends_on = A::template depends_on<I> || B::template depends_on<I>;  ///< Whether `Var<I>` occurs in the node.
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign x) { return sign_sum(A::sign(x), sign_negate(B::sign(x))); }
  /// The node as text (messages, tests).
  std::string str() const { return join({"(", a.str(), " - ", b.str(), ")"}); }
};

/// Formula:    a * b            d/dx: a' b + a b'
template <class A, class B>
struct Mul : Expression {
  [[no_unique_address]] A a;  ///< The first operand.
  [[no_unique_address]] B b;  ///< The second operand.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env& env) const { return a.template eval<T>(env) * b.template eval<T>(env); }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int I>
  constexpr auto derivative() const {
    return add(mul(a.template derivative<I>(), b), mul(a, b.template derivative<I>()));
  }
  template <int I>
  static constexpr bool depends_on = A::template depends_on<I> || B::template depends_on<I>;  ///< Whether `Var<I>` occurs in the node.
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign x) { return sign_product(A::sign(x), B::sign(x)); }
  /// The node as text (messages, tests).
  std::string str() const { return join({a.str(), "*", b.str()}); }
};

/// Formula:    a / b            d/dx: a'/b - a b'/b^2
template <class A, class B>
struct Div : Expression {
  [[no_unique_address]] A a;  ///< The first operand.
  [[no_unique_address]] B b;  ///< The second operand.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env& env) const { return a.template eval<T>(env) / b.template eval<T>(env); }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int I>
  constexpr auto derivative() const {
    return sub(div(a.template derivative<I>(), b), div(mul(a, b.template derivative<I>()), mul(b, b)));
  }
  template <int I>
  static constexpr bool depends_on = A::template depends_on<I> || B::template depends_on<I>;  ///< Whether `Var<I>` occurs in the node.
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign) { return Sign::unknown; }
  /// The node as text (messages, tests).
  std::string str() const { return join({a.str(), "/", b.str()}); }
};

/// Formula:    -a               d/dx: -a'
template <class A>
struct Neg : Expression {
  /// What the negation undoes (a negated negation simplifies to it).
  using negated = A;
  [[no_unique_address]] A arg;  ///< The operand.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env& env) const { return -arg.template eval<T>(env); }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int I>
  constexpr auto derivative() const { return neg(arg.template derivative<I>()); }
  template <int I>
  static constexpr bool depends_on = A::template depends_on<I>;  ///< Whether `Var<I>` occurs in the node.
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign x) { return sign_negate(A::sign(x)); }
  /// The node as text (messages, tests).
  std::string str() const { return join({"-", arg.str()}); }
};

/// Formula:    a^N              d/dx: N a^(N-1) a'
template <int N, class A>
struct Pow : Expression {
  [[no_unique_address]] A arg;  ///< The operand.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env& env) const {
    const T v = arg.template eval<T>(env);
    T r = v;
    for (int i = 1; i < N; ++i) r = r * v;
    return r;
  }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int I>
  constexpr auto derivative() const {
    return mul(mul(Lit<static_cast<double>(N)>{}, pow<N - 1>(arg)), arg.template derivative<I>());
  }
  template <int I>
  static constexpr bool depends_on = A::template depends_on<I>;  ///< Whether `Var<I>` occurs in the node.
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign) { return Sign::unknown; }
  /// The node as text (messages, tests).
  std::string str() const { return join({arg.str(), "^", std::to_string(N)}); }
};

/// Formula:    f(a)             d/dx: f'(a) a'   (f' is stated by the Function)
template <class F, class A>
struct Unary : Expression {
  [[no_unique_address]] A arg;  ///< The operand.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env& env) const { return F::apply(arg.template eval<T>(env)); }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int I>
  constexpr auto derivative() const { return mul(F::derivative(arg), arg.template derivative<I>()); }
  template <int I>
  static constexpr bool depends_on = A::template depends_on<I>;  ///< Whether `Var<I>` occurs in the node.
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign x) {
    if constexpr (requires { F::sign(x); }) return F::sign(A::sign(x));
    else return Sign::unknown;
  }
  /// The node as text (messages, tests).
  std::string str() const { return join({std::string(F::name), "(", arg.str(), ")"}); }
};

/// Formula:    [a > b] as 0/1   d/dx: 0 (almost everywhere)
template <class A, class B>
struct Greater : Expression {
  [[no_unique_address]] A a;  ///< The first operand.
  [[no_unique_address]] B b;  ///< The second operand.
  /// Conditions evaluate to a lane mask, consumed only by Select.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE auto eval_mask(const Env& env) const {
    return a.template eval<T>(env) > b.template eval<T>(env);
  }
  template <int I>
  static constexpr bool depends_on = A::template depends_on<I> || B::template depends_on<I>;  ///< Whether `Var<I>` occurs in the node.
  /// The node as text (messages, tests).
  std::string str() const { return join({a.str(), " > ", b.str()}); }
};

/// Formula:    c ? a : b        d/dx: c ? a' : b'
template <class C, class A, class B>
struct Select : Expression {
  [[no_unique_address]] C cond;  ///< The condition.
  [[no_unique_address]] A a;  ///< The first operand.
  [[no_unique_address]] B b;  ///< The second operand.
  /// The node's value; T is a scalar or a SIMD vector, the variables come from env.
  template <class T, class Env>
  TYPENET_HD TYPENET_INLINE T eval(const Env& env) const {
    return simd::select(cond.template eval_mask<T>(env), a.template eval<T>(env), b.template eval<T>(env));
  }
  /// d/d`Var<I>` of the node, as an expression (simplified while it is built).
  template <int I>
  constexpr auto derivative() const {
    return select(cond, a.template derivative<I>(), b.template derivative<I>());
  }
  /// Whether `Var<I>` occurs in the node.
  template <int I>
  static constexpr bool depends_on =
      C::template depends_on<I> || A::template depends_on<I> || B::template depends_on<I>;
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign) { return Sign::unknown; }
  /// The node as text (messages, tests).
  std::string str() const { return join({"(", cond.str(), " ? ", a.str(), " : ", b.str(), ")"}); }
};

// ---------------------------------------------------------------- functions
// A Function states its value and its derivative at the argument; the chain
// rule is applied by Unary.

/// exp, the exponential.
struct ExpFunction {
  static constexpr const char* name = "exp";  ///< The function's name, as str() writes it.
  /// In C++ of scalars of type T with `<cmath>` (the header export, io/header_export.hpp).
  static std::string cpp(const std::string& a) { return "std::exp(" + a + ")"; }
  /// The function of a scalar or a SIMD vector.
  template <class T>
  TYPENET_HD TYPENET_INLINE static T apply(T x) { return simd::exp(x); }
  /// The derivative at a, as an expression (exp' = exp).
  template <class A>
  static constexpr auto derivative(A a) { return Unary<ExpFunction, A>{{}, a}; }  // exp' = exp
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign) { return Sign::positive; }
};

/// log, the natural logarithm.
struct LogFunction {
  static constexpr const char* name = "log";  ///< The function's name, as str() writes it.
  /// In C++ of scalars of type T with `<cmath>` (the header export, io/header_export.hpp).
  static std::string cpp(const std::string& a) { return "std::log(" + a + ")"; }
  /// The function of a scalar or a SIMD vector.
  template <class T>
  TYPENET_HD TYPENET_INLINE static T apply(T x) { return simd::log(x); }
  /// The derivative at a, as an expression (log' = 1/a).
  template <class A>
  static constexpr auto derivative(A a) { return div(Lit<1.0>{}, a); }  // log' = 1/a
};

/// log1p(a) = log(1 + a), accurate for small a.
struct Log1pFunction {
  static constexpr const char* name = "log1p";  ///< The function's name, as str() writes it.
  /// In C++ of scalars of type T with `<cmath>` (the header export, io/header_export.hpp).
  static std::string cpp(const std::string& a) { return "std::log1p(" + a + ")"; }
  /// The function of a scalar or a SIMD vector.
  template <class T>
  TYPENET_HD TYPENET_INLINE static T apply(T x) { return simd::log1p(x); }
  /// The derivative at a, as an expression (1/(1+a)).
  template <class A>
  static constexpr auto derivative(A a) { return div(Lit<1.0>{}, add(Lit<1.0>{}, a)); }  // 1/(1+a)
};

/// tanh, the hyperbolic tangent.
struct TanhFunction {
  static constexpr const char* name = "tanh";  ///< The function's name, as str() writes it.
  /// In C++ of scalars of type T with `<cmath>` (the header export, io/header_export.hpp).
  static std::string cpp(const std::string& a) { return "std::tanh(" + a + ")"; }
  /// The function of a scalar or a SIMD vector.
  template <class T>
  TYPENET_HD TYPENET_INLINE static T apply(T x) { return simd::tanh(x); }
  /// The derivative at a, as an expression (tanh' = 1 - tanh^2).
  template <class A>
  static constexpr auto derivative(A a) {  // tanh' = 1 - tanh^2
    const auto t = Unary<TanhFunction, A>{{}, a};
    return sub(Lit<1.0>{}, mul(t, t));
  }
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign s) { return s; }
};

/// sigmoid(a) = 1 / (1 + e^-a).
struct SigmoidFunction {
  static constexpr const char* name = "sigmoid";  ///< The function's name, as str() writes it.
  /// In C++ of scalars of type T with `<cmath>` (the header export, io/header_export.hpp).
  static std::string cpp(const std::string& a) { return "(T(1) / (T(1) + std::exp(-" + a + ")))"; }
  /// The function of a scalar or a SIMD vector.
  template <class T>
  TYPENET_HD TYPENET_INLINE static T apply(T x) { return simd::sigmoid(x); }
  /// The derivative at a, as an expression (sigmoid' = s (1 - s)).
  template <class A>
  static constexpr auto derivative(A a) {  // sigmoid' = s (1 - s)
    const auto s = Unary<SigmoidFunction, A>{{}, a};
    return mul(s, sub(Lit<1.0>{}, s));
  }
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign) { return Sign::positive; }
};

/// softplus(a) = log(1 + e^a), evaluated without overflow (simd::softplus).
struct SoftplusFunction {
  static constexpr const char* name = "softplus";  ///< The function's name, as str() writes it.
  /// In C++ of scalars of type T with `<cmath>` (the header export, io/header_export.hpp).
  static std::string cpp(const std::string& a) { return "(std::max(" + a + ", T(0)) + std::log1p(std::exp(-std::abs(" + a + "))))"; }
  /// The function of a scalar or a SIMD vector.
  template <class T>
  TYPENET_HD TYPENET_INLINE static T apply(T x) { return simd::softplus(x); }
  /// The derivative at a, as an expression (softplus' = sigmoid).
  template <class A>
  static constexpr auto derivative(A a) { return Unary<SigmoidFunction, A>{{}, a}; }  // softplus' = sigmoid
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign) { return Sign::positive; }
};

/// erf, the error function (GELU's).
struct ErfFunction {
  static constexpr const char* name = "erf";  ///< The function's name, as str() writes it.
  /// In C++ of scalars of type T with `<cmath>` (the header export, io/header_export.hpp).
  static std::string cpp(const std::string& a) { return "std::erf(" + a + ")"; }
  /// The function of a scalar or a SIMD vector.
  template <class T>
  TYPENET_HD TYPENET_INLINE static T apply(T x) { return simd::erf(x); }
  /// The derivative at a, as an expression (erf' = 2/sqrt(pi) exp(-a^2)).
  template <class A>
  static constexpr auto derivative(A a) {  // erf' = 2/sqrt(pi) exp(-a^2)
    return mul(Lit<1.1283791670955126>{}, Unary<ExpFunction, decltype(neg(mul(a, a)))>{{}, neg(mul(a, a))});
  }
  /// The node's sign, given the sign of `Var<0>` (expr/analysis.hpp reads it).
  static constexpr Sign sign(Sign s) { return s; }
};

/// sqrt, the square root.
struct SqrtFunction {
  static constexpr const char* name = "sqrt";  ///< The function's name, as str() writes it.
  /// In C++ of scalars of type T with `<cmath>` (the header export, io/header_export.hpp).
  static std::string cpp(const std::string& a) { return "std::sqrt(" + a + ")"; }
  /// The function of a scalar or a SIMD vector.
  template <class T>
  TYPENET_HD TYPENET_INLINE static T apply(T x) { return simd::sqrt(x); }
  /// The derivative at a, as an expression (sqrt' = 1 / (2 sqrt a)).
  template <class A>
  static constexpr auto derivative(A a) {  // sqrt' = 1 / (2 sqrt a)
    return div(Lit<0.5>{}, Unary<SqrtFunction, A>{{}, a});
  }
};

/// e^a as an expression.
template <Expr A>
constexpr auto exp(A a) { return Unary<ExpFunction, A>{{}, a}; }
/// log(a) as an expression.
template <Expr A>
constexpr auto log(A a) { return Unary<LogFunction, A>{{}, a}; }
/// log(1 + a) as an expression.
template <Expr A>
constexpr auto log1p(A a) { return Unary<Log1pFunction, A>{{}, a}; }
/// tanh(a) as an expression.
template <Expr A>
constexpr auto tanh(A a) { return Unary<TanhFunction, A>{{}, a}; }
/// sigmoid(a) as an expression.
template <Expr A>
constexpr auto sigmoid(A a) { return Unary<SigmoidFunction, A>{{}, a}; }
/// log(1 + e^a) as an expression.
template <Expr A>
constexpr auto softplus(A a) { return Unary<SoftplusFunction, A>{{}, a}; }
/// erf(a) as an expression.
template <Expr A>
constexpr auto erf(A a) { return Unary<ErfFunction, A>{{}, a}; }
/// The square root of a as an expression.
template <Expr A>
constexpr auto sqrt(A a) { return Unary<SqrtFunction, A>{{}, a}; }

/// max(a, b) and relu(a) are selections, so their derivative is a selection.
template <Expr A, Expr B>
constexpr auto max(A a, B b) { return select(greater(a, b), a, b); }
/// The smaller of a and b, a selection (its derivative follows the branch taken).
template <Expr A, Expr B>
constexpr auto min(A a, B b) { return select(greater(a, b), b, a); }
/// |a|, a selection.
template <Expr A>
constexpr auto abs(A a) { return select(greater(a, Lit<0.0>{}), a, neg(a)); }

// ---------------------------------------------------------------- operators

/// An expression as it is, and a number as a Const.
template <class T>
constexpr auto as_expression(T v) {
  if constexpr (Expr<T>) return v;
  else return Const{{}, static_cast<double>(v)};
}
template <class A, class B>
concept ExpressionOperands = (Expr<A> || Expr<B>) && (Expr<A> || std::is_arithmetic_v<A>) &&
                             (Expr<B> || std::is_arithmetic_v<B>);

/// a + b, for expressions or an expression and a number.
template <class A, class B>
  requires ExpressionOperands<A, B>
constexpr auto operator+(A a, B b) { return add(as_expression(a), as_expression(b)); }
/// a - b, for expressions or an expression and a number.
template <class A, class B>
  requires ExpressionOperands<A, B>
constexpr auto operator-(A a, B b) { return sub(as_expression(a), as_expression(b)); }
/// a * b, for expressions or an expression and a number.
template <class A, class B>
  requires ExpressionOperands<A, B>
constexpr auto operator*(A a, B b) { return mul(as_expression(a), as_expression(b)); }
/// a / b, for expressions or an expression and a number.
template <class A, class B>
  requires ExpressionOperands<A, B>
constexpr auto operator/(A a, B b) { return div(as_expression(a), as_expression(b)); }
/// -a.
template <Expr A>
constexpr auto operator-(A a) { return neg(a); }
/// The condition a > b, for expressions or an expression and a number.
template <class A, class B>
  requires ExpressionOperands<A, B>
constexpr auto operator>(A a, B b) { return greater(as_expression(a), as_expression(b)); }

/// d/d`Var<I>` of an expression, as an expression.
template <int I, Expr E>
constexpr auto derivative(E e) {
  return e.template derivative<I>();
}

}  // namespace typenet::expr
