// One block's evaluation-mode forward for inference (model/inference_model.hpp),
// on the calling thread, over weights packed for it.
//
// The training kernels read W (in x out, row-major) a column panel at a
// time, rows `out` values apart. Inference packs each panel's columns
// together once (PackedWeights): a panel is then one contiguous stream of
// in x panel-width values, which the hardware prefetcher follows, and
// which a batch of one sample reads exactly once, as a matrix-vector
// product must. Tiles of rows use the training kernels' product and
// epilogue: outer_tile, then u = z + b and y = act(u) while the tile is in
// registers; a single row has its own kernel (single_row_block), several
// panels at a time. LayerNorm and RMSNorm finish the rows as in training
// (normalise_rows).
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "typenet/base/aligned_buffer.hpp"
#include "typenet/base/mode.hpp"
#include "typenet/cpu/block_forward.hpp"
#include "typenet/cpu/gemm.hpp"
#include "typenet/kernels/block_buffers.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

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

/// How many interleaved partial sums (at most `most`) one sample's product
/// of `depth` fmas per accumulator should keep: the fewest cycles of its
/// critical path, the longest chain (depth / S fmas, then the depth % S
/// left over on the first sum) and then the S - 1 additions, with an fma's
/// latency taken as 4 cycles and an addition's as 3 (AVX2 and AVX-512 on
/// current x86 cores).
constexpr int partial_sums(int depth, int most) {
  int best = 1, best_cycles = 4 * depth;
  for (int s = 2; s <= most; ++s) {
    const int cycles = 4 * (depth / s + depth % s) + 3 * (s - 1);
    if (cycles < best_cycles) best = s, best_cycles = cycles;
  }
  return best;
}

/// The end of one row of an inference block's columns [c0, c0 + NV W):
/// u = z + b as it is for the blocks whose rows are normalised afterwards
/// (normalise_rows finishes them), else act(u), into y_row.
template <class Block, class T, int NV>
TYPENET_INLINE void finish_inference_row(simd::vec<T> (&u)[NV], std::size_t row, int c0, const BlockStep& step,
                                         const forward_detail::PanelAccess<T, NV>& columns, T* y_row) {
  if constexpr (Block::sample_statistics) {
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) columns.store(y_row + c0, v, u[v]);
  } else {
    forward_detail::finish_row<Block, T, NV>(u, row, c0, step,
                                             [&](int v, simd::vec<T> out) { columns.store(y_row + c0, v, out); });
  }
}

/// One sample through the block: y = act(x W + b) (z + b only, into y, for
/// the blocks whose rows are normalised afterwards). A batch of one is a
/// matrix-vector product, bound by the loads of W (one per fma, nothing to
/// reuse), not by the fmas; so the panels are taken G at a time, as many as
/// leave room for their accumulators in the register file, and each x value
/// is broadcast once per group rather than once per panel. The packed
/// panels are zero-padded to full width, so no load in the loop needs a
/// mask. Where a group has few accumulators, each is a chain of dependent
/// fmas that waits on their latency: the depth is then split into S
/// interleaved partial sums, added in a fixed order at the end. The
/// group's epilogue (bias, activation) has G panels' vectors in flight, so
/// the activations' latencies overlap.
template <class Block, class T>
TYPENET_INLINE void single_row_block(const T* params, const T* packed, const T* TYPENET_RESTRICT x,
                                     T* TYPENET_RESTRICT y) {
  using V = simd::vec<T>;
  using Weights = PackedWeights<Block, T>;
  using P = typename Weights::Panels_;
  constexpr int W = simd::lanes<T>;
  constexpr int panel_vectors = Blocking<T>::NV;
  constexpr int registers = Blocking<T>::registers;
  // Accumulators of a group: the register file less the broadcast x value
  // and room for the epilogue's constants.
  constexpr int G = std::max(1, (registers - 4) / panel_vectors);
  constexpr int groups = (P::count + G - 1) / G;
  constexpr int depth = static_cast<int>(Block::in);
  const BlockStep step{1, 1, Mode::eval, 0};
  auto group = [&](auto group_index) {
    constexpr int p0 = decltype(group_index)::value * G;
    constexpr int panels = std::min(G, P::count - p0);
    constexpr bool has_last = p0 + panels == P::count;
    constexpr int NV = (panels - 1) * panel_vectors + (has_last ? P::last_vectors : panel_vectors);
    constexpr int S = partial_sums(depth, std::max(1, (registers - NV - 1) / NV));
    const int c0 = p0 * P::width;
    const T* wp = packed + static_cast<std::size_t>(p0) * Weights::panel_size;
    // Vector v of the group: vector v % panel_vectors of its panel v / panel_vectors.
    auto weights = [&](int v, int k) {
      return wp + static_cast<std::size_t>(v / panel_vectors) * Weights::panel_size +
             static_cast<std::size_t>(k) * Weights::width + static_cast<std::size_t>(v % panel_vectors * W);
    };
    V partial[S][NV];
    TYPENET_UNROLL
    for (int s = 0; s < S; ++s)
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) partial[s][v] = V{};
    int k = 0;
    for (; k + S <= depth; k += S) {
      TYPENET_UNROLL
      for (int s = 0; s < S; ++s) {
        const V xs = simd::splat<V>(x[k + s]);
        TYPENET_UNROLL
        for (int v = 0; v < NV; ++v) partial[s][v] = simd::fma(xs, simd::load(weights(v, k + s)), partial[s][v]);
      }
    }
    for (; k < depth; ++k) {
      const V xs = simd::splat<V>(x[k]);
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) partial[0][v] = simd::fma(xs, simd::load(weights(v, k)), partial[0][v]);
    }
    const forward_detail::PanelAccess<T, NV> columns{simd::Tail<T>(has_last ? P::last_tail : W)};
    V u[NV];
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) {
      V sum = partial[0][v];
      TYPENET_UNROLL
      for (int s = 1; s < S; ++s) sum += partial[s][v];
      u[v] = Block::has_bias ? apply<V>(pieces::bias, sum, columns.load(params + Block::bias_offset + c0, v)) : sum;
    }
    finish_inference_row<Block, T, NV>(u, 0, c0, step, columns, y);
  };
  [&]<int... g>(std::integer_sequence<int, g...>) {
    (group(std::integral_constant<int, g>{}), ...);
  }(std::make_integer_sequence<int, groups>{});
}

