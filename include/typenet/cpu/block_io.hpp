// What a CPU block kernel is given besides its buffers (BlockBuffers,
// kernels/block_buffers.hpp): the step (batch, mode, dropout key) with the
// model's threads and, for synchronised BatchNorm, the reducer; and how work
// is split across the threads (run_tasks). Shared by the forward and
// backward kernels.
#pragma once

#include "typenet/config.hpp"

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "typenet/base/mode.hpp"
#include "typenet/cpu/batch_reducer.hpp"
#include "typenet/cpu/thread_pool.hpp"
#include "typenet/kernels/block_buffers.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

/// A block's step with what the CPU kernels add: the thread pool and the reducer of synchronised BatchNorm.
struct StepInfo : BlockStep {
  ThreadPool* pool = nullptr;  ///< the pool the kernel may use (nullptr: this thread)
  /// BatchNorm statistics summed across processes (synchronised BatchNorm);
  /// null: this batch alone.
  BatchStatisticsReducer<float>* reducer_float = nullptr;
  BatchStatisticsReducer<double>* reducer_double = nullptr;  ///< see reducer_float

  /// The reducer for scalar type T.
  template <class T>
  BatchStatisticsReducer<T>* reducer() const {
    if constexpr (std::is_same_v<T, float>) return reducer_float;
    else return reducer_double;
  }
};

/// The passes of a BatchNorm block in train mode. One process: `all` at once,
/// each panel finishing while it is in cache. Synchronised across processes,
/// the statistics are summed between passes: `column_sums` (the product, and
/// sum z into stats.mean), `squared_deviations` (the global mean into
/// stats.mean, sum (z - mean)^2 into stats.inv_std), `normalise` (the rest).
enum class BatchNormPass { all, column_sums, squared_deviations, normalise };

/// Below this many multiply-adds a kernel stays on the calling thread: waking
/// another costs more than the work.
inline constexpr std::size_t parallel_threshold_macs = std::size_t{1} << 17;

/// Runs f(0) ... f(tasks - 1) on the pool when the work is large enough to pay for waking it, else on this thread.
template <class F>
void run_tasks(ThreadPool* pool, std::size_t tasks, std::size_t macs, F&& f) {
  if (pool && pool->size() > 1 && tasks > 1 && macs >= parallel_threshold_macs) pool->parallel_for(tasks, f);
  else f(std::size_t{0}, tasks);
}

}  // namespace typenet::cpu
