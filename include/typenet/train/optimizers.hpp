// Optimizers over the model's whole parameter buffer, one pass per step,
// with torch.optim's definitions (including where weight decay enters).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include "typenet/cpu/vector_loop.hpp"
#include "typenet/base/matrix.hpp"
#include "typenet/simd/math.hpp"

namespace typenet {

namespace optimizer_detail {
template <class T>
void check_sizes(std::span<T> p, std::span<const T> g, const char* who) {
  if (p.size() != g.size())
    throw std::invalid_argument(std::string("typenet: ") + who + ": " + std::to_string(p.size()) +
                                " parameters but " + std::to_string(g.size()) + " gradients.");
}
}  // namespace optimizer_detail

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;  // L2: g += weight_decay * p
  bool nesterov = false;
};

// torch.optim.SGD:
//   g = grad + wd p
//   buf = g (first step), else momentum buf + (1 - dampening) g
//   g = nesterov ? g + momentum buf : buf       (when momentum != 0)
//   p = p - lr g
template <class T = float>
class SGD {
 public:
  explicit SGD(SGDOptions o = {}) : options(o) {
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
      throw std::invalid_argument("typenet: SGD: Nesterov momentum needs momentum > 0 and dampening 0.");
    if (!(o.lr >= 0)) throw std::invalid_argument("typenet: SGD: the learning rate must be >= 0.");
  }
  SGDOptions options;

  // The update of one vector of parameters at `index` from its gradient. A
  // fused training step hands it to backward, which calls it as soon as each
  // gradient is computed; step() applies it over the whole buffer. Both
  // therefore compute the same bits.
  //
  // The same functor runs on the GPU, one element per thread
  // (OptimizerUpdate in cuda/include/typenet/cuda/training_kernels.hpp): a kernel builds it with
  // make() from Scalars, whose layout is the same on both sides.
  struct Scalars {
    T lr, wd, mom, damp;
    bool momentum, first, nesterov;
  };
  struct Update {
    T* params;
    T* buffer;
    simd::vec<T> lr, wd, mom, damp;
    bool momentum, first, nesterov;
    // state[0]: the momentum buffer.
    TYPENET_HD static Update make(T* params, T* const* state, const Scalars& s) {
      using V = simd::vec<T>;
      return {params,
              state[0],
              simd::splat<V>(s.lr),
              simd::splat<V>(s.wd),
              simd::splat<V>(s.mom),
              simd::splat<V>(s.damp),
              s.momentum,
              s.first,
              s.nesterov};
    }
    TYPENET_HD TYPENET_INLINE void operator()(std::size_t i, simd::vec<T> g, simd::Tail<T> t) const {
      const simd::vec<T> p = simd::load(params + i, t);
      simd::vec<T> d = simd::fma(wd, p, g);
      if (momentum) {
        const simd::vec<T> b = first ? d : simd::fma(mom, simd::load(buffer + i, t), damp * d);
        simd::store(buffer + i, b, t);
        d = nesterov ? simd::fma(mom, b, d) : b;
      }
      simd::store(params + i, simd::fma(-lr, d, p), t);  // explicit: see BasicAdam::Update
    }
    TYPENET_INLINE void prefetch(std::size_t i) const {
      __builtin_prefetch(params + i, 1);
      if (momentum) __builtin_prefetch(buffer + i, 1);
    }
  };

  // Starts a step over these parameters: sizes the state on first use.
  Update prepare(std::span<T> p) {
    if (options.momentum != 0 && buffer_.size() != p.size()) {
      buffer_.resize(p.size());
      first_ = true;
    }
    T* state[1] = {buffer_.data()};
    return Update::make(p.data(), state, begin_step());
  }

  // The numbers of the next step, and the step begun: a caller that keeps
  // the momentum buffer elsewhere (the GPU) calls this instead of prepare(),
  // after restart() whenever it (re)allocates that buffer.
  Scalars begin_step() {
    const bool momentum = options.momentum != 0;
    const Scalars s{T(options.lr), T(options.weight_decay), T(options.momentum), T(1) - T(options.dampening),
                    momentum, first_, options.nesterov};
    if (momentum) first_ = false;
    return s;
  }
  // The next step starts the momentum buffer from the gradient.
  void restart() { first_ = true; }

