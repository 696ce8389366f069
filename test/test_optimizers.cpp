// Optimizers against closed-form first steps and against reference values
// from torch.optim (PyTorch 1.13, float64; the script that printed them is in
// the comment of each case's table), the fused training step against the
// separate one, the state each optimizer keeps, and the learning-rate
// schedules. test/torch/optimizers.py compares every optimizer with
// torch.optim itself.
#define BOOST_TEST_MODULE optimizers
#include <boost/test/unit_test.hpp>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "typenet/typenet.hpp"
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

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

namespace {
template <class T>
bool has_subnormal(std::span<const T> values) {
  for (T v : values)
    if (std::fpclassify(v) == FP_SUBNORMAL) return true;
  return false;
}
template <class T>
bool all_zero(std::span<const T> values) {
  for (T v : values)
    if (v != T(0)) return false;
  return true;
}
// Steps of `opt` over 37 parameters (a vector tail included): one with
// gradients, then `zero_steps` with none, as a dead unit's weights see.
// Returns whether a state buffer ended with a subnormal value, and checks
// that the buffers reached zero exactly.
template <class T, class Opt>
bool decay_leaves_subnormals(Opt opt, int zero_steps) {
  std::vector<T> p(37), g(37);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = T(1) + T(i) / T(8), g[i] = T(0.01) * T(i + 1);
  opt.step(std::span<T>(p), std::span<const T>(g));
  std::fill(g.begin(), g.end(), T(0));
  for (int s = 0; s < zero_steps; ++s) opt.step(std::span<T>(p), std::span<const T>(g));
  bool subnormal = false;
  for (const auto& buffer : opt.state().buffers) {
    subnormal = subnormal || has_subnormal(buffer.span());
    BOOST_TEST(all_zero(buffer.span()));
  }
  return subnormal;
}
}  // namespace

BOOST_AUTO_TEST_CASE(flush_subnormal_zeroes_exactly_the_subnormal_lanes) {
  using V = simd::vec<float>;
  constexpr int W = simd::lanes<float>;
  const float smallest = std::numeric_limits<float>::min();
  const std::vector<float> kept{smallest, -smallest, 1.0f, -3.5e-30f, INFINITY, -INFINITY, NAN, 0.0f};
  const std::vector<float> flushed{smallest / 2, -smallest / 2, std::numeric_limits<float>::denorm_min(),
                                   -std::numeric_limits<float>::denorm_min(), std::nextafter(smallest, 0.0f), -0.0f};
  for (const auto& [values, flush] : {std::pair{kept, false}, std::pair{flushed, true}})
    for (float x : values) {
      float lanes[W];
      std::fill_n(lanes, W, 2.0f);
      lanes[W - 1] = x;
      float out[W];
      simd::store(out, simd::flush_subnormal(simd::load(lanes)));
      BOOST_TEST_INFO("x = " << x);
      BOOST_TEST(out[0] == 2.0f);
      if (flush) BOOST_TEST(out[W - 1] == 0.0f);
      else BOOST_TEST((std::bit_cast<std::uint32_t>(out[W - 1]) == std::bit_cast<std::uint32_t>(x)));
      const float scalar = simd::flush_subnormal<float>(x);
      if (flush) BOOST_TEST(scalar == 0.0f);
      else BOOST_TEST((std::bit_cast<std::uint32_t>(scalar) == std::bit_cast<std::uint32_t>(x)));
    }
  static_assert(std::is_same_v<decltype(simd::flush_subnormal(V{})), V>);
}

