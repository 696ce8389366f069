// The GPU's fused block kernels, each written as the work of one thread: a
// small struct of pointers and sizes whose operator()(t) is thread t's whole
// share, and threads() how many there are.
//
// The CUDA model launches them over a grid (cuda/launch.cuh); the host can
// run the very same structs one thread after another (HostExecutor), which is
// how the CPU-only test suite checks the GPU's arithmetic, indexing and
// orchestration against the CPU kernels on every build, GPU or not.
//
// Within a kernel no thread reads what another writes, and every sum is added
// by one thread in a fixed order, so results are deterministic: no atomics.
// Products accumulate with fma in ascending k, as the CPU's micro-kernel does.
//
// Forward of a block (train mode; eval folds BatchNorm into the epilogue):
//   ForwardProduct        z = x W;  no BatchNorm: u = z + b, y = drop(act(u))
//                                   BatchNorm:    keeps z
//   BatchNormColumnSums   per column: sum z                       } the batch statistics in
//   BatchNormSquaredDeviations  per column: sum (z - mean)^2      } two passes (exact where
//   BatchNormFinishStatistics   mean, 1/std, running statistics   } E[z^2] - E[z]^2 cancels)
//   BatchNormNormalise    x-hat = (z - mean) / std, u = gamma x-hat + beta, y = drop(act(u))
//   (LayerNorm, RMSNorm: ForwardProduct keeps z + b, then)
//   RowNormalise          per sample: mean, 1/std over its features, x-hat, u = gamma x-hat + beta,
//                         y = drop(act(u))
// Backward (dy holds dL/dY on entry, dL/dZ after the first kernel):
//   OutputGradient        dZ = dY drop' act'(u or y)                      (no normalisation)
//   BatchNormBackwardSums per column: dU as above, dgamma = sum dU x-hat, dbeta = sum dU
//   BatchNormBackwardNormalise  dZ = gamma/std (dU - (dbeta + x-hat dgamma) / batch)
//   RowNormBackwardSums   per sample: dU as above, g = dU gamma, sum g, sum g x-hat
//   RowNormParameterGradients  per column: dgamma = sum dU x-hat, dbeta = sum dU
//   RowNormBackwardNormalise   dZ = 1/std (g - (sum g + x-hat sum g x-hat) / width)
//   WeightGradient        dW = X^T dZ, db = sum_rows dZ
//   TransposeWeights      W^T into scratch, so that the next product reads it along rows
//   InputGradient         dX = dZ W^T
// Synchronised BatchNorm (several processes normalising with the statistics
// of all their batches together) sums the per-column sums across the
// processes between the passes: the `reduce` hook of block_forward and
// block_backward.
// Each thread of the two products owns a column and a few rows (a register
// tile): a warp's 32 threads read 32 consecutive values of the shared
// operand, and one value of the other (a broadcast).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "typenet/config.hpp"
#include "typenet/cpu/elementwise.hpp"
#include "typenet/kernels/block_buffers.hpp"
#include "typenet/kernels/normalization.hpp"
#include "typenet/kernels/softmax.hpp"
#include "typenet/cuda/scalar_expression.hpp"
#include "typenet/random/counter_hash.hpp"
#include "typenet/topology/activations.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

