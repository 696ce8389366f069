// Random splits of a labelled data set into parts (train / test, or
// train / validation / test), seeded so that a seed gives the same parts on
// every machine.
//
//   auto [train, test] = data::train_test_split(d, 0.2, /*seed*/ 1);            // 80 / 20
//   auto parts = data::random_split(d, {0.6, 0.2, 0.2}, /*seed*/ 1);            // 60 / 20 / 20
//   auto views = data::train_test_split_in_place(d, 0.2, /*seed*/ 1);          // no copies
//
// The parts are new LabelledData (copies): a split happens once, and owning
// parts outlive the data set they came from. Where holding the data twice
// costs too much (MNIST's training images are 188 MB of floats),
// train_test_split_in_place reorders the rows of the data set itself and
// returns views of the same parts.
//
// Part sizes:
//  - train_test_split follows scikit-learn's train_test_split(test_size=t):
//    test = ceil(t * n), train = n - test, with t * n computed in double as
//    Python does (so n = 100, t = 0.07 gives 7.000000000000001 and a test
//    part of 8, there and here).
//  - random_split follows PyTorch's random_split with fractions: each part
//    first gets floor(f_i * n) samples, then the samples left over go one at
//    a time to parts 0, 1, 2, ... in order. For two parts this can differ by
//    one sample from train_test_split (n = 10, {0.75, 0.25}: 8 / 2 here, 7 / 3
//    there); use train_test_split to match scikit-learn.
// Every part must receive at least one sample: an empty part is an error, not
// a silently empty evaluation.
//
// Which samples go where: the indices 0..n-1 are shuffled once with Rng(seed)
// (Fisher-Yates) and the parts take consecutive runs of that permutation, in
// the order given; within a part, samples keep the permutation's order.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "typenet/data/generators.hpp"
#include "typenet/random/rng.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::data {

/// A labelled data set split in two: copies.
template <class T>
struct TrainTestSplit {
  LabelledData<T> train;  ///< the training part
  LabelledData<T> test;  ///< the test part
};

namespace split_detail {

template <class T>
void check_consistent(const LabelledData<T>& d, const char* who) {
  if (d.x.rows() != d.labels.size())
    throw std::invalid_argument(std::string("typenet: ") + who + ": the data set has " + std::to_string(d.x.rows()) +
                                " rows of x but " + std::to_string(d.labels.size()) + " labels.");
  if (d.size() == 0) throw std::invalid_argument(std::string("typenet: ") + who + ": the data set is empty.");
}

/// The samples at `indices`, in that order, as a new data set.
template <class T>
LabelledData<T> gather(const LabelledData<T>& d, std::span<const std::size_t> indices) {
  const std::size_t cols = d.x.cols();
  LabelledData<T> part{Matrix<T>(indices.size(), cols), std::vector<std::int32_t>(indices.size())};
  for (std::size_t i = 0; i < indices.size(); ++i) {
    std::copy_n(d.x.row(indices[i]), cols, part.x.row(i));
    part.labels[i] = d.labels[indices[i]];
  }
  return part;
}

/// 0..n-1 shuffled with Rng(seed): the order the parts take their runs from.
inline std::vector<std::size_t> shuffled_order(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  Rng rng(seed);
  rng.shuffle(std::span<std::size_t>(order));
  return order;
}

/// Splits a shuffled 0..n-1 into consecutive runs of the given sizes.
template <class T>
std::vector<LabelledData<T>> split_by_sizes(const LabelledData<T>& d, std::span<const std::size_t> sizes,
                                            std::uint64_t seed) {
  const std::vector<std::size_t> order = shuffled_order(d.size(), seed);
  std::vector<LabelledData<T>> parts;
  parts.reserve(sizes.size());
  std::size_t begin = 0;
  for (const std::size_t size : sizes) {
    parts.push_back(gather(d, std::span<const std::size_t>(order).subspan(begin, size)));
    begin += size;
  }
  return parts;
}

/// scikit-learn's part sizes: test = ceil(test_size * n), train = n - test.
template <class T>
std::size_t test_part_size(const LabelledData<T>& d, double test_size, const char* who) {
  check_consistent(d, who);
  if (!(test_size > 0.0 && test_size < 1.0))
    throw std::invalid_argument(std::string("typenet: ") + who + ": test_size is " + std::to_string(test_size) +
                                "; it must be in (0, 1) (the fraction of samples that go to the test part).");
  const std::size_t n = d.size();
  const auto n_test = static_cast<std::size_t>(std::ceil(test_size * static_cast<double>(n)));
  if (n_test >= n)
    throw std::invalid_argument(std::string("typenet: ") + who + ": with " + std::to_string(n) +
                                " samples and test_size " + std::to_string(test_size) +
                                ", the train part would be empty.");
  return n_test;
}

/// Row i of d becomes the old row order[i], following each cycle of the
/// permutation with one row of scratch.
template <class T>
void permute_rows(LabelledData<T>& d, std::span<const std::size_t> order) {
  const std::size_t cols = d.x.cols();
  std::vector<T> held(cols);
  std::vector<bool> placed(order.size(), false);
  for (std::size_t start = 0; start < order.size(); ++start) {
    if (placed[start] || order[start] == start) continue;
    std::copy_n(d.x.row(start), cols, held.data());
    const std::int32_t held_label = d.labels[start];
    std::size_t to = start;
    for (std::size_t from = order[to]; from != start; to = from, from = order[to]) {
      std::copy_n(d.x.row(from), cols, d.x.row(to));
      d.labels[to] = d.labels[from];
      placed[to] = true;
    }
    std::copy_n(held.data(), cols, d.x.row(to));
    d.labels[to] = held_label;
    placed[to] = true;
  }
}

}  // namespace split_detail

