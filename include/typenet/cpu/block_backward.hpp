// The fused backward kernel of one block. Given dY (gradient of the block's
// output), per column panel (all rows, one task, so every column sum has one
// fixed order):
//
//   prologue   dU = dY * drop'(keep) * act'(u or y)          (derivatives from the expressions)
//              no BatchNorm:  dZ = dU;  db = sum_rows dZ
//              BatchNorm:     dbeta = sum dU;  dgamma = sum dU x-hat
//                             dZ = gamma/std (dU - (dbeta + x-hat dgamma) / batch)
//   dW panel   dW[:, panel] = X^T dZ[:, panel]   while dZ's panel is in L1
// then, once every panel is done,
//   dX         dX = dZ W^T                        (split by columns of dX)
//
// dZ overwrites dY in place: nothing else needs dY, and no extra buffer is
// touched.
#pragma once

#include "typenet/cpu/block_forward.hpp"

namespace typenet::cpu {

namespace backward_detail {

template <class Block, class T, int NV>
void backward_panel(const T* params, T* grads, const BlockIo<T>& io, T* dy, const StepInfo& s, int c0,
                    simd::Tail<T> tail) {
  using V = simd::vec<T>;
  using Act = typename Block::activation;
  constexpr int W = simd::lanes<T>, MR = Blocking<T>::MR;
  constexpr std::size_t In = Block::in, Out = Block::out;
  const std::size_t batch = s.batch;
  auto ld = [&](const T* p, int v) { return v == NV - 1 ? simd::load(p + v * W, tail) : simd::load(p + v * W); };
  auto st = [&](T* p, int v, V x) {
    if (v == NV - 1) simd::store(p + v * W, x, tail);
    else simd::store(p + v * W, x);
  };

  V gamma[NV], beta[NV];
  if constexpr (Block::has_batchnorm)
    for (int v = 0; v < NV; ++v) {
      gamma[v] = ld(params + Block::gamma_offset + c0, v);
      beta[v] = ld(params + Block::beta_offset + c0, v);
    }

  // Prologue: dU, and the column sums it feeds.
  constexpr T p = T(Block::dropout::probability);
  constexpr T keep_scale = T(1) / (T(1) - p);
  V sum_du[NV], sum_du_xhat[NV];
  for (int v = 0; v < NV; ++v) sum_du[v] = sum_du_xhat[v] = V{};
  for (std::size_t i = 0; i < batch; ++i) {
    for (int v = 0; v < NV; ++v) {
      const std::size_t at = i * Out + static_cast<std::size_t>(c0);
      V g = ld(dy + at, v);
      V y = ld(io.y + at, v);
      if constexpr (Block::has_dropout) {
        const std::uint64_t index = i * Out + static_cast<std::size_t>(c0 + v * W);
        const V keep = dropout_keep<T>(s.dropout_key, index, dropout_threshold(Block::dropout::probability));
        // d drop / d y = keep / (1 - p); where dropped, dU is 0 whatever act' is.
        g = g * expr::derivative<0>(pieces::dropout).template eval<V>(std::array<V, 3>{y, keep, simd::splat<V>(keep_scale)});
        y = y * simd::splat<V>(T(1) - p);  // the activation's output before dropout (where kept)
      }
      V xhat{}, u{};
      if constexpr (Block::has_batchnorm) {
        xhat = ld(io.saved + at, v);
        u = apply<V>(pieces::affine, xhat, gamma[v], beta[v]);
      } else if constexpr (Block::keeps_preactivation) {
        u = ld(io.saved + at, v);
      }
      const V du = g * activation_derivative<Act>(u, y);
      st(dy + at, v, du);
      sum_du[v] += du;
      if constexpr (Block::has_batchnorm) sum_du_xhat[v] = simd::fma(du, xhat, sum_du_xhat[v]);
    }
  }

  if constexpr (Block::has_bias) {
    // db = sum dZ * du/db, with du/db = 1 from the bias expression.
    for (int v = 0; v < NV; ++v) st(grads + Block::bias_offset + c0, v, sum_du[v]);
  }
  if constexpr (Block::has_batchnorm) {
    // dgamma = sum dU * du/dgamma (= x-hat), dbeta = sum dU * du/dbeta (= 1)
    for (int v = 0; v < NV; ++v) {
      st(grads + Block::gamma_offset + c0, v, sum_du_xhat[v]);
      st(grads + Block::beta_offset + c0, v, sum_du[v]);
    }
    const V inv_n = simd::splat<V>(T(1) / T(batch));
    for (std::size_t i = 0; i < batch; ++i)
      for (int v = 0; v < NV; ++v) {
        const std::size_t at = i * Out + static_cast<std::size_t>(c0);
        const V xhat = ld(io.saved + at, v);
        const V du = ld(dy + at, v);
        const V centred = du - simd::fma(xhat, sum_du_xhat[v], sum_du[v]) * inv_n;
        st(dy + at, v, gamma[v] * ld(io.inv_std + c0, v) * centred);
      }
  }

  // dW[k, panel] = sum_i X[i, k] dZ[i, panel]
  T* dw = grads + Block::weight_offset + c0;
  Tile<T, MR, NV> acc;
  for (std::size_t k0 = 0; k0 < In; k0 += MR) {
    const int rows = static_cast<int>(std::min<std::size_t>(MR, In - k0));
    outer_tile<T, MR, NV>(io.x + k0, 1, static_cast<std::ptrdiff_t>(io.ldx), rows, dy + c0,
                          static_cast<std::ptrdiff_t>(Out), static_cast<int>(batch), tail, acc);
    for (int m = 0; m < rows; ++m)
      for (int v = 0; v < NV; ++v) st(dw + (k0 + static_cast<std::size_t>(m)) * Out, v, acc[m][v]);
  }
}

// dX[i, k] = sum_j dZ[i, j] W[k, j] for the column block [k0, k0 + KR).
template <class Block, class T>
void input_gradient_columns(const T* params, const T* dz, T* dx, std::size_t batch, std::size_t k0) {
  constexpr int MR = Blocking<T>::dot_rows, KR = Blocking<T>::dot_cols;
  constexpr std::size_t In = Block::in, Out = Block::out;
  const T* w = params + Block::weight_offset;
  const int krows = static_cast<int>(std::min<std::size_t>(KR, In - k0));
  T out[MR][KR];
  for (std::size_t i0 = 0; i0 < batch; i0 += MR) {
    const int rows = static_cast<int>(std::min<std::size_t>(MR, batch - i0));
    dot_tile<T, MR, KR, static_cast<int>(Out)>(dz + i0 * Out, Out, rows, w + k0 * Out, Out, krows, out);
    for (int m = 0; m < rows; ++m)
      for (int k = 0; k < krows; ++k) dx[(i0 + static_cast<std::size_t>(m)) * In + k0 + static_cast<std::size_t>(k)] = out[m][k];
  }
}

}  // namespace backward_detail

// Backward of one block after a train-mode forward. dy holds dL/dY on entry
// and dL/dZ on return; gradients are written (not accumulated) into grads; dx
// (batch x in), when not null, receives dL/dX.
template <class Block, class T>
void block_backward(const T* params, T* grads, const BlockIo<T>& io, T* dy, T* dx, const StepInfo& s) {
  using P = Panels<T, Block::out>;
  run_tasks(s.pool, P::count, s.batch * Block::in * Block::out, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p)
      P::visit(static_cast<int>(p), [&](auto nv, int c0, simd::Tail<T> tail) {
        backward_detail::backward_panel<Block, T, decltype(nv)::value>(params, grads, io, dy, s, c0, tail);
      });
  });
  if (!dx) return;
  constexpr std::size_t KR = Blocking<T>::dot_cols;
  constexpr std::size_t column_blocks = (Block::in + KR - 1) / KR;
  run_tasks(s.pool, column_blocks, s.batch * Block::in * Block::out, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b)
      backward_detail::input_gradient_columns<Block, T>(params, dy, dx, s.batch, b * KR);
  });
}

}  // namespace typenet::cpu
