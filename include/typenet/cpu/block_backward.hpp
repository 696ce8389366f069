// The fused backward kernel of one block, in two parallel phases.
//
// Phase 1, per column panel (all rows, one task, so every column sum has one
// fixed order):
//   prologue   dU = dY * drop'(keep) * act'(u or y)          (derivatives from the expressions)
//              no normalisation:  dZ = dU;  db = sum_rows dZ
//              BatchNorm:         dbeta = sum dU;  dgamma = sum dU x-hat
//                                 dZ = gamma/std (dU - (dbeta + x-hat dgamma) / batch)
//   per-sample statistics (LayerNorm, RMSNorm), first a pass over the rows
//   (each row one task):      dU as above;  g = dU gamma (dL/dx-hat);
//                             s1 = sum_row g, s2 = sum_row g x-hat
//   then the panels:          dbeta = sum dU;  dgamma = sum dU x-hat
//                             dZ = 1/std (g - (s1 + x-hat s2) / width)   (RMSNorm: no s1)
//   dZ overwrites dY in place: nothing else needs dY.
// Phase 2, per block of KB rows of W (each task owns rows [k0, k0 + KB)):
//   dX[:, k0..]   = dZ W[k0.., :]^T   (the rows transposed once into scratch, then
//                                       the same broadcast-and-FMA kernel as forward)
//   dW[k0.., :]   = X[:, k0..]^T dZ
// A task reads W's rows for dX before it writes their gradient, so a fused
// optimizer update of those rows (the gradient sink) is safe: no other task
// reads them.
#pragma once

#include "typenet/config.hpp"

#include "typenet/cpu/block_forward.hpp"
#include "typenet/cpu/gradient_sink.hpp"
#include "typenet/cpu/transpose.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

namespace backward_detail {

/// Rows of W handled by one phase-2 task: a whole number of vectors for dX,
/// three by default; four where that splits the rows into an even number of
/// equal tasks and three does not (256 rows with AVX-512: 4 x 64 rather than
/// 5 x 48 + 16, after which one of two threads waits two thirds of a task),
/// and where the register file holds a tile four vectors wide (AVX-512's 32
/// registers; with AVX2's 16, MR x 4 accumulators would live in memory).
template <class T, std::size_t In>
inline constexpr int row_block = [] {
  constexpr std::size_t w = static_cast<std::size_t>(simd::lanes<T>);
  auto even_split = [](std::size_t kb) { return In % kb == 0 && (In / kb) % 2 == 0; };
  const bool four_fit = Blocking<T>::NV >= 4;
  return static_cast<int>(four_fit && !even_split(3 * w) && even_split(4 * w) ? 4 * w : 3 * w);
}();

/// The prologue's passes (see BatchNormPass): `all` for one process;
/// synchronised BatchNorm runs `column_sums` (dU, and its sums into io.stats.sum_grad
/// and io.stats.sum_grad_xhat), sums them across processes, then `normalise` (dZ).
template <class Block, class T, int NV, class Sink>
void prologue_panel(const BlockBuffers<T>& io, T* dy, const BlockStep& s, int c0, simd::Tail<T> tail,
                    const Sink& sink, BatchNormPass pass) {
  using V = simd::vec<T>;
  using Act = typename Block::activation;
  constexpr int W = simd::lanes<T>;
  constexpr std::size_t Out = Block::out;
  const std::size_t batch = s.batch;
  auto ld = [&](const T* p, int v) { return v == NV - 1 ? simd::load(p + v * W, tail) : simd::load(p + v * W); };
  auto st = [&](T* p, int v, V x) {
    if (v == NV - 1) simd::store(p + v * W, x, tail);
    else simd::store(p + v * W, x);
  };
  auto tail_of = [&](int v) { return v == NV - 1 ? tail : simd::Tail<T>(); };

  V gamma[NV], beta[NV];
  if constexpr (Block::batch_statistics) {
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) {
      gamma[v] = ld(io.params + Block::scale_offset + c0, v);
      beta[v] = ld(io.params + Block::shift_offset + c0, v);
    }
  }