/// The largest batch that inference_block may take with half-panel tiles
/// of 8 rows (AVX-512; see there).
inline constexpr std::size_t small_batch_rows = 16;

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
  constexpr int lanes = simd::lanes<T>;
  const BlockStep step{rows, rows, Mode::eval, 0};
  // A small batch on AVX-512 may take each 4-vector panel as two halves
  // with 8-row tiles (8 x 2 accumulators), where that needs fewer passes
  // over the weights than 6-row tiles of whole panels: 7-8 rows (one pass
  // instead of two) and 13-16 (two instead of three). Measured on an Intel
  // Xeon core: batch 8 39.0 -> 27.7 us, batch 16 59.5 -> 55.6 us; at 12
  // rows, two passes either way, the halves were slower (39 -> 55 us), and
  // so they are not taken there (docs/deployment.md).
  constexpr bool split_small = TYPENET_AVX512 && Blocking<T>::NV == 4;
  const bool small = split_small && rows <= small_batch_rows &&
                     (rows + 7) / 8 < (rows + static_cast<std::size_t>(MR) - 1) / static_cast<std::size_t>(MR);
  const int most_rows = small ? 8 : MR;
  // Full tiles, then the rest: one row alone goes to the single-row
  // kernel; two or more share a tile whose extra rows repeat the last one
  // (the epilogue skips them).
  const std::size_t tiled_rows = rows % static_cast<std::size_t>(most_rows) == 1 ? rows - 1 : rows;
  for (int p = 0; p < W::Panels_::count && tiled_rows > 0; ++p)
    W::Panels_::visit(p, [&](auto nv, int c0, simd::Tail<T> tail) {
      constexpr int NV = decltype(nv)::value;
      const T* wp = packed + static_cast<std::size_t>(p) * W::panel_size;
      // Vectors [V0, V0 + TV) of the panel, in tiles of TR rows.
      auto tiles = [&](auto tile_rows_most, auto vectors, auto first_vector) {
        constexpr int TR = decltype(tile_rows_most)::value, TV = decltype(vectors)::value;
        constexpr int V0 = decltype(first_vector)::value;
        const simd::Tail<T> part_tail = V0 + TV == NV ? tail : simd::Tail<T>(lanes);
        const forward_detail::PanelAccess<T, TV> part{part_tail};
        const int c = c0 + V0 * lanes;
        V bias[TV];
        TYPENET_UNROLL
        for (int v = 0; v < TV; ++v) bias[v] = Block::has_bias ? part.load(params + Block::bias_offset + c, v) : V{};
        auto row_tile = [&](std::size_t i0, int tile_rows) {
          Tile<T, TR, TV> acc;
          // The part's own tail, though the packed panel is zero-padded
          // and full loads would do: with loads known to be full, GCC 12
          // folds each one into the fmas that use it (see outer_tile), and
          // batch 1000 took 8.6 ms instead of 7.4.
          outer_tile<T, TR, TV>(x + i0 * ldx, static_cast<std::ptrdiff_t>(ldx), 1, tile_rows, wp + V0 * lanes,
                                static_cast<std::ptrdiff_t>(W::width), static_cast<int>(In), part_tail, acc);
          TYPENET_UNROLL
          for (int m = 0; m < TR; ++m) {
            if (m >= tile_rows) break;  // compile-time m keeps the tile in registers
            const std::size_t row = i0 + static_cast<std::size_t>(m);
            V u[TV];
            TYPENET_UNROLL
            for (int v = 0; v < TV; ++v) u[v] = Block::has_bias ? apply<V>(pieces::bias, acc[m][v], bias[v]) : acc[m][v];
            finish_inference_row<Block, T, TV>(u, row, c, step, part, y + row * ldy);
          }
        };
        std::size_t i0 = 0;
        for (; i0 + TR <= tiled_rows; i0 += TR) row_tile(i0, TR);
        if (i0 < tiled_rows) row_tile(i0, static_cast<int>(tiled_rows - i0));
      };
      using std::integral_constant;
      if constexpr (split_small) {
        if (small) {
          if constexpr (NV == 4) {
            tiles(integral_constant<int, 8>{}, integral_constant<int, 2>{}, integral_constant<int, 0>{});
            tiles(integral_constant<int, 8>{}, integral_constant<int, 2>{}, integral_constant<int, 2>{});
          } else {
            tiles(integral_constant<int, 8>{}, integral_constant<int, NV>{}, integral_constant<int, 0>{});
          }
          return;
        }
      }
      tiles(integral_constant<int, MR>{}, integral_constant<int, NV>{}, integral_constant<int, 0>{});
    });
  // A last single row (a batch of one above all): the matrix-vector kernel.
  if (tiled_rows < rows) single_row_block<Block, T>(params, packed, x + tiled_rows * ldx, y + tiled_rows * ldy);
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
