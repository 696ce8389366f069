// The fused forward kernel of one block: Z = X W, then in the epilogue, while
// each accumulator tile is still in registers,
//
//   no normalisation:   u = z + b          y = drop(act(u))
//   BatchNorm, eval:    u = z s + t        (s = gamma/sqrt(running var + eps), t = beta - running mean s)
//   BatchNorm, train:   the epilogue keeps z and sums it per column; once the
//                       column panel is complete (all rows), mean and variance
//                       follow and one pass writes x-hat, u = gamma x-hat + beta,
//                       y = drop(act(u)) -- the panel is still in L1.
//   LayerNorm, RMSNorm: the epilogue keeps z + b; a row needs every column's
//                       z for its statistics, so a second pass over the rows
//                       (each row in L1) writes x-hat, u = gamma x-hat + beta
//                       and y = drop(act(u)).
//
// The product is split by column panels: each panel (all rows) is one task,
// so every column statistic is summed by one thread in a fixed order; the
// row pass splits by rows, each row's statistics summed by one thread.
// Results therefore do not depend on the number of threads.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "typenet/base/mode.hpp"
#include "typenet/cpu/block_io.hpp"
#include "typenet/cpu/elementwise.hpp"
#include "typenet/cpu/gemm.hpp"
#include "typenet/cpu/single_output.hpp"
#include "typenet/cpu/thread_pool.hpp"
#include "typenet/kernels/normalization.hpp"
#include "typenet/simd/math.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

namespace forward_detail {

/// Loads and stores of a panel's NV vectors, the last one `tail` lanes wide.
template <class T, int NV>
struct PanelAccess {
  simd::Tail<T> tail;
  TYPENET_INLINE simd::vec<T> load(const T* p, int v) const {
    constexpr int W = simd::lanes<T>;
    return v == NV - 1 ? simd::load(p + v * W, tail) : simd::load(p + v * W);
  }
  TYPENET_INLINE void store(T* p, int v, simd::vec<T> x) const {
    constexpr int W = simd::lanes<T>;
    if (v == NV - 1) simd::store(p + v * W, x, tail);
    else simd::store(p + v * W, x);
  }
};

/// y = drop(act(u)) for one row of a panel, handed to `store(v, y)`.
template <class Block, class T, int NV, class Store>
TYPENET_INLINE void finish_row(simd::vec<T> (&u)[NV], std::size_t row, int c0, const BlockStep& s, Store store) {
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

/// The per-column constants of the epilogue: the bias (shift), or BatchNorm's
/// evaluation-mode folding u = z * scale + shift.
template <class Block, class T, int NV>
TYPENET_INLINE void epilogue_constants(const BlockBuffers<T>& io, const BlockStep& s, int c0,
                                       const PanelAccess<T, NV>& panel, simd::vec<T> (&scale)[NV],
                                       simd::vec<T> (&shift)[NV]) {
  using V = simd::vec<T>;
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) {
    scale[v] = simd::splat<V>(1);
    shift[v] = V{};
  }
  if constexpr (Block::has_bias) {
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) shift[v] = panel.load(io.params + Block::bias_offset + c0, v);
  }
  if constexpr (Block::batch_statistics) {
    if (s.mode != Mode::train) {
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v)
        norm::fold_running_statistics<typename Block::normalization, T>(
            panel.load(io.params + Block::scale_offset + c0, v), panel.load(io.params + Block::shift_offset + c0, v),
            panel.load(io.state + Block::running_mean_offset + c0, v),
            panel.load(io.state + Block::running_var_offset + c0, v), scale[v], shift[v]);
    }
  }
}

