// Every CUDA runtime call of the backend goes through check(), which turns a
// failure into an exception naming the call and CUDA's reason:
//
//   typenet: cudaMalloc(17179869184 bytes) failed: out of memory
#pragma once

#include "typenet/config.hpp"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// A failed CUDA call: the call and CUDA's message in what(), the code kept.
struct CudaError : std::runtime_error {
  /// The error of `call`, which returned `code`.
  CudaError(const std::string& call, cudaError_t code)
      : std::runtime_error("typenet: " + call + " failed: " + cudaGetErrorString(code)), code(code) {}
  cudaError_t code;  ///< the CUDA error code
};

/// Throws CudaError when code is not cudaSuccess.
inline void check(cudaError_t code, const std::string& call) {
  if (code != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky error of this thread, so the next call starts clean
    throw CudaError(call, code);
  }
}

/// Why this process has no usable GPU ("" when it has one): for callers that
/// must not fail without a device (tests skip, examples say so).
inline std::string no_device_reason() {
  int count = 0;
  const cudaError_t code = cudaGetDeviceCount(&count);
  if (code != cudaSuccess) {
    (void)cudaGetLastError();
    return std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(code);
  }
  if (count == 0) return "no CUDA device is visible";
  return "";
}

}  // namespace typenet::cuda
