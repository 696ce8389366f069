// An expression of the shared engine (include/typenet/expr/) evaluated on
// scalars by one GPU thread (or by the host running a GPU kernel's threads).
// Kernels name expressions by type: nvcc cannot pass empty classes as kernel
// parameters, and an expression's variables are indices and its constants
// template arguments, so its type is all of it.
#pragma once

#include <type_traits>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// The values of one element, as an expression reads them (env[i]).
template <class T, int N>
struct Values {
  T value[N];  ///< the values
  /// Value i.
  TYPENET_HD T operator[](int i) const { return value[i]; }
};

/// An expression's value for scalar arguments (one GPU thread's).
template <class T, class E, class... A>
TYPENET_HD TYPENET_INLINE T evaluate_scalar(A... args) {
  constexpr E e{};
  return e.template eval<T>(Values<T, sizeof...(A)>{{static_cast<T>(args)...}});
}

/// The type of an expression object, to name it in evaluate_scalar.
template <class X>
using expression_type = std::remove_cvref_t<X>;

}  // namespace typenet::cuda