namespace block_kernel_detail {

/// Rows per thread in the two row-tiled products.
inline constexpr std::size_t rows_per_thread = 4;

TYPENET_HD inline std::size_t row_tiles(std::size_t batch) { return (batch + rows_per_thread - 1) / rows_per_thread; }

template <class Block, class T>
TYPENET_HD TYPENET_INLINE bool kept(std::uint32_t key, std::size_t row, std::size_t col) {
  const auto index = static_cast<std::uint32_t>((row * Block::out + col) & 0xffffffffu);
  return dropout_bits<std::uint32_t>(key, index) >= dropout_threshold(Block::dropout::probability);
}

/// y = drop(act(u)) at (row, col).
template <class Block, class T>
TYPENET_HD TYPENET_INLINE T finish(const BlockStep& s, T u, std::size_t row, std::size_t col) {
  T y = evaluate_scalar<T, expression_type<decltype(Block::activation::expression)>>(u);
  if constexpr (Block::has_dropout) {
    if (s.train()) {
      constexpr T scale = T(1) / (T(1) - T(Block::dropout::probability));
      const T keep = kept<Block, T>(s.dropout_key, row, col) ? T(1) : T(0);
      y = evaluate_scalar<T, expression_type<decltype(cpu::pieces::dropout)>>(y, keep, scale);
    }
  }
  return y;
}

/// dL/dU at (row, col) from dL/dY, the output y and the pre-activation u
/// (read only when the activation's derivative needs it).
template <class Block, class T>
TYPENET_HD TYPENET_INLINE T output_to_preactivation(const BlockStep& s, T g, T y, T u, std::size_t row, std::size_t col) {
  using Backward = ActivationBackward<typename Block::activation>;
  if constexpr (Block::has_dropout) {
    // Through inverted dropout: g keep / (1 - P), and the activation's
    // output before dropout is y (1 - P) where kept.
    constexpr T keep_scale = T(1) / (T(1) - T(Block::dropout::probability));
    using DropoutSlope = expression_type<decltype(expr::derivative<0>(cpu::pieces::dropout))>;
    const T keep = kept<Block, T>(s.dropout_key, row, col) ? T(1) : T(0);
    g = g * evaluate_scalar<T, DropoutSlope>(y, keep, keep_scale);
    y = y * (T(1) - T(Block::dropout::probability));
  }
  if constexpr (Backward::saved == expr::Saved::preactivation)
    return g * evaluate_scalar<T, expression_type<decltype(Backward::derivative)>>(u);
  else
    return g * evaluate_scalar<T, expression_type<decltype(Backward::derivative_of_output)>>(u, y);
}

}  // namespace block_kernel_detail

/// z = x W with the block's epilogue. Thread t: column t % out, rows
/// [r0, r0 + 4) of row tile t / out.
template <class Block, class T>
struct ForwardProduct {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in

  /// How many threads the kernel runs.
  TYPENET_HD std::size_t threads() const { return block_kernel_detail::row_tiles(s.batch) * Block::out; }
  /// One thread's work, thread t.
  TYPENET_HD void operator()(std::size_t t) const {
    using namespace block_kernel_detail;
    constexpr std::size_t In = Block::in, Out = Block::out, R = rows_per_thread;
    const std::size_t col = t % Out, r0 = t / Out * R;
    const std::size_t rows = s.batch - r0 < R ? s.batch - r0 : R;
    // Rows past the batch repeat its last row (no branch in the loop).
    const T* x[R];
    for (std::size_t r = 0; r < R; ++r) x[r] = a.x + (r < rows ? r0 + r : s.batch - 1) * a.ldx;
    const T* w = a.params + Block::weight_offset + col;
    T z[R] = {};
    for (std::size_t k = 0; k < In; ++k) {
      const T wk = w[k * Out];
      TYPENET_UNROLL
      for (std::size_t r = 0; r < R; ++r) z[r] = std::fma(x[r][k], wk, z[r]);
    }
    // The epilogue's per-column constants: the bias, or evaluation-mode
    // BatchNorm folded into u = z scale + shift.
    T scale = T(1), shift = T(0);
    if constexpr (Block::has_bias) shift = a.params[Block::bias_offset + col];
    if constexpr (Block::batch_statistics) {
      if (!s.train()) {
        norm::fold_running_statistics<typename Block::normalization, T>(
            a.params[Block::scale_offset + col], a.params[Block::shift_offset + col],
            a.state[Block::running_mean_offset + col], a.state[Block::running_var_offset + col], scale, shift);
      }
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t row = r0 + r, at = row * Out + col;
      T u = z[r];
      if constexpr (Block::batch_statistics) {
        if (s.train()) {  // the statistics kernels and BatchNormNormalise finish it
          a.saved[at] = z[r];
          continue;
        }
        u = evaluate_scalar<T, expression_type<decltype(cpu::pieces::affine)>>(z[r], scale, shift);
      } else if constexpr (Block::has_bias) {
        u = evaluate_scalar<T, expression_type<decltype(cpu::pieces::bias)>>(z[r], shift);
      }
      if constexpr (Block::sample_statistics) {  // RowNormalise finishes it
        (s.train() ? a.saved : a.y)[at] = u;
        continue;
      }
      if constexpr (Block::keeps == Keeps::preactivation)
        if (s.train()) a.saved[at] = u;
      a.y[at] = finish<Block, T>(s, u, row, col);
    }
  }
};

