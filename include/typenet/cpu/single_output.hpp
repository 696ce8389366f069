// Blocks with a single output column: the last Linear<1> of binary
// classifiers and regressors (moons, circles, the tutorials' tiny MLPs).
//
// The panel kernels put the columns in vector lanes, so one column would use
// one lane of sixteen, and the weight gradient would broadcast a scalar of X
// per multiply-add. Here the lanes run along what is long instead:
//
//   forward   z[i] = X[i, :] . w       lanes along the inputs, one sum per row;
//             epilogue on W rows at once  lanes along the rows (the output of
//                                          row i is element i: contiguous)
//   prologue  dU = dY act'(..) drop'   lanes along the rows
//   dX        dX[i, :] = dZ[i] w^T     lanes along the inputs
//   dW        dW[:] = sum_i dZ[i] X[i, :]  lanes along the inputs (w is
//                                          contiguous: In x 1)
//
// The same expressions as the panel kernels (bias, activation, its
// derivative, dropout), and the same dropout mask: element (row i, column 0)
// has index i in both. Sums run in a fixed order per row or per input, so
// results do not depend on the number of threads.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>

#include "typenet/cpu/block_io.hpp"
#include "typenet/cpu/elementwise.hpp"
#include "typenet/simd/math.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

/// Whether the block is a single output without normalisation, which its own kernels run (a matrix-vector product, no register tile).
template <class Block>
inline constexpr bool single_output_block = Block::out == 1 && !Block::has_normalization;

namespace single_output_detail {

/// Rows per forward task and inputs per backward task when the pool is used.
inline constexpr std::size_t rows_per_task = 512;

template <class T>
TYPENET_INLINE simd::vec<T> load_part(const T* p, std::size_t k, std::size_t n) {
  constexpr std::size_t W = simd::lanes<T>;
  return k + W <= n ? simd::load(p + k) : simd::load(p + k, simd::Tail<T>(static_cast<int>(n - k)));
}

/// Rows [r0, r1): z by dot products, then bias, activation and dropout on
/// vectors of rows.
template <class Block, class T>
void forward_rows(const BlockBuffers<T>& io, const BlockStep& s, std::size_t r0, std::size_t r1) {
  const T* params = io.params;
  using V = simd::vec<T>;
  constexpr std::size_t W = simd::lanes<T>, In = Block::in;
  constexpr T keep_scale = T(1) / (T(1) - T(Block::dropout::probability));
  const T* w = params + Block::weight_offset;
  V bias{};
  if constexpr (Block::has_bias) bias = simd::splat<V>(params[Block::bias_offset]);
  alignas(64) T z[W];
  for (std::size_t i0 = r0; i0 < r1; i0 += W) {
    const std::size_t rows = std::min(W, r1 - i0);
    for (std::size_t m = 0; m < rows; ++m) {
      const T* x = io.x + (i0 + m) * io.ldx;
      V acc{};
      for (std::size_t k = 0; k < In; k += W) acc = simd::fma(load_part(x, k, In), load_part(w, k, In), acc);
      z[m] = simd::reduce_add(acc);
    }
    const simd::Tail<T> tail(static_cast<int>(rows));
    V u = simd::load(z, tail);
    if constexpr (Block::has_bias) u = apply<V>(pieces::bias, u, bias);
    if constexpr (Block::keeps == Keeps::preactivation) {
      if (s.mode == Mode::train) simd::store(io.saved + i0, u, tail);
    }
    V y = activation<typename Block::activation>(u);
    if constexpr (Block::has_dropout) {
      if (s.mode == Mode::train) {
        const V keep = dropout_keep<T>(s.dropout_key, i0, dropout_threshold(Block::dropout::probability));
        y = apply<V>(pieces::dropout, y, keep, simd::splat<V>(keep_scale));
      }
    }
    simd::store(io.y + i0, y, tail);
  }
}

/// Inputs in chunks of up to 8 vectors (the accumulators of dW stay in
/// registers): `full` chunks of 8, then one of `last_vectors`, the final
/// vector with `last_tail` lanes.
template <class T, std::size_t In>
struct InputChunks {
  static constexpr std::size_t W = simd::lanes<T>, width = 8 * W;
  static constexpr std::size_t count = (In + width - 1) / width;
  static constexpr std::size_t rest = In - (count - 1) * width;
  static constexpr int last_vectors = static_cast<int>((rest + W - 1) / W);
  static constexpr int last_tail = static_cast<int>(rest - (last_vectors - 1) * W);

