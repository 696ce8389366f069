// The expression engine: simplification, compile-time derivatives (against
// finite differences), what backward stores per activation, the scalar
// autodiff API, the SIMD math functions (their accuracy against double) and
// the dropout hash.
#define BOOST_TEST_MODULE expr
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <vector>

#include "typenet/cpu/elementwise.hpp"
#include "typenet/expr/autodiff.hpp"
#include "typenet/topology/activations.hpp"

using namespace typenet;
using namespace typenet::expr;

namespace {
constexpr Var<0> x{};
constexpr Var<1> y{};

// Central difference of e in Var<0> at `at` (other variables fixed).
template <class E>
double numeric_derivative(const E& e, std::array<double, 2> at) {
  const double h = 1e-6;
  auto up = at, down = at;
  up[0] += h;
  down[0] -= h;
  return (e.template eval<double>(up) - e.template eval<double>(down)) / (2 * h);
}

template <class E>
void expect_derivative_matches(const E& e, std::initializer_list<double> points) {
  for (double p : points) {
    const std::array<double, 2> at{p, 0.7};
    const double analytic = derivative<0>(e).template eval<double>(at);
    BOOST_TEST_INFO("f = " << e.str() << " at x = " << p);
    BOOST_TEST(std::abs(analytic - numeric_derivative(e, at)) < 1e-6 * std::max(1.0, std::abs(analytic)));
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(simplification_removes_zero_and_one_factors) {
  BOOST_TEST((std::is_same_v<decltype(x * lit<0.0>), Lit<0.0>>));
  BOOST_TEST((std::is_same_v<decltype(lit<0.0> * x), Lit<0.0>>));
  BOOST_TEST((std::is_same_v<decltype(lit<1.0> * x), Var<0>>));
  BOOST_TEST((std::is_same_v<decltype(x * lit<1.0>), Var<0>>));
  BOOST_TEST((std::is_same_v<decltype(x + lit<0.0>), Var<0>>));
  BOOST_TEST((std::is_same_v<decltype(-(-x)), Var<0>>));
  BOOST_TEST((std::is_same_v<decltype(lit<2.0> * lit<3.0>), Lit<6.0>>));
  // d/dx (3x + y) = 3: the product rule's 0*x and 1*... terms are gone.
  BOOST_TEST((std::is_same_v<decltype(derivative<0>(lit<3.0> * x + y)), Lit<3.0>>));
  BOOST_TEST((std::is_same_v<decltype(derivative<1>(lit<3.0> * x + y)), Lit<1.0>>));
  // d/dx (x y) = y, d/dy (x y) = x
  BOOST_TEST((std::is_same_v<decltype(derivative<0>(x * y)), Var<1>>));
  BOOST_TEST((std::is_same_v<decltype(derivative<1>(x * y)), Var<0>>));
  BOOST_TEST(derivative<0>(tanh(x)).str() == "(1 - tanh(x0)*tanh(x0))");
}

BOOST_AUTO_TEST_CASE(derivatives_of_every_function) {
  expect_derivative_matches(exp(x), {-2.0, 0.0, 1.5});
  expect_derivative_matches(log(x), {0.3, 1.0, 4.0});
  expect_derivative_matches(log1p(x), {-0.5, 0.0, 3.0});
  expect_derivative_matches(tanh(x), {-2.0, 0.1, 1.5});
  expect_derivative_matches(sigmoid(x), {-3.0, 0.0, 2.0});
  expect_derivative_matches(erf(x), {-1.0, 0.2, 1.3});
  expect_derivative_matches(softplus(x), {-30.0, -2.0, 0.0, 3.0, 30.0});
  expect_derivative_matches(sqrt(x), {0.2, 1.0, 9.0});
  expect_derivative_matches(pow<3>(x), {-1.5, 0.5, 2.0});
  expect_derivative_matches(x / (lit<1.0> + x * x), {-2.0, 0.3, 1.7});
  expect_derivative_matches(max(x, lit<0.0>), {-1.0, 0.5});
  expect_derivative_matches(abs(x), {-1.0, 0.5});
  expect_derivative_matches(tanh(x * y + lit<0.5>) * exp(-x), {-0.7, 0.4});
}

BOOST_AUTO_TEST_CASE(activation_derivatives_and_what_backward_stores) {
  auto check = [](auto act, Saved expected) {
    using A = decltype(act);
    BOOST_TEST_INFO(A::name());
    BOOST_TEST((ActivationBackward<A>::saved == expected));
    for (double p : {-2.3, -0.4, 0.3, 1.9}) {
      const std::array<double, 2> at{p, A::expression.template eval<double>(std::array<double, 1>{p})};
      const double numeric = numeric_derivative(A::expression, {p, 0});
      const double from_x = ActivationBackward<A>::derivative.template eval<double>(at);
      const double from_saved = ActivationBackward<A>::derivative_of_output.template eval<double>(at);
      BOOST_TEST(std::abs(from_x - numeric) < 1e-6);
      if (expected != Saved::preactivation) BOOST_TEST(std::abs(from_saved - numeric) < 1e-6);
    }
  };
  check(Identity{}, Saved::nothing);
  check(ReLU{}, Saved::output);
  check(LeakyReLU<0.02f>{}, Saved::output);
  check(Tanh{}, Saved::output);
  check(Sigmoid{}, Saved::output);
  check(ELU<1.0f>{}, Saved::preactivation);
  check(GELU{}, Saved::preactivation);
  check(SiLU{}, Saved::preactivation);
  check(Softplus<>{}, Saved::preactivation);
  check(Softplus<2.0f, 1.0f>{}, Saved::preactivation);
  check(Mish{}, Saved::preactivation);
  check(Hardswish{}, Saved::preactivation);
}

// micrograd's README example: a neuron tanh(x1 w1 + x2 w2 + b).
BOOST_AUTO_TEST_CASE(autodiff_neuron) {
  using namespace typenet::autodiff;
  auto [x1, x2, w1, w2, b] = variables<5>();
  auto o = tanh(x1 * w1 + x2 * w2 + b);
  const auto r = gradient(o, 2.0, 0.0, -3.0, 1.0, 6.8813735870195432);
  BOOST_TEST(std::abs(r.value - 0.7071067811865476) < 1e-12);
  BOOST_TEST(std::abs(r.partial[0] - -1.5) < 1e-12);
  BOOST_TEST(std::abs(r.partial[1] - 0.5) < 1e-12);
  BOOST_TEST(std::abs(r.partial[2] - 1.0) < 1e-12);
  BOOST_TEST(std::abs(r.partial[3] - 0.0) < 1e-12);
  BOOST_TEST(std::abs(r.partial[4] - 0.5) < 1e-12);
}

// micrograd's test_sanity_check, with runtime constants.
BOOST_AUTO_TEST_CASE(autodiff_micrograd_sanity_check) {
  using namespace typenet::autodiff;
  auto x = variable<0>;
  auto z = 2 * x + 2 + x;
  auto q = relu(z) + z * x;
  auto h = relu(z * z);
  auto out = h + q + q * x;
  const auto r = gradient(out, -4.0);
  BOOST_TEST(r.value == -20.0);
  BOOST_TEST(r.partial[0] == 46.0);
}

BOOST_AUTO_TEST_CASE(simd_math_accuracy) {
  using V = simd::vec<float>;
  constexpr int W = simd::lanes<float>;
  double worst_exp = 0, worst_tanh = 0, worst_sigmoid = 0, worst_erf = 0;
  for (int i = -4000; i < 4000; i += W) {
    V v;
    for (int l = 0; l < W; ++l) v[l] = static_cast<float>((i + l) * 0.0025);  // [-10, 10)
    const V e = simd::exp(v), t = simd::tanh(v), s = simd::sigmoid(v), f = simd::erf(v);
    for (int l = 0; l < W; ++l) {
      const double a = static_cast<double>(v[l]);
      worst_exp = std::max(worst_exp, std::abs(e[l] - std::exp(a)) / std::exp(a));
      worst_tanh = std::max(worst_tanh, std::abs(t[l] - std::tanh(a)) / std::max(1e-3, std::abs(std::tanh(a))));
      worst_sigmoid = std::max(worst_sigmoid, std::abs(s[l] - 1 / (1 + std::exp(-a))));
      worst_erf = std::max(worst_erf, std::abs(f[l] - std::erf(a)));
    }
  }
  BOOST_TEST(worst_exp < 5e-7);
  BOOST_TEST(worst_tanh < 5e-7);
  BOOST_TEST(worst_sigmoid < 3e-7);
  BOOST_TEST(worst_erf < 5e-7);
}

// softplus on float lanes (exp_f32, then the log1p polynomial) against
// log1p(e^x) in double, relative, from -87 (where e^x is still a normal
// float) to 88; above, x + log1p(e^-x) is x in float.
BOOST_AUTO_TEST_CASE(simd_softplus_accuracy) {
  using V = simd::vec<float>;
  constexpr int W = simd::lanes<float>;
  double worst = 0;
  for (int i = -87000; i < 88000; i += W) {
    V v;
    for (int l = 0; l < W; ++l) v[l] = static_cast<float>((i + l) * 0.001);
    const V s = simd::softplus(v);
    for (int l = 0; l < W; ++l) {
      const double a = static_cast<double>(v[l]);
      const double exact = a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a));
      worst = std::max(worst, std::abs(s[l] - exact) / exact);
    }
  }
  BOOST_TEST_MESSAGE("softplus on float lanes: worst relative error " << worst);
  BOOST_TEST(worst < 3e-7);
  const V big = simd::softplus(simd::splat<V>(3e38f));
  BOOST_TEST(big[0] == 3e38f);
}

BOOST_AUTO_TEST_CASE(dropout_mask_rate_and_forms_agree) {
  const std::uint32_t key = dropout_key(1234, 7, 2);
  const float p = 0.3f;
  const std::uint32_t threshold = dropout_threshold(p);
  constexpr int W = simd::lanes<float>;
  std::size_t kept = 0, disagree = 0;
  const std::size_t n = 1 << 18;
  for (std::size_t i = 0; i < n; i += W) {
    const auto v = cpu::dropout_keep<float>(key, i, threshold);
    const auto vd = cpu::dropout_keep<double>(key, i, threshold);  // the double kernels' lanes
    for (int l = 0; l < W; ++l) {
      const bool scalar = cpu::dropout_kept(key, i + l, threshold);
      kept += scalar;
      disagree += (v[l] == 1.0f) != scalar;
      if (l < simd::lanes<double>) disagree += (vd[l] == 1.0) != scalar;
    }
  }
  BOOST_TEST(disagree == 0u);
  BOOST_TEST(std::abs(static_cast<double>(kept) / n - 0.7) < 0.005);
  // Another step, another mask.
  BOOST_TEST(dropout_key(1234, 8, 2) != key);
  BOOST_TEST(dropout_key(1234, 7, 3) != key);
}

// NaN is never turned into a number by the vector math (it would hide a
// diverging training from the finite-value checks).
BOOST_AUTO_TEST_CASE(simd_math_propagates_nan) {
  using V = simd::vec<float>;
  const V nan = simd::splat<V>(std::numeric_limits<float>::quiet_NaN());
  const V results[] = {simd::exp(nan), simd::tanh(nan), simd::sigmoid(nan), simd::erf(nan), simd::softplus(nan)};
  for (const V& r : results)
    for (int l = 0; l < simd::lanes<float>; ++l) BOOST_TEST(std::isnan(r[l]));
}