/// Per column: the sum of z over this batch, into mean (a sum until
/// BatchNormFinishStatistics divides it).
template <class Block, class T>
struct BatchNormColumnSums {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in

  /// How many threads the kernel runs: one per output feature.
  TYPENET_HD std::size_t threads() const { return Block::out; }
  /// One thread's work, thread col.
  TYPENET_HD void operator()(std::size_t col) const {
    T sum = 0;
    for (std::size_t i = 0; i < s.batch; ++i) sum += a.saved[i * Block::out + col];
    a.stats.mean[col] = sum;
  }
};

/// Per column: sum (z - mean)^2 with the mean of the whole statistics batch
/// (the second pass of the variance: exact where E[z^2] - E[z]^2 would
/// cancel), into inv_std.
template <class Block, class T>
struct BatchNormSquaredDeviations {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in

  /// How many threads the kernel runs: one per output feature.
  TYPENET_HD std::size_t threads() const { return Block::out; }
  /// One thread's work, thread col.
  TYPENET_HD void operator()(std::size_t col) const {
    const T mean = a.stats.mean[col] / static_cast<T>(s.statistics_batch);
    T squares = 0;
    for (std::size_t i = 0; i < s.batch; ++i) {
      const T d = a.saved[i * Block::out + col] - mean;
      squares = std::fma(d, d, squares);
    }
    a.stats.inv_std[col] = squares;
  }
};

/// Per column: mean, biased variance and 1/std from the sums, and the running
/// statistics (PyTorch's momentum; the unbiased variance).
template <class Block, class T>
struct BatchNormFinishStatistics {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in

  /// How many threads the kernel runs: one per output feature.
  TYPENET_HD std::size_t threads() const { return Block::out; }
  /// One thread's work, thread col.
  TYPENET_HD void operator()(std::size_t col) const {
    const T n = static_cast<T>(s.statistics_batch);
    const T mean = a.stats.mean[col] / n, var = a.stats.inv_std[col] / n;
    a.stats.mean[col] = mean;
    using Norm = typename Block::normalization;
    a.stats.inv_std[col] = norm::inverse_deviation<Norm, T>(var);
    norm::update_running_statistics<Norm, T>(a.state[Block::running_mean_offset + col],
                                             a.state[Block::running_var_offset + col], mean, var, s.statistics_batch);
  }
};

/// Per element: x-hat over z (in place), the affine, activation and dropout.
template <class Block, class T>
struct BatchNormNormalise {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in

  /// How many threads the kernel runs: one per output value.
  TYPENET_HD std::size_t threads() const { return s.batch * Block::out; }
  /// One thread's work, thread at.
  TYPENET_HD void operator()(std::size_t at) const {
    const std::size_t row = at / Block::out, col = at % Block::out;
    const T xhat = evaluate_scalar<T, expression_type<decltype(cpu::pieces::normalize)>>(a.saved[at], a.stats.mean[col],
                                                                                          a.stats.inv_std[col]);
    a.saved[at] = xhat;
    const T u = evaluate_scalar<T, expression_type<decltype(cpu::pieces::affine)>>(
        xhat, a.params[Block::scale_offset + col], a.params[Block::shift_offset + col]);
    a.y[at] = block_kernel_detail::finish<Block, T>(s, u, row, col);
  }
};

/// Per sample (LayerNorm, RMSNorm), over the z + b ForwardProduct kept (in
/// saved when training, in y otherwise): the row's mean and variance in two
/// passes (RMSNorm: its mean square), 1/std, then x-hat (kept when training),
/// u = gamma x-hat + beta and y = drop(act(u)).
template <class Block, class T>
struct RowNormalise {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in