  V sum_du[NV], sum_du_xhat[NV];
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) sum_du[v] = sum_du_xhat[v] = V{};
  if (pass != BatchNormPass::normalise) {
  for (std::size_t i = 0; i < batch; ++i) {
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) {
      const std::size_t at = i * Out + static_cast<std::size_t>(c0);
      V g = ld(dy + at, v);
      V y = ld(io.y + at, v);
      if constexpr (Block::has_dropout) {
        const std::uint64_t index = i * Out + static_cast<std::size_t>(c0 + v * W);
        const V keep = dropout_keep<T>(s.dropout_key, index, dropout_threshold(Block::dropout::probability));
        back_through_dropout<T, Block::dropout::probability>(g, y, keep);
      }
      V xhat{}, u{};
      if constexpr (Block::batch_statistics) {
        xhat = ld(io.saved + at, v);
        u = apply<V>(pieces::affine, xhat, gamma[v], beta[v]);
      } else if constexpr (Block::keeps == Keeps::preactivation) {
        u = ld(io.saved + at, v);
      }
      const V du = g * activation_derivative<Act>(u, y);
      st(dy + at, v, du);
      sum_du[v] += du;
      if constexpr (Block::batch_statistics) sum_du_xhat[v] = simd::fma(du, xhat, sum_du_xhat[v]);
    }
  }

  }

  if constexpr (Block::batch_statistics) {
    if (pass == BatchNormPass::column_sums) {
      // dgamma = sum dU * du/dgamma (= x-hat), dbeta = sum dU * du/dbeta (= 1),
      // over this process's samples; the sums go across processes for dZ.
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) {
        sink(Block::scale_offset + static_cast<std::size_t>(c0 + v * W), sum_du_xhat[v], tail_of(v));
        sink(Block::shift_offset + static_cast<std::size_t>(c0 + v * W), sum_du[v], tail_of(v));
        st(io.stats.sum_grad + c0, v, sum_du[v]);
        st(io.stats.sum_grad_xhat + c0, v, sum_du_xhat[v]);
      }
      return;
    }
    V local_du[NV], local_du_xhat[NV];
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) {
      local_du[v] = sum_du[v];
      local_du_xhat[v] = sum_du_xhat[v];
      if (pass == BatchNormPass::normalise) {  // the sums over every process's batch
        sum_du[v] = ld(io.stats.sum_grad + c0, v);
        sum_du_xhat[v] = ld(io.stats.sum_grad_xhat + c0, v);
      }
    }
    const V inv_n = simd::splat<V>(T(1) / T(s.statistics_batch));
    for (std::size_t i = 0; i < batch; ++i) {
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) {
        const std::size_t at = i * Out + static_cast<std::size_t>(c0);
        const V xhat = ld(io.saved + at, v);
        const V du = ld(dy + at, v);
        const V centred = du - simd::fma(xhat, sum_du_xhat[v], sum_du[v]) * inv_n;
        st(dy + at, v, gamma[v] * ld(io.stats.inv_std + c0, v) * centred);
      }
    }
    // dgamma = sum dU * du/dgamma (= x-hat), dbeta = sum dU * du/dbeta (= 1);
    // gamma was read above, so the sink may update it now.
    if (pass == BatchNormPass::all) {
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) {
        sink(Block::scale_offset + static_cast<std::size_t>(c0 + v * W), local_du_xhat[v], tail_of(v));
        sink(Block::shift_offset + static_cast<std::size_t>(c0 + v * W), local_du[v], tail_of(v));
      }
    }
  }
  if constexpr (Block::has_bias) {
    // db = sum dZ * du/db, with du/db = 1 from the bias expression.
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) sink(Block::bias_offset + static_cast<std::size_t>(c0 + v * W), sum_du[v], tail_of(v));
  }
}

