// The fused forward kernel of one block: Z = X W, then in the epilogue, while
// each accumulator tile is still in registers,
//
//   no BatchNorm:      u = z + b          y = drop(act(u))
//   BatchNorm, eval:   u = z s + t        (s = gamma/sqrt(running var + eps), t = beta - running mean s)
//   BatchNorm, train:  the epilogue keeps z and sums it per column; once the
//                      column panel is complete (all rows), mean and variance
//                      follow and one pass writes x-hat, u = gamma x-hat + beta,
//                      y = drop(act(u)) -- the panel is still in L1.
//
// Work is split by column panels: each panel (all rows) is one task, so every
// column statistic is summed by one thread in a fixed order (deterministic).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <type_traits>

#include "typenet/cpu/block_io.hpp"
#include "typenet/cpu/elementwise.hpp"
#include "typenet/cpu/gemm.hpp"
#include "typenet/cpu/single_output.hpp"
#include "typenet/cpu/thread_pool.hpp"
#include "typenet/base/mode.hpp"
#include "typenet/simd/math.hpp"

namespace typenet::cpu {

namespace forward_detail {

template <class Block, class T, int NV, class Store>
TYPENET_INLINE void finish_row(simd::vec<T> (&u)[NV], std::size_t row, int c0, const StepInfo& s, Store store) {
  using V = simd::vec<T>;
  constexpr int W = simd::lanes<T>;
  constexpr T scale = T(1) / (T(1) - T(Block::dropout::probability));
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) {
    V y = activation<typename Block::activation>(u[v]);
    if constexpr (Block::has_dropout) {
      if (s.mode == Mode::train) {
        const std::uint64_t index = row * Block::out + static_cast<std::size_t>(c0 + v * W);
        const V keep = dropout_keep<T>(s.dropout_key, index, dropout_threshold(Block::dropout::probability));
        y = apply<V>(pieces::dropout, y, keep, simd::splat<V>(scale));
      }
    }
    store(v, y);
  }
}

// One column panel: columns [c0, c0 + NV*W), all rows.
template <class Block, class T, int NV>
void forward_panel(const T* params, T* state, const BlockIo<T>& io, const StepInfo& s, int c0, simd::Tail<T> tail,
                   BatchNormPass pass, std::size_t statistics_batch) {
  using V = simd::vec<T>;
  constexpr int W = simd::lanes<T>, MR = Blocking<T>::MR;
  constexpr std::size_t In = Block::in, Out = Block::out;
  const T* w = params + Block::weight_offset + c0;
  const std::size_t batch = s.batch;
  auto ld = [&](const T* p, int v) { return v == NV - 1 ? simd::load(p + v * W, tail) : simd::load(p + v * W); };
  auto st = [&](T* p, int v, V x) {
    if (v == NV - 1) simd::store(p + v * W, x, tail);
    else simd::store(p + v * W, x);
  };

  // Per-column constants of the epilogue: the bias (shift), or BatchNorm's
  // evaluation-mode folding u = z * scale + shift.
  V scale[NV], shift[NV];
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) {
    scale[v] = simd::splat<V>(1);
    shift[v] = V{};
  }
  if constexpr (Block::has_bias) {
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) shift[v] = ld(params + Block::bias_offset + c0, v);
  }
  const bool bn_train = Block::has_batchnorm && s.mode == Mode::train;
  if constexpr (Block::has_batchnorm) {
    if (!bn_train) {
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) {
        const V gamma = ld(params + Block::gamma_offset + c0, v), beta = ld(params + Block::beta_offset + c0, v);
        const V rm = ld(state + Block::running_mean_offset + c0, v);
        const V rv = ld(state + Block::running_var_offset + c0, v);
        scale[v] = gamma / simd::sqrt(rv + simd::splat<V>(T(Block::batchnorm::eps)));
        shift[v] = beta - rm * scale[v];
      }
    }
  }

  V colsum[NV];
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) colsum[v] = V{};
  const bool product = pass == BatchNormPass::all || pass == BatchNormPass::column_sums;
  // One row tile: the product, then the epilogue while the tile is in
  // registers. R rows at compile time; `rows` <= R of them are real.
  auto row_tile = [&]<int R>(std::integral_constant<int, R>, std::size_t i0, int rows) {
    Tile<T, R, NV> acc;
    outer_tile<T, R, NV>(io.x + i0 * io.ldx, static_cast<std::ptrdiff_t>(io.ldx), 1, rows, w,
                         static_cast<std::ptrdiff_t>(Out), static_cast<int>(In), tail, acc);
    TYPENET_UNROLL
    for (int m = 0; m < R; ++m) {
      if (m >= rows) break;  // compile-time m keeps the tile in registers
      const std::size_t row = i0 + static_cast<std::size_t>(m);
      if (bn_train) {  // keep z; the panel pass below finishes the block
        TYPENET_UNROLL
        for (int v = 0; v < NV; ++v) {
          st(io.saved + row * Out + c0, v, acc[m][v]);
          colsum[v] += acc[m][v];
        }
        continue;
      }
      V u[NV];
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) {
        if constexpr (Block::has_bias) u[v] = apply<V>(pieces::bias, acc[m][v], shift[v]);
        else if constexpr (Block::has_batchnorm) u[v] = apply<V>(pieces::affine, acc[m][v], scale[v], shift[v]);
        else u[v] = acc[m][v];
      }
      if constexpr (Block::keeps_preactivation) {
        if (s.mode == Mode::train)
          TYPENET_UNROLL
          for (int v = 0; v < NV; ++v) st(io.saved + row * Out + c0, v, u[v]);
      }
      finish_row<Block, T, NV>(u, row, c0, s, [&](int v, V y) { st(io.y + row * Out + c0, v, y); });
    }
  };
  if (product) {
    std::size_t i0 = 0;
    for (; i0 + MR <= batch; i0 += MR) row_tile(std::integral_constant<int, MR>{}, i0, MR);
    // The last rows: a single-row kernel for one sample (inference latency),
    // else a full tile whose extra rows repeat the last one.
    if (const int rest = static_cast<int>(batch - i0); rest == 1) row_tile(std::integral_constant<int, 1>{}, i0, 1);
    else if (rest > 1) row_tile(std::integral_constant<int, MR>{}, i0, rest);
  }

  if constexpr (Block::has_batchnorm) {
    if (!bn_train) return;
    if (pass == BatchNormPass::column_sums) {
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) st(io.mean + c0, v, colsum[v]);
      return;
    }
    const V n = simd::splat<V>(T(statistics_batch));
    V mean[NV], inv_std[NV], gamma[NV], beta[NV];
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) {
      mean[v] = (pass == BatchNormPass::all ? colsum[v] : ld(io.mean + c0, v)) / n;
      gamma[v] = ld(params + Block::gamma_offset + c0, v);
      beta[v] = ld(params + Block::beta_offset + c0, v);
    }
    // Two-pass variance: exact where E[z^2] - E[z]^2 would cancel.
    V var[NV];
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) var[v] = V{};
    if (pass == BatchNormPass::normalise) {
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) var[v] = ld(io.inv_std + c0, v);  // the global sums
    } else {
      for (std::size_t i = 0; i < batch; ++i)
        TYPENET_UNROLL
        for (int v = 0; v < NV; ++v) {
          const V d = ld(io.saved + i * Out + c0, v) - mean[v];
          var[v] = simd::fma(d, d, var[v]);
        }
    }
    if (pass == BatchNormPass::squared_deviations) {
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) st(io.inv_std + c0, v, var[v]);  // io.mean keeps the sums
      return;
    }
    const T momentum = T(Block::batchnorm::momentum);
    const T unbiased = statistics_batch > 1 ? T(statistics_batch) / T(statistics_batch - 1) : T(1);
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) {
      var[v] = var[v] / n;
      inv_std[v] = simd::splat<V>(1) / simd::sqrt(var[v] + simd::splat<V>(T(Block::batchnorm::eps)));
      st(io.mean + c0, v, mean[v]);
      st(io.inv_std + c0, v, inv_std[v]);
      // running = (1 - momentum) running + momentum batch   (unbiased variance)
      T* rm = state + Block::running_mean_offset + c0;
      T* rv = state + Block::running_var_offset + c0;
      st(rm, v, ld(rm, v) * (1 - momentum) + mean[v] * momentum);
      st(rv, v, ld(rv, v) * (1 - momentum) + var[v] * (unbiased * momentum));
    }
    for (std::size_t i = 0; i < batch; ++i) {
      V u[NV];
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) {
        const V xhat = apply<V>(pieces::normalize, ld(io.saved + i * Out + c0, v), mean[v], inv_std[v]);
        st(io.saved + i * Out + c0, v, xhat);
        u[v] = apply<V>(pieces::affine, xhat, gamma[v], beta[v]);
      }
      finish_row<Block, T, NV>(u, i, c0, s, [&](int v, V y) { st(io.y + i * Out + c0, v, y); });
    }
  }
}

