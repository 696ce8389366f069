// Runs a per-thread kernel struct (cuda/block_kernels.hpp: threads() and
// operator()(t)) over a grid on a stream. One generic __global__ function
// serves every such kernel; each thread takes t, t + grid size, ... so that
// any thread count fits one launch.
#pragma once

#include "typenet/config.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "typenet/cuda/error.cuh"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// The CUDA kernel that runs threads 0 to n - 1 of `kernel`, each grid thread striding over them.
template <class Kernel>
__global__ void run_threads(Kernel kernel, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t t = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < n; t += stride) kernel(t);
}

/// Threads per block: a multiple of the warp; 128 leaves the scheduler
/// several blocks per SM for the small grids of small batches.
inline constexpr unsigned threads_per_block = 128;

/// Launches the kernel's threads on the stream, threads_per_block to a block.
template <class Kernel>
void launch(const Kernel& kernel, cudaStream_t stream) {
  const std::size_t n = kernel.threads();
  if (n == 0) return;
  const auto blocks = static_cast<unsigned>(std::min<std::size_t>((n + threads_per_block - 1) / threads_per_block,
                                                                  std::size_t{1} << 16));
  run_threads<Kernel><<<blocks, threads_per_block, 0, stream>>>(kernel, n);
  check(cudaGetLastError(), "a kernel launch (" + std::to_string(n) + " threads)");
}

}  // namespace typenet::cuda
