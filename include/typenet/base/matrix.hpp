// Row-major matrices: a non-owning view (what kernels and losses take) and an
// owning, 64-byte aligned matrix (what data sets and workspaces hold).
#pragma once

#include "typenet/config.hpp"

#include <cstddef>
#include <type_traits>

#include "typenet/base/aligned_buffer.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// rows x cols, element (i, j) at data[i * stride + j].
template <class T>
struct MatrixView {
  T* data = nullptr;  ///< element (0, 0)
  std::size_t rows = 0;  ///< the number of rows
  std::size_t cols = 0;  ///< the number of columns
  std::size_t stride = 0;  ///< the distance between rows, in elements

  MatrixView() = default;
  /// A dense view: the stride is the number of columns.
  MatrixView(T* d, std::size_t r, std::size_t c) : data(d), rows(r), cols(c), stride(c) {}
  /// A view whose rows are s elements apart.
  MatrixView(T* d, std::size_t r, std::size_t c, std::size_t s) : data(d), rows(r), cols(c), stride(s) {}
  /// A view of mutable data is also a view of constant data.
  template <class U>
    requires(std::is_same_v<const U, T> && !std::is_same_v<U, T>)
  MatrixView(MatrixView<U> o) : data(o.data), rows(o.rows), cols(o.cols), stride(o.stride) {}

  /// Element (i, j).
  T& operator()(std::size_t i, std::size_t j) const { return data[i * stride + j]; }
  /// Row i.
  T* row(std::size_t i) const { return data + i * stride; }
  /// Rows [begin, begin + count): a batch is a view, not a copy.
  MatrixView rows_view(std::size_t begin, std::size_t count) const {
    return MatrixView(data + begin * stride, count, cols, stride);
  }
  /// Whether the view holds no element.
  bool empty() const { return rows == 0 || cols == 0; }
};

/// A rows x cols row-major matrix that owns its values (64-byte aligned, zero at first).
template <class T>
class Matrix {
 public:
  Matrix() = default;
  /// A rows x cols matrix of zeros.
  Matrix(std::size_t rows, std::size_t cols) : buffer_(rows * cols), rows_(rows), cols_(cols) {}

  /// The number of rows.
  std::size_t rows() const { return rows_; }
  /// The number of columns.
  std::size_t cols() const { return cols_; }
  /// Element (0, 0).
  T* data() { return buffer_.data(); }
  /// Element (0, 0).
  const T* data() const { return buffer_.data(); }
  /// Element (i, j).
  T& operator()(std::size_t i, std::size_t j) { return buffer_[i * cols_ + j]; }
  /// Element (i, j).
  const T& operator()(std::size_t i, std::size_t j) const { return buffer_[i * cols_ + j]; }
  /// Row i.
  T* row(std::size_t i) { return data() + i * cols_; }
  /// Row i.
  const T* row(std::size_t i) const { return data() + i * cols_; }

  /// The whole matrix as a view.
  MatrixView<T> view() { return {data(), rows_, cols_}; }
  /// The whole matrix as a view.
  MatrixView<const T> view() const { return {data(), rows_, cols_}; }
  /// The matrix as a view, where a function takes one.
  operator MatrixView<T>() { return view(); }
  /// The matrix as a view, where a function takes one.
  operator MatrixView<const T>() const { return view(); }

 private:
  AlignedBuffer<T> buffer_;
  std::size_t rows_ = 0, cols_ = 0;
};

}  // namespace typenet