  // One pass over the model's parameter buffer, on the model's threads.
  template <class M>
  void step(M& model) {
    step(model.parameters(), std::span<const T>(model.gradients()), model.thread_pool());
  }
  void step(std::span<T> p, std::span<const T> g, cpu::ThreadPool* pool = nullptr) {
    optimizer_detail::check_sizes(p, g, "SGD");
    const Update u = prepare(p);
    const T* gp = g.data();
    cpu::parallel_vector_loop<T>(pool, p.size(),
                                 [&](std::size_t i, simd::Tail<T> t) { u(i, simd::load(gp + i, t), t); });
  }

  std::span<T> momentum_buffer() { return buffer_.span(); }
  std::span<const T> momentum_buffer() const { return buffer_.span(); }
  void reset() { buffer_ = {}; }

  // Whether the next step blends into the momentum buffer (true) or starts
  // it from the gradient (false): checkpoints save and restore both.
  bool started() const { return !first_ && buffer_.size() != 0; }
  // Replaces the momentum state (an empty buffer: none yet). Allocates before
  // changing anything, so on failure the optimizer is as it was.
  void restore(std::span<const T> buffer, bool started) {
    AlignedBuffer<T> copy(buffer.size());
    std::copy(buffer.begin(), buffer.end(), copy.data());
    buffer_.swap(copy);
    first_ = !started;
  }

 private:
  AlignedBuffer<T> buffer_;
  bool first_ = true;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // Adam: L2 added to the gradient; AdamW: decoupled
};

