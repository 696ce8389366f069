// The GPU's training kernels besides the blocks, as one thread's work each
// (like cuda/block_kernels.hpp: run on a grid by the CUDA executor, one
// thread after another by the host executor in the CPU-only tests):
//
//   ElementwiseLossRows       per row: sum_j E(s, t) in double; dLoss/ds = scale E'(s, t)
//   SoftmaxCrossEntropyRows   per row: log-sum-exp - l[label]; (softmax(l) - onehot) / rows
//   SumInChunks, FinishSum    the rows' values added in a fixed order (chunks of
//                             256 rows, then the chunks), and the first bad label
//   ScaleValues               a buffer times a number
//   OptimizerUpdate           the CPU optimizer's own per-parameter Update functor
//
// The losses' formulas are the CPU's expressions (train/losses.hpp); the
// value is summed in double in a fixed order, so a batch gives the same bits
// every time.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "typenet/config.hpp"
#include "typenet/cuda/scalar_expression.hpp"
#include "typenet/kernels/softmax.hpp"
#include "typenet/simd/vec.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// What a loss computation leaves for the host: the sum of the rows' values,
/// and the first row whose label was outside the output (none: ~0).
struct LossResult {
  double total = 0;  ///< the sum of the rows' loss values
  std::uint64_t bad_row = ~std::uint64_t{0};  ///< the first row with a label outside the output (~0: none)
};

inline constexpr std::size_t loss_rows_per_chunk = 256;  ///< rows summed by one thread of the loss's reduction (fixed, so the sum is the same on any GPU)

/// An elementwise loss row by row: each row's value and the gradient of the loss in place.
template <class T, class E, class Gradient>
struct ElementwiseLossRows {
  const T* out;  ///< the network's output, rows x cols
  const T* target;  ///< the targets
  T* grad;  ///< dLoss/dOutput written
  double* row_value;  ///< each row's loss value
  T scale;  ///< 1/(rows cols) for the mean, 1 for the sum
  ///@{
  /// The shape of the output.
  std::size_t rows, cols;
  ///@}

  /// How many threads the kernel runs: one per row.
  TYPENET_HD std::size_t threads() const { return rows; }
  /// One thread's work, thread i.
  TYPENET_HD void operator()(std::size_t i) const {
    constexpr E e{};
    constexpr Gradient g{};
    double sum = 0;
    for (std::size_t j = 0; j < cols; ++j) {
      const std::size_t at = i * cols + j;
      const Values<T, 2> a{{out[at], target[at]}};
      sum += static_cast<double>(e.template eval<T>(a));
      grad[at] = scale * g.template eval<T>(a);
    }
    row_value[i] = sum;
  }
};

/// A label outside [0, cols) marks its row (row_bad) and leaves it alone.
template <class T>
struct SoftmaxCrossEntropyRows {
  const T* logits;  ///< the logits, rows x cols
  const std::int32_t* labels;  ///< one class label per row
  T* grad;  ///< dLoss/dLogits written
  double* row_value;  ///< each row's loss value
  std::int32_t* row_bad;  ///< per row, whether its label is outside the output
  ///@{
  /// The shape of the logits.
  std::size_t rows, cols;
  ///@}

  /// How many threads the kernel runs: one per row.
  TYPENET_HD std::size_t threads() const { return rows; }
  /// One thread's work, thread i.
  TYPENET_HD void operator()(std::size_t i) const {
    const std::int32_t label = labels[i];
    row_bad[i] = label < 0 || static_cast<std::size_t>(label) >= cols;
    if (row_bad[i]) {
      row_value[i] = 0;
      return;
    }
    const T* l = logits + i * cols;
    const T lse = softmax::log_sum_exp(l, cols);
    row_value[i] = static_cast<double>(lse - l[label]);
    const T inv_rows = T(1) / static_cast<T>(rows);
    for (std::size_t j = 0; j < cols; ++j)
      grad[i * cols + j] = (std::exp(l[j] - lse) - (j == static_cast<std::size_t>(label) ? T(1) : T(0))) * inv_rows;
  }
};

/// Thread c adds rows [256 c, 256 c + 256) in order; row_bad may be null.
struct SumInChunks {
  const double* row_value;  ///< each row's loss value
  const std::int32_t* row_bad;  ///< per row, whether its label is bad
  double* chunk_value;  ///< each chunk's sum
  std::uint64_t* chunk_bad;  ///< each chunk's first bad row
  std::size_t rows;  ///< the number of rows

  /// How many threads the kernel runs.
  TYPENET_HD std::size_t threads() const { return (rows + loss_rows_per_chunk - 1) / loss_rows_per_chunk; }
  /// One thread's work, thread c.
  TYPENET_HD void operator()(std::size_t c) const {
    const std::size_t begin = c * loss_rows_per_chunk;
    const std::size_t end = rows - begin < loss_rows_per_chunk ? rows : begin + loss_rows_per_chunk;
    double sum = 0;
    std::uint64_t bad = ~std::uint64_t{0};
    for (std::size_t i = begin; i < end; ++i) {
      sum += row_value[i];
      if (row_bad && row_bad[i] && bad == ~std::uint64_t{0}) bad = i;
    }
    chunk_value[c] = sum;
    chunk_bad[c] = bad;
  }
};

/// One thread: the chunks in order.
struct FinishSum {
  const double* chunk_value;  ///< each chunk's sum
  const std::uint64_t* chunk_bad;  ///< each chunk's first bad row
  LossResult* result;  ///< the result written
  std::size_t chunks;  ///< the number of chunks

  /// How many threads the kernel runs: one.
  TYPENET_HD std::size_t threads() const { return 1; }
  /// The one thread's work.
  TYPENET_HD void operator()(std::size_t) const {
    LossResult r;
    for (std::size_t c = 0; c < chunks; ++c) {
      r.total += chunk_value[c];
      if (r.bad_row == ~std::uint64_t{0}) r.bad_row = chunk_bad[c];
    }
    *result = r;
  }
};

/// values[i] *= scale (a data-parallel rank's share of the global batch,
/// applied to dLoss/dOutput before backward).
template <class T>
struct ScaleValues {
  T* values;  ///< the values scaled in place
  T scale;  ///< the factor
  std::size_t n;  ///< the number of values

  /// How many threads the kernel runs: one per value.
  TYPENET_HD std::size_t threads() const { return n; }
  /// One thread's work, thread i.
  TYPENET_HD void operator()(std::size_t i) const { values[i] *= scale; }
};

/// params[i] updated from grads[i] by the optimizer's Update functor, built
/// on each thread from the step's Scalars (optim/optimizer_base.hpp). One value
/// per thread: on the device a "vector" is one lane; on the host the functor
/// runs on vectors with one active lane, the same arithmetic as the CPU's.
template <class Update, class Scalars, class T, std::size_t S>
struct OptimizerUpdate {
  T* params;  ///< the parameters
  std::array<T*, S> state;  ///< the optimizer's state buffers
  const T* grads;  ///< the gradients
  Scalars scalars;  ///< the step's scalars
  std::size_t n;  ///< the number of parameters

  /// How many threads the kernel runs: one per value.
  TYPENET_HD std::size_t threads() const { return n; }
  /// One thread's work, thread i.
  TYPENET_HD void operator()(std::size_t i) const {
    const Update u = Update::make(params, state.data(), scalars);
    const simd::Tail<T> one(1);
    u(i, simd::load(grads + i, one), one);
  }
};

}  // namespace typenet::cuda