  /// How many threads the kernel runs: one per sample.
  TYPENET_HD std::size_t threads() const { return s.batch; }
  /// One thread's work, thread row.
  TYPENET_HD void operator()(std::size_t row) const {
    using Norm = typename Block::normalization;
    constexpr std::size_t Out = Block::out;
    T* z = (s.train() ? a.saved : a.y) + row * Out;
    T mean = 0;
    if constexpr (Norm::centred) {
      for (std::size_t j = 0; j < Out; ++j) mean += z[j];
      mean /= static_cast<T>(Out);
    }
    T squares = 0;
    for (std::size_t j = 0; j < Out; ++j) squares = std::fma(z[j] - mean, z[j] - mean, squares);
    const T inv_std = norm::inverse_deviation<Norm, T>(squares / static_cast<T>(Out));
    if (s.train()) {
      a.stats.mean[row] = mean;
      a.stats.inv_std[row] = inv_std;
    }
    for (std::size_t j = 0; j < Out; ++j) {
      const T xhat = evaluate_scalar<T, expression_type<decltype(cpu::pieces::normalize)>>(z[j], mean, inv_std);
      if (s.train()) a.saved[row * Out + j] = xhat;
      T u = xhat;
      if constexpr (Block::has_shift)
        u = evaluate_scalar<T, expression_type<decltype(cpu::pieces::affine)>>(
            xhat, a.params[Block::scale_offset + j], a.params[Block::shift_offset + j]);
      else if constexpr (Block::has_scale)
        u = xhat * a.params[Block::scale_offset + j];
      a.y[row * Out + j] = block_kernel_detail::finish<Block, T>(s, u, row, j);
    }
  }
};

/// dZ = dY drop' act' in place, per element (blocks without normalisation).
template <class Block, class T>
struct OutputGradient {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in
  T* dy;  ///< dLoss/dOutput of the block

  /// How many threads the kernel runs: one per output value.
  TYPENET_HD std::size_t threads() const { return s.batch * Block::out; }
  /// One thread's work, thread at.
  TYPENET_HD void operator()(std::size_t at) const {
    const T u = Block::keeps == Keeps::preactivation ? a.saved[at] : T(0);
    dy[at] = block_kernel_detail::output_to_preactivation<Block, T>(s, dy[at], a.y[at], u, at / Block::out,
                                                                    at % Block::out);
  }
};

/// BatchNorm's backward, first pass, per column over this batch: dU (in
/// place of dY), its sums, and from them the parameter gradients
/// dgamma = sum dU * du/dgamma (= x-hat), dbeta = sum dU * du/dbeta (= 1).
template <class Block, class T>
struct BatchNormBackwardSums {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in
  T* dy;  ///< dLoss/dOutput of the block

  /// How many threads the kernel runs: one per output feature.
  TYPENET_HD std::size_t threads() const { return Block::out; }
  /// One thread's work, thread col.
  TYPENET_HD void operator()(std::size_t col) const {
    constexpr std::size_t Out = Block::out;
    using Affine = expression_type<decltype(cpu::pieces::affine)>;
    const T gamma = a.params[Block::scale_offset + col], beta = a.params[Block::shift_offset + col];
    T sum_du = 0, sum_du_xhat = 0;
    for (std::size_t i = 0; i < s.batch; ++i) {
      const std::size_t at = i * Out + col;
      const T xhat = a.saved[at];
      const T u = evaluate_scalar<T, Affine>(xhat, gamma, beta);
      const T du = block_kernel_detail::output_to_preactivation<Block, T>(s, dy[at], a.y[at], u, i, col);
      dy[at] = du;
      sum_du += du;
      sum_du_xhat = std::fma(du, xhat, sum_du_xhat);
    }
    a.grads[Block::scale_offset + col] = sum_du_xhat;
    a.grads[Block::shift_offset + col] = sum_du;
    a.stats.sum_grad[col] = sum_du;
    a.stats.sum_grad_xhat[col] = sum_du_xhat;
  }
};

