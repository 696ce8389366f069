// Losses on the GPU with the CPU's formulas (train/losses.hpp): the value of
// the batch and dLoss/dOutput.
//
//   cuda::LossWorkspace ws;
//   float l = cuda::loss(MeanSquaredError{}, out, target, grad, n, ws, stream);
//   float c = cuda::loss(SoftmaxCrossEntropy{}, logits, labels, grad, rows, cols, ws, stream);
//
// Elementwise losses evaluate the very expression and gradient expression
// the CPU evaluates; softmax cross-entropy is the same log-sum-exp per row.
// The value is summed in double and deterministically: each block adds its
// elements in a fixed tree, then one thread adds the blocks' sums in order,
// so a batch gives the same bits every time (the CPU sums in another order:
// the two agree to double rounding before the result is rounded to float).
// Both calls wait for the stream: the value is needed on the host.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "typenet/cuda/device_buffer.cuh"
#include "typenet/cuda/elementwise.cuh"
#include "typenet/cuda/error.cuh"
#include "typenet/train/losses.hpp"

namespace typenet::cuda {

namespace loss_detail {
inline constexpr int threads = 256;
inline constexpr int most_blocks = 1024;

// Adds the block's `local` values into partials[blockIdx.x], in a fixed tree.
__device__ inline void block_sum(double local, double* partials) {
  __shared__ double sums[threads];
  sums[threadIdx.x] = local;
  __syncthreads();
  for (int s = threads / 2; s > 0; s /= 2) {
    if (static_cast<int>(threadIdx.x) < s) sums[threadIdx.x] += sums[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = sums[0];
}

// (A template, so that the header may define it in many translation units.)
template <int = 0>
__global__ void sum_in_order(const double* partials, int count, double* total) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    double t = 0;
    for (int b = 0; b < count; ++b) t += partials[b];
    *total = t;
  }
}

template <class T, class E, class G>
__global__ void elementwise_loss_kernel(const T* out, const T* target, T* grad, T scale, std::size_t n,
                                        double* partials) {
  constexpr E e{};
  constexpr G g{};
  double local = 0;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const Values<T, 2> a{{out[i], target[i]}};
    local += static_cast<double>(e.template eval<T>(a));
    grad[i] = scale * g.template eval<T>(a);
  }
  block_sum(local, partials);
}

// One row per thread; a label outside [0, cols) leaves its row alone and
// records the smallest such row in *bad_row.
template <class T>
__global__ void softmax_cross_entropy_kernel(const T* logits, const std::int32_t* labels, T* grad, std::size_t rows,
                                             std::size_t cols, double* partials, unsigned long long* bad_row) {
  const T inv_batch = T(1) / static_cast<T>(rows);
  double local = 0;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows; i += stride) {
    const std::int32_t label = labels[i];
    if (label < 0 || static_cast<std::size_t>(label) >= cols) {
      atomicMin(bad_row, static_cast<unsigned long long>(i));
      continue;
    }
    const T* row = logits + i * cols;
    T m = row[0];
    for (std::size_t j = 1; j < cols; ++j) m = row[j] > m ? row[j] : m;
    T sum = 0;
    for (std::size_t j = 0; j < cols; ++j) sum += std::exp(row[j] - m);
    const T lse = m + std::log(sum);
    local += static_cast<double>(lse - row[label]);
    if (grad)
      for (std::size_t j = 0; j < cols; ++j)
        grad[i * cols + j] = (std::exp(row[j] - lse) - (j == static_cast<std::size_t>(label) ? T(1) : T(0))) * inv_batch;
  }
  block_sum(local, partials);
}

inline unsigned blocks_for(std::size_t n) {
  return static_cast<unsigned>(std::clamp<std::size_t>((n + threads - 1) / threads, 1, most_blocks));
}
}  // namespace loss_detail

// Room for the partial sums, allocated once and reused by every call.
struct LossWorkspace {
  DeviceBuffer<double> partials{loss_detail::most_blocks}, total{1};
  DeviceBuffer<unsigned long long> bad_row{1};

  // The blocks' partial sums added in order, on the host.
  double finish(unsigned blocks, cudaStream_t stream) {
    loss_detail::sum_in_order<><<<1, 1, 0, stream>>>(partials.data(), static_cast<int>(blocks), total.data());
    check(cudaGetLastError(), "the loss sum kernel launch");
    double t = 0;
    total.copy_to_host(&t, 1, stream);
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize (the loss)");
    return t;
  }
};

// An elementwise loss over n outputs (device pointers): returns its value,
// and writes dLoss/dOutput into grad.
template <class E, Reduction R, class T>
T loss(const ElementwiseLoss<E, R>&, const T* out, const T* target, T* grad, std::size_t n, LossWorkspace& ws,
       cudaStream_t stream = nullptr) {
  if (n == 0) throw std::invalid_argument("typenet: cuda::loss: an empty batch has no loss.");
  using L = ElementwiseLoss<E, R>;
  const T scale = R == Reduction::mean ? T(1) / static_cast<T>(n) : T(1);
  const unsigned blocks = loss_detail::blocks_for(n);
  loss_detail::elementwise_loss_kernel<T, E, std::remove_const_t<decltype(L::gradient_expression)>>
      <<<blocks, loss_detail::threads, 0, stream>>>(out, target, grad, scale, n, ws.partials.data());
  check(cudaGetLastError(), "the loss kernel launch (" + std::to_string(n) + " outputs)");
  const double total = ws.finish(blocks, stream);
  return static_cast<T>(R == Reduction::mean ? total / static_cast<double>(n) : total);
}

// Softmax cross-entropy from logits (rows x cols, device pointers) and
// integer labels: returns the mean over rows, writes dLoss/dLogits into grad
// when it is not null. A label outside [0, cols) is an error with the CPU's
// sentence.
template <class T>
T loss(const SoftmaxCrossEntropy&, const T* logits, const std::int32_t* labels, T* grad, std::size_t rows,
       std::size_t cols, LossWorkspace& ws, cudaStream_t stream = nullptr) {
  if (rows == 0) throw std::invalid_argument("typenet: cuda::loss: an empty batch has no loss.");
  const unsigned long long none = ~0ull;
  ws.bad_row.copy_from_host(&none, 1, stream);
  const unsigned blocks = loss_detail::blocks_for(rows);
  loss_detail::softmax_cross_entropy_kernel<T><<<blocks, loss_detail::threads, 0, stream>>>(
      logits, labels, grad, rows, cols, ws.partials.data(), ws.bad_row.data());
  check(cudaGetLastError(), "the softmax cross-entropy kernel launch (" + std::to_string(rows) + " rows)");
  const double total = ws.finish(blocks, stream);
  unsigned long long bad = none;
  ws.bad_row.copy_to_host(&bad, 1, stream);
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize (the labels check)");
  if (bad != none) {
    std::int32_t label = 0;
    check(cudaMemcpy(&label, labels + bad, sizeof label, cudaMemcpyDeviceToHost), "cudaMemcpy (a label)");
    throw std::invalid_argument("typenet: softmax cross-entropy: label " + std::to_string(label) + " of sample " +
                                std::to_string(bad) + " is outside [0, " + std::to_string(cols) +
                                "), the network's output width.");
  }
  return static_cast<T>(total / static_cast<double>(rows));
}

}  // namespace typenet::cuda
