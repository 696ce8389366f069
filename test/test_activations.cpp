// SiLU, Softplus, Mish and Hardswish, each written once as its formula
// (topology/activations.hpp) and picked up by everything else unchanged:
//   - values and derivatives in double against scalar references written
//     from PyTorch's own formulas (aten's CPU kernels and their backward),
//     on a grid with large |x|, the thresholds and the kinks and the
//     neighbouring doubles; the kinks' derivatives exactly as PyTorch's;
//   - what backward keeps, and why nothing less would do;
//   - float evaluation (SIMD vectors, the CPU kernels' path; scalars, the
//     GPU's) against double;
//   - checkpoint round trips.
// Their gradients in networks (finite differences, thread counts) are in
// test_activation_gradients.cpp, the GPU's kernels on the host in
// test_activation_kernels.cpp.
// PyTorch itself is compared in test/torch/activations.py.
#define BOOST_TEST_MODULE activations
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "activation_networks.hpp"
#include "typenet/cpu/elementwise.hpp"
#include "typenet/io/checkpoint.hpp"

using namespace typenet;
using testing::NetworkActivations;


namespace {

// ------------------------------------------------------------ references
// PyTorch 1.13's formulas, as its CPU kernels evaluate them (aten/src/ATen/
// native/cpu/Activation.cpp and their backward), in plain double.
struct Reference {
  double value;
  double derivative;
};

Reference silu_reference(double x) {
  const double s = 1 / (1 + std::exp(-x));
  return {x / (1 + std::exp(-x)), s * (1 + x * (1 - s))};
}

Reference softplus_reference(double x, double beta, double threshold) {
  if (x * beta > threshold) return {x, 1};
  const double z = std::exp(x * beta);
  return {std::log1p(z) / beta, z / (z + 1)};
}

Reference mish_reference(double x) {
  const double t = std::tanh(std::log1p(std::exp(x)));
  const double s = 1 / (1 + std::exp(-x));
  return {x * t, t + x * s * (1 - t * t)};
}

Reference hardswish_reference(double x) {
  const double value = x * std::min(std::max(x + 3, 0.0), 6.0) / 6;
  const double derivative = x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1;
  return {value, derivative};
}

template <class A>
struct Case;
template <>
struct Case<SiLU> {
  static Reference reference(double x) { return silu_reference(x); }
  static constexpr expr::Saved saved = expr::Saved::preactivation;
};
template <float Beta, float Threshold>
struct Case<Softplus<Beta, Threshold>> {
  static Reference reference(double x) { return softplus_reference(x, Beta, Threshold); }
  static constexpr expr::Saved saved = expr::Saved::preactivation;
};
template <>
struct Case<Mish> {
  static Reference reference(double x) { return mish_reference(x); }
  static constexpr expr::Saved saved = expr::Saved::preactivation;
};
template <>
struct Case<Hardswish> {
  static Reference reference(double x) { return hardswish_reference(x); }
  static constexpr expr::Saved saved = expr::Saved::preactivation;
};

// Softplus<2, 1> takes its threshold branch (x > 0.5) on ordinary inputs.
using Activations = boost::mpl::list<SiLU, Softplus<>, Softplus<2.0f, 1.0f>, Softplus<0.5f, 5.0f>, Mish, Hardswish>;

template <class A, class T>
T value_of(T x) {
  return A::expression.template eval<T>(std::array<T, 1>{x});
}
template <class A, class T>
T derivative_of(T x) {
  return ActivationBackward<A>::derivative.template eval<T>(std::array<T, 2>{x, value_of<A>(x)});
}

template <class T>
void add_with_neighbours(std::vector<T>& grid, T x) {
  grid.push_back(std::nextafter(x, -std::numeric_limits<T>::infinity()));
  grid.push_back(x);
  grid.push_back(std::nextafter(x, std::numeric_limits<T>::infinity()));
}

// [-40, 40] in steps of 1/64 (which holds -3, 3, 20 and the other
// thresholds exactly), each threshold and kink with its neighbours, and
// large |x| up to 1e300 (double) or 3e38 (float).
template <class T>
std::vector<T> grid() {
  std::vector<T> g;
  for (int i = -40 * 64; i <= 40 * 64; ++i) g.push_back(static_cast<T>(i) / 64);
  for (T k : {T(-3), T(3), T(20), T(0.5), T(10), T(0), T(-1.5)}) add_with_neighbours(g, k);
  std::vector<double> large{50, 80, 88, 89, 100, 300, 700, 710, 1e3, 1e4, 1e10, 1e30, 3e38};
  if constexpr (std::is_same_v<T, double>) large.insert(large.end(), {1e100, 1e300});
  for (double v : large) {
    g.push_back(static_cast<T>(v));
    g.push_back(static_cast<T>(-v));
  }
  return g;
}

}  // namespace