// While a gradient is zero the moving averages decay geometrically; in
// round-to-nearest a subnormal decaying by 0.9 stops at a few ulps and
// stays (torch's do): typenet's reach zero instead (simd::flush_subnormal).
BOOST_AUTO_TEST_CASE(decaying_state_reaches_zero_not_a_stuck_subnormal) {
  BOOST_TEST(!decay_leaves_subnormals<float>(Adam<float>({.lr = 1e-3, .beta2 = 0.9}), 2000));
  BOOST_TEST(!decay_leaves_subnormals<float>(AdamW<float>({.lr = 1e-3, .beta2 = 0.9, .weight_decay = 0.01}), 2000));
  BOOST_TEST(!decay_leaves_subnormals<double>(Adam<double>({.lr = 1e-3, .beta2 = 0.9}), 12000));
  BOOST_TEST(!decay_leaves_subnormals<float>(SGD<float>({.lr = 0.1, .momentum = 0.9}), 2000));
  BOOST_TEST(!decay_leaves_subnormals<float>(
      RMSprop<float>({.lr = 1e-3, .alpha = 0.9, .momentum = 0.9, .centered = true}), 2000));
  // Rounding's fixed point itself, which the flush avoids: 4 ulps times 0.9.
  const float stuck = 4 * std::numeric_limits<float>::denorm_min();
  volatile float factor = 0.9f;
  BOOST_TEST(stuck * factor == stuck);
}

// The fused training step (the update inside the weight-gradient kernels):
// an input column that is always zero gives its weights zero gradients.
BOOST_AUTO_TEST_CASE(fused_adam_moments_of_dead_weights_reach_zero) {
  using Net = Sequential<Input<5>, Linear<7>, Tanh, Linear<1>>;
  Model<Net> model(Init::torch_default, 3);
  Adam<float> adam({.lr = 1e-3});
  Matrix<float> x(16, 5), y(16, 1);
  for (std::size_t i = 0; i < 16; ++i) {
    for (std::size_t j = 0; j < 4; ++j) x(i, j) = std::sin(float(i * 5 + j));
    x(i, 4) = 0.0f;  // the dead input
    y(i, 0) = std::cos(float(i));
  }
  const MeanSquaredError loss;
  for (int s = 0; s < 1500; ++s) train_step(model, x.view(), y.view(), loss, adam);
  BOOST_TEST(!has_subnormal(adam.first_moment()));
  BOOST_TEST(!has_subnormal(adam.second_moment()));
  // The dead input's weights: row 4 of the first layer's W (in x out).
  const auto dead_row = static_cast<std::size_t>(&model.weight<0>()(4, 0) - model.parameters().data());
  std::size_t zeros = 0;
  for (std::size_t j = 0; j < 7; ++j) zeros += adam.first_moment()[dead_row + j] == 0.0f;
  BOOST_TEST(zeros == 7u);
}

#if defined(__SSE__)
// Programs linked with -ffast-math's startup code, and many audio hosts,
// run with MXCSR's flush-to-zero and denormals-are-zero set. Adam's AVX-512
// reciprocal square root once guarded v = 0 with a subnormal, which DAZ
// reads as 0: every zero second moment gave NaN. Training under that mode
// stays finite and within float rounding of training without it.
BOOST_AUTO_TEST_CASE(adam_and_training_under_flush_to_zero_and_denormals_are_zero) {
  using Net = Sequential<Input<5>, Linear<7>, Tanh, Linear<1>>;
  Matrix<float> x(16, 5), y(16, 1);
  for (std::size_t i = 0; i < 16; ++i) {
    for (std::size_t j = 0; j < 4; ++j) x(i, j) = std::sin(float(i * 5 + j));
    x(i, 4) = 0.0f;  // zero gradients for its weights: their second moments stay 0
    y(i, 0) = std::cos(float(i));
  }
  auto train = [&] {
    Model<Net> model(Init::torch_default, 3);
    Adam<float> adam({.lr = 1e-2});
    const MeanSquaredError loss;
    for (int s = 0; s < 50; ++s) train_step(model, x.view(), y.view(), loss, adam);
    std::vector<float> p(model.parameters().begin(), model.parameters().end());
    std::vector<float> g(p.size(), 0.0f);  // the separate step, every moment zero
    Adam<float> fresh;
    fresh.step(std::span<float>(p), std::span<const float>(g));
    return p;
  };
  const std::vector<float> normal = train();
  const unsigned saved = _mm_getcsr();
  _mm_setcsr(saved | 0x8040);  // FTZ (bit 15) and DAZ (bit 6)
  const std::vector<float> flushed = train();
  _mm_setcsr(saved);
  for (std::size_t i = 0; i < normal.size(); ++i) {
    BOOST_TEST_INFO("parameter " << i);
    BOOST_TEST(std::isfinite(flushed[i]));
    BOOST_TEST(std::abs(flushed[i] - normal[i]) <= 1e-5f * std::max(1.0f, std::abs(normal[i])));
  }
}
#endif

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

