// SGD with momentum, dampening, Nesterov momentum and L2 weight decay, as
// torch.optim.SGD:
//   g = grad + wd p
//   buf = g (first step), else momentum buf + (1 - dampening) g
//   g = nesterov ? g + momentum buf : buf       (when momentum != 0)
//   p = p - lr g
// One difference, when the options change between steps: torch keeps the
// momentum buffer through steps with momentum 0 and blends into it again
// when momentum returns; here a step with momentum 0 releases it (the state
// is always what the options use, which checkpoints store whole), so
// momentum set again starts from the gradient.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>

#include "typenet/optim/declaration.hpp"
#include "typenet/optim/optimizer_base.hpp"
#include "typenet/simd/vec.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// The options of SGD, as `torch.optim.SGD`'s.
struct SGDOptions {
  double lr = 0.01;  ///< learning rate
  double momentum = 0.0;  ///< momentum (0: plain SGD)
  double dampening = 0.0;  ///< dampening of the momentum
  double weight_decay = 0.0;  ///< L2: g += weight_decay * p
  bool nesterov = false;  ///< Nesterov momentum (needs momentum > 0 and no dampening)
};

/// What SGD declares about itself: its options, its momentum buffer and the flag that momentum has started.
struct SGDDeclaration {
  /// The options it takes.
  using Options = SGDOptions;
  static constexpr optim::Tag tag{"SGD", 1};  ///< its name, and its id in checkpoints
  /// Its numeric options, in the order checkpoints store them.
  static constexpr std::array numbers{
      optim::number("learning rate", &Options::lr), optim::number("momentum", &Options::momentum),
      optim::number("dampening", &Options::dampening), optim::number("weight decay", &Options::weight_decay)};
  static constexpr std::array flags{optim::flag("nesterov", &Options::nesterov)};  ///< its boolean option
  /// Refuses options outside their ranges or Nesterov without momentum (std::invalid_argument).
  static void check(const Options& o) {
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
      throw std::invalid_argument("typenet: SGD: Nesterov momentum needs momentum > 0 and dampening 0.");
    if (!(o.lr >= 0)) throw std::invalid_argument("typenet: SGD: the learning rate must be >= 0.");
  }
  /// Its one buffer, the momentum buffer, used when momentum > 0.
  static constexpr std::array buffers{
      optim::Buffer<Options>{"momentum buffer", [](const Options& o) { return o.momentum != 0; }}};
  static constexpr const char* buffer_length = "momentum buffer length";  ///< what a checkpoint calls the buffer's length in messages
  static constexpr std::array<optim::Counter, 0> counters{};  ///< it keeps no counter
  /// Whether the next step blends into the momentum buffer (set) or starts
  /// it from the gradient.
  static constexpr std::array state_flags{
      optim::StateFlag{"started", "momentum marked started, but no momentum buffer"}};
};

/// SGD with `torch.optim.SGD`'s semantics (momentum, dampening, Nesterov, L2 weight decay).
template <class T = float>
class SGD : public optim::OptimizerBase<SGD<T>, SGDDeclaration, T> {
  using Base = optim::OptimizerBase<SGD<T>, SGDDeclaration, T>;

 public:
  /// An optimizer with these options (checked: a bad value throws std::invalid_argument).
  explicit SGD(SGDOptions o = {}) : Base(o) {}

  /// The numbers one step uses.
  struct Scalars {
    ///@{
    /// The step's learning rate, weight decay, momentum and dampening.
    T lr, wd, mom, damp;
    ///@}
    ///@{
    /// Whether momentum applies, whether this is its first step (the buffer takes the gradient as it is), and Nesterov.
    bool momentum, first, nesterov;
    ///@}
  };
  /// One step of the update on parameters i, i + 1, ...: what the fused kernels and the GPU call for each vector.
  struct Update {
    T* params;  ///< the parameters
    T* buffer;  ///< the momentum buffer (unused without momentum)
    ///@{
    /// The step's scalars, one per lane.
    simd::vec<T> lr, wd, mom, damp;
    ///@}
    ///@{
    /// Whether momentum applies, whether it is its first step, and Nesterov.
    bool momentum, first, nesterov;
    ///@}
    /// state[0]: the momentum buffer.
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
    /// Updates the parameters at i (a vector, or its first t lanes) from their gradient g.
    TYPENET_HD TYPENET_INLINE void operator()(std::size_t i, simd::vec<T> g, simd::Tail<T> t) const {
      const simd::vec<T> p = simd::load(params + i, t);
      simd::vec<T> d = simd::fma(wd, p, g);
      if (momentum) {
        // The buffer flushes to zero rather than decay into subnormals (as Adam's moments).
        const simd::vec<T> b = first ? d : simd::flush_subnormal(simd::fma(mom, simd::load(buffer + i, t), damp * d));
        simd::store(buffer + i, b, t);
        d = nesterov ? simd::fma(mom, b, d) : b;
      }
      // Explicit: left to the compiler, the contraction could differ
      // between the fused and the separate step.
      simd::store(params + i, simd::fma(-lr, d, p), t);
    }
    /// Asks the cache for the memory the update at i will touch.
    TYPENET_INLINE void prefetch(std::size_t i) const {
      __builtin_prefetch(params + i, 1);
      if (momentum) __builtin_prefetch(buffer + i, 1);
    }
  };

  /// The numbers of the next step, and the step begun.
  Scalars begin_step() {
    const SGDOptions& o = this->options;
    const bool momentum = o.momentum != 0;
    bool& started = this->state_.flags[0];
    const Scalars s{T(o.lr), T(o.weight_decay), T(o.momentum), T(1) - T(o.dampening), momentum, !started, o.nesterov};
    if (momentum) started = true;
    return s;
  }

  /// The momentum buffer, one per parameter (empty without momentum or before the first step).
  std::span<const T> momentum_buffer() const { return this->state_.buffers[0].span(); }
  /// Whether the next step blends into the momentum buffer (true) or starts
  /// it from the gradient (false).
  bool started() const { return this->state_.flags[0] && this->state_.buffers[0].size() != 0; }
};

}  // namespace typenet
