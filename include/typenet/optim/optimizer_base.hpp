// What every optimizer does the same way, from its declaration
// (optim/declaration.hpp): checking its options, sizing its state on the
// first step, the fused and the separate step over the parameter buffer,
// restarting, and handing its state to checkpoints and back.
//
// An optimizer derives from OptimizerBase<Itself, Declaration, T> and adds
// what is its own: Scalars (the numbers of one step), Update (the update of
// one vector of parameters from its gradient) and begin_step() (the next
// step's Scalars, counting the step).
//
// The fused training step hands prepare()'s Update to backward, which calls
// it as soon as each gradient is computed; step() applies the same functor
// over the whole buffer; the GPU runs it one element per thread
// (OptimizerUpdate in cuda/training_kernels.hpp), built with Update::make()
// from Scalars, whose layout is the same on both sides. All three therefore
// compute the same bits.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include "typenet/base/aligned_buffer.hpp"
#include "typenet/cpu/vector_loop.hpp"
#include "typenet/optim/declaration.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::optim {

/// What every optimizer shares: its options, its declared state, and the step over a parameter buffer (the derived class supplies begin_step and Update).
template <class Derived, class Declaration, class T>
class OptimizerBase {
 public:
  /// The optimizer's declaration (optim/declaration.hpp).
  using declaration = Declaration;
  /// The options it takes.
  using Options = typename Declaration::Options;
  /// The scalar type of its parameters.
  using value_type = T;
  /// Its state: the declared buffers, counters and flags.
  using State = optim::State<T, Declaration>;
  static constexpr std::size_t buffer_count = Declaration::buffers.size();  ///< the number of declared buffers

  /// An optimizer with these options; Declaration::check refuses bad ones (std::invalid_argument).
  explicit OptimizerBase(Options o) : options(o) { Declaration::check(o); }
  /// May change between steps (a schedule sets options.lr). A buffer that
  /// the options stop using is released at the next step; one they start
  /// using starts the state afresh there.
  Options options;

  /// Starts a step over these parameters: sizes the state on first use.
  auto prepare(std::span<T> p) {
    fit_state(p.size());
    std::array<T*, buffer_count> state{};
    for (std::size_t k = 0; k < buffer_count; ++k) state[k] = state_.buffers[k].data();
    return Derived::Update::make(p.data(), state.data(), self().begin_step());
  }

  /// One pass over the model's parameter buffer, on the model's threads.
  template <class M>
  void step(M& model) {
    step(model.parameters(), std::span<const T>(model.gradients()), model.thread_pool());
  }
  /// One step over parameters p with gradients g, on the pool's threads (or this thread).
  void step(std::span<T> p, std::span<const T> g, cpu::ThreadPool* pool = nullptr) {
    if (p.size() != g.size())
      throw std::invalid_argument(std::string("typenet: ") + Declaration::tag.name + ": " +
                                  std::to_string(p.size()) + " parameters but " + std::to_string(g.size()) +
                                  " gradients.");
    const auto u = prepare(p);
    const T* gp = g.data();
    cpu::parallel_vector_loop<T>(pool, p.size(),
                                 [&](std::size_t i, simd::Tail<T> t) { u(i, simd::load(gp + i, t), t); });
  }

  /// The next step is the first: counters and flags start again (the
  /// buffers are left to the caller). A caller that keeps the buffers
  /// elsewhere (the GPU) calls begin_step() instead of prepare(), and this
  /// whenever it (re)allocates them.
  void restart() {
    state_.counters = {};
    state_.flags = {};
  }

  /// The state, for checkpoints and the GPU's copy.
  const State& state() const { return state_; }
  /// Replaces the state (a checkpoint's, or the GPU's): the caller has
  /// allocated it, so nothing can fail here.
  void restore(State state) noexcept { state_ = std::move(state); }

 protected:
  State state_;  ///< the state; the derived class's begin_step advances its counters

 private:
  Derived& self() { return static_cast<Derived&>(*this); }

  void fit_state(std::size_t n) {
    auto size_of = [&](std::size_t k) { return state_.buffers[k].size(); };
    if (state_fits<Declaration>(options, size_of, n)) {
      for (std::size_t k = 0; k < buffer_count; ++k)
        if (!uses_buffer<Declaration>(options, k)) state_.buffers[k] = {};
      return;
    }
    // Allocated before anything changes: on failure the optimizer is as it was.
    std::array<AlignedBuffer<T>, buffer_count> fresh;
    for (std::size_t k = 0; k < buffer_count; ++k) {
      if (!uses_buffer<Declaration>(options, k)) continue;
      fresh[k].resize(n);
      if (const T v = static_cast<T>(initial_value<Declaration>(options, k)); v != T(0))
        std::fill_n(fresh[k].data(), n, v);
    }
    state_.buffers = std::move(fresh);
    restart();
  }
};

}  // namespace typenet::optim
