// Toy data sets with scikit-learn's geometry (make_moons, make_circles,
// make_blobs). The draws come from typenet's Rng, so a seed gives the same
// data on every machine (not the same numbers as NumPy's generator).
#pragma once

#include "typenet/config.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "typenet/base/matrix.hpp"
#include "typenet/random/rng.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::data {

/// Samples as rows of x, with an integer class label per sample.
template <class T>
struct LabelledData {
  Matrix<T> x;  ///< one sample per row
  std::vector<std::int32_t> labels;  ///< one class id per sample

  /// The number of samples.
  std::size_t size() const { return labels.size(); }
  /// Labels as a column of values: class c maps to negative (c == 0) or
  /// positive: {-1, +1} for the hinge loss, {0, 1} for cross-entropy.
  Matrix<T> label_column(T negative, T positive) const {
    Matrix<T> t(labels.size(), 1);
    for (std::size_t i = 0; i < labels.size(); ++i) t(i, 0) = labels[i] == 0 ? negative : positive;
    return t;
  }
};

namespace generator_detail {
template <class T>
void shuffle_and_add_noise(LabelledData<T>& d, double noise, Rng& rng) {
  const std::size_t n = d.size(), f = d.x.cols();
  for (std::size_t i = n; i > 1; --i) {  // Fisher-Yates, rows and labels together
    const std::size_t j = rng.below(i);
    for (std::size_t c = 0; c < f; ++c) std::swap(d.x(i - 1, c), d.x(j, c));
    std::swap(d.labels[i - 1], d.labels[j]);
  }
  if (noise > 0)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < f; ++c) d.x(i, c) += static_cast<T>(rng.normal(0.0, noise));
}
inline void check(std::size_t n, double noise, const char* who) {
  if (n == 0) throw std::invalid_argument(std::string("typenet: ") + who + ": the number of samples must be >= 1.");
  if (!(noise >= 0)) throw std::invalid_argument(std::string("typenet: ") + who + ": noise must be >= 0.");
}
}  // namespace generator_detail

/// Two interleaving half circles: n/2 (rounded down) on the upper moon (label
/// 0), the rest on the lower one (label 1); shuffled; Gaussian noise of
/// standard deviation `noise` on each coordinate.
template <class T = float>
LabelledData<T> make_moons(std::size_t n, double noise, std::uint64_t seed) {
  generator_detail::check(n, noise, "make_moons");
  const std::size_t n_out = n / 2, n_in = n - n_out;
  LabelledData<T> d{Matrix<T>(n, 2), std::vector<std::int32_t>(n)};
  auto angle = [](std::size_t i, std::size_t count) {
    return count > 1 ? std::numbers::pi * static_cast<double>(i) / static_cast<double>(count - 1) : 0.0;
  };
  for (std::size_t i = 0; i < n_out; ++i) {
    d.x(i, 0) = static_cast<T>(std::cos(angle(i, n_out)));
    d.x(i, 1) = static_cast<T>(std::sin(angle(i, n_out)));
    d.labels[i] = 0;
  }
  for (std::size_t i = 0; i < n_in; ++i) {
    d.x(n_out + i, 0) = static_cast<T>(1 - std::cos(angle(i, n_in)));
    d.x(n_out + i, 1) = static_cast<T>(1 - std::sin(angle(i, n_in)) - 0.5);
    d.labels[n_out + i] = 1;
  }
  Rng rng(seed);
  generator_detail::shuffle_and_add_noise(d, noise, rng);
  return d;
}

/// Two concentric circles: the outer of radius 1 (label 0), the inner of
/// radius `factor` (label 1).
template <class T = float>
LabelledData<T> make_circles(std::size_t n, double noise, double factor, std::uint64_t seed) {
  generator_detail::check(n, noise, "make_circles");
  if (!(factor >= 0 && factor < 1)) throw std::invalid_argument("typenet: make_circles: factor must be in [0, 1).");
  const std::size_t n_out = n / 2, n_in = n - n_out;
  LabelledData<T> d{Matrix<T>(n, 2), std::vector<std::int32_t>(n)};
  for (std::size_t i = 0; i < n_out; ++i) {
    const double a = 2 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(n_out);
    d.x(i, 0) = static_cast<T>(std::cos(a));
    d.x(i, 1) = static_cast<T>(std::sin(a));
    d.labels[i] = 0;
  }
  for (std::size_t i = 0; i < n_in; ++i) {
    const double a = 2 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(n_in);
    d.x(n_out + i, 0) = static_cast<T>(factor * std::cos(a));
    d.x(n_out + i, 1) = static_cast<T>(factor * std::sin(a));
    d.labels[n_out + i] = 1;
  }
  Rng rng(seed);
  generator_detail::shuffle_and_add_noise(d, noise, rng);
  return d;
}

/// Isotropic Gaussian blobs: `centers` centres drawn uniformly in
/// [-10, 10]^features, samples spread evenly over them (label = centre).
template <class T = float>
LabelledData<T> make_blobs(std::size_t n, std::size_t centers, std::size_t features, double stddev,
                           std::uint64_t seed) {
  generator_detail::check(n, stddev, "make_blobs");
  if (centers == 0 || features == 0)
    throw std::invalid_argument("typenet: make_blobs: centers and features must be >= 1.");
  Rng rng(seed);
  std::vector<double> c(centers * features);
  for (double& v : c) v = rng.uniform(-10.0, 10.0);
  LabelledData<T> d{Matrix<T>(n, features), std::vector<std::int32_t>(n)};
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = i * centers / n;
    d.labels[i] = static_cast<std::int32_t>(k);
    for (std::size_t f = 0; f < features; ++f) d.x(i, f) = static_cast<T>(c[k * features + f]);
  }
  generator_detail::shuffle_and_add_noise(d, stddev, rng);
  return d;
}

}  // namespace typenet::data
