// RMSprop, as torch.optim.RMSprop (including its order of operations: eps
// is added outside the square root, weight decay enters the gradient):
//   g = grad + wd p
//   v = alpha v + (1 - alpha) g^2
//   centered:  a = alpha a + (1 - alpha) g;  d = sqrt(v - a^2) + eps
//   otherwise: d = sqrt(v) + eps
//   momentum > 0: b = momentum b + g / d;  p = p - lr b
//   otherwise:    p = p - lr g / d
// The averages are computed as v + (1 - alpha) (g^2 - v), as Adam's
// moments: the same values, one multiply-add fewer.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>

#include "typenet/optim/declaration.hpp"
#include "typenet/optim/optimizer_base.hpp"
#include "typenet/simd/math.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// The options of RMSprop, as `torch.optim.RMSprop`'s.
struct RMSpropOptions {
  double lr = 0.01;  ///< learning rate
  double alpha = 0.99;  ///< decay rate of the square average
  double eps = 1e-8;  ///< added to the root of the square average, for stability
  double weight_decay = 0.0;  ///< L2: g += weight_decay * p
  double momentum = 0.0;  ///< momentum of the step (0: none)
  bool centered = false;  ///< divide by the variance, not the second moment (the gradient average subtracted)
};

/// What RMSprop declares about itself: its options and its square average, momentum and gradient-average buffers.
struct RMSpropDeclaration {
  /// The options it takes.
  using Options = RMSpropOptions;
  static constexpr optim::Tag tag{"RMSprop", 4};  ///< its name, and its id in checkpoints
  /// Its numeric options, in the order checkpoints store them.
  static constexpr std::array numbers{
      optim::number("learning rate", &Options::lr), optim::number("alpha", &Options::alpha),
      optim::number("eps", &Options::eps), optim::number("weight decay", &Options::weight_decay),
      optim::number("momentum", &Options::momentum)};
  static constexpr std::array flags{optim::flag("centered", &Options::centered)};  ///< its boolean option
  /// torch's checks, in its order.
  static void check(const Options& o) {
    if (!(o.lr >= 0)) throw std::invalid_argument("typenet: RMSprop: the learning rate must be >= 0.");
    if (!(o.eps >= 0)) throw std::invalid_argument("typenet: RMSprop: eps must be >= 0.");
    if (!(o.momentum >= 0)) throw std::invalid_argument("typenet: RMSprop: the momentum must be >= 0.");
    if (!(o.weight_decay >= 0)) throw std::invalid_argument("typenet: RMSprop: the weight decay must be >= 0.");
    if (!(o.alpha >= 0)) throw std::invalid_argument("typenet: RMSprop: alpha must be >= 0.");
  }
  /// Its buffers: the square average, the momentum buffer (when momentum > 0) and the gradient average (when centered).
  static constexpr std::array buffers{
      optim::Buffer<Options>{"square average"},
      optim::Buffer<Options>{"momentum buffer", [](const Options& o) { return o.momentum > 0; }},
      optim::Buffer<Options>{"gradient average", [](const Options& o) { return o.centered; }}};
  static constexpr const char* buffer_length = "state buffer length";  ///< what a checkpoint calls the buffers' length in messages
  static constexpr std::array<optim::Counter, 0> counters{};  ///< it keeps no counter
  static constexpr std::array<optim::StateFlag, 0> state_flags{};  ///< it keeps no boolean state
};

/// RMSprop with `torch.optim.RMSprop`'s semantics (centered, momentum, L2 weight decay).
template <class T = float>
class RMSprop : public optim::OptimizerBase<RMSprop<T>, RMSpropDeclaration, T> {
  using Base = optim::OptimizerBase<RMSprop<T>, RMSpropDeclaration, T>;

 public:
  /// An optimizer with these options (checked: a bad value throws std::invalid_argument).
  explicit RMSprop(RMSpropOptions o = {}) : Base(o) {}