/// dX[:, k0 .. k0 + rows) = dZ W[k0 .., :]^T. The rows of W are transposed into
/// wt (Out x NV*W, row-major) so that the product is the forward kernel's:
/// broadcast dZ[i, j], multiply a vector of W^T[j, k0 ..].
template <class Block, class T, int NV>
void input_gradient_rows(const T* w, const T* dz, T* dx, T* wt, std::size_t batch, std::size_t k0,
                         simd::Tail<T> tail) {
  constexpr int W = simd::lanes<T>, MR = Blocking<T>::MR;
  constexpr std::size_t In = Block::in, Out = Block::out, width = NV * W;
  const std::size_t rows = std::min<std::size_t>(width, In - k0);
  transpose(w + k0 * Out, Out, rows, Out, wt, width);
  Tile<T, MR, NV> acc;
  for (std::size_t i0 = 0; i0 < batch; i0 += MR) {
    const int r = static_cast<int>(std::min<std::size_t>(MR, batch - i0));
    outer_tile<T, MR, NV>(dz + i0 * Out, static_cast<std::ptrdiff_t>(Out), 1, r, wt, width, static_cast<int>(Out),
                          tail, acc);
    TYPENET_UNROLL
    for (int m = 0; m < MR; ++m) {
      if (m >= r) break;  // compile-time m keeps the tile in registers
      T* out = dx + (i0 + static_cast<std::size_t>(m)) * In + k0;
      TYPENET_UNROLL
      for (int v = 0; v < NV; ++v) {
        if (v == NV - 1) simd::store(out + v * W, acc[m][v], tail);
        else simd::store(out + v * W, acc[m][v]);
      }
    }
  }
}

/// dW[k0 .. k0 + rows, :] = X[:, k0 ..]^T dZ, handed to the sink tile by tile.
template <class Block, class T, class Sink>
void weight_gradient_rows(const BlockBuffers<T>& io, const T* dz, std::size_t batch, std::size_t k0, std::size_t rows,
                          const Sink& sink) {
  constexpr int W = simd::lanes<T>, MR = Blocking<T>::MR;
  constexpr std::size_t Out = Block::out;
  using P = Panels<T, Out>;
  for (int p = 0; p < P::count; ++p)
    P::visit(p, [&](auto nv, int c0, simd::Tail<T> tail) {
      constexpr int NV = decltype(nv)::value;
      Tile<T, MR, NV> acc;
      for (std::size_t m0 = k0; m0 < k0 + rows; m0 += MR) {
        const int r = static_cast<int>(std::min<std::size_t>(MR, k0 + rows - m0));
        // The sink's memory for this tile (parameters and optimizer state,
        // beyond the caches) is requested now and arrives during the product.
        for (int m = 0; m < r; ++m)
          for (int v = 0; v < NV; v += 64 / static_cast<int>(sizeof(T)) / W)
            sink.prefetch(Block::weight_offset + (m0 + static_cast<std::size_t>(m)) * Out +
                          static_cast<std::size_t>(c0 + v * W));
        outer_tile<T, MR, NV>(io.x + m0, 1, static_cast<std::ptrdiff_t>(io.ldx), r, dz + c0,
                              static_cast<std::ptrdiff_t>(Out), static_cast<int>(batch), tail, acc);
        TYPENET_UNROLL
        for (int m = 0; m < MR; ++m) {
          if (m >= r) break;
          TYPENET_UNROLL
          for (int v = 0; v < NV; ++v)
            sink(Block::weight_offset + (m0 + static_cast<std::size_t>(m)) * Out + static_cast<std::size_t>(c0 + v * W),
                 acc[m][v], v == NV - 1 ? tail : simd::Tail<T>());
        }
      }
    });
}

