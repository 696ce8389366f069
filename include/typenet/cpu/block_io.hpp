// What a block kernel is given: its buffers for one step (BlockIo), the
// step's batch, mode and threads (StepInfo), and how work is split across
// the model's threads (run_tasks). Shared by the forward and backward kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "typenet/cpu/batch_reducer.hpp"
#include "typenet/cpu/thread_pool.hpp"
#include "typenet/base/mode.hpp"

namespace typenet::cpu {

// What a block reads and writes in one step.
template <class T>
struct BlockIo {
  const T* x = nullptr;  // input, batch x in, row stride ldx
  std::size_t ldx = 0;
  T* y = nullptr;        // output, batch x out (dense)
  T* saved = nullptr;    // pre-activation or x-hat (batch x out), if the block keeps one
  T* mean = nullptr;     // BatchNorm batch mean (out)
  T* inv_std = nullptr;  // BatchNorm batch 1/sqrt(var + eps) (out)
  T* scratch = nullptr;  // backward: room for W transposed (in x out)
  T* sum_a = nullptr;    // synchronised BatchNorm backward: per-feature sums (out)
  T* sum_b = nullptr;
};

struct StepInfo {
  std::size_t batch = 0;
  Mode mode = Mode::eval;
  std::uint32_t dropout_key = 0;
  ThreadPool* pool = nullptr;
  // BatchNorm statistics summed across processes (synchronised BatchNorm);
  // null: this batch alone.
  BatchStatisticsReducer<float>* reducer_float = nullptr;
  BatchStatisticsReducer<double>* reducer_double = nullptr;

  template <class T>
  BatchStatisticsReducer<T>* reducer() const {
    if constexpr (std::is_same_v<T, float>) return reducer_float;
    else return reducer_double;
  }
};

// The passes of a BatchNorm block in train mode. One process: `all` at once,
// each panel finishing while it is in cache. Synchronised across processes,
// the statistics are summed between passes: `column_sums` (the product, and
// sum z into io.mean), `squared_deviations` (the global mean into io.mean,
// sum (z - mean)^2 into io.inv_std), `normalise` (the rest).
enum class BatchNormPass { all, column_sums, squared_deviations, normalise };

// Below this many multiply-adds a kernel stays on the calling thread: waking
// another costs more than the work.
inline constexpr std::size_t parallel_threshold_macs = std::size_t{1} << 17;

template <class F>
void run_tasks(ThreadPool* pool, std::size_t tasks, std::size_t macs, F&& f) {
  if (pool && pool->size() > 1 && tasks > 1 && macs >= parallel_threshold_macs) pool->parallel_for(tasks, f);
  else f(std::size_t{0}, tasks);
}

}  // namespace typenet::cpu
