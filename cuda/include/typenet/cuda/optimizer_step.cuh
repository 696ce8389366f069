// An optimizer step over a parameter buffer in device memory, as one kernel,
// with the CPU's own per-parameter update (train/optimizers.hpp): the same
// functor, built on the device from the same numbers, one element per thread.
// Only the optimizer's state (momentum, moments) lives here, on the device;
// its options and step count stay in the CPU optimizer object.
//
//   cuda::OptimizerState<Adam<float>> state;          // device moments
//   state.step(adam, params.data(), grads.data(), n, stream);
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

#include "typenet/cuda/device_buffer.cuh"
#include "typenet/cuda/error.cuh"
#include "typenet/train/optimizers.hpp"

namespace typenet::cuda {

namespace optimizer_detail {
// The scalar type of an optimizer and how many state buffers it keeps.
template <class O>
struct traits;
template <class T>
struct traits<SGD<T>> {
  using value_type = T;
  static constexpr int buffers = 1;  // momentum (unused without momentum)
};
template <class T, bool Decoupled>
struct traits<BasicAdam<T, Decoupled>> {
  using value_type = T;
  static constexpr int buffers = 2;  // first and second moments
};
}  // namespace optimizer_detail

template <class Update, class Scalars, class T, int S>
__global__ void update_kernel(T* params, std::array<T*, S> state, const T* grads, Scalars scalars, std::size_t n) {
  const Update u = Update::make(params, state.data(), scalars);
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    u(i, grads[i], simd::Tail<T>());
}

template <class Optimizer>
class OptimizerState {
 public:
  using T = typename optimizer_detail::traits<Optimizer>::value_type;
  static constexpr int buffers = optimizer_detail::traits<Optimizer>::buffers;

  // params -= the optimizer's step for grads, n values, on `stream`. The
  // state is allocated (zeroed) on the first step and whenever n changes,
  // which restarts the optimizer's step count as on the CPU.
  void step(Optimizer& optimizer, T* params, const T* grads, std::size_t n, cudaStream_t stream = nullptr) {
    if (n == 0) return;
    if (state_[0].size() != n) {
      for (auto& b : state_) {
        b = DeviceBuffer<T>(n);
        check(cudaMemsetAsync(b.data(), 0, n * sizeof(T), stream),
              "cudaMemsetAsync(" + std::to_string(n * sizeof(T)) + " bytes of optimizer state)");
      }
      optimizer.restart();
    }
    std::array<T*, buffers> state;
    for (int k = 0; k < buffers; ++k) state[k] = state_[k].data();
    using Update = typename Optimizer::Update;
    using Scalars = typename Optimizer::Scalars;
    constexpr int threads = 256;
    const auto blocks = static_cast<unsigned>(std::min<std::size_t>((n + threads - 1) / threads, 4096));
    update_kernel<Update, Scalars, T, buffers><<<blocks, threads, 0, stream>>>(params, state, grads,
                                                                               optimizer.begin_step(), n);
    check(cudaGetLastError(), "the optimizer step kernel launch (" + std::to_string(n) + " parameters)");
  }

  // State buffer k (SGD: the momentum; Adam: the first and second moments),
  // for checkpoints and tests.
  const DeviceBuffer<T>& buffer(int k) const { return state_.at(static_cast<std::size_t>(k)); }

 private:
  std::array<DeviceBuffer<T>, buffers> state_;
};

}  // namespace typenet::cuda
