// Adagrad, as torch.optim.Adagrad (dense gradients):
//   t = t + 1;  g = grad + wd p
//   clr = lr / (1 + (t - 1) lr_decay)
//   s = s + g^2                        (s starts at initial_accumulator_value)
//   p = p - clr g / (sqrt(s) + eps)
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

/// The options of Adagrad, as `torch.optim.Adagrad`'s.
struct AdagradOptions {
  double lr = 0.01;  ///< learning rate
  double lr_decay = 0.0;  ///< the learning rate at step t is lr / (1 + (t - 1) lr_decay)
  double weight_decay = 0.0;  ///< L2: g += weight_decay * p
  double initial_accumulator_value = 0.0;  ///< the sum of squared gradients starts from this value
  double eps = 1e-10;  ///< added to the root of the sum, for stability
};

/// What Adagrad declares about itself (optim/declaration.hpp): its options, its sum buffer and step count.
struct AdagradDeclaration {
  /// The options it takes.
  using Options = AdagradOptions;
  static constexpr optim::Tag tag{"Adagrad", 5};  ///< its name, and its id in checkpoints
  /// Its numeric options, in the order checkpoints store them.
  static constexpr std::array numbers{
      optim::number("learning rate", &Options::lr), optim::number("learning rate decay", &Options::lr_decay),
      optim::number("weight decay", &Options::weight_decay),
      optim::number("initial accumulator value", &Options::initial_accumulator_value),
      optim::number("eps", &Options::eps)};
  static constexpr std::array<optim::Flag<Options>, 0> flags{};  ///< it has no boolean options
  /// torch's checks, in its order.
  static void check(const Options& o) {
    if (!(o.lr >= 0)) throw std::invalid_argument("typenet: Adagrad: the learning rate must be >= 0.");
    if (!(o.lr_decay >= 0)) throw std::invalid_argument("typenet: Adagrad: the learning rate decay must be >= 0.");
    if (!(o.weight_decay >= 0)) throw std::invalid_argument("typenet: Adagrad: the weight decay must be >= 0.");
    if (!(o.initial_accumulator_value >= 0))
      throw std::invalid_argument("typenet: Adagrad: the initial accumulator value must be >= 0.");
    if (!(o.eps >= 0)) throw std::invalid_argument("typenet: Adagrad: eps must be >= 0.");
  }
  /// Its one buffer, the sum of squared gradients, which starts at initial_accumulator_value.
  static constexpr std::array buffers{optim::Buffer<Options>{
      "sum", nullptr, [](const Options& o) { return o.initial_accumulator_value; }}};
  static constexpr const char* buffer_length = "sum length";  ///< what a checkpoint calls the buffer's length in messages
  static constexpr std::array counters{optim::Counter{"step count", true}};  ///< the number of steps taken
  static constexpr std::array<optim::StateFlag, 0> state_flags{};  ///< it keeps no boolean state
};

/// Adagrad with `torch.optim.Adagrad`'s semantics (learning-rate decay, L2 weight decay, initial accumulator).
template <class T = float>
class Adagrad : public optim::OptimizerBase<Adagrad<T>, AdagradDeclaration, T> {
  using Base = optim::OptimizerBase<Adagrad<T>, AdagradDeclaration, T>;

 public:
  /// An optimizer with these options (checked: a bad value throws std::invalid_argument).
  explicit Adagrad(AdagradOptions o = {}) : Base(o) {}

  /// The numbers one step uses, computed once per step in double.
  struct Scalars {
    ///@{
    /// The step's learning rate after decay, eps, and the weight decay.
    T clr, eps, wd;
    ///@}
    bool weight_decay;  ///< whether weight_decay is nonzero
  };
  /// One step of the update on parameters i, i + 1, ...: what the fused kernels and the GPU call for each vector.
  struct Update {
    T* params;  ///< the parameters
    T* sum;  ///< the sum of squared gradients
    ///@{
    /// The step's scalars, one per lane.
    simd::vec<T> clr, eps, wd;
    ///@}
    bool weight_decay;  ///< whether weight decay applies
    /// state[0]: the sum of squared gradients.
    TYPENET_HD static Update make(T* params, T* const* state, const Scalars& s) {
      using V = simd::vec<T>;
      return {params, state[0], simd::splat<V>(s.clr), simd::splat<V>(s.eps), simd::splat<V>(s.wd), s.weight_decay};
    }
    /// Updates the parameters at i (a vector, or its first t lanes) from their gradient g.
    TYPENET_HD TYPENET_INLINE void operator()(std::size_t i, simd::vec<T> g, simd::Tail<T> t) const {
      using V = simd::vec<T>;
      const V p = simd::load(params + i, t);
      // Every multiply-add is an explicit fma (see BasicAdam::Update).
      if (weight_decay) g = simd::fma(wd, p, g);
      const V s = simd::fma(g, g, simd::load(sum + i, t));
      simd::store(sum + i, s, t);
      const V q = g * simd::inverse_of_scaled_sqrt(s, simd::splat<V>(T(1)), eps);
      simd::store(params + i, simd::fma(-clr, q, p), t);
    }
    /// Asks the cache for the memory the update at i will touch.
    TYPENET_INLINE void prefetch(std::size_t i) const {
      __builtin_prefetch(params + i, 1);
      __builtin_prefetch(sum + i, 1);
    }
  };

  /// The numbers of step t + 1, and the step begun.
  Scalars begin_step() {
    const AdagradOptions& o = this->options;
    const std::size_t t = ++this->state_.counters[0];
    // In double, as torch computes it (its step is exact up to 2^24).
    const double clr = o.lr / (1 + static_cast<double>(t - 1) * o.lr_decay);
    return {T(clr), T(o.eps), T(o.weight_decay), o.weight_decay != 0};
  }

  /// The number of steps taken.
  std::size_t steps() const { return this->state_.counters[0]; }
  /// The sum of squared gradients, one per parameter (empty before the first step).
  std::span<const T> sum() const { return this->state_.buffers[0].span(); }
};

}  // namespace typenet