// torch.optim.Adam (Decoupled = false) and torch.optim.AdamW (true):
//   AdamW: p = p (1 - lr wd);  Adam: g = grad + wd p
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// computed as
//   m = m + (1 - b1) (g - m);  v = v + (1 - b2) (g^2 - v)
//   p = p - m / (sqrt(v) scale + shift),  scale = (1 - b1^t) / (lr sqrt(1 - b2^t)),
//                                         shift = eps (1 - b1^t) / lr
// (the same values, rounded differently: fewer operations per parameter, and
// the denominator's reciprocal from simd::inverse_of_scaled_sqrt, which
// spares the divider; see docs/performance.md).
template <class T = float, bool Decoupled = false>
class BasicAdam {
 public:
  explicit BasicAdam(AdamOptions o = {}) : options(o) {
    if (!(o.lr >= 0)) throw std::invalid_argument("typenet: Adam: the learning rate must be >= 0.");
    if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1))
      throw std::invalid_argument("typenet: Adam: betas must be in [0, 1).");
    if (!(o.eps >= 0)) throw std::invalid_argument("typenet: Adam: eps must be >= 0.");
  }
  AdamOptions options;

  // The update of one vector of parameters at `index` from its gradient
  // (see SGD::Update: the fused step and step() share it).
  struct Scalars {
    T scale, shift, one_b1, one_b2, wd, decay;
    bool frozen;  // lr = 0: the moments move, the parameters do not
  };
  struct Update {
    T* params;
    T* m;
    T* v;
    simd::vec<T> scale, shift, one_b1, one_b2, wd, decay;
    bool frozen, weight_decay;
    // state[0], state[1]: the first and second moments.
    TYPENET_HD static Update make(T* params, T* const* state, const Scalars& s) {
      using V = simd::vec<T>;
      return {params,
              state[0],
              state[1],
              simd::splat<V>(s.scale),
              simd::splat<V>(s.shift),
              simd::splat<V>(s.one_b1),
              simd::splat<V>(s.one_b2),
              simd::splat<V>(s.wd),
              simd::splat<V>(s.decay),
              s.frozen,
              s.wd != T(0)};
    }
    TYPENET_HD TYPENET_INLINE void operator()(std::size_t i, simd::vec<T> g, simd::Tail<T> t) const {
      using V = simd::vec<T>;
      const V p = simd::load(params + i, t);
      // Every multiply-add is an explicit fma: left to the compiler, the
      // contraction could differ between the fused and the separate step.
      if constexpr (!Decoupled)
        if (weight_decay) g = simd::fma(wd, p, g);
      const V m0 = simd::load(m + i, t), v0 = simd::load(v + i, t);
      const V mi = simd::fma(one_b1, g - m0, m0);
      const V vi = simd::fma(one_b2, simd::fma(g, g, -v0), v0);
      simd::store(m + i, mi, t);
      simd::store(v + i, vi, t);
      V step = mi * simd::inverse_of_scaled_sqrt(vi, scale, shift);
      if (frozen) step = V{};
      if constexpr (Decoupled) simd::store(params + i, simd::fma(p, decay, -step), t);
      else simd::store(params + i, p - step, t);
    }
    TYPENET_INLINE void prefetch(std::size_t i) const {
      __builtin_prefetch(params + i, 1);
      __builtin_prefetch(m + i, 1);
      __builtin_prefetch(v + i, 1);
    }
  };

  // Starts step t + 1 over these parameters: sizes the moments on first use.
  Update prepare(std::span<T> p) {
    if (m_.size() != p.size()) {
      m_.resize(p.size());
      v_.resize(p.size());
      t_ = 0;
    }
    T* state[2] = {m_.data(), v_.data()};
    return Update::make(p.data(), state, begin_step());
  }

  // The numbers of step t + 1, and the step begun: a caller that keeps the
  // moments elsewhere (the GPU) calls this instead of prepare(), after
  // restart() whenever it (re)allocates them.
  Scalars begin_step() {
    ++t_;
    const double bc1 = 1 - std::pow(options.beta1, static_cast<double>(t_));
    const double bc2 = 1 - std::pow(options.beta2, static_cast<double>(t_));
    const double step_size = options.lr / bc1;
    const bool frozen = step_size == 0;  // scale and shift then keep the arithmetic finite
    return {T(frozen ? 0.0 : 1 / (step_size * std::sqrt(bc2))),
            T(frozen ? 1.0 : options.eps / step_size),
            T(1 - options.beta1),  // in double: 1 - T(0.999) loses 4 digits
            T(1 - options.beta2),
            T(options.weight_decay),
            T(1 - options.lr * options.weight_decay),
            frozen};
  }
  // The next step is the first (bias corrections start again).
  void restart() { t_ = 0; }

  // One pass over the model's parameter buffer, on the model's threads.
  template <class M>
  void step(M& model) {
    step(model.parameters(), std::span<const T>(model.gradients()), model.thread_pool());
  }
  void step(std::span<T> p, std::span<const T> g, cpu::ThreadPool* pool = nullptr) {
    optimizer_detail::check_sizes(p, g, Decoupled ? "AdamW" : "Adam");
    const Update u = prepare(p);
    const T* gp = g.data();
    cpu::parallel_vector_loop<T>(pool, p.size(),
                                 [&](std::size_t i, simd::Tail<T> t) { u(i, simd::load(gp + i, t), t); });
  }

  std::size_t steps() const { return t_; }
  void set_steps(std::size_t t) { t_ = t; }
  std::span<T> first_moment() { return m_.span(); }
  std::span<T> second_moment() { return v_.span(); }
  std::span<const T> first_moment() const { return m_.span(); }
  std::span<const T> second_moment() const { return v_.span(); }
  // Replaces the moments (both empty: none yet) and the step count, as a
  // checkpoint saved them. Allocates before changing anything.
  void restore(std::span<const T> first, std::span<const T> second, std::size_t steps) {
    if (first.size() != second.size())
      throw std::invalid_argument("typenet: Adam: restore needs first and second moments of the same size.");
    AlignedBuffer<T> m(first.size()), v(second.size());
    std::copy(first.begin(), first.end(), m.data());
    std::copy(second.begin(), second.end(), v.data());
    m_.swap(m);
    v_.swap(v);
    t_ = steps;
  }

 private:
  AlignedBuffer<T> m_, v_;
  std::size_t t_ = 0;
};

template <class T = float>
using Adam = BasicAdam<T, false>;
template <class T = float>
using AdamW = BasicAdam<T, true>;

}  // namespace typenet