/// BatchNorm's backward, second pass, per element, with the sums over the
/// whole statistics batch: dZ = gamma/std (dU - (sum dU + x-hat sum dU x-hat) / batch).
template <class Block, class T>
struct BatchNormBackwardNormalise {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in
  T* dy;  ///< dLoss/dOutput of the block

  /// How many threads the kernel runs: one per output value.
  TYPENET_HD std::size_t threads() const { return s.batch * Block::out; }
  /// One thread's work, thread at.
  TYPENET_HD void operator()(std::size_t at) const {
    const std::size_t col = at % Block::out;
    const T inv_n = T(1) / static_cast<T>(s.statistics_batch);
    const T gain = a.params[Block::scale_offset + col] * a.stats.inv_std[col];
    dy[at] = gain * (dy[at] - std::fma(a.saved[at], a.stats.sum_grad_xhat[col], a.stats.sum_grad[col]) * inv_n);
  }
};

/// Per-sample statistics' backward, first pass, per sample: dU (in place of
/// dY) with u = gamma x-hat + beta, and the row's sums of g = dU gamma
/// (dL/dx-hat) and of g x-hat.
template <class Block, class T>
struct RowNormBackwardSums {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in
  T* dy;  ///< dLoss/dOutput of the block

  /// How many threads the kernel runs: one per sample.
  TYPENET_HD std::size_t threads() const { return s.batch; }
  /// One thread's work, thread row.
  TYPENET_HD void operator()(std::size_t row) const {
    constexpr std::size_t Out = Block::out;
    T sum_g = 0, sum_g_xhat = 0;
    for (std::size_t j = 0; j < Out; ++j) {
      const std::size_t at = row * Out + j;
      const T xhat = a.saved[at];
      const T gamma = Block::has_scale ? a.params[Block::scale_offset + j] : T(1);
      T u = xhat;
      if constexpr (Block::has_shift)
        u = evaluate_scalar<T, expression_type<decltype(cpu::pieces::affine)>>(xhat, gamma,
                                                                               a.params[Block::shift_offset + j]);
      else if constexpr (Block::has_scale)
        u = xhat * gamma;
      const T du = block_kernel_detail::output_to_preactivation<Block, T>(s, dy[at], a.y[at], u, row, j);
      dy[at] = du;
      sum_g += du * gamma;
      sum_g_xhat = std::fma(du * gamma, xhat, sum_g_xhat);
    }
    a.stats.sum_grad[row] = sum_g;
    a.stats.sum_grad_xhat[row] = sum_g_xhat;
  }
};

/// Per column, over the batch: dgamma = sum dU x-hat, dbeta = sum dU (before
/// RowNormBackwardNormalise overwrites dU).
template <class Block, class T>
struct RowNormParameterGradients {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in
  const T* du;  ///< dLoss/du, the gradient of the normalised values

  /// How many threads the kernel runs: one per output feature.
  TYPENET_HD std::size_t threads() const { return Block::out; }
  /// One thread's work, thread col.
  TYPENET_HD void operator()(std::size_t col) const {
    T sum_du = 0, sum_du_xhat = 0;
    for (std::size_t i = 0; i < s.batch; ++i) {
      const std::size_t at = i * Block::out + col;
      sum_du += du[at];
      sum_du_xhat = std::fma(du[at], a.saved[at], sum_du_xhat);
    }
    if constexpr (Block::has_scale) a.grads[Block::scale_offset + col] = sum_du_xhat;
    if constexpr (Block::has_shift) a.grads[Block::shift_offset + col] = sum_du;
  }
};

/// Per element: dZ = 1/std (dU gamma - (sum g + x-hat sum g x-hat) / width)
/// (RMSNorm: without sum g).
template <class Block, class T>
struct RowNormBackwardNormalise {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in
  T* dy;  ///< dLoss/dOutput of the block

  /// How many threads the kernel runs: one per output value.
  TYPENET_HD std::size_t threads() const { return s.batch * Block::out; }
  /// One thread's work, thread at.
  TYPENET_HD void operator()(std::size_t at) const {
    const std::size_t row = at / Block::out, col = at % Block::out;
    const T inv_n = T(1) / static_cast<T>(Block::out);
    const T gamma = Block::has_scale ? a.params[Block::scale_offset + col] : T(1);
    const T s1 = Block::normalization::centred ? a.stats.sum_grad[row] * inv_n : T(0);
    const T s2 = a.stats.sum_grad_xhat[row] * inv_n;
    dy[at] = a.stats.inv_std[row] * (dy[at] * gamma - std::fma(a.saved[at], s2, s1));
  }
};