namespace {
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

BOOST_AUTO_TEST_CASE(bad_options_are_rejected) {
  BOOST_CHECK_THROW(SGD<>({.lr = 0.1, .nesterov = true}), std::invalid_argument);
  BOOST_CHECK_THROW(SGD<>({.lr = -1}), std::invalid_argument);
  BOOST_CHECK_THROW(Adam<>({.beta1 = 1.0}), std::invalid_argument);
  // torch.optim's checks, each with its sentence (NaN fails them too).
  BOOST_TEST(error_of([] { RMSprop<>({.lr = -0.1}); }) == "typenet: RMSprop: the learning rate must be >= 0.");
  BOOST_TEST(error_of([] { RMSprop<>({.alpha = -0.5}); }) == "typenet: RMSprop: alpha must be >= 0.");
  BOOST_TEST(error_of([] { RMSprop<>({.eps = NAN}); }) == "typenet: RMSprop: eps must be >= 0.");
  BOOST_TEST(error_of([] { RMSprop<>({.weight_decay = -1}); }) == "typenet: RMSprop: the weight decay must be >= 0.");
  BOOST_TEST(error_of([] { RMSprop<>({.momentum = -0.9}); }) == "typenet: RMSprop: the momentum must be >= 0.");
  BOOST_TEST(error_of([] { Adagrad<>({.lr = -1}); }) == "typenet: Adagrad: the learning rate must be >= 0.");
  BOOST_TEST(error_of([] { Adagrad<>({.lr_decay = -1}); }) ==
             "typenet: Adagrad: the learning rate decay must be >= 0.");
  BOOST_TEST(error_of([] { Adagrad<>({.weight_decay = -1}); }) == "typenet: Adagrad: the weight decay must be >= 0.");
  BOOST_TEST(error_of([] { Adagrad<>({.initial_accumulator_value = -1}); }) ==
             "typenet: Adagrad: the initial accumulator value must be >= 0.");
  BOOST_TEST(error_of([] { Adagrad<>({.eps = -1}); }) == "typenet: Adagrad: eps must be >= 0.");
  std::vector<float> p(3), g(2);
  SGD<> sgd;
  BOOST_CHECK_THROW(sgd.step(std::span<float>(p), std::span<const float>(g)), std::invalid_argument);
  RMSprop<> rmsprop;
  BOOST_TEST(error_of([&] { rmsprop.step(std::span<float>(p), std::span<const float>(g)); }) ==
             "typenet: RMSprop: 3 parameters but 2 gradients.");
}

// torch's defaults (1.13).
BOOST_AUTO_TEST_CASE(defaults_are_torchs) {
  const RMSpropOptions r;
  BOOST_TEST(r.lr == 0.01);
  BOOST_TEST(r.alpha == 0.99);
  BOOST_TEST(r.eps == 1e-8);
  BOOST_TEST(r.weight_decay == 0.0);
  BOOST_TEST(r.momentum == 0.0);
  BOOST_TEST(!r.centered);
  const AdagradOptions a;
  BOOST_TEST(a.lr == 0.01);
  BOOST_TEST(a.lr_decay == 0.0);
  BOOST_TEST(a.weight_decay == 0.0);
  BOOST_TEST(a.initial_accumulator_value == 0.0);
  BOOST_TEST(a.eps == 1e-10);
}

BOOST_AUTO_TEST_CASE(rmsprop_first_steps_closed_form) {
  // v = (1 - alpha) g^2, so p1 = p0 - lr g / (sqrt(1 - alpha) |g| + eps); centered, the
  // variance is (1 - alpha) g^2 - ((1 - alpha) g)^2 = alpha (1 - alpha) g^2.
  const auto first = [](double p, double g, double variance) { return p - 0.01 * g / (std::sqrt(variance) + 1e-8); };
  std::vector<double> plain, centered, decayed;
  for (std::size_t i = 0; i < 3; ++i) {
    const double g = grads[0][i], gd = grads[0][i] + 0.1 * start[i];
    plain.push_back(first(start[i], g, 0.01 * g * g));
    centered.push_back(first(start[i], g, 0.99 * 0.01 * g * g));
    decayed.push_back(first(start[i], gd, 0.01 * gd * gd));
  }
  const auto first_step = [](RMSprop<double> opt, const std::vector<double>& expected) {
    std::vector<double> p = start;
    opt.step(std::span<double>(p), std::span<const double>(grads[0]));
    for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(std::abs(p[i] - expected[i]) < 1e-15);
  };
  first_step(RMSprop<double>(), plain);
  first_step(RMSprop<double>({.centered = true}), centered);
  first_step(RMSprop<double>({.weight_decay = 0.1}), decayed);
  // Momentum: b1 = g / d, so the first step is the plain one.
  first_step(RMSprop<double>({.momentum = 0.9}), plain);
}

BOOST_AUTO_TEST_CASE(adagrad_steps_closed_form) {
  // s = init + g^2; p = p - clr g / (sqrt(s) + eps), clr = lr / (1 + (t - 1) lr_decay).
  Adagrad<double> opt({.lr = 0.1, .lr_decay = 0.5, .initial_accumulator_value = 0.2});
  std::vector<double> p = start, expected = start, sum(3, 0.2);
  for (std::size_t t = 1; t <= 3; ++t) {
    opt.step(std::span<double>(p), std::span<const double>(grads[t - 1]));
    const double clr = 0.1 / (1 + double(t - 1) * 0.5);
    for (std::size_t i = 0; i < 3; ++i) {
      const double g = grads[t - 1][i];
      sum[i] += g * g;
      expected[i] -= clr * g / (std::sqrt(sum[i]) + 1e-10);
      BOOST_TEST_INFO("step " << t << ", parameter " << i);
      BOOST_TEST(std::abs(p[i] - expected[i]) < 1e-15);
    }
  }
  BOOST_TEST(opt.steps() == 3u);
}

// The buffers each optimizer keeps are the ones its options use, allocated
// on the first step (Adagrad's at its initial accumulator value); a buffer
// the options stop using is released, and one they start using starts the
// state afresh, as a new optimizer would.
BOOST_AUTO_TEST_CASE(state_buffers_follow_the_options) {
  std::vector<double> p = start;
  const auto step = [&](auto& opt, std::size_t k) {
    opt.step(std::span<double>(p), std::span<const double>(grads[k % grads.size()]));
  };
  RMSprop<double> rmsprop;
  BOOST_TEST(rmsprop.square_average().size() == 0u);
  step(rmsprop, 0);
  BOOST_TEST(rmsprop.square_average().size() == 3u);
  BOOST_TEST(rmsprop.momentum_buffer().size() == 0u);
  BOOST_TEST(rmsprop.gradient_average().size() == 0u);
  step(rmsprop, 1);

  rmsprop.options.centered = true;  // a new buffer: the state starts afresh
  RMSprop<double> fresh({.centered = true});
  std::vector<double> q = p;
  step(rmsprop, 2);
  fresh.step(std::span<double>(q), std::span<const double>(grads[2]));
  BOOST_TEST(p == q, boost::test_tools::per_element());
  BOOST_TEST(rmsprop.gradient_average().size() == 3u);
  BOOST_TEST((std::vector<double>(rmsprop.square_average().begin(), rmsprop.square_average().end()) ==
              std::vector<double>(fresh.square_average().begin(), fresh.square_average().end())));

  rmsprop.options.centered = false;  // released; the square average goes on
  const double v = rmsprop.square_average()[0];
  step(rmsprop, 0);
  BOOST_TEST(rmsprop.gradient_average().size() == 0u);
  BOOST_TEST(rmsprop.square_average()[0] == std::fma(1 - 0.99, std::fma(grads[0][0], grads[0][0], -v), v));

  Adagrad<double> adagrad({.initial_accumulator_value = 0.25});
  step(adagrad, 0);
  for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(adagrad.sum()[i] == std::fma(grads[0][i], grads[0][i], 0.25));

  SGD<double> sgd({.lr = 0.1});
  step(sgd, 0);
  BOOST_TEST(sgd.momentum_buffer().size() == 0u);  // no momentum, no buffer
  BOOST_TEST(!sgd.started());
  sgd.options.momentum = 0.9;
  step(sgd, 1);
  BOOST_TEST(sgd.momentum_buffer().size() == 3u);
  BOOST_TEST(sgd.started());
  BOOST_TEST(sgd.momentum_buffer()[0] == grads[1][0]);  // started from the gradient
}

// The fused training step (the update applied inside backward, while the
// gradient tile is in registers) against loss_and_gradient and step(): the
// same bits, for every optimizer, as test_training checks for SGD and Adam.
BOOST_AUTO_TEST_CASE(fused_step_equals_gradient_then_step) {
  using Net = Sequential<Input<30>, Linear<70>, BatchNorm<>, GELU, Dropout<0.2f>, Linear<33>, ReLU, Linear<4>, Softmax>;
  Matrix<float> x(40, 30);
  std::vector<std::int32_t> labels(40);
  Rng rng(8);
  for (std::size_t i = 0; i < 40; ++i) {
    labels[i] = static_cast<std::int32_t>(rng.below(4));
    for (std::size_t j = 0; j < 30; ++j) x(i, j) = static_cast<float>(rng.normal());
  }
  const std::span<const std::int32_t> l(labels);
  auto compare = [&](const char* name, auto make_optimizer) {
    Model<Net> fused(Init::torch_default, 3), separate(Init::torch_default, 3);
    auto o1 = make_optimizer();
    auto o2 = make_optimizer();
    for (int s = 0; s < 4; ++s) {
      const float a = train_step(fused, x.view(), l, SoftmaxCrossEntropy{}, o1);
      const float b = loss_and_gradient(separate, x.view(), l, SoftmaxCrossEntropy{});
      o2.step(separate);
      BOOST_TEST(a == b);
    }
    std::size_t first_difference = Net::parameter_count;
    for (std::size_t i = Net::parameter_count; i-- > 0;)
      if (fused.parameters()[i] != separate.parameters()[i]) first_difference = i;
    BOOST_TEST_INFO(name);
    BOOST_TEST(first_difference == Net::parameter_count);
    for (std::size_t k = 0; k < o1.state().buffers.size(); ++k) {
      const auto b1 = o1.state().buffers[k].span(), b2 = o2.state().buffers[k].span();
      BOOST_TEST_INFO(name << ", buffer " << k);
      BOOST_TEST(std::equal(b1.begin(), b1.end(), b2.begin(), b2.end()));
    }
  };
  compare("RMSprop", [] { return RMSprop<>(); });
  compare("RMSprop, centered, momentum, weight decay",
          [] { return RMSprop<>({.lr = 1e-3, .weight_decay = 1e-2, .momentum = 0.9, .centered = true}); });
  compare("RMSprop, momentum", [] { return RMSprop<>({.lr = 1e-3, .momentum = 0.5}); });
  compare("Adagrad", [] { return Adagrad<>({.lr = 0.05}); });
  compare("Adagrad, decay, weight decay, initial accumulator", [] {
    return Adagrad<>({.lr = 0.05, .lr_decay = 0.1, .weight_decay = 1e-3, .initial_accumulator_value = 0.1});
  });
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
  const ExponentialLR exponential{0.1, 0.9};
  BOOST_TEST(exponential(0) == 0.1);
  BOOST_TEST(std::abs(exponential(1) - 0.09) < 1e-16);
  BOOST_TEST(std::abs(exponential(10) - 0.1 * 0.3486784401) < 1e-16);  // (test/torch/optimizers.py: against torch)
}
