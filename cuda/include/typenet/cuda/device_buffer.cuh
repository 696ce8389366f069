// Device memory owned by a value: allocated in the constructor, freed in the
// destructor, moved but never copied, so no path leaks it. Copies to and
// from the host run on a stream and name themselves in errors.
//
//   cuda::DeviceBuffer<float> x(n);
//   x.copy_from_host(host.data(), n, stream);
//   ...
//   x.copy_to_host(host.data(), n, stream);  // then synchronise the stream
#pragma once

#include "typenet/config.hpp"

#include <cuda_runtime.h>

#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "typenet/cuda/error.cuh"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// count values of T in device memory, freed with the buffer (move-only).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  /// Allocates count values (cudaMalloc; a CudaError names the size when it fails).
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    if (count == 0) return;
    if (count > std::numeric_limits<std::size_t>::max() / sizeof(T))
      throw CudaError("cudaMalloc(" + std::to_string(count) + " elements: the byte count overflows)",
                      cudaErrorInvalidValue);
    void* p = nullptr;
    check(cudaMalloc(&p, count * sizeof(T)), "cudaMalloc(" + std::to_string(count * sizeof(T)) + " bytes)");
    data_ = static_cast<T*>(p);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  /// Takes the other's memory; the other is left empty.
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  /// Frees this buffer's memory and takes the other's.
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }
  ~DeviceBuffer() { release(); }

  /// The device pointer.
  T* data() { return data_; }
  /// The device pointer.
  const T* data() const { return data_; }
  /// The number of values.
  std::size_t size() const { return count_; }

  /// Copies count values from host memory, on the stream.
  void copy_from_host(const T* host, std::size_t count, cudaStream_t stream = nullptr) {
    check_count(count, "cudaMemcpyAsync to the device");
    check(cudaMemcpyAsync(data_, host, count * sizeof(T), cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync(" + std::to_string(count * sizeof(T)) + " bytes to the device)");
  }
  /// Copies count values to host memory, on the stream.
  void copy_to_host(T* host, std::size_t count, cudaStream_t stream = nullptr) const {
    check_count(count, "cudaMemcpyAsync to the host");
    check(cudaMemcpyAsync(host, data_, count * sizeof(T), cudaMemcpyDeviceToHost, stream),
          "cudaMemcpyAsync(" + std::to_string(count * sizeof(T)) + " bytes to the host)");
  }

 private:
  void check_count(std::size_t count, const char* what) const {
    if (count > count_)
      throw CudaError(std::string(what) + " of " + std::to_string(count) + " elements into a buffer of " +
                          std::to_string(count_),
                      cudaErrorInvalidValue);
  }
  void release() {
    // cudaFree fails only when the context is already gone (the process is
    // ending); a destructor has nobody to tell.
    if (data_) (void)cudaFree(data_);
    data_ = nullptr;
    count_ = 0;
  }

  T* data_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace typenet::cuda
