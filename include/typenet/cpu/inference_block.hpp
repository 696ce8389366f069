// One block's evaluation-mode forward for inference (model/inference_model.hpp),
// on the calling thread, over weights packed for it.
//
// The training kernels read W (in x out, row-major) a column panel at a
// time, rows `out` values apart. Inference packs each panel's columns
// together once (PackedWeights): a panel is then one contiguous stream of
// in x panel-width values, which the hardware prefetcher follows, and
// which a batch of one sample reads exactly once, as a matrix-vector
// product must. The product and its epilogue are the training kernels':
// outer_tile, then u = z + b and y = act(u) while the tile is in registers;
// LayerNorm and RMSNorm finish the rows as in training (normalise_rows).
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "typenet/base/aligned_buffer.hpp"
#include "typenet/base/mode.hpp"
#include "typenet/cpu/block_forward.hpp"
#include "typenet/cpu/gemm.hpp"
#include "typenet/kernels/block_buffers.hpp"

namespace typenet::cpu {

/// W of one block, panel by panel: panel p holds columns [p P, p P + P) of
/// every row, P = Blocking<T>::panel, the last panel padded with zeros.
template <class Block, class T>
struct PackedWeights {
  /// The panels of the block's output width.
  using Panels_ = Panels<T, Block::out>;
  static constexpr std::size_t width = static_cast<std::size_t>(Blocking<T>::panel);  ///< columns per panel
  static constexpr std::size_t panel_size = Block::in * width;  ///< values per panel (in x width)
  static constexpr std::size_t size = static_cast<std::size_t>(Panels_::count) * panel_size;  ///< values of the packed weights, padding included

  /// From W in x out, row-major.
  static void pack(const T* w, T* packed) {
    std::fill_n(packed, size, T(0));
    for (std::size_t k = 0; k < Block::in; ++k)
      for (std::size_t j = 0; j < Block::out; ++j)
        packed[j / width * panel_size + k * width + j % width] = w[k * Block::out + j];
  }
};

/// One row's product, for a single sample: acc = x[0, depth) B. With one row
/// a tile holds only NV accumulators, each a chain of `depth` dependent fmas,
/// and the product waits on the fma latency; so the depth is split into S
/// interleaved partial sums (S NV chains in flight, as many as the registers
/// hold beside the loaded vectors), added in a fixed order at the end.
template <class T, int NV>
TYPENET_INLINE void single_row_tile(const T* TYPENET_RESTRICT x, const T* TYPENET_RESTRICT b, std::ptrdiff_t ldb,
                                    int depth, simd::Tail<T> tail, Tile<T, 1, NV>& acc) {
  using V = simd::vec<T>;
  constexpr int W = simd::lanes<T>;
  constexpr int registers = TYPENET_AVX512 ? 32 : 16;
  constexpr int S = std::max(1, (registers - NV - 1) / NV);
  V partial[S][NV];
  TYPENET_UNROLL
  for (int s = 0; s < S; ++s)
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) partial[s][v] = V{};
  int r = 0;
  for (; r + S <= depth; r += S) {
    TYPENET_UNROLL
    for (int s = 0; s < S; ++s) {
      const T* row = b + static_cast<std::ptrdiff_t>(r + s) * ldb;
      const V xs = simd::splat<V>(x[r + s]);
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v)
        partial[s][v] = simd::fma(xs, v == NV - 1 ? simd::load(row + v * W, tail) : simd::load(row + v * W), partial[s][v]);
    }
  }
  for (; r < depth; ++r) {
    const T* row = b + static_cast<std::ptrdiff_t>(r) * ldb;
    const V xs = simd::splat<V>(x[r]);
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v)
      partial[0][v] = simd::fma(xs, v == NV - 1 ? simd::load(row + v * W, tail) : simd::load(row + v * W), partial[0][v]);
  }
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) {
    V sum = partial[0][v];
    TYPENET_UNROLL
    for (int s = 1; s < S; ++s) sum += partial[s][v];
    acc[0][v] = sum;
  }
}