// ============================================================ values and derivatives

// Rounding apart, typenet's formulas are PyTorch's: the values within
// relative 1e-14; the derivatives too, plus 1e-15 absolute for |x| < 40,
// where their terms are of order 1 and cancel near a zero of f' (SiLU at
// -2.4, Mish at -1.19). Below 1e-290 (x < -660) the relative error is taken
// of 1e-290: there the references' e^-x overflows, and they give 0 where
// typenet's stable forms give the subnormal x e^x.
BOOST_AUTO_TEST_CASE_TEMPLATE(values_and_derivatives_match_the_reference_in_double, A, Activations) {
  double worst_value = 0, worst_derivative = 0;
  double at_value = 0, at_derivative = 0;
  for (double x : grid<double>()) {
    const Reference r = Case<A>::reference(x);
    const double y = value_of<A>(x), d = derivative_of<A>(x);
    BOOST_TEST_INFO(A::name() << " at x = " << x);
    BOOST_TEST(std::isfinite(y));
    BOOST_TEST(std::isfinite(d));
    const double ev = std::abs(y - r.value) / std::max(std::abs(r.value), 1e-290);
    const double absolute = std::abs(x) < 40 ? 1e-15 : 0;
    const double ed = std::max(std::abs(d - r.derivative) - absolute, 0.0) / std::max(std::abs(r.derivative), 1e-290);
    if (ev > worst_value) worst_value = ev, at_value = x;
    if (ed > worst_derivative) worst_derivative = ed, at_derivative = x;
  }
  BOOST_TEST_MESSAGE(A::name() << ": worst relative error of the value " << worst_value << " (x = " << at_value
                               << "), of the derivative " << worst_derivative << " (x = " << at_derivative << ")");
  BOOST_TEST(worst_value <= 1e-14);
  BOOST_TEST(worst_derivative <= 1e-14);
}

// PyTorch's hardswish_backward: 0 for x < -3, x/3 + 1/2 for -3 <= x <= 3
// (so -1/2 at -3 and 3/2 at 3), 1 above.
BOOST_AUTO_TEST_CASE(hardswish_derivative_at_and_around_the_kinks) {
  for (double x : {-3.0, 3.0}) {
    const double below = std::nextafter(x, -1e9), above = std::nextafter(x, 1e9);
    for (double p : {below, x, above}) {
      BOOST_TEST_INFO("x = " << p);
      BOOST_TEST(derivative_of<Hardswish>(p) == hardswish_reference(p).derivative, boost::test_tools::tolerance(1e-15));
    }
  }
  BOOST_TEST(derivative_of<Hardswish>(-3.0) == -0.5);
  BOOST_TEST(derivative_of<Hardswish>(3.0) == 1.5);
  BOOST_TEST(derivative_of<Hardswish>(std::nextafter(-3.0, -4.0)) == 0.0);
  BOOST_TEST(derivative_of<Hardswish>(std::nextafter(3.0, 4.0)) == 1.0);
  BOOST_TEST(derivative_of<Hardswish>(-1.5) == 0.0);  // its minimum
  for (float x : {-3.0f, 3.0f, std::nextafter(-3.0f, -4.0f), std::nextafter(3.0f, 4.0f)}) {
    BOOST_TEST_INFO("float x = " << x);
    BOOST_TEST(derivative_of<Hardswish>(x) ==
                   static_cast<float>(hardswish_reference(x).derivative), boost::test_tools::tolerance(1e-6f));
  }
  // The values at the kinks: -0 and 3, as PyTorch.
  BOOST_TEST(value_of<Hardswish>(-3.0) == 0.0);
  BOOST_TEST(std::signbit(value_of<Hardswish>(-3.0)));
  BOOST_TEST(value_of<Hardswish>(3.0) == 3.0);
}