/// Per-sample statistics (LayerNorm, RMSNorm), backward, rows [r0, r1): dU
/// = dY drop' act'(u) in place of dY, with u = gamma x-hat + beta from the
/// kept x-hat, and each row's sums of g = dU gamma (dL/dx-hat) and of g x-hat.
template <class Block, class T>
void sample_statistics_rows(const BlockBuffers<T>& io, T* dy, const BlockStep& s, std::size_t r0, std::size_t r1) {
  using V = simd::vec<T>;
  using Act = typename Block::activation;
  constexpr std::size_t Out = Block::out;
  for (std::size_t i = r0; i < r1; ++i) {
    V sum_g{}, sum_g_xhat{};
    forward_detail::each_vector<T, Out>([&](std::size_t j, simd::Tail<T> t) {
      const std::size_t at = i * Out + j;
      V g = simd::load(dy + at, t);
      V y = simd::load(io.y + at, t);
      if constexpr (Block::has_dropout) {
        const V keep = dropout_keep<T>(s.dropout_key, at, dropout_threshold(Block::dropout::probability));
        back_through_dropout<T, Block::dropout::probability>(g, y, keep);
      }
      const V xhat = simd::load(io.saved + at, t);
      V u = xhat, gamma = simd::splat<V>(1);
      if constexpr (Block::has_scale) gamma = simd::load(io.params + Block::scale_offset + j, t);
      if constexpr (Block::has_shift) u = apply<V>(pieces::affine, xhat, gamma, simd::load(io.params + Block::shift_offset + j, t));
      else if constexpr (Block::has_scale) u = xhat * gamma;
      const V du = g * activation_derivative<Act>(u, y);
      simd::store(dy + at, du, t);
      const V dxhat = du * gamma;  // masked lanes: 0
      sum_g += dxhat;
      sum_g_xhat = simd::fma(dxhat, xhat, sum_g_xhat);
    });
    io.stats.sum_grad[i] = simd::reduce_add(sum_g);
    io.stats.sum_grad_xhat[i] = simd::reduce_add(sum_g_xhat);
  }
}

/// Per-sample statistics, backward, one column panel (all rows): dgamma =
/// sum dU x-hat and dbeta = sum dU to the sink, then dZ = 1/std (g - (s1 +
/// x-hat s2) / width) in place of dU (RMSNorm: no s1), and db = sum dZ.
template <class Block, class T, int NV, class Sink>
void sample_statistics_panel(const BlockBuffers<T>& io, T* dy, const BlockStep& s, int c0, simd::Tail<T> tail,
                             const Sink& sink) {
  using V = simd::vec<T>;
  constexpr int W = simd::lanes<T>;
  constexpr std::size_t Out = Block::out;
  const forward_detail::PanelAccess<T, NV> panel{tail};
  auto tail_of = [&](int v) { return v == NV - 1 ? tail : simd::Tail<T>(); };
  V gamma[NV], sum_du[NV], sum_du_xhat[NV], sum_dz[NV];
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) {
    gamma[v] = Block::has_scale ? panel.load(io.params + Block::scale_offset + c0, v) : simd::splat<V>(1);
    sum_du[v] = sum_du_xhat[v] = sum_dz[v] = V{};
  }
  const T inv_n = T(1) / T(Out);
  for (std::size_t i = 0; i < s.batch; ++i) {
    const std::size_t at = i * Out + static_cast<std::size_t>(c0);
    const V inv_std = simd::splat<V>(io.stats.inv_std[i]);
    const V s1 = simd::splat<V>(Block::normalization::centred ? io.stats.sum_grad[i] * inv_n : T(0));
    const V s2 = simd::splat<V>(io.stats.sum_grad_xhat[i] * inv_n);
    TYPENET_UNROLL
    for (int v = 0; v < NV; ++v) {
      const V du = panel.load(dy + at, v), xhat = panel.load(io.saved + at, v);
      sum_du[v] += du;
      sum_du_xhat[v] = simd::fma(du, xhat, sum_du_xhat[v]);
      const V dz = inv_std * (du * gamma[v] - simd::fma(xhat, s2, s1));
      panel.store(dy + at, v, dz);
      sum_dz[v] += dz;
    }
  }
  // gamma was read above, so the sink may update it now.
  TYPENET_UNROLL
  for (int v = 0; v < NV; ++v) {
    const std::size_t column = static_cast<std::size_t>(c0 + v * W);
    if constexpr (Block::has_scale) sink(Block::scale_offset + column, sum_du_xhat[v], tail_of(v));
    if constexpr (Block::has_shift) sink(Block::shift_offset + column, sum_du[v], tail_of(v));
    if constexpr (Block::has_bias) sink(Block::bias_offset + column, sum_dz[v], tail_of(v));
  }
}

