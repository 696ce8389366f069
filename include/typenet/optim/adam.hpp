// Adam and AdamW, as torch.optim.Adam (Decoupled = false) and
// torch.optim.AdamW (true):
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
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>

#include "typenet/optim/declaration.hpp"
#include "typenet/optim/optimizer_base.hpp"
#include "typenet/simd/math.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// The options of Adam and AdamW, as `torch.optim.Adam`'s and `torch.optim.AdamW`'s.
struct AdamOptions {
  double lr = 1e-3;  ///< learning rate
  double beta1 = 0.9;  ///< decay rate of the first moment
  double beta2 = 0.999;  ///< decay rate of the second moment
  double eps = 1e-8;  ///< added to the root of the second moment, for stability
  double weight_decay = 0.0;  ///< Adam: L2 added to the gradient; AdamW: decoupled
};

/// What Adam (Decoupled false) or AdamW (true) declares about itself: its options, two moments and a step count.
template <bool Decoupled>
struct AdamDeclaration {
  /// The options it takes.
  using Options = AdamOptions;
  static constexpr optim::Tag tag = Decoupled ? optim::Tag{"AdamW", 3} : optim::Tag{"Adam", 2};  ///< its name, and its id in checkpoints
  /// Its numeric options, in the order checkpoints store them.
  static constexpr std::array numbers{
      optim::number("learning rate", &Options::lr), optim::number("beta1", &Options::beta1),
      optim::number("beta2", &Options::beta2), optim::number("eps", &Options::eps),
      optim::number("weight decay", &Options::weight_decay)};
  static constexpr std::array<optim::Flag<Options>, 0> flags{};  ///< it has no boolean options
  /// Refuses options outside their ranges (std::invalid_argument, naming the option).
  static void check(const Options& o) {
    if (!(o.lr >= 0)) throw std::invalid_argument("typenet: Adam: the learning rate must be >= 0.");
    if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1))
      throw std::invalid_argument("typenet: Adam: betas must be in [0, 1).");
    if (!(o.eps >= 0)) throw std::invalid_argument("typenet: Adam: eps must be >= 0.");
  }
  /// Its buffers: the first and second moments, one value per parameter each.
  static constexpr std::array buffers{optim::Buffer<Options>{"first moment"}, optim::Buffer<Options>{"second moment"}};
  static constexpr const char* buffer_length = "moment length";  ///< what a checkpoint calls the buffers' length in messages
  /// t, for the bias corrections.
  static constexpr std::array counters{optim::Counter{"step count", true}};
  static constexpr std::array<optim::StateFlag, 0> state_flags{};  ///< it keeps no boolean state
};

/// Adam (Decoupled false: L2 weight decay in the gradient) or AdamW (true: decoupled weight decay), as torch.optim's.
template <class T = float, bool Decoupled = false>
class BasicAdam : public optim::OptimizerBase<BasicAdam<T, Decoupled>, AdamDeclaration<Decoupled>, T> {
  using Base = optim::OptimizerBase<BasicAdam<T, Decoupled>, AdamDeclaration<Decoupled>, T>;

 public:
  /// An optimizer with these options (checked: a bad value throws std::invalid_argument).
  explicit BasicAdam(AdamOptions o = {}) : Base(o) {}

  /// The numbers one step uses, computed once per step in double (bias corrections folded in).
  struct Scalars {
    ///@{
    /// The step's scale and shift of the root of the second moment, 1 - beta1, 1 - beta2, weight decay and AdamW's decay factor 1 - lr wd.
    T scale, shift, one_b1, one_b2, wd, decay;
    ///@}
    bool frozen;  ///< lr = 0: the moments move, the parameters do not
  };
  /// One step of the update on parameters i, i + 1, ...: what the fused kernels and the GPU call for each vector.
  struct Update {
    T* params;  ///< the parameters
    T* m;  ///< the first moment
    T* v;  ///< the second moment
    ///@{
    /// The step's scalars, one per lane.
    simd::vec<T> scale, shift, one_b1, one_b2, wd, decay;
    ///@}
    ///@{
    /// Whether the parameters stay as they are (lr = 0) and whether weight decay applies.
    bool frozen, weight_decay;
    ///@}
    /// state[0], state[1]: the first and second moments.
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
    /// Updates the parameters at i (a vector, or its first t lanes) from their gradient g.
    TYPENET_HD TYPENET_INLINE void operator()(std::size_t i, simd::vec<T> g, simd::Tail<T> t) const {
      using V = simd::vec<T>;
      const V p = simd::load(params + i, t);
      // Every multiply-add is an explicit fma: left to the compiler, the
      // contraction could differ between the fused and the separate step.
      if constexpr (!Decoupled)
        if (weight_decay) g = simd::fma(wd, p, g);
      const V m0 = simd::load(m + i, t), v0 = simd::load(v + i, t);
      // The moments flush to zero rather than decay into subnormals (see
      // simd::flush_subnormal; docs/interop.md says how this differs from torch).
      const V mi = simd::flush_subnormal(simd::fma(one_b1, g - m0, m0));
      const V vi = simd::flush_subnormal(simd::fma(one_b2, simd::fma(g, g, -v0), v0));
      simd::store(m + i, mi, t);
      simd::store(v + i, vi, t);
      V step = mi * simd::inverse_of_scaled_sqrt(vi, scale, shift);
      if (frozen) step = V{};
      if constexpr (Decoupled) simd::store(params + i, simd::fma(p, decay, -step), t);
      else simd::store(params + i, p - step, t);
    }
    /// Asks the cache for the memory the update at i will touch.
    TYPENET_INLINE void prefetch(std::size_t i) const {
      __builtin_prefetch(params + i, 1);
      __builtin_prefetch(m + i, 1);
      __builtin_prefetch(v + i, 1);
    }
  };

  /// The numbers of step t + 1, and the step begun.
  Scalars begin_step() {
    const AdamOptions& o = this->options;
    const std::size_t t = ++this->state_.counters[0];
    const double bc1 = 1 - std::pow(o.beta1, static_cast<double>(t));
    const double bc2 = 1 - std::pow(o.beta2, static_cast<double>(t));
    const double step_size = o.lr / bc1;
    const bool frozen = step_size == 0;  // scale and shift then keep the arithmetic finite
    return {T(frozen ? 0.0 : 1 / (step_size * std::sqrt(bc2))),
            T(frozen ? 1.0 : o.eps / step_size),
            T(1 - o.beta1),  // in double: 1 - T(0.999) loses 4 digits
            T(1 - o.beta2),
            T(o.weight_decay),
            T(1 - o.lr * o.weight_decay),
            frozen};
  }

  /// The number of steps taken.
  std::size_t steps() const { return this->state_.counters[0]; }
  /// The first moment, one per parameter (empty before the first step).
  std::span<const T> first_moment() const { return this->state_.buffers[0].span(); }
  /// The second moment, one per parameter (empty before the first step).
  std::span<const T> second_moment() const { return this->state_.buffers[1].span(); }
};

/// Adam with `torch.optim.Adam`'s semantics.
template <class T = float>
using Adam = BasicAdam<T, false>;
/// AdamW (decoupled weight decay) with `torch.optim.AdamW`'s semantics.
template <class T = float>
using AdamW = BasicAdam<T, true>;

}  // namespace typenet
