// An expression as C++ source: scalars of a type named T, the variables
// named by the caller, <cmath> and <algorithm> for the functions (each
// Function spells itself: Function::cpp). The header export
// (io/header_export.hpp) writes every activation of a network this way, so
// a new activation is exported by its formula alone.
#pragma once

#include "typenet/config.hpp"

#include <cstdio>
#include <string>

#include "typenet/expr/nodes.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::expr {

namespace cpp_detail {
/// A double that reads back exactly, as a T.
inline std::string literal(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "T(%.17g)", v);
  return text;
}
}  // namespace cpp_detail

/// cpp_code(e, variables): e in C++, variables[i] naming `Var<i>`.
template <double V>
std::string cpp_code(const Lit<V>&, const std::string*) {
  return cpp_detail::literal(V);
}
/// `Var<I>` as the caller's name for it.
template <int I>
std::string cpp_code(const Var<I>&, const std::string* variables) {
  return variables[I];
}
/// A number as a C++ literal that reads back to the same double.
inline std::string cpp_code(const Const& c, const std::string*) { return cpp_detail::literal(c.value); }
/// a + b in C++.
template <class A, class B>
std::string cpp_code(const Add<A, B>& e, const std::string* v) {
  return "(" + cpp_code(e.a, v) + " + " + cpp_code(e.b, v) + ")";
}
/// a - b in C++.
template <class A, class B>
std::string cpp_code(const Sub<A, B>& e, const std::string* v) {
  return "(" + cpp_code(e.a, v) + " - " + cpp_code(e.b, v) + ")";
}
/// a * b in C++.
template <class A, class B>
std::string cpp_code(const Mul<A, B>& e, const std::string* v) {
  return "(" + cpp_code(e.a, v) + " * " + cpp_code(e.b, v) + ")";
}
/// a / b in C++.
template <class A, class B>
std::string cpp_code(const Div<A, B>& e, const std::string* v) {
  return "(" + cpp_code(e.a, v) + " / " + cpp_code(e.b, v) + ")";
}
/// -a in C++.
template <class A>
std::string cpp_code(const Neg<A>& e, const std::string* v) {
  return "(-" + cpp_code(e.arg, v) + ")";
}
/// a^N in C++, as repeated products.
template <int N, class A>
std::string cpp_code(const Pow<N, A>& e, const std::string* v) {
  static_assert(N >= 1, "typenet: the C++ export writes positive integer powers as products.");
  const std::string a = cpp_code(e.arg, v);
  std::string s = "(" + a;
  for (int i = 1; i < N; ++i) s += " * " + a;
  return s + ")";
}
/// f(a) in C++, with the function's C++ spelling.
template <class F, class A>
std::string cpp_code(const Unary<F, A>& e, const std::string* v) {
  return F::cpp(cpp_code(e.arg, v));
}
/// a > b in C++.
template <class A, class B>
std::string cpp_code(const Greater<A, B>& e, const std::string* v) {
  return "(" + cpp_code(e.a, v) + " > " + cpp_code(e.b, v) + ")";
}
/// c ? a : b in C++.
template <class C, class A, class B>
std::string cpp_code(const Select<C, A, B>& e, const std::string* v) {
  return "(" + cpp_code(e.cond, v) + " ? " + cpp_code(e.a, v) + " : " + cpp_code(e.b, v) + ")";
}

}  // namespace typenet::expr