/// The product of every row of the panel, and in its epilogue all that needs
/// no statistics: with a bias or evaluation-mode BatchNorm the whole block
/// (u, then drop(act(u)) into y); for train-mode BatchNorm z into saved and
/// its column sums into colsum; for per-sample statistics z + b, into saved
/// (train) or y (eval), for the row pass.
template <class Block, class T, int NV>
void product_panel(const BlockBuffers<T>& io, const BlockStep& s, int c0, const PanelAccess<T, NV>& panel,
                   const simd::vec<T> (&scale)[NV], const simd::vec<T> (&shift)[NV], simd::vec<T> (&colsum)[NV]) {
  using V = simd::vec<T>;
  constexpr int MR = Blocking<T>::MR;
  constexpr std::size_t In = Block::in, Out = Block::out;
  const T* w = io.params + Block::weight_offset + c0;
  const std::size_t batch = s.batch;
  const bool bn_train = Block::batch_statistics && s.mode == Mode::train;
  T* const row_pass = Block::sample_statistics && s.mode == Mode::train ? io.saved : io.y;
  // One row tile: the product, then the epilogue while the tile is in
  // registers. R rows at compile time; `rows` <= R of them are real.
  auto row_tile = [&]<int R>(std::integral_constant<int, R>, std::size_t i0, int rows) {
    Tile<T, R, NV> acc;
    outer_tile<T, R, NV>(io.x + i0 * io.ldx, static_cast<std::ptrdiff_t>(io.ldx), 1, rows, w,
                         static_cast<std::ptrdiff_t>(Out), static_cast<int>(In), panel.tail, acc);
    TYPENET_UNROLL
    for (int m = 0; m < R; ++m) {
      if (m >= rows) break;  // compile-time m keeps the tile in registers
      const std::size_t row = i0 + static_cast<std::size_t>(m);
      if (bn_train) {  // keep z; batch_statistics_panel finishes the block
        TYPENET_UNROLL
        for (int v = 0; v < NV; ++v) {
          panel.store(io.saved + row * Out + c0, v, acc[m][v]);
          colsum[v] += acc[m][v];
        }
        continue;
      }
      V u[NV];
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) {
        if constexpr (Block::has_bias) u[v] = apply<V>(pieces::bias, acc[m][v], shift[v]);
        else if constexpr (Block::batch_statistics) u[v] = apply<V>(pieces::affine, acc[m][v], scale[v], shift[v]);
        else u[v] = acc[m][v];
      }
      if constexpr (Block::sample_statistics) {  // normalise_rows finishes the block
        TYPENET_UNROLL
        for (int v = 0; v < NV; ++v) panel.store(row_pass + row * Out + c0, v, u[v]);
        continue;
      }
      if constexpr (Block::keeps == Keeps::preactivation) {
        if (s.mode == Mode::train)
          TYPENET_UNROLL
          for (int v = 0; v < NV; ++v) panel.store(io.saved + row * Out + c0, v, u[v]);
      }
      finish_row<Block, T, NV>(u, row, c0, s, [&](int v, V y) { panel.store(io.y + row * Out + c0, v, y); });
    }
  };
  std::size_t i0 = 0;
  for (; i0 + MR <= batch; i0 += MR) row_tile(std::integral_constant<int, MR>{}, i0, MR);
  // The last rows: a single-row kernel for one sample (inference latency),
  // else a full tile whose extra rows repeat the last one.
  if (const int rest = static_cast<int>(batch - i0); rest == 1) row_tile(std::integral_constant<int, 1>{}, i0, 1);
  else if (rest > 1) row_tile(std::integral_constant<int, MR>{}, i0, rest);
}