/// dW = X^T dZ (thread t: column t % out, rows [k0, k0 + 4) of W), and one
/// more row of threads for db = sum_rows dZ when the block has a bias.
template <class Block, class T>
struct WeightGradient {
  BlockBuffers<T> a;  ///< the block's buffers
  BlockStep s;  ///< the step the kernel runs in
  const T* dz;  ///< dLoss/dz, the gradient of the Linear's output

  /// The number of tiles of rows_per_thread inputs each column's weights are split into.
  static constexpr std::size_t k_tiles = (Block::in + block_kernel_detail::rows_per_thread - 1) /
                                         block_kernel_detail::rows_per_thread;
  /// How many threads the kernel runs.
  TYPENET_HD std::size_t threads() const { return (k_tiles + (Block::has_bias ? 1 : 0)) * Block::out; }
  /// One thread's work, thread t.
  TYPENET_HD void operator()(std::size_t t) const {
    constexpr std::size_t In = Block::in, Out = Block::out, R = block_kernel_detail::rows_per_thread;
    const std::size_t col = t % Out, tile = t / Out;
    if (tile == k_tiles) {  // db = sum dZ * du/db, du/db = 1
      T sum = 0;
      for (std::size_t i = 0; i < s.batch; ++i) sum += dz[i * Out + col];
      a.grads[Block::bias_offset + col] = sum;
      return;
    }
    const std::size_t k0 = tile * R, rows = In - k0 < R ? In - k0 : R;
    std::size_t k[R];
    for (std::size_t r = 0; r < R; ++r) k[r] = r < rows ? k0 + r : In - 1;
    T acc[R] = {};
    for (std::size_t i = 0; i < s.batch; ++i) {
      const T d = dz[i * Out + col];
      const T* xi = a.x + i * a.ldx;
      TYPENET_UNROLL
      for (std::size_t r = 0; r < R; ++r) acc[r] = std::fma(xi[k[r]], d, acc[r]);
    }
    for (std::size_t r = 0; r < rows; ++r) a.grads[Block::weight_offset + (k0 + r) * Out + col] = acc[r];
  }
};

/// wt (out x in) = W^T; thread t writes wt[t].
template <class Block, class T>
struct TransposeWeights {
  const T* params;  ///< the model's parameters (the block's weights by offset)
  T* wt;  ///< the transposed weights, out x in

  /// How many threads the kernel runs: one per weight.
  TYPENET_HD std::size_t threads() const { return Block::in * Block::out; }
  /// One thread's work, thread t.
  TYPENET_HD void operator()(std::size_t t) const {
    const std::size_t j = t / Block::in, k = t % Block::in;
    wt[t] = params[Block::weight_offset + k * Block::out + j];
  }
};

/// dX = dZ W^T, reading W^T from TransposeWeights. Thread t: input column
/// t % in, rows [r0, r0 + 4) of row tile t / in.
template <class Block, class T>
struct InputGradient {
  const T* dz;  ///< dLoss/dz, batch x out
  const T* wt;  ///< the transposed weights
  T* dx;  ///< dLoss/dInput, batch x in
  std::size_t batch;  ///< the samples in the step

  /// How many threads the kernel runs.
  TYPENET_HD std::size_t threads() const { return block_kernel_detail::row_tiles(batch) * Block::in; }
  /// One thread's work, thread t.
  TYPENET_HD void operator()(std::size_t t) const {
    constexpr std::size_t In = Block::in, Out = Block::out, R = block_kernel_detail::rows_per_thread;
    const std::size_t k = t % In, r0 = t / In * R;
    const std::size_t rows = batch - r0 < R ? batch - r0 : R;
    const T* d[R];
    for (std::size_t r = 0; r < R; ++r) d[r] = dz + (r < rows ? r0 + r : batch - 1) * Out;
    T acc[R] = {};
    for (std::size_t j = 0; j < Out; ++j) {
      const T w = wt[j * In + k];
      TYPENET_UNROLL
      for (std::size_t r = 0; r < R; ++r) acc[r] = std::fma(d[r][j], w, acc[r]);
    }
    for (std::size_t r = 0; r < rows; ++r) dx[(r0 + r) * In + k] = acc[r];
  }
};

