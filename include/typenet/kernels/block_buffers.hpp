// What one block's kernels read and write in one step, as plain pointers
// and sizes: the same struct for the CPU kernels and for the GPU's, which
// copy it into each launch. The model core (model/model_core.hpp) fills it
// from the workspace layout; a backend only says where the memory is.
#pragma once

#include <cstddef>
#include <cstdint>

#include "typenet/base/mode.hpp"
#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// A normalisation's statistics: per feature (out values each, BatchNorm) or
/// per sample (batch values each, LayerNorm and RMSNorm).
template <class T>
struct NormStatistics {
  T* mean = nullptr;     ///< the mean (RMSNorm: unused); the column sums before it (synchronised BatchNorm)
  T* inv_std = nullptr;  ///< 1/sqrt(var + eps), or 1/rms; the squared deviations before it
  /// Backward's sums: of dL/du over what shares the statistics, and of
  /// dL/du x-hat (BatchNorm: over the batch; LayerNorm: dL/dx-hat over the row).
  T* sum_grad = nullptr;
  T* sum_grad_xhat = nullptr;  ///< see sum_grad

  /// The four vectors of `length` values each, one after another from `at`.
  static NormStatistics at(T* at, std::size_t length) {
    return {at, at + length, at + 2 * length, at + 3 * length};
  }
};
/// How many values NormStatistics::at lays out per unit of length.
inline constexpr std::size_t norm_statistics_vectors = 4;

/// Where one block's kernels read and write: the model's buffers and the block's slices of the workspace.
template <class T>
struct BlockBuffers {
  T* params = nullptr;  ///< the model's parameter buffer (the block finds its values by offset)
  T* state = nullptr;   ///< the model's state buffer
  T* grads = nullptr;   ///< the model's gradient buffer
  const T* x = nullptr;  ///< input, batch x in, row stride ldx
  std::size_t ldx = 0;  ///< the row stride of x
  T* y = nullptr;      ///< output, batch x out (dense)
  T* saved = nullptr;  ///< what forward keeps (Block::keeps): pre-activation or x-hat, batch x out
  NormStatistics<T> stats;  ///< the normalisation's statistics (NormStatistics)
  T* scratch = nullptr;  ///< backward: room for W transposed
};

/// The step a block's kernels run in.
struct BlockStep {
  std::size_t batch = 0;  ///< the samples in this step
  /// The samples BatchNorm's statistics cover: the batch, or every process's
  /// batches together (synchronised BatchNorm).
  std::size_t statistics_batch = 0;
  Mode mode = Mode::eval;  ///< train or eval
  std::uint32_t dropout_key = 0;  ///< the dropout stream's key for this block and step (random/counter_hash.hpp)
  /// Whether the step trains (batch statistics, dropout). The GPU's block
  /// kernels ask it too.
  TYPENET_HD bool train() const { return mode == Mode::train; }
};

}  // namespace typenet
