// The CPU as a model backend (model/model_core.hpp): host memory, 64-byte
// aligned; each block's fused kernels run on the calling thread and, above
// their work threshold, on the model's thread pool.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "typenet/base/aligned_buffer.hpp"
#include "typenet/cpu/batch_reducer.hpp"
#include "typenet/cpu/block_backward.hpp"
#include "typenet/cpu/block_forward.hpp"
#include "typenet/cpu/thread_pool.hpp"
#include "typenet/kernels/block_buffers.hpp"
#include "typenet/kernels/softmax.hpp"
#include "typenet/topology/sequential.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

/// The CPU's side of ModelCore: host memory, the fused block kernels, the thread pool.
template <class T>
struct Backend {
  /// Host memory of U values, 64-byte aligned.
  template <class U>
  using Buffer = AlignedBuffer<U>;

  /// The pool the kernels may use above their work threshold; nullptr runs
  /// everything on the calling thread. Results do not depend on it.
  ThreadPool* pool = nullptr;

  /// Backward's room for one block's W transposed (rows rounded up to vectors).
  template <class Net>
  static constexpr std::size_t scratch_count() {
    std::size_t n = 0;
    for_each_block<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      constexpr std::size_t W = static_cast<std::size_t>(simd::lanes<T>);
      n = std::max(n, (B::in + W - 1) / W * W * B::out);
    });
    return n;
  }

  /// Runs block Block's fused forward kernel.
  template <class B>
  void forward(const BlockBuffers<T>& io, const BlockStep& step, BatchStatisticsReducer<T>* reducer) const {
    block_forward<B, T>(io, step_info(step, reducer));
  }
  /// Runs block Block's fused backward kernel; the sink takes each parameter gradient (stored, or applied as an optimizer step).
  template <class B, class Sink>
  void backward(const BlockBuffers<T>& io, T* dy, T* dx, const BlockStep& step, BatchStatisticsReducer<T>* reducer,
                const Sink& sink) const {
    block_backward<B, T>(io, dy, dx, step_info(step, reducer), sink);
  }

  /// The softmax of each row of logits into p.
  void softmax(const T* logits, T* p, std::size_t rows, std::size_t cols) const {
    for (std::size_t i = 0; i < rows; ++i) softmax::probabilities(logits + i * cols, p + i * cols, cols);
  }
  /// The gradient through the softmax, row by row, in place in g.
  void softmax_backward(const T* p, T* g, std::size_t rows, std::size_t cols) const {
    for (std::size_t i = 0; i < rows; ++i) softmax::backward(p + i * cols, g + i * cols, cols);
  }

  /// Host memory throughout.
  void upload(T* dst, const T* src, std::size_t n) const { std::copy_n(src, n, dst); }
  /// Copies n values (host to host).
  void download(T* dst, const T* src, std::size_t n) const { std::copy_n(src, n, dst); }
  /// Every pointer is in host memory here.
  void check_device_memory(const void*, const char*) const {}

 private:
  StepInfo step_info(const BlockStep& step, BatchStatisticsReducer<T>* reducer) const {
    StepInfo s;
    static_cast<BlockStep&>(s) = step;
    s.pool = pool;
    if constexpr (std::is_same_v<T, float>) s.reducer_float = reducer;
    else s.reducer_double = reducer;
    return s;
  }
};

}  // namespace typenet::cpu
