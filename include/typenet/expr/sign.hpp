// What is known of a value's sign, and how it goes through sums, products and
// negation: the small analysis with which analysis.hpp proves that a
// selection `x > 0 ? a(x) : b(x)` keeps the sign of x, so that backward may
// test the output instead of the input.
#pragma once

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::expr {

/// What is known of a value's sign at compile time.
enum class Sign { zero, positive, negative, nonnegative, nonpositive, unknown };

/// Whether s is strictly positive.
constexpr bool is_positive(Sign s) { return s == Sign::positive; }
/// Whether s is at most zero.
constexpr bool is_nonpositive(Sign s) { return s == Sign::zero || s == Sign::negative || s == Sign::nonpositive; }

/// The sign of a product.
constexpr Sign sign_product(Sign a, Sign b) {
  using enum Sign;
  if (a == zero || b == zero) return zero;
  if (a == unknown || b == unknown) return unknown;
  const bool a_strict = a == positive || a == negative;
  const bool b_strict = b == positive || b == negative;
  const bool a_neg = a == negative || a == nonpositive;
  const bool b_neg = b == negative || b == nonpositive;
  const bool result_neg = a_neg != b_neg;
  if (a_strict && b_strict) return result_neg ? negative : positive;
  return result_neg ? nonpositive : nonnegative;
}

/// The sign of a negation.
constexpr Sign sign_negate(Sign a) {
  using enum Sign;
  switch (a) {
    case positive: return negative;
    case negative: return positive;
    case nonnegative: return nonpositive;
    case nonpositive: return nonnegative;
    default: return a;
  }
}

/// The sign of a sum.
constexpr Sign sign_sum(Sign a, Sign b) {
  using enum Sign;
  if (a == zero) return b;
  if (b == zero) return a;
  const bool a_up = a == positive || a == nonnegative, b_up = b == positive || b == nonnegative;
  const bool a_down = a == negative || a == nonpositive, b_down = b == negative || b == nonpositive;
  if (a_up && b_up) return (a == positive || b == positive) ? positive : nonnegative;
  if (a_down && b_down) return (a == negative || b == negative) ? negative : nonpositive;
  return unknown;
}

}  // namespace typenet::expr
