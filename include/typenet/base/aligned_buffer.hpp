// AlignedBuffer<T>: owning, 64-byte aligned, zero-initialised memory for
// vectors and matrices (parameters, gradients, workspaces, data sets).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// Memory for vectors and matrices: 64-byte aligned (one cache line, one
/// AVX-512 register), zero-initialised, not resized behind the user's back.
template <class T>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  AlignedBuffer() = default;
  /// n values, zero.
  explicit AlignedBuffer(std::size_t n) { resize(n); }
  /// A copy of o's values.
  AlignedBuffer(const AlignedBuffer& o) : AlignedBuffer(o.size_) {
    if (size_) std::copy(o.data(), o.data() + size_, data());
  }
  /// Replaces the values with a copy of o's.
  AlignedBuffer& operator=(const AlignedBuffer& o) {
    if (this != &o) {
      AlignedBuffer copy(o);
      swap(copy);
    }
    return *this;
  }
  /// Takes o's memory; o is left empty.
  AlignedBuffer(AlignedBuffer&& o) noexcept { swap(o); }
  /// Takes o's memory; o is left empty.
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    swap(o);
    return *this;
  }
  ~AlignedBuffer() = default;

  /// Discards the contents; the new elements are zero.
  void resize(std::size_t n) {
    if (n == 0) {
      ptr_.reset();
      size_ = 0;
      return;
    }
    const std::size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    void* p = ::operator new(bytes, std::align_val_t{64});
    std::memset(p, 0, bytes);
    ptr_.reset(static_cast<T*>(p));
    size_ = n;
  }
  /// Exchanges the contents with o.
  void swap(AlignedBuffer& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(size_, o.size_);
  }

  /// The first value (nullptr when empty).
  T* data() { return ptr_.get(); }
  /// The first value (nullptr when empty).
  const T* data() const { return ptr_.get(); }
  /// The number of values.
  std::size_t size() const { return size_; }
  /// Value i.
  T& operator[](std::size_t i) { return ptr_.get()[i]; }
  /// Value i.
  const T& operator[](std::size_t i) const { return ptr_.get()[i]; }
  /// The values as a span.
  std::span<T> span() { return {data(), size_}; }
  /// The values as a span.
  std::span<const T> span() const { return {data(), size_}; }

 private:
  struct Free {
    void operator()(T* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  std::unique_ptr<T, Free> ptr_;
  std::size_t size_ = 0;
};

}  // namespace typenet
