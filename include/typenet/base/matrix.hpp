// Row-major matrices: a non-owning view (what kernels and losses take) and an
// owning, 64-byte aligned matrix (what data sets and workspaces hold).
#pragma once

#include <cstddef>
#include <type_traits>

#include "typenet/base/aligned_buffer.hpp"

namespace typenet {

/// rows x cols, element (i, j) at data[i * stride + j].
template <class T>
struct MatrixView {
  T* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;

  MatrixView() = default;
  MatrixView(T* d, std::size_t r, std::size_t c) : data(d), rows(r), cols(c), stride(c) {}
  MatrixView(T* d, std::size_t r, std::size_t c, std::size_t s) : data(d), rows(r), cols(c), stride(s) {}
  /// A view of mutable data is also a view of constant data.
  template <class U>
    requires(std::is_same_v<const U, T> && !std::is_same_v<U, T>)
  MatrixView(MatrixView<U> o) : data(o.data), rows(o.rows), cols(o.cols), stride(o.stride) {}

  T& operator()(std::size_t i, std::size_t j) const { return data[i * stride + j]; }
  T* row(std::size_t i) const { return data + i * stride; }
  /// Rows [begin, begin + count): a batch is a view, not a copy.
  MatrixView rows_view(std::size_t begin, std::size_t count) const {
    return MatrixView(data + begin * stride, count, cols, stride);
  }
  bool empty() const { return rows == 0 || cols == 0; }
};

template <class T>
class Matrix {
 public:
  Matrix() = default;
  Matrix(std::size_t rows, std::size_t cols) : buffer_(rows * cols), rows_(rows), cols_(cols) {}

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  T* data() { return buffer_.data(); }
  const T* data() const { return buffer_.data(); }
  T& operator()(std::size_t i, std::size_t j) { return buffer_[i * cols_ + j]; }
  const T& operator()(std::size_t i, std::size_t j) const { return buffer_[i * cols_ + j]; }
  T* row(std::size_t i) { return data() + i * cols_; }
  const T* row(std::size_t i) const { return data() + i * cols_; }

  MatrixView<T> view() { return {data(), rows_, cols_}; }
  MatrixView<const T> view() const { return {data(), rows_, cols_}; }
  operator MatrixView<T>() { return view(); }
  operator MatrixView<const T>() const { return view(); }

 private:
  AlignedBuffer<T> buffer_;
  std::size_t rows_ = 0, cols_ = 0;
};

}  // namespace typenet