// beta x > threshold: x itself and slope 1; at beta x = threshold still the
// logarithm, as torch.nn.Softplus.
BOOST_AUTO_TEST_CASE(softplus_at_and_around_the_threshold) {
  BOOST_TEST(value_of<Softplus<>>(20.0) == std::log1p(std::exp(20.0)), boost::test_tools::tolerance(1e-15));
  BOOST_TEST(value_of<Softplus<>>(20.0) != 20.0);
  BOOST_TEST(derivative_of<Softplus<>>(20.0) < 1.0);
  const double above = std::nextafter(20.0, 21.0);
  BOOST_TEST(value_of<Softplus<>>(above) == above);
  BOOST_TEST(derivative_of<Softplus<>>(above) == 1.0);
  using Wide = Softplus<2.0f, 10.0f>;  // beta x = 10 at x = 5
  BOOST_TEST(value_of<Wide>(5.0) == std::log1p(std::exp(10.0)) / 2, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(value_of<Wide>(std::nextafter(5.0, 6.0)) == std::nextafter(5.0, 6.0));
  BOOST_TEST(derivative_of<Wide>(std::nextafter(5.0, 6.0)) == 1.0);
}

// log1p(e^z) for very negative z, where log(1 + e^z) would give 0; and no
// overflow however high the threshold: Softplus<1, 1000> is log(1 + e^x)
// up to x = 1000, finite (float: PyTorch gives inf above 88.7, see
// activations.py).
BOOST_AUTO_TEST_CASE(softplus_is_stable_at_both_ends) {
  for (double x : {-40.0, -100.0, -700.0}) {
    BOOST_TEST_INFO("x = " << x);
    BOOST_TEST(value_of<Softplus<>>(x) == std::exp(x), boost::test_tools::tolerance(1e-15));
    BOOST_TEST(derivative_of<Softplus<>>(x) == std::exp(x), boost::test_tools::tolerance(1e-15));
  }
  using High = Softplus<1.0f, 1000.0f>;
  BOOST_TEST(value_of<High>(800.0) == 800.0);
  BOOST_TEST(derivative_of<High>(800.0) == 1.0);
  BOOST_TEST(value_of<High>(89.0f) == 89.0f);
  const auto v = cpu::activation<High>(simd::splat<simd::vec<float>>(89.0f));
  BOOST_TEST(v[0] == 89.0f);
  BOOST_TEST(value_of<Softplus<>>(-100.0f) > 0.0f);  // e^-100, a subnormal float
}

BOOST_AUTO_TEST_CASE(names_say_the_constants) {
  BOOST_TEST(SiLU::name() == "SiLU");
  BOOST_TEST(Softplus<>::name() == "Softplus<1,20>");
  BOOST_TEST((Softplus<0.5f, 5.0f>::name()) == "Softplus<0.5,5>");
  BOOST_TEST(Mish::name() == "Mish");
  BOOST_TEST(Hardswish::name() == "Hardswish");
  BOOST_TEST((Sequential<Input<2>, Linear<3>, Softplus<2.0f, 1.0f>, Linear<1>>::name()).find("Softplus<2,1>") !=
             std::string::npos);
}

// ============================================================ what backward keeps

BOOST_AUTO_TEST_CASE_TEMPLATE(backward_keeps_the_preactivation, A, Activations) {
  BOOST_TEST((ActivationBackward<A>::saved == Case<A>::saved));
  // ... and so a block without BatchNorm stores it (with BatchNorm, x-hat).
  using Net = Sequential<Input<3>, Linear<4>, A, Linear<2>>;
  BOOST_TEST((Net::template block<0>::keeps == Keeps::preactivation));
  using Normalised = Sequential<Input<3>, Linear<4>, BatchNorm<>, A, Linear<2>>;
  BOOST_TEST((Normalised::template block<0>::keeps == Keeps::normalized));
}

// Why the output would not do: SiLU, Mish and Hardswish are not monotonic,
// so one y comes from two x with derivatives of opposite signs. (Softplus is
// monotonic, but whether beta x > threshold cannot be told from y exactly;
// see activations.hpp.)
namespace {
template <class A>
void expect_one_output_two_slopes(double right, double left_lo, double left_hi) {
  const double target = value_of<A>(right);
  double lo = left_lo, hi = left_hi;  // f falls across [lo, hi]: f(lo) > target > f(hi)
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (value_of<A>(mid) > target ? lo : hi) = mid;
  }
  const double left = (lo + hi) / 2;
  BOOST_TEST_INFO(A::name() << ": f(" << right << ") = f(" << left << ") = " << target);
  BOOST_TEST(std::abs(value_of<A>(left) - target) < 1e-12);
  BOOST_TEST(derivative_of<A>(right) > 0.05);
  BOOST_TEST(derivative_of<A>(left) < -0.05);
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_output_does_not_determine_the_derivative) {
  expect_one_output_two_slopes<SiLU>(-0.5, -10.0, -1.28);
  expect_one_output_two_slopes<Mish>(-0.5, -10.0, -1.2);
  expect_one_output_two_slopes<Hardswish>(-1.0, -3.0, -1.5);
}

// ============================================================ float evaluation

// Float against double, on the CPU kernels' path (cpu::activation and
// cpu::activation_derivative on SIMD vectors) and the GPU's (scalars), over
// the whole grid. The bounds:
//   value       |error| <= 1e-6 max(|f|, 1e-30 (1 + |x|)): relative, except
//               where the exact result is below FLT_MIN: float vectors clamp
//               e^x at x = -87.3 (simd::exp_f32), so Softplus and Mish give
//               0 there, and SiLU x sigmoid(x) with sigmoid's floor of 6e-39,
//               up to 6e-39 |x| (the same floor is in SiLU' and Mish');
//   derivative  |error| <= 1e-6 max(|f'|, 0.1) (1 + |x|): the formulas
//               add terms of order 0.1 to 1 which cancel near a zero of f'
//               (SiLU at -2.4, Mish at -1.19), and multiply x by
//               1 - sigmoid(x) or 1 - tanh^2, which float rounds to about
//               6e-8 absolute (PyTorch's float backward has the same terms).
// Every result is finite, but Hardswish's above FLT_MAX / 6, where x * 6
// overflows to inf as in PyTorch.
namespace {
template <class A>
constexpr bool overflows_above_max_over_6 = std::is_same_v<A, Hardswish>;
}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(float_evaluation_accuracy, A, Activations) {
  using V = simd::vec<float>;
  constexpr int W = simd::lanes<float>;
  const std::vector<float> xs = grid<float>();
  double worst[2][2] = {};  // [vector, scalar][value, derivative], in units of the bounds above
  for (std::size_t i = 0; i < xs.size(); i += W) {
    V u = simd::splat<V>(0.0f);
    const int n = static_cast<int>(std::min<std::size_t>(W, xs.size() - i));
    for (int l = 0; l < n; ++l) u[l] = xs[i + static_cast<std::size_t>(l)];
    const V y = cpu::activation<A>(u);
    const V d = cpu::activation_derivative<A>(u, y);
    for (int l = 0; l < n; ++l) {
      const float x = u[l];
      const double ax = std::abs(static_cast<double>(x));
      const double ry = value_of<A>(static_cast<double>(x)), rd = derivative_of<A>(static_cast<double>(x));
      const float sy = value_of<A>(x), sd = derivative_of<A>(x);
      BOOST_TEST_INFO(A::name() << " at x = " << x << ": vector " << y[l] << ", " << d[l] << "; scalar " << sy << ", "
                                << sd << "; double " << ry << ", " << rd);
      const float got[2][2] = {{y[l], d[l]}, {sy, sd}};
      for (int path = 0; path < 2; ++path) {
        if (overflows_above_max_over_6<A> && x > std::numeric_limits<float>::max() / 6) {
          BOOST_TEST(got[path][0] == std::numeric_limits<float>::infinity());
          continue;
        }
        BOOST_TEST((std::isfinite(got[path][0]) && std::isfinite(got[path][1])));
        const double ev = std::abs(got[path][0] - ry) / std::max(std::abs(ry), 1e-30 * (1 + ax));
        const double ed = std::abs(got[path][1] - rd) / (std::max(std::abs(rd), 0.1) * (1 + ax));
        worst[path][0] = std::max(worst[path][0], ev / 1e-6);
        worst[path][1] = std::max(worst[path][1], ed / 1e-6);
      }
    }
  }
  BOOST_TEST_MESSAGE(A::name() << " in float, error / bound: vectors " << worst[0][0] << " (value), " << worst[0][1]
                               << " (derivative); scalars " << worst[1][0] << ", " << worst[1][1]);
  for (const auto& path : worst)
    for (double w : path) BOOST_TEST(w <= 1.0);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(nan_stays_nan, A, Activations) {
  using V = simd::vec<float>;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const V y = cpu::activation<A>(simd::splat<V>(nan));
  BOOST_TEST(std::isnan(y[0]));
  BOOST_TEST(std::isnan(value_of<A>(nan)));
  BOOST_TEST(std::isnan(value_of<A>(std::numeric_limits<double>::quiet_NaN())));
}

// ============================================================ checkpoints

namespace {
struct ScratchFile {
  std::filesystem::path path;
  ScratchFile() {
    std::string pattern = (std::filesystem::temp_directory_path() / "typenet-activations-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = std::filesystem::path(pattern) / "model.tn";
  }
  ~ScratchFile() {
    std::error_code ignored;
    std::filesystem::remove_all(path.parent_path(), ignored);
  }
};
}  // namespace

// Saved after a training step, loaded into a model of other initial values:
// the same parameters, statistics and evaluation, bit for bit.
BOOST_AUTO_TEST_CASE_TEMPLATE(checkpoint_round_trip, A, NetworkActivations) {
  using Net = Sequential<Input<6>, Linear<10>, BatchNorm<>, A, Dropout<0.1f>, Linear<8>, A, Linear<3>>;
  ScratchFile file;
  Model<Net> saved(Init::torch_default, 1);
  Matrix<float> x(16, 6), t(16, 3);
  Rng rng(2);
  for (std::size_t i = 0; i < 16; ++i) {
    for (std::size_t j = 0; j < 6; ++j) x(i, j) = static_cast<float>(rng.normal());
    for (std::size_t j = 0; j < 3; ++j) t(i, j) = static_cast<float>(rng.normal());
  }
  Adam<> adam;
  train_step(saved, x.view(), t.view(), MeanSquaredError{}, adam);
  save_checkpoint(file.path, saved);
  BOOST_TEST(describe_checkpoint(file.path).signature == Net::name());
  Model<Net> loaded(Init::torch_default, 2);
  load_checkpoint(file.path, loaded);
  BOOST_TEST(std::equal(loaded.parameters().begin(), loaded.parameters().end(), saved.parameters().begin()));
  BOOST_TEST(std::equal(loaded.state().begin(), loaded.state().end(), saved.state().begin()));
  const auto a = saved.forward(x.view(), Mode::eval);
  const std::vector<float> from_saved(a.data, a.data + a.rows * a.cols);
  const auto b = loaded.forward(x.view(), Mode::eval);
  BOOST_TEST(std::memcmp(from_saved.data(), b.data, from_saved.size() * sizeof(float)) == 0);
}

// The constants are part of the network: Softplus<2, 1>'s checkpoint is not
// Softplus<>'s.
BOOST_AUTO_TEST_CASE(another_softplus_is_another_network) {
  ScratchFile file;
  save_checkpoint(file.path, Model<Sequential<Input<2>, Linear<4>, Softplus<2.0f, 1.0f>, Linear<1>>>());
  Model<Sequential<Input<2>, Linear<4>, Softplus<>, Linear<1>>> other;
  try {
    load_checkpoint(file.path, other);
    BOOST_FAIL("the load should have been refused");
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    BOOST_TEST_INFO(what);
    BOOST_TEST(what.find("saved for Sequential<Input<2>,Linear<4>,Softplus<2,1>,Linear<1>>, this network is "
                         "Sequential<Input<2>,Linear<4>,Softplus<1,20>,Linear<1>>") != std::string::npos);
  }
}