  /// The numbers one step uses, computed once per step in double.
  struct Scalars {
    ///@{
    /// The step's learning rate, 1 - alpha, eps, weight decay and momentum.
    T lr, one_alpha, eps, wd, mom;
    ///@}
    ///@{
    /// Whether weight decay, momentum and centering apply.
    bool weight_decay, momentum, centered;
    ///@}
  };
  /// One step of the update on parameters i, i + 1, ...: what the fused kernels and the GPU call for each vector.
  struct Update {
    T* params;  ///< the parameters
    T* square;  ///< the square average
    T* buffer;  ///< the momentum buffer (unused without momentum)
    T* average;  ///< the gradient average (unused unless centered)
    ///@{
    /// The step's scalars, one per lane.
    simd::vec<T> lr, one_alpha, eps, wd, mom;
    ///@}
    ///@{
    /// Whether weight decay, momentum and centering apply.
    bool weight_decay, momentum, centered;
    ///@}
    /// state[0], [1], [2]: the square average, the momentum buffer and the
    /// gradient average (the last two null when not in use).
    TYPENET_HD static Update make(T* params, T* const* state, const Scalars& s) {
      using V = simd::vec<T>;
      return {params,
              state[0],
              state[1],
              state[2],
              simd::splat<V>(s.lr),
              simd::splat<V>(s.one_alpha),
              simd::splat<V>(s.eps),
              simd::splat<V>(s.wd),
              simd::splat<V>(s.mom),
              s.weight_decay,
              s.momentum,
              s.centered};
    }
    /// Updates the parameters at i (a vector, or its first t lanes) from their gradient g.
    TYPENET_HD TYPENET_INLINE void operator()(std::size_t i, simd::vec<T> g, simd::Tail<T> t) const {
      using V = simd::vec<T>;
      const V p = simd::load(params + i, t);
      // Every multiply-add is an explicit fma (see BasicAdam::Update).
      if (weight_decay) g = simd::fma(wd, p, g);
      const V v0 = simd::load(square + i, t);
      // The averages flush to zero rather than decay into subnormals (as Adam's).
      const V v = simd::flush_subnormal(simd::fma(one_alpha, simd::fma(g, g, -v0), v0));
      simd::store(square + i, v, t);
      V variance = v;
      if (centered) {
        const V a0 = simd::load(average + i, t);
        const V a = simd::flush_subnormal(simd::fma(one_alpha, g - a0, a0));
        simd::store(average + i, a, t);
        variance = simd::fma(-a, a, v);
      }
      // g / (sqrt(variance) + eps), the reciprocal as Adam takes it.
      V q = g * simd::inverse_of_scaled_sqrt(variance, simd::splat<V>(T(1)), eps);
      if (momentum) {
        q = simd::flush_subnormal(simd::fma(mom, simd::load(buffer + i, t), q));
        simd::store(buffer + i, q, t);
      }
      simd::store(params + i, simd::fma(-lr, q, p), t);
    }
    /// Asks the cache for the memory the update at i will touch.
    TYPENET_INLINE void prefetch(std::size_t i) const {
      __builtin_prefetch(params + i, 1);
      __builtin_prefetch(square + i, 1);
      if (momentum) __builtin_prefetch(buffer + i, 1);
      if (centered) __builtin_prefetch(average + i, 1);
    }
  };

  /// The numbers of the next step.
  Scalars begin_step() {
    const RMSpropOptions& o = this->options;
    return {T(o.lr),
            T(1 - o.alpha),  // in double, as Adam's 1 - beta
            T(o.eps),
            T(o.weight_decay),
            T(o.momentum),
            o.weight_decay != 0,
            o.momentum > 0,
            o.centered};
  }

  /// The square average of the gradients, one per parameter (empty before the first step).
  std::span<const T> square_average() const { return this->state_.buffers[0].span(); }
  /// The momentum buffer (empty without momentum).
  std::span<const T> momentum_buffer() const { return this->state_.buffers[1].span(); }
  /// The average of the gradients (empty unless centered).
  std::span<const T> gradient_average() const { return this->state_.buffers[2].span(); }
};

}  // namespace typenet
