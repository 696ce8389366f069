// Optimizers against closed-form first steps and against reference values
// from torch.optim (PyTorch 1.13, float64; the script that printed them is in
// the comment of each case's table), and the learning-rate schedules.
#define BOOST_TEST_MODULE optimizers
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <vector>

#include "typenet/train/optimizers.hpp"
#include "typenet/train/schedules.hpp"

using namespace typenet;

namespace {
using Rows = std::vector<std::vector<double>>;
// Three steps from p = (1, -2, 0.5) with these gradients, as in the torch run:
//   p = torch.tensor(p0, requires_grad=True); opt = torch.optim.X([p], ...)
//   for g in grads: p.grad = torch.tensor(g); opt.step()
const std::vector<double> start{1.0, -2.0, 0.5};
const Rows grads{{0.5, -0.25, 1.0}, {0.25, 0.5, -1.0}, {-0.75, 0.1, 0.3}};

template <class Opt>
void expect_trajectory(Opt opt, const Rows& expected) {
  std::vector<double> p = start;
  for (std::size_t s = 0; s < grads.size(); ++s) {
    opt.step(std::span<double>(p), std::span<const double>(grads[s]));
    for (std::size_t i = 0; i < p.size(); ++i) {
      BOOST_TEST_INFO("step " << s + 1 << ", parameter " << i);
      BOOST_TEST(std::abs(p[i] - expected[s][i]) < 1e-12);
    }
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(sgd_closed_form) {
  // p - lr g, with g += wd p
  expect_trajectory(SGD<double>({.lr = 0.1}), {{0.95, -1.975, 0.4}, {0.925, -2.025, 0.5}, {1.0, -2.035, 0.47}});
  expect_trajectory(SGD<double>({.lr = 0.1, .weight_decay = 0.1}),
                    {{0.94, -1.955, 0.395}, {0.9056, -1.98545, 0.49105}, {0.971544, -1.9755955, 0.4561395}});
}

BOOST_AUTO_TEST_CASE(sgd_momentum) {
  // buf1 = g1; buf2 = 0.9 buf1 + g2: p2 = p1 - lr buf2
  expect_trajectory(SGD<double>({.lr = 0.1, .momentum = 0.9}),
                    {{0.95, -1.975, 0.4}, {0.88, -2.0025, 0.41}, {0.892, -2.03725, 0.389}});
  expect_trajectory(SGD<double>({.lr = 0.1, .momentum = 0.9, .dampening = 0.5}),
                    {{0.95, -1.975, 0.4}, {0.8925, -1.9775, 0.36}, {0.87825, -1.98475, 0.309}});
}

BOOST_AUTO_TEST_CASE(sgd_nesterov_with_weight_decay) {
  expect_trajectory(SGD<double>({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true}),
                    {{0.9031, -1.9487, 0.30905},
                     {0.81257411, -2.01812747, 0.417057805},
                     {0.895369708191, -2.052531580807, 0.3667505646705}});
}

BOOST_AUTO_TEST_CASE(adam) {
  // First step, closed form: m-hat = g, v-hat = g^2, so p1 = p0 - lr g / (|g| + eps).
  expect_trajectory(Adam<double>({.lr = 0.01}),
                    {{1 - 0.01 * 0.5 / (0.5 + 1e-8), -2 + 0.01 * 0.25 / (0.25 + 1e-8), 0.5 - 0.01 / (1 + 1e-8)},
                     {0.9806782040477462, -1.9936610355777546, 0.49052631588421053},
                     {0.9814979720110778, -1.9975722956164423, 0.4895977085402318}});
}

BOOST_AUTO_TEST_CASE(adam_l2_weight_decay) {
  expect_trajectory(Adam<double>({.lr = 0.01, .weight_decay = 0.1}),
                    {{0.9900000001666667, -1.9900000002222222, 0.4900000000952381},
                     {0.980465827519045, -1.9885700281673497, 0.4900315254796081},
                     {0.9794715651343595, -1.986334230282664, 0.48852599020428844}});
}

BOOST_AUTO_TEST_CASE(adamw_decoupled_weight_decay) {
  // First step: p (1 - lr wd) - lr g / (|g| + eps)
  expect_trajectory(AdamW<double>({.lr = 0.01, .weight_decay = 0.1}),
                    {{0.999 - 0.01 * 0.5 / (0.5 + 1e-8), -1.998 + 0.01 * 0.25 / (0.25 + 1e-8),
                      0.4995 - 0.01 / (1 + 1e-8)},
                     {0.9786892040475462, -1.9896730355773546, 0.4895368158841105},
                     {0.9785302828068303, -1.991594622580465, 0.4881186717242477}});
}

BOOST_AUTO_TEST_CASE(float_optimizer_follows_double) {
  std::vector<float> p(start.begin(), start.end());
  Adam<float> opt({.lr = 0.01});
  for (const auto& g : grads) {
    const std::vector<float> gf(g.begin(), g.end());
    opt.step(std::span<float>(p), std::span<const float>(gf));
  }
  BOOST_TEST(std::abs(p[0] - 0.9814979720110778) < 1e-6);
  BOOST_TEST(opt.steps() == 3u);
}

namespace {
#if TYPENET_AVX512 || TYPENET_AVX2_FMA
constexpr double rounding_slack = 1;
#else
constexpr double rounding_slack = 2;  // no fused multiply-add: a*b + c rounds twice
#endif

// One float step of Adam (or AdamW) against the same step computed exactly
// (in double, torch's formula) from the same float state. The float update
// takes its denominator's reciprocal from hardware estimates refined by
// Newton steps on AVX-512 (simd::inverse_of_scaled_sqrt), and rounds the
// moments' updates in its own order: each step may differ from the exact one
// by a few float ulps of the step, and the moments by an ulp or two.
template <bool Decoupled>
double worst_step_error_in_ulps(AdamOptions options, std::size_t steps) {
  constexpr std::size_t n = 10007;  // no multiple of any vector width
  std::vector<float> p(n), g(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
  BasicAdam<float, Decoupled> adam(options);
  double worst = 0;
  for (std::size_t t = 1; t <= steps; ++t) {
    // Every 7th gradient 0 (v stays 0 there; with eps = 0 that is 0 / 0, so not then).
    for (std::size_t i = 0; i < n; ++i)
      g[i] = i % 7 == 0 && options.eps > 0 ? 0.0f : static_cast<float>(1e-3 * std::cos(1.3 * static_cast<double>(i * t)));
    const std::vector<float> m_before(adam.first_moment().begin(), adam.first_moment().end());
    const std::vector<float> v_before(adam.second_moment().begin(), adam.second_moment().end());
    const std::vector<float> p_before = p;
    adam.step(std::span<float>(p), std::span<const float>(g));
    const double bc1 = 1 - std::pow(options.beta1, double(t)), bc2 = 1 - std::pow(options.beta2, double(t));
    for (std::size_t i = 0; i < n; ++i) {
      const double p0 = p_before[i], m0 = m_before.empty() ? 0 : m_before[i], v0 = v_before.empty() ? 0 : v_before[i];
      // The hyperparameters as the float optimizer holds them.
      const double wd = float(options.weight_decay), b1 = 1 - double(float(1 - options.beta1)),
                   b2 = 1 - double(float(1 - options.beta2));
      double gi = g[i];
      if (!Decoupled) gi += wd * p0;
      // The moments: within 2 float roundings of their terms' magnitudes
      // (g + wd p may cancel: its terms count, not the sum).
      const double g_terms = std::abs(g[i]) + (Decoupled ? 0.0 : wd * std::abs(p0));
      const double m_terms = b1 * std::abs(m0) + (1 - b1) * g_terms;
      const double v_terms = b2 * v0 + (1 - b2) * g_terms * g_terms;
      const double m = b1 * m0 + (1 - b1) * gi;
      const double v = b2 * v0 + (1 - b2) * gi * gi;
      BOOST_TEST_INFO("step " << t << ", parameter " << i);
      BOOST_TEST(std::abs(adam.first_moment()[i] - m) <= rounding_slack * 2.5e-7 * m_terms + 1e-37);
      BOOST_TEST_INFO("step " << t << ", parameter " << i);
      BOOST_TEST(std::abs(adam.second_moment()[i] - v) <= rounding_slack * 2.5e-7 * v_terms + 1e-37);
      // The step from the float moments, exactly (torch's formula in double).
      const double mf = adam.first_moment()[i], vf = adam.second_moment()[i];
      const double step = options.lr / bc1 * mf / (std::sqrt(vf) / std::sqrt(bc2) + options.eps);
      const double decayed = Decoupled ? p0 * (1 - options.lr * options.weight_decay) : p0;
      const double exact = decayed - step;
      // Beyond p's own last rounding (half an ulp; for AdamW one and a half:
      // p decay - step rounds twice where vectors have no fma, and decay
      // itself is a rounded float), in ulps of the step.
      const double ulp_p = std::nextafter(std::abs(float(exact)), INFINITY) - std::abs(float(exact));
      const double ulp_step = std::nextafter(std::abs(float(step)), INFINITY) - std::abs(float(step));
      const double error = std::abs(p[i] - exact) - (Decoupled ? 1.5 : 0.5) * ulp_p;
      if (error > 0) worst = std::max(worst, error / std::max(ulp_step, 1e-45));
    }
  }
  return worst;
}
}  // namespace

BOOST_AUTO_TEST_CASE(float_adam_steps_are_within_a_few_ulps_of_exact) {
  const double adam = worst_step_error_in_ulps<false>({.lr = 1e-3, .weight_decay = 1e-2}, 20);
  const double adamw = worst_step_error_in_ulps<true>({.lr = 1e-3, .weight_decay = 1e-2}, 20);
  const double no_eps = worst_step_error_in_ulps<false>({.lr = 1e-2, .eps = 0}, 5);
  BOOST_TEST_MESSAGE("worst step error beyond p's last rounding, in ulps of the step: Adam "
                     << adam << ", AdamW " << adamw << ", eps = 0: " << no_eps);
  BOOST_TEST(adam <= 4.0 * rounding_slack);
  BOOST_TEST(adamw <= 4.0 * rounding_slack);
  BOOST_TEST(no_eps <= 4.0 * rounding_slack);
}

BOOST_AUTO_TEST_CASE(adam_with_zero_learning_rate_moves_only_its_moments) {
  std::vector<float> p{1.0f, -2.0f, 0.0f, 3.5f}, g{0.5f, 0.0f, -1.0f, 2.0f};
  const std::vector<float> before = p;
  Adam<float> adam({.lr = 0});
  AdamW<float> adamw({.lr = 0, .weight_decay = 0.1});
  for (int t = 0; t < 3; ++t) {
    adam.step(std::span<float>(p), std::span<const float>(g));
    BOOST_TEST(p == before, boost::test_tools::per_element());
    adamw.step(std::span<float>(p), std::span<const float>(g));
    BOOST_TEST(p == before, boost::test_tools::per_element());
  }
  BOOST_TEST(adam.first_moment()[0] > 0.0f);
  BOOST_TEST(adam.second_moment()[3] > 0.0f);
}

BOOST_AUTO_TEST_CASE(a_non_finite_gradient_makes_adam_non_finite_not_silent) {
  std::vector<float> p(40, 1.0f), g(40, 0.1f);
  g[3] = NAN;
  g[21] = INFINITY;
  Adam<float> adam;
  adam.step(std::span<float>(p), std::span<const float>(g));
  BOOST_TEST(std::isnan(p[3]));
  BOOST_TEST(!std::isfinite(p[21]));
  BOOST_TEST(std::isfinite(p[4]));
}

BOOST_AUTO_TEST_CASE(bad_options_are_rejected) {
  BOOST_CHECK_THROW(SGD<>({.lr = 0.1, .nesterov = true}), std::invalid_argument);
  BOOST_CHECK_THROW(SGD<>({.lr = -1}), std::invalid_argument);
  BOOST_CHECK_THROW(Adam<>({.beta1 = 1.0}), std::invalid_argument);
  std::vector<float> p(3), g(2);
  SGD<> sgd;
  BOOST_CHECK_THROW(sgd.step(std::span<float>(p), std::span<const float>(g)), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(schedules) {
  const LinearLR micrograd{1.0, 0.1, 100};  // 1.0 - 0.9 k / 100
  for (std::size_t k : {0u, 1u, 37u, 99u}) BOOST_TEST(std::abs(micrograd(k) - (1.0 - 0.9 * k / 100.0)) < 1e-15);
  BOOST_TEST(std::abs(micrograd(250) - 0.1) < 1e-15);
  const StepLR step{0.1, 30, 0.5};
  BOOST_TEST(step(29) == 0.1);
  BOOST_TEST(std::abs(step(30) - 0.05) < 1e-15);
  BOOST_TEST(std::abs(step(95) - 0.0125) < 1e-15);
  const CosineLR cosine{1.0, 10, 0.0};
  BOOST_TEST(cosine(0) == 1.0);
  BOOST_TEST(std::abs(cosine(5) - 0.5) < 1e-15);
  BOOST_TEST(std::abs(cosine(10)) < 1e-15);
  BOOST_TEST(ConstantLR{0.3}(1000) == 0.3);
}