// The panel kernels: every block but a single-output one.
template <class Block, class T>
void panel_block_forward(const T* params, T* state, const BlockIo<T>& io, const StepInfo& s) {
  using P = Panels<T, Block::out>;
  auto run_pass = [&](BatchNormPass pass, std::size_t statistics_batch, std::size_t macs) {
    run_tasks(s.pool, P::count, macs, [&](std::size_t p0, std::size_t p1) {
      for (std::size_t p = p0; p < p1; ++p)
        P::visit(static_cast<int>(p), [&](auto nv, int c0, simd::Tail<T> tail) {
          forward_panel<Block, T, decltype(nv)::value>(params, state, io, s, c0, tail, pass, statistics_batch);
        });
    });
  };
  const std::size_t macs = s.batch * Block::in * Block::out;
  BatchStatisticsReducer<T>* reducer = s.template reducer<T>();
  if (!Block::has_batchnorm || s.mode != Mode::train || !reducer) return run_pass(BatchNormPass::all, s.batch, macs);
  // Synchronised BatchNorm: sums across processes between the passes.
  const std::size_t total = reducer->total_batch(s.batch);
  run_pass(BatchNormPass::column_sums, total, macs);
  reducer->sum(io.mean, Block::out);
  run_pass(BatchNormPass::squared_deviations, total, s.batch * Block::out);
  reducer->sum(io.inv_std, Block::out);
  run_pass(BatchNormPass::normalise, total, s.batch * Block::out);
}

}  // namespace forward_detail

// Forward of one block over a batch; params and state are the model's buffers.
template <class Block, class T>
void block_forward(const T* params, T* state, const BlockIo<T>& io, const StepInfo& s) {
  if constexpr (single_output_block<Block>) single_output_forward<Block, T>(params, io, s);
  else forward_detail::panel_block_forward<Block, T>(params, state, io, s);
}

}  // namespace typenet::cpu