/// p = softmax(l) per row (thread = row), stable: exp(l - max l) / sum.
template <class T>
struct SoftmaxRows {
  const T* logits;  ///< the logits, rows x cols
  T* p;  ///< the probabilities written
  ///@{
  /// The shape of the logits.
  std::size_t rows, cols;
  ///@}

  /// How many threads the kernel runs: one per row.
  TYPENET_HD std::size_t threads() const { return rows; }
  /// One thread's work, thread i.
  TYPENET_HD void operator()(std::size_t i) const { softmax::probabilities(logits + i * cols, p + i * cols, cols); }
};

/// dl = p (dp - sum_j dp_j p_j) per row, in place.
template <class T>
struct SoftmaxBackwardRows {
  const T* p;  ///< the probabilities of forward
  T* g;  ///< dLoss/dProbabilities in, dLoss/dLogits out
  ///@{
  /// The shape of the probabilities.
  std::size_t rows, cols;
  ///@}

  /// How many threads the kernel runs: one per row.
  TYPENET_HD std::size_t threads() const { return rows; }
  /// One thread's work, thread i.
  TYPENET_HD void operator()(std::size_t i) const { softmax::backward(p + i * cols, g + i * cols, cols); }
};

/// The kernels of one block's forward, in order; `run(kernel)` runs one to
/// completion (a launch on a stream, or the host executor), and
/// `reduce(values, n)` sums BatchNorm's per-column sums over the processes
/// (synchronised BatchNorm; nothing for one process).
template <class Block, class T, class Run, class Reduce>
void block_forward(const BlockBuffers<T>& a, const BlockStep& s, Run&& run, Reduce&& reduce) {
  run(ForwardProduct<Block, T>{a, s});
  if constexpr (Block::batch_statistics) {
    if (s.train()) {
      run(BatchNormColumnSums<Block, T>{a, s});
      reduce(a.stats.mean, Block::out);
      run(BatchNormSquaredDeviations<Block, T>{a, s});
      reduce(a.stats.inv_std, Block::out);
      run(BatchNormFinishStatistics<Block, T>{a, s});
      run(BatchNormNormalise<Block, T>{a, s});
    }
  }
  if constexpr (Block::sample_statistics) run(RowNormalise<Block, T>{a, s});
}

/// The kernels of one block's backward: dy holds dL/dY and becomes dL/dZ;
/// parameter gradients go to a.grads; dx (with wt, in x out values of
/// scratch), when not null, receives dL/dX. `reduce` as for block_forward.
template <class Block, class T, class Run, class Reduce>
void block_backward(const BlockBuffers<T>& a, const BlockStep& s, T* dy, T* dx, T* wt, Run&& run, Reduce&& reduce) {
  if constexpr (Block::batch_statistics) {
    run(BatchNormBackwardSums<Block, T>{a, s, dy});
    reduce(a.stats.sum_grad, Block::out);
    reduce(a.stats.sum_grad_xhat, Block::out);
    run(BatchNormBackwardNormalise<Block, T>{a, s, dy});
  } else if constexpr (Block::sample_statistics) {
    run(RowNormBackwardSums<Block, T>{a, s, dy});
    run(RowNormParameterGradients<Block, T>{a, s, dy});
    run(RowNormBackwardNormalise<Block, T>{a, s, dy});
  } else {
    run(OutputGradient<Block, T>{a, s, dy});
  }
  run(WeightGradient<Block, T>{a, s, dy});
  if (dx) {
    run(TransposeWeights<Block, T>{a.params, wt});
    run(InputGradient<Block, T>{dy, wt, dx, s.batch});
  }
}

}  // namespace typenet::cuda