/// y (rows x out, row stride ldy) = the block of x (rows x in, stride ldx):
/// params are the inference network's (bias, gamma, beta by the block's
/// offsets), packed its W.
template <class Block, class T>
void inference_block(const T* params, const T* packed, const T* x, std::size_t ldx, T* y, std::size_t ldy,
                     std::size_t rows) {
  static_assert(!Block::batch_statistics && !Block::has_dropout,
                "typenet: an inference block has BatchNorm folded and no Dropout (inference_network_t).");
  using V = simd::vec<T>;
  using W = PackedWeights<Block, T>;
  constexpr int MR = Blocking<T>::MR;
  constexpr std::size_t In = Block::in;
  const BlockStep step{rows, rows, Mode::eval, 0};
  for (int p = 0; p < W::Panels_::count; ++p)
    W::Panels_::visit(p, [&](auto nv, int c0, simd::Tail<T> tail) {
      constexpr int NV = decltype(nv)::value;
      const forward_detail::PanelAccess<T, NV> panel{tail};
      const T* wp = packed + static_cast<std::size_t>(p) * W::panel_size;
      V bias[NV];
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) bias[v] = Block::has_bias ? panel.load(params + Block::bias_offset + c0, v) : V{};
      auto row_tile = [&]<int R>(std::integral_constant<int, R>, std::size_t i0, int tile_rows) {
        Tile<T, R, NV> acc;
        if constexpr (R == 1)
          single_row_tile<T, NV>(x + i0 * ldx, wp, static_cast<std::ptrdiff_t>(W::width), static_cast<int>(In), tail,
                                 acc);
        else
          outer_tile<T, R, NV>(x + i0 * ldx, static_cast<std::ptrdiff_t>(ldx), 1, tile_rows, wp,
                               static_cast<std::ptrdiff_t>(W::width), static_cast<int>(In), tail, acc);
        TYPENET_UNROLL
        for (int m = 0; m < R; ++m) {
          if (m >= tile_rows) break;  // compile-time m keeps the tile in registers
          const std::size_t row = i0 + static_cast<std::size_t>(m);
          V u[NV];
          TYPENET_UNROLL
          for (int v = 0; v < NV; ++v) u[v] = Block::has_bias ? apply<V>(pieces::bias, acc[m][v], bias[v]) : acc[m][v];
          if constexpr (Block::sample_statistics) {  // normalise_rows finishes the block
            TYPENET_UNROLL
            for (int v = 0; v < NV; ++v) panel.store(y + row * ldy + c0, v, u[v]);
          } else {
            forward_detail::finish_row<Block, T, NV>(u, row, c0, step,
                                                     [&](int v, V out) { panel.store(y + row * ldy + c0, v, out); });
          }
        }
      };
      std::size_t i0 = 0;
      for (; i0 + MR <= rows; i0 += MR) row_tile(std::integral_constant<int, MR>{}, i0, MR);
      if (const int rest = static_cast<int>(rows - i0); rest == 1) row_tile(std::integral_constant<int, 1>{}, i0, 1);
      else if (rest > 1) row_tile(std::integral_constant<int, MR>{}, i0, rest);
    });
  if constexpr (Block::sample_statistics) {
    BlockBuffers<T> io;
    io.params = const_cast<T*>(params);  // read only: normalise_rows writes y (and saved in training)
    io.y = y;
    if (ldy == Block::out) {
      forward_detail::normalise_rows<Block, T>(io, step, 0, rows);
    } else {
      for (std::size_t i = 0; i < rows; ++i) {  // one row at a time where y's rows are not dense
        io.y = y + i * ldy;
        forward_detail::normalise_rows<Block, T>(io, BlockStep{1, 1, Mode::eval, 0}, 0, 1);
      }
    }
  }
}

}  // namespace typenet::cpu