/// scikit-learn's train_test_split(x, y, test_size=test_size) with typenet's
/// Rng: test = ceil(test_size * n) samples, train = the other n - test.
template <class T>
TrainTestSplit<T> train_test_split(const LabelledData<T>& d, double test_size, std::uint64_t seed) {
  const std::size_t n_test = split_detail::test_part_size(d, test_size, "train_test_split");
  const std::size_t sizes[] = {d.size() - n_test, n_test};
  auto parts = split_detail::split_by_sizes(d, sizes, seed);
  return {std::move(parts[0]), std::move(parts[1])};
}

/// A part of a data set that another object owns.
template <class T>
struct LabelledView {
  MatrixView<const T> x;  ///< one sample per row
  std::span<const std::int32_t> labels;  ///< one class id per sample
  /// The number of samples.
  std::size_t size() const { return labels.size(); }
};

/// A labelled data set split in two: views of one shuffled copy.
template <class T>
struct TrainTestViews {
  LabelledView<T> train;  ///< the training part
  LabelledView<T> test;  ///< the test part
};

/// train_test_split's parts, the same samples in the same order, without a
/// copy: the rows of `d` are reordered (the train part first, then the test
/// part) and the parts are views of `d`, valid while d lives unchanged.
template <class T>
TrainTestViews<T> train_test_split_in_place(LabelledData<T>& d, double test_size, std::uint64_t seed) {
  const std::size_t n_test = split_detail::test_part_size(d, test_size, "train_test_split_in_place");
  const std::size_t n_train = d.size() - n_test;
  split_detail::permute_rows(d, split_detail::shuffled_order(d.size(), seed));
  const MatrixView<const T> x = std::as_const(d.x).view();
  const std::span<const std::int32_t> labels(d.labels);
  return {{x.rows_view(0, n_train), labels.first(n_train)}, {x.rows_view(n_train, n_test), labels.subspan(n_train)}};
}

/// PyTorch's random_split with fractions (see the top of this file for the
/// rounding): one part per fraction, in that order. The fractions must be in
/// [0, 1] and sum to 1 (within 1e-9, as PyTorch's math.isclose), and every
/// part must get at least one sample.
template <class T>
std::vector<LabelledData<T>> random_split(const LabelledData<T>& d, const std::vector<double>& fractions,
                                          std::uint64_t seed) {
  split_detail::check_consistent(d, "random_split");
  if (fractions.empty()) throw std::invalid_argument("typenet: random_split: no fractions given.");
  double sum = 0;
  for (std::size_t i = 0; i < fractions.size(); ++i) {
    if (!(fractions[i] >= 0.0 && fractions[i] <= 1.0))
      throw std::invalid_argument("typenet: random_split: fraction " + std::to_string(i) + " is " +
                                  std::to_string(fractions[i]) + "; each fraction must be in [0, 1].");
    sum += fractions[i];
  }
  if (std::abs(sum - 1.0) > 1e-9)
    throw std::invalid_argument("typenet: random_split: the fractions sum to " + std::to_string(sum) +
                                ", not 1.");
  const std::size_t n = d.size();
  std::vector<std::size_t> sizes(fractions.size());
  std::size_t assigned = 0;
  for (std::size_t i = 0; i < fractions.size(); ++i) {
    sizes[i] = static_cast<std::size_t>(std::floor(static_cast<double>(n) * fractions[i]));
    assigned += sizes[i];
  }
  // Fractions summing to 1 within 1e-9 floor to at most n (plus rounding
  // slack on huge n, which the check below catches rather than wraps).
  if (assigned > n)
    throw std::invalid_argument("typenet: random_split: the fractions ask for more than the " + std::to_string(n) +
                                " samples there are.");
  for (std::size_t i = 0; assigned < n; ++i, ++assigned) ++sizes[i % sizes.size()];
  for (std::size_t i = 0; i < sizes.size(); ++i)
    if (sizes[i] == 0)
      throw std::invalid_argument("typenet: random_split: part " + std::to_string(i) + " (fraction " +
                                  std::to_string(fractions[i]) + ") would be empty with " + std::to_string(n) +
                                  " samples.");
  return split_detail::split_by_sizes(d, sizes, seed);
}

}  // namespace typenet::data
