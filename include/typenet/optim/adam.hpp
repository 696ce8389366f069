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

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>

#include "typenet/optim/declaration.hpp"
#include "typenet/optim/optimizer_base.hpp"
#include "typenet/simd/math.hpp"

namespace typenet {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // Adam: L2 added to the gradient; AdamW: decoupled
};

template <bool Decoupled>
struct AdamDeclaration {
  using Options = AdamOptions;
  static constexpr optim::Tag tag = Decoupled ? optim::Tag{"AdamW", 3} : optim::Tag{"Adam", 2};
  static constexpr std::array numbers{
      optim::number("learning rate", &Options::lr), optim::number("beta1", &Options::beta1),
      optim::number("beta2", &Options::beta2), optim::number("eps", &Options::eps),
      optim::number("weight decay", &Options::weight_decay)};
  static constexpr std::array<optim::Flag<Options>, 0> flags{};
  static void check(const Options& o) {
    if (!(o.lr >= 0)) throw std::invalid_argument("typenet: Adam: the learning rate must be >= 0.");
    if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1))
      throw std::invalid_argument("typenet: Adam: betas must be in [0, 1).");
    if (!(o.eps >= 0)) throw std::invalid_argument("typenet: Adam: eps must be >= 0.");
  }
  static constexpr std::array buffers{optim::Buffer<Options>{"first moment"}, optim::Buffer<Options>{"second moment"}};
  static constexpr const char* buffer_length = "moment length";
  // t, for the bias corrections.
  static constexpr std::array counters{optim::Counter{"step count", true}};
  static constexpr std::array<optim::StateFlag, 0> state_flags{};
};

template <class T = float, bool Decoupled = false>
class BasicAdam : public optim::OptimizerBase<BasicAdam<T, Decoupled>, AdamDeclaration<Decoupled>, T> {
  using Base = optim::OptimizerBase<BasicAdam<T, Decoupled>, AdamDeclaration<Decoupled>, T>;

 public:
  explicit BasicAdam(AdamOptions o = {}) : Base(o) {}

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

  // The numbers of step t + 1, and the step begun.
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

  std::size_t steps() const { return this->state_.counters[0]; }
  std::span<const T> first_moment() const { return this->state_.buffers[0].span(); }
  std::span<const T> second_moment() const { return this->state_.buffers[1].span(); }
};

template <class T = float>
using Adam = BasicAdam<T, false>;
template <class T = float>
using AdamW = BasicAdam<T, true>;

}  // namespace typenet