/// Train-mode BatchNorm of a panel whose product is done (z in saved, its
/// column sums in colsum): the mean, the variance in a second pass over the
/// panel (exact where E[z^2] - E[z]^2 would cancel), the running statistics,
/// then x-hat, u = gamma x-hat + beta and y = drop(act(u)). Synchronised
/// BatchNorm stops after the sums of each pass (see BatchNormPass).
template <class Block, class T, int NV>
void batch_statistics_panel(const BlockBuffers<T>& io, const BlockStep& s, int c0, const PanelAccess<T, NV>& panel,
                            BatchNormPass pass, const simd::vec<T> (&colsum)[NV]) {
  using V = simd::vec<T>;
  using Norm = typename Block::normalization;
  constexpr std::size_t Out = Block::out;
  const std::size_t batch = s.batch;
  if (pass == BatchNormPass::column_sums) {
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) panel.store(io.stats.mean + c0, v, colsum[v]);
    return;
  }
  const V n = simd::splat<V>(T(s.statistics_batch));
  V mean[NV], inv_std[NV], gamma[NV], beta[NV];
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) {
    mean[v] = (pass == BatchNormPass::all ? colsum[v] : panel.load(io.stats.mean + c0, v)) / n;
    gamma[v] = panel.load(io.params + Block::scale_offset + c0, v);
    beta[v] = panel.load(io.params + Block::shift_offset + c0, v);
  }
  V var[NV];
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) var[v] = V{};
  if (pass == BatchNormPass::normalise) {
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) var[v] = panel.load(io.stats.inv_std + c0, v);  // the global sums
  } else {
    for (std::size_t i = 0; i < batch; ++i)
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) {
        const V d = panel.load(io.saved + i * Out + c0, v) - mean[v];
        var[v] = simd::fma(d, d, var[v]);
      }
  }
  if (pass == BatchNormPass::squared_deviations) {
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) panel.store(io.stats.inv_std + c0, v, var[v]);  // stats.mean keeps the sums
    return;
  }
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) {
    var[v] = var[v] / n;
    inv_std[v] = norm::inverse_deviation<Norm, T>(var[v]);
    panel.store(io.stats.mean + c0, v, mean[v]);
    panel.store(io.stats.inv_std + c0, v, inv_std[v]);
    T* rm = io.state + Block::running_mean_offset + c0;
    T* rv = io.state + Block::running_var_offset + c0;
    V running_mean = panel.load(rm, v), running_var = panel.load(rv, v);
    norm::update_running_statistics<Norm, T>(running_mean, running_var, mean[v], var[v], s.statistics_batch);
    panel.store(rm, v, running_mean);
    panel.store(rv, v, running_var);
  }
  for (std::size_t i = 0; i < batch; ++i) {
    V u[NV];
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) {
      const V xhat = apply<V>(pieces::normalize, panel.load(io.saved + i * Out + c0, v), mean[v], inv_std[v]);
      panel.store(io.saved + i * Out + c0, v, xhat);
      u[v] = apply<V>(pieces::affine, xhat, gamma[v], beta[v]);
    }
    finish_row<Block, T, NV>(u, i, c0, s, [&](int v, V y) { panel.store(io.y + i * Out + c0, v, y); });
  }
}

/// One column panel: columns [c0, c0 + NV*W), all rows.
template <class Block, class T, int NV>
void forward_panel(const BlockBuffers<T>& io, const BlockStep& s, int c0, simd::Tail<T> tail, BatchNormPass pass) {
  using V = simd::vec<T>;
  const PanelAccess<T, NV> panel{tail};
  V scale[NV], shift[NV], colsum[NV];
  epilogue_constants<Block, T, NV>(io, s, c0, panel, scale, shift);
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) colsum[v] = V{};
  if (pass == BatchNormPass::all || pass == BatchNormPass::column_sums)
    product_panel<Block, T, NV>(io, s, c0, panel, scale, shift, colsum);
  if constexpr (Block::batch_statistics)
    if (s.mode == Mode::train) batch_statistics_panel<Block, T, NV>(io, s, c0, panel, pass, colsum);
}

/// Rows per task of the row passes (per-sample statistics).
inline constexpr std::size_t rows_per_task = 32;

/// Calls f(column, tail) for each vector of an n-wide row.
template <class T, std::size_t N, class F>
TYPENET_INLINE void each_vector(F&& f) {
  constexpr std::size_t W = simd::lanes<T>;
  for (std::size_t j = 0; j < N; j += W) f(j, simd::Tail<T>(static_cast<int>(std::min(W, N - j))));
}

/// v with the lanes past the tail set to 0 (a masked load gives 0 there, but
/// what is computed from it, z - mean, need not be).
template <class T>
TYPENET_INLINE simd::vec<T> valid_lanes(simd::vec<T> v, simd::Tail<T> tail) {
  if (tail.full()) return v;
  using Lane = typename simd::native<T>::bits_lane;
  return simd::select(simd::lane_indices<T>() < static_cast<Lane>(tail.count), v, simd::vec<T>{});
}

