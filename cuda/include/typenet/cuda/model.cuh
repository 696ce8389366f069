// The CUDA backend: the executor that runs the backend's kernels on a GPU
// (device memory, one stream per model), and the types over it:
//
//   cuda::Model<Net, T>              a network on the GPU (cuda/kernel_model.hpp)
//   cuda::Trainer<Net, T, Optimizer> training steps (cuda/kernel_training.hpp)
//   cuda::Losses<T>, cuda::OptimizerState<Optimizer>   the pieces on their own
//
//   typenet::Model<Net> cpu(Init::torch_default, seed);
//   cuda::Model<Net> gpu(cpu);                       // parameters to the device
//   const float* y = gpu.forward(x_device, rows);    // device memory
//   gpu.copy_to(cpu);                                // and back (checkpoints)
//
// Pointers the model takes and returns are device pointers; calls return
// once the work is queued, except copy_from/copy_to, which complete.
#pragma once

#include "typenet/config.hpp"

#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>

#include "typenet/cuda/device_buffer.cuh"
#include "typenet/cuda/error.cuh"
#include "typenet/cuda/kernel_model.hpp"
#include "typenet/cuda/kernel_training.hpp"
#include "typenet/cuda/launch.cuh"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// A stream that destroys itself.
class Stream {
 public:
  Stream() {
    cudaStream_t s = nullptr;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    stream_.reset(s);
  }
  /// The stream.
  cudaStream_t get() const { return stream_.get(); }
  /// Waits for everything on the stream to finish (a CudaError if any of it failed).
  void synchronize() const { check(cudaStreamSynchronize(get()), "cudaStreamSynchronize"); }

 private:
  struct Destroy {
    void operator()(cudaStream_t s) const { (void)cudaStreamDestroy(s); }
  };
  std::unique_ptr<CUstream_st, Destroy> stream_;
};

/// KernelModel's executor on a GPU: device memory, launches on one stream.
class CudaExecutor {
 public:
  /// Device memory of U values.
  template <class U>
  using Buffer = DeviceBuffer<U>;

  /// Launches the kernel's threads on the stream.
  template <class Kernel>
  void run(const Kernel& kernel) const {
    launch(kernel, stream_.get());
  }
  /// Both copies complete before they return (the host memory may go).
  template <class U>
  void upload(U* device, const U* host, std::size_t n) const {
    check(cudaMemcpyAsync(device, host, n * sizeof(U), cudaMemcpyHostToDevice, stream_.get()),
          "cudaMemcpyAsync(" + std::to_string(n * sizeof(U)) + " bytes to the device)");
    stream_.synchronize();
  }
  /// Copies n values from the device to host memory, waiting for the copy.
  template <class U>
  void download(U* host, const U* device, std::size_t n) const {
    check(cudaMemcpyAsync(host, device, n * sizeof(U), cudaMemcpyDeviceToHost, stream_.get()),
          "cudaMemcpyAsync(" + std::to_string(n * sizeof(U)) + " bytes to the host)");
    stream_.synchronize();
  }
  /// The stream the kernels run on.
  cudaStream_t stream() const { return stream_.get(); }
  /// Waits for the stream.
  void synchronize() const { stream_.synchronize(); }

  /// Throws with `what` named when p is not memory the GPU can read (a host
  /// pointer handed to a kernel would end the CUDA context instead).
  void check_device_memory(const void* p, const char* what) const {
    cudaPointerAttributes attributes{};
    check(cudaPointerGetAttributes(&attributes, p), std::string("cudaPointerGetAttributes (") + what + ")");
    if (attributes.type != cudaMemoryTypeDevice && attributes.type != cudaMemoryTypeManaged &&
        attributes.devicePointer == nullptr)
      throw std::invalid_argument(std::string("typenet: ") + what +
                                  ": host memory, not GPU memory; copy it to the device first "
                                  "(cuda::DeviceBuffer, or the executor's upload).");
  }

 private:
  Stream stream_;
};

/// The network's model on the GPU.
template <class Net, class T = float>
using Model = KernelModel<Net, T, CudaExecutor>;
/// The GPU's trainer: the fused losses, the optimizer's step and its state on the device.
template <class Net, class T, class Optimizer>
using Trainer = KernelTrainer<Net, T, Optimizer, CudaExecutor>;
/// The losses computed on the GPU.
template <class T>
using Losses = KernelLosses<T, CudaExecutor>;
/// An optimizer's state on the GPU.
template <class Optimizer>
using OptimizerState = KernelOptimizerState<Optimizer, CudaExecutor>;

}  // namespace typenet::cuda