  template <class F>
  TYPENET_INLINE static void visit(std::size_t c, F&& f) {
    if (c + 1 < count) f(std::integral_constant<int, 8>{}, c * width, simd::Tail<T>());
    else f(std::integral_constant<int, last_vectors>{}, c * width, simd::Tail<T>(last_tail));
  }
};

/// Inputs [k0, k0 + NV W) (the last vector `tail` lanes): dX = dZ w^T there,
/// then dW = X^T dZ there, handed to the sink.
template <class Block, class T, int NV, class Sink>
TYPENET_INLINE void input_chunk(const BlockBuffers<T>& io, const T* dz, T* dx, std::size_t batch,
                                std::size_t k0, simd::Tail<T> tail, const Sink& sink) {
  using V = simd::vec<T>;
  constexpr int W = simd::lanes<T>;
  constexpr std::size_t In = Block::in;
  auto ld = [&](const T* p, int v) { return v == NV - 1 ? simd::load(p + v * W, tail) : simd::load(p + v * W); };
  V wv[NV], acc[NV];
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) {
    wv[v] = ld(io.params + Block::weight_offset + k0, v);
    acc[v] = V{};
  }
  for (std::size_t i = 0; i < batch; ++i) {
    const V d = simd::splat<V>(dz[i]);
    const T* x = io.x + i * io.ldx + k0;
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) {
      if (dx) {
        T* out = dx + i * In + k0 + v * W;
        if (v == NV - 1) simd::store(out, d * wv[v], tail);
        else simd::store(out, d * wv[v]);
      }
      acc[v] = simd::fma(d, ld(x, v), acc[v]);
    }
  }
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v)
    sink(Block::weight_offset + k0 + static_cast<std::size_t>(v * W), acc[v], v == NV - 1 ? tail : simd::Tail<T>());
}

}  // namespace single_output_detail

/// The single-output block's forward: one dot product per sample.
template <class Block, class T>
void single_output_forward(const BlockBuffers<T>& io, const StepInfo& s) {
  constexpr std::size_t R = single_output_detail::rows_per_task;
  const std::size_t tasks = (s.batch + R - 1) / R;
  run_tasks(s.pool, tasks, s.batch * Block::in, [&](std::size_t t0, std::size_t t1) {
    single_output_detail::forward_rows<Block, T>(io, s, t0 * R, std::min(s.batch, t1 * R));
  });
}

/// dy (batch x 1) holds dL/dY on entry and dL/dZ on return; dx (batch x in),
/// when not null, receives dL/dX; the gradients of w and the bias go to the
/// sink.
template <class Block, class T, class Sink>
void single_output_backward(const BlockBuffers<T>& io, T* dy, T* dx, const StepInfo& s,
                            const Sink& sink) {
  using V = simd::vec<T>;
  using Act = typename Block::activation;
  constexpr std::size_t W = simd::lanes<T>, In = Block::in;
  const std::size_t batch = s.batch;

  // The prologue, W rows at a time. Masked lanes load as 0, so their dZ is
  // 0 * act'(0), which is 0 for every activation, and adds nothing.
  V sum_dz{};
  for (std::size_t i0 = 0; i0 < batch; i0 += W) {
    const simd::Tail<T> tail(static_cast<int>(std::min(W, batch - i0)));
    V g = simd::load(dy + i0, tail);
    V y = simd::load(io.y + i0, tail);
    if constexpr (Block::has_dropout) {
      const V keep = dropout_keep<T>(s.dropout_key, i0, dropout_threshold(Block::dropout::probability));
      back_through_dropout<T, Block::dropout::probability>(g, y, keep);
    }
    V u{};
    if constexpr (Block::keeps == Keeps::preactivation) u = simd::load(io.saved + i0, tail);
    const V dz = g * activation_derivative<Act>(u, y);
    simd::store(dy + i0, dz, tail);
    sum_dz += dz;
  }
  // db = sum dZ * du/db, with du/db = 1 from the bias expression.
  if constexpr (Block::has_bias) sink(Block::bias_offset, simd::splat<V>(simd::reduce_add(sum_dz)), simd::Tail<T>(1));

  // dX and dW, per chunk of inputs: a task reads its part of w for dX before
  // the sink (perhaps a fused optimizer update) changes it.
  using Chunks = single_output_detail::InputChunks<T, In>;
  run_tasks(s.pool, Chunks::count, batch * In * (dx ? 2 : 1), [&](std::size_t c0, std::size_t c1) {
    for (std::size_t c = c0; c < c1; ++c)
      Chunks::visit(c, [&]<int NV>(std::integral_constant<int, NV>, std::size_t k0, simd::Tail<T> tail) {
        single_output_detail::input_chunk<Block, T, NV>(io, dy, dx, batch, k0, tail, sink);
      });
  });
}

}  // namespace typenet::cpu