/// Per-sample statistics (LayerNorm, RMSNorm) of rows [r0, r1), whose z + b
/// the product left in saved (train) or y (eval): each row's mean and
/// variance in two passes (or its mean square), x-hat (kept in train mode,
/// with 1/std), then u = gamma x-hat + beta and y = drop(act(u)). A row stays
/// in L1 throughout.
template <class Block, class T>
void normalise_rows(const BlockBuffers<T>& io, const BlockStep& s, std::size_t r0, std::size_t r1) {
  using V = simd::vec<T>;
  using Norm = typename Block::normalization;
  constexpr std::size_t Out = Block::out;
  const bool train = s.mode == Mode::train;
  T* const source = train ? io.saved : io.y;
  const T n = T(Out);
  for (std::size_t i = r0; i < r1; ++i) {
    T* z = source + i * Out;
    T mean = 0;
    if constexpr (Norm::centred) {
      V sum{};
      each_vector<T, Out>([&](std::size_t j, simd::Tail<T> t) { sum += simd::load(z + j, t); });
      mean = simd::reduce_add(sum) / n;
    }
    V squares{};
    each_vector<T, Out>([&](std::size_t j, simd::Tail<T> t) {
      const V d = valid_lanes(simd::load(z + j, t) - simd::splat<V>(mean), t);
      squares = simd::fma(d, d, squares);
    });
    const T inv_std = norm::inverse_deviation<Norm, T>(simd::reduce_add(squares) / n);
    if (train) {
      io.stats.mean[i] = mean;
      io.stats.inv_std[i] = inv_std;
    }
    const V m = simd::splat<V>(mean), r = simd::splat<V>(inv_std);
    each_vector<T, Out>([&](std::size_t j, simd::Tail<T> t) {
      const V xhat = apply<V>(pieces::normalize, simd::load(z + j, t), m, r);
      if (train) simd::store(io.saved + i * Out + j, xhat, t);
      V u[1] = {xhat};
      if constexpr (Block::has_scale && Block::has_shift)
        u[0] = apply<V>(pieces::affine, xhat, simd::load(io.params + Block::scale_offset + j, t),
                        simd::load(io.params + Block::shift_offset + j, t));
      else if constexpr (Block::has_scale)
        u[0] = xhat * simd::load(io.params + Block::scale_offset + j, t);
      finish_row<Block, T, 1>(u, i, static_cast<int>(j), s, [&](int, V y) { simd::store(io.y + i * Out + j, y, t); });
    });
  }
}

/// The panel kernels: every block but a single-output one.
template <class Block, class T>
void panel_block_forward(const BlockBuffers<T>& io, const StepInfo& s) {
  using P = Panels<T, Block::out>;
  auto run_pass = [&](BatchNormPass pass, const BlockStep& step, std::size_t macs) {
    run_tasks(s.pool, P::count, macs, [&](std::size_t p0, std::size_t p1) {
      for (std::size_t p = p0; p < p1; ++p)
        P::visit(static_cast<int>(p), [&](auto nv, int c0, simd::Tail<T> tail) {
          forward_panel<Block, T, decltype(nv)::value>(io, step, c0, tail, pass);
        });
    });
  };
  const std::size_t macs = s.batch * Block::in * Block::out;
  BatchStatisticsReducer<T>* reducer = s.template reducer<T>();
  if (!Block::batch_statistics || s.mode != Mode::train || !reducer) {
    run_pass(BatchNormPass::all, s, macs);
  } else {
    // Synchronised BatchNorm: sums across processes between the passes.
    run_pass(BatchNormPass::column_sums, s, macs);
    reducer->sum(io.stats.mean, Block::out);
    run_pass(BatchNormPass::squared_deviations, s, s.batch * Block::out);
    reducer->sum(io.stats.inv_std, Block::out);
    run_pass(BatchNormPass::normalise, s, s.batch * Block::out);
  }
  if constexpr (Block::sample_statistics) {
    const std::size_t tasks = (s.batch + rows_per_task - 1) / rows_per_task;
    run_tasks(s.pool, tasks, s.batch * Block::out * 8, [&](std::size_t t0, std::size_t t1) {
      normalise_rows<Block, T>(io, s, t0 * rows_per_task, std::min(s.batch, t1 * rows_per_task));
    });
  }
}

}  // namespace forward_detail

/// Forward of one block over a batch.
template <class Block, class T>
void block_forward(const BlockBuffers<T>& io, const StepInfo& s) {
  if constexpr (single_output_block<Block>) single_output_forward<Block, T>(io, s);
  else forward_detail::panel_block_forward<Block, T>(io, s);
}

}  // namespace typenet::cpu
