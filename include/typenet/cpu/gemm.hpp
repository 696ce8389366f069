// GEMM micro-kernels with fusion hooks.
//
// One register-blocked kernel covers the three products of a dense layer
// (row-major X: batch x in, W: in x out, Z: batch x out):
//
//   outer_tile   C[m, j..j+NV*W) = sum_r A(m, r) B[r, j..]     (broadcast A, vector B)
//                forward  Z  = X W     A(m, r) = X[m, r],  B = W
//                backward dW = X^T dZ  A(m, r) = X[r, m],  B = dZ
//                backward dX = dZ W^T  A = dZ,  B = rows of W transposed into scratch
//
// A kernel leaves its accumulator tile in registers and hands it to an
// epilogue (forward: bias, BatchNorm, activation, dropout while the tile is
// hot) or writes it out; a block kernel (block_forward.hpp, block_backward.hpp)
// drives them panel by panel. Nothing is inlined into an elementwise loop: a
// product is a kernel boundary with a hook.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cstddef>

#include "typenet/simd/vec.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

/// Register blocking per instruction set and scalar type: MR rows by NV
/// vectors of accumulators, chosen to fill the register file (32 registers with
/// AVX-512, 16 otherwise) leaving room for the B vectors and one broadcast.
template <class T>
struct Blocking {
  static constexpr int W = simd::lanes<T>;  ///< lanes per vector
#if TYPENET_AVX512
  static constexpr int MR = 6, NV = 4;
#elif defined(__AVX2__)
  static constexpr int MR = 4, NV = 3;
#else
  ///@{
  /// Rows of the register tile, and vectors across it (MR x NV accumulators).
  static constexpr int MR = 4, NV = 2;
  ///@}
#endif
  static constexpr int panel = NV * W;  ///< columns per panel of the outer kernel
  /// The vector registers of the instruction set (AVX-512: 32; AVX2, SSE
  /// and, as counted here, NEON: 16).
  static constexpr int registers = TYPENET_AVX512 ? 32 : 16;
};

/// The register tile of accumulators: MR rows of NV vectors.
template <class T, int MR, int NV>
using Tile = simd::vec<T>[MR][NV];

/// acc = sum over r < depth of A(m, r) * B[r, 0 .. NV*W), for m < MR.
/// Rows at or past `rows` repeat the last valid row (the epilogue ignores
/// them), so a batch that is not a multiple of MR needs no second kernel.
/// The last vector loads only `tail` lanes: the panel ends where B ends.
template <class T, int MR, int NV>
TYPENET_INLINE void outer_tile(const T* TYPENET_RESTRICT a, std::ptrdiff_t a_row, std::ptrdiff_t a_depth, int rows,
                               const T* TYPENET_RESTRICT b, std::ptrdiff_t ldb, int depth, simd::Tail<T> tail,
                               Tile<T, MR, NV>& acc) {
  using V = simd::vec<T>;
  constexpr int W = simd::lanes<T>;
  const T* ar[MR];
  TYPENET_UNROLL
  for (int m = 0; m < MR; ++m) ar[m] = a + std::min(m, rows - 1) * a_row;
  TYPENET_UNROLL
  for (int m = 0; m < MR; ++m)
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) acc[m][v] = V{};
  // One loop for whole and tail panels: its per-iteration test of the tail
  // is cheap, and it keeps GCC from folding each B load into the MR FMAs
  // that use it (with AVX2's 16 registers it does that for a loop of plain
  // loads, which then waits on the load ports: 19 % slower at batch 1000).
  for (int r = 0; r < depth; ++r) {
    V bv[NV];
    TYPENET_UNROLL
    for (int v = 0; v < NV - 1; ++v) bv[v] = simd::load(b + v * W);
    bv[NV - 1] = simd::load(b + (NV - 1) * W, tail);
    const std::ptrdiff_t off = r * a_depth;
    TYPENET_UNROLL
    for (int m = 0; m < MR; ++m) {
      const V av = simd::splat<V>(ar[m][off]);
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) acc[m][v] = simd::fma(av, bv[v], acc[m][v]);
    }
    b += ldb;
  }
}

/// Column panels of an `n`-wide matrix: `full` panels of NV vectors, then one
/// last panel of `last_vectors` vectors whose final vector has `last_tail` lanes.
template <class T, std::size_t N>
struct Panels {
  static constexpr int W = simd::lanes<T>;  ///< lanes per vector
  static constexpr int width = Blocking<T>::panel;  ///< columns per panel
  static constexpr int count = static_cast<int>((N + width - 1) / width);  ///< the number of panels
  static constexpr int full = static_cast<int>(N / width);  ///< the number of full panels
  static constexpr int rest = static_cast<int>(N % width);  ///< the columns of the last panel when it is not full
  static constexpr int last_vectors = rest == 0 ? Blocking<T>::NV : (rest + W - 1) / W;  ///< vectors in the last panel
  static constexpr int last_tail = rest == 0 ? W : (rest % W == 0 ? W : rest % W);  ///< valid lanes in the last panel's last vector

  /// Calls f(std::integral_constant<int, vectors>, column0, Tail) for panel p.
  template <class F>
  TYPENET_INLINE static void visit(int p, F&& f) {
    if (p < full) {
      f(std::integral_constant<int, Blocking<T>::NV>{}, p * width, simd::Tail<T>(W));
    } else {
      f(std::integral_constant<int, last_vectors>{}, p * width, simd::Tail<T>(last_tail));
    }
  }
};

}  // namespace typenet::cpu