/// The panel kernels: every block but a single-output one.
template <class Block, class T, class Sink>
void panel_block_backward(const BlockBuffers<T>& io, T* dy, T* dx, const StepInfo& s, const Sink& sink) {
  using P = Panels<T, Block::out>;
  auto each_panel = [&](std::size_t macs, auto&& f) {  // f(nv, c0, tail)
    run_tasks(s.pool, P::count, macs, [&](std::size_t p0, std::size_t p1) {
      for (std::size_t p = p0; p < p1; ++p) P::visit(static_cast<int>(p), f);
    });
  };
  auto prologue = [&](BatchNormPass pass) {
    each_panel(s.batch * Block::out * 4, [&](auto nv, int c0, simd::Tail<T> tail) {
      prologue_panel<Block, T, decltype(nv)::value>(io, dy, s, c0, tail, sink, pass);
    });
  };
  BatchStatisticsReducer<T>* reducer = s.template reducer<T>();
  if constexpr (Block::sample_statistics) {
    constexpr std::size_t R = forward_detail::rows_per_task;
    run_tasks(s.pool, (s.batch + R - 1) / R, s.batch * Block::out * 8, [&](std::size_t t0, std::size_t t1) {
      sample_statistics_rows<Block, T>(io, dy, s, t0 * R, std::min(s.batch, t1 * R));
    });
    each_panel(s.batch * Block::out * 4, [&](auto nv, int c0, simd::Tail<T> tail) {
      sample_statistics_panel<Block, T, decltype(nv)::value>(io, dy, s, c0, tail, sink);
    });
  } else if (Block::batch_statistics && reducer) {  // synchronised BatchNorm
    prologue(BatchNormPass::column_sums);
    reducer->sum(io.stats.sum_grad, Block::out);
    reducer->sum(io.stats.sum_grad_xhat, Block::out);
    prologue(BatchNormPass::normalise);
  } else {
    prologue(BatchNormPass::all);
  }
  constexpr std::size_t KB = row_block<T, Block::in>;
  constexpr std::size_t blocks = (Block::in + KB - 1) / KB;
  constexpr int W = simd::lanes<T>;
  constexpr int last_rows = static_cast<int>(Block::in - (blocks - 1) * KB);
  constexpr int last_vectors = (last_rows + W - 1) / W;
  const std::size_t macs = s.batch * Block::in * Block::out * (dx ? 2 : 1);
  run_tasks(s.pool, blocks, macs, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) {
      const std::size_t k0 = b * KB;
      if (dx) {
        T* wt = io.scratch + k0 * Block::out;
        const T* w = io.params + Block::weight_offset;
        if (b + 1 < blocks) {
          input_gradient_rows<Block, T, static_cast<int>(KB) / W>(w, dy, dx, wt, s.batch, k0, simd::Tail<T>());
        } else {
          const int tail = last_rows - (last_vectors - 1) * W;
          input_gradient_rows<Block, T, last_vectors>(w, dy, dx, wt, s.batch, k0, simd::Tail<T>(tail));
        }
      }
      weight_gradient_rows<Block, T>(io, dy, s.batch, k0, std::min<std::size_t>(KB, Block::in - k0), sink);
    }
  });
}

}  // namespace backward_detail

/// Backward of one block after a train-mode forward. dy holds dL/dY on entry
/// and dL/dZ on return; each parameter gradient goes to the sink (stored, or
/// applied by a fused optimizer); dx (batch x in), when not null, receives
/// dL/dX. io.scratch must hold W transposed when dx is wanted: out rows of in
/// values rounded up to whole vectors (cpu::Backend::scratch_count).
template <class Block, class T, class Sink>
void block_backward(const BlockBuffers<T>& io, T* dy, T* dx, const StepInfo& s, const Sink& sink) {
  if constexpr (single_output_block<Block>) single_output_backward<Block, T>(io, dy, dx, s, sink);
  else backward_detail::panel_block_backward<Block, T>(io, dy, dx, s, sink);
}

}  // namespace typenet::cpu
