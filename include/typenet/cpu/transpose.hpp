// Transposes a block of a row-major matrix into another. The input-gradient
// kernel (block_backward.hpp) multiplies by rows of W transposed; element by
// element, every store goes to another cache line, so float blocks of
// 16 x 16 go through registers with AVX-512 (measured in docs/performance.md).
#pragma once

#include "typenet/config.hpp"

#include <cstddef>
#include <type_traits>

#include "typenet/simd/vec.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

namespace transpose_detail {

#if TYPENET_AVX512
/// dst row c = src column c of a 16 x 16 float block: pairs of rows
/// interleaved by 1, 2, 4 and 8 lanes (what unpack ps, unpack pd and two
/// 128-bit shuffles do; written as vector shuffles, which GCC 12 compiles to
/// those without the intrinsics' uninitialised-operand warnings), which
/// leaves register c holding column c. Every loop unrolled: indexed at run
/// time, the 32 vectors would live on the stack.
inline void block16(const float* src, std::size_t lds, float* dst, std::size_t ldd) {
  using V = simd::vec<float>;
  V r[16], t[16];
  TYPENET_UNROLL
  for (int i = 0; i < 16; ++i) r[i] = simd::load(src + static_cast<std::size_t>(i) * lds);
  TYPENET_UNROLL
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29);
    t[2 * i + 1] =
        __builtin_shufflevector(r[2 * i], r[2 * i + 1], 2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31);
  }
  TYPENET_UNROLL
  for (int i = 0; i < 4; ++i)
    TYPENET_UNROLL
    for (int h = 0; h < 2; ++h) {
      const V a = t[4 * i + h], b = t[4 * i + 2 + h];
      r[4 * i + 2 * h] = __builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
      r[4 * i + 2 * h + 1] = __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    }
  auto even_lanes = [](V a, V b) {  // 128-bit lanes 0, 2 of a, then of b
    return __builtin_shufflevector(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
  };
  auto odd_lanes = [](V a, V b) {  // lanes 1, 3 of a, then of b
    return __builtin_shufflevector(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  };
  TYPENET_UNROLL
  for (int i = 0; i < 2; ++i)
    TYPENET_UNROLL
    for (int q = 0; q < 4; ++q) {
      t[8 * i + q] = even_lanes(r[8 * i + q], r[8 * i + 4 + q]);
      t[8 * i + 4 + q] = odd_lanes(r[8 * i + q], r[8 * i + 4 + q]);
    }
  TYPENET_UNROLL
  for (int q = 0; q < 8; ++q) {
    r[q] = even_lanes(t[q], t[q + 8]);
    r[q + 8] = odd_lanes(t[q], t[q + 8]);
  }
  TYPENET_UNROLL
  for (int i = 0; i < 16; ++i) simd::store(dst + static_cast<std::size_t>(i) * ldd, r[i]);
}
#endif

template <class T>
void by_element(const T* src, std::size_t lds, std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, T* dst,
                std::size_t ldd) {
  for (std::size_t r = r0; r < r1; ++r)
    for (std::size_t c = c0; c < c1; ++c) dst[c * ldd + r] = src[r * lds + c];
}

}  // namespace transpose_detail

/// dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols.
template <class T>
void transpose(const T* src, std::size_t lds, std::size_t rows, std::size_t cols, T* dst, std::size_t ldd) {
#if TYPENET_AVX512
  if constexpr (std::is_same_v<T, float>) {
    const std::size_t full_rows = rows / 16 * 16, full_cols = cols / 16 * 16;
    for (std::size_t r = 0; r < full_rows; r += 16)
      for (std::size_t c = 0; c < full_cols; c += 16) transpose_detail::block16(src + r * lds + c, lds, dst + c * ldd + r, ldd);
    transpose_detail::by_element(src, lds, 0, full_rows, full_cols, cols, dst, ldd);
    transpose_detail::by_element(src, lds, full_rows, rows, 0, cols, dst, ldd);
    return;
  }
#endif
  transpose_detail::by_element(src, lds, 0, rows, 0, cols, dst, ldd);
}

}  // namespace typenet::cpu
