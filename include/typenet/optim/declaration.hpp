// What an optimizer declares about itself, written once in its own header,
// and the state that declaration implies. The code that treats every
// optimizer alike reads it: checkpoints (optim/checkpoint_section.hpp) and
// the GPU's copy of the state (cuda/kernel_training.hpp).
//
// An optimizer class names its declaration `declaration`, a struct with
//
//   using Options = RMSpropOptions;
//   static constexpr Tag tag{"RMSprop", 4};            // name in messages; id in checkpoints
//   static constexpr std::array numbers{number("learning rate", &Options::lr), ...};
//   static constexpr std::array flags{flag("centered", &Options::centered)};
//   static void check(const Options&);                 // throws std::invalid_argument
//   static constexpr std::array buffers{Buffer<Options>{"square average"}, ...};
//   static constexpr const char* buffer_length = "state buffer length";
//   static constexpr std::array<Counter, 0> counters{};
//   static constexpr std::array<StateFlag, 0> state_flags{};
//
// numbers and flags are every field of Options, in the order a checkpoint
// stores them; each buffer holds one value per parameter and is allocated
// on the first step when the options use it; counters (Adam's step count)
// and state flags (SGD's "momentum started") are the rest of the state.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "typenet/base/aligned_buffer.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::optim {

/// The optimizer's name (messages) and its checkpoint kind: an id that never
/// changes once a file has stored it (0 means no optimizer).
struct Tag {
  const char* name;  ///< shown in messages
  std::uint32_t id;  ///< stored in checkpoints
};

/// A numeric option: its name in messages and checkpoints, and its field.
template <class Options>
struct Number {
  /// A pointer to a member of Options (an alias: nvcc's host code would
  /// otherwise spell the member with parentheses GCC warns of).
  using Field = double Options::*;
  const char* name;  ///< the option's name
  Field field;  ///< the field of Options that holds it
};
/// A boolean option: its name in messages and checkpoints, and its field.
template <class Options>
struct Flag {
  using Field = bool Options::*;  ///< a pointer to a member of Options (see Number)
  const char* name;  ///< the option's name
  Field field;  ///< the field of Options that holds it
};
/// (Functions, not class template argument deduction: clang before 17, which
/// builds the fuzzer, cannot deduce aggregates.)
template <class Options>
constexpr Number<Options> number(const char* name, double Options::*field) {
  return {name, field};
}
/// The declaration of a boolean option.
template <class Options>
constexpr Flag<Options> flag(const char* name, bool Options::*field) {
  return {name, field};
}

/// A state buffer: whether these options use it (null: always) and the value
/// it starts from (null: 0).
template <class Options>
struct Buffer {
  const char* name;  ///< the buffer's name in messages
  bool (*used)(const Options&) = nullptr;  ///< whether the options use the buffer (null: always)
  double (*initial)(const Options&) = nullptr;  ///< the value the buffer starts from (null: 0)
};

/// A count kept across steps. `steps`: it counts the steps taken, which
/// describe_checkpoint reports.
struct Counter {
  const char* name;  ///< the counter's name in messages
  bool steps = false;  ///< whether it counts the steps taken
};

/// A boolean kept across steps. `without_buffers`, when set, says what the
/// flag would claim if it were set while the buffers are empty, which a
/// checkpoint refuses: "momentum marked started, but no momentum buffer".
struct StateFlag {
  const char* name;  ///< the flag's name in messages
  const char* without_buffers = nullptr;  ///< what a set flag with no buffers would claim, for the checkpoint's refusal (null: it may be set)
};

/// Whether these options use buffer k of declaration D.
template <class D>
constexpr bool uses_buffer(const typename D::Options& options, std::size_t k) {
  return D::buffers[k].used == nullptr || D::buffers[k].used(options);
}
/// The value buffer k of declaration D starts from, under these options.
template <class D>
constexpr double initial_value(const typename D::Options& options, std::size_t k) {
  return D::buffers[k].initial == nullptr ? 0.0 : D::buffers[k].initial(options);
}

/// An optimizer's state: the declared buffers (empty when not allocated or
/// not in use), counters and flags.
template <class T, class D>
struct State {
  std::array<AlignedBuffer<T>, D::buffers.size()> buffers;  ///< the declared buffers, in the declaration's order
  std::array<std::size_t, D::counters.size()> counters{};  ///< the declared counters
  std::array<bool, D::state_flags.size()> flags{};  ///< the declared flags
};

/// The length of the buffers the options use, given each buffer's size:
/// what a checkpoint stores. 0 when none is in use, or when they disagree
/// (the options began to use another buffer since the last step, which will
/// start the state afresh).
template <class D, class Size>
constexpr std::size_t state_length(const typename D::Options& options, Size size_of) {
  std::size_t length = 0;
  bool first = true;
  for (std::size_t k = 0; k < D::buffers.size(); ++k) {
    if (!uses_buffer<D>(options, k)) continue;
    const std::size_t n = size_of(k);
    if (!first && n != length) return 0;
    length = n;
    first = false;
  }
  return length;
}

/// Whether a state whose buffers have these sizes can take a step over n
/// parameters as it is: every buffer in use has n values. If not, the step
/// allocates them all afresh and restarts the counters and flags.
template <class D, class Size>
constexpr bool state_fits(const typename D::Options& options, Size size_of, std::size_t n) {
  for (std::size_t k = 0; k < D::buffers.size(); ++k)
    if (uses_buffer<D>(options, k) && size_of(k) != n) return false;
  return true;
}

/// The optimizers a checkpoint can hold, as class templates over the scalar
/// type (train/optimizers.hpp lists them all).
template <template <class> class... Optimizers>
struct OptimizerList {};

/// Each kind names one optimizer, and 0 none.
template <template <class> class... Optimizers>
constexpr bool distinct_kinds(OptimizerList<Optimizers...>) {
  const std::uint32_t ids[] = {0, Optimizers<float>::declaration::tag.id...};
  for (std::size_t i = 0; i < std::size(ids); ++i)
    for (std::size_t j = i + 1; j < std::size(ids); ++j)
      if (ids[i] == ids[j]) return false;
  return true;
}

}  // namespace typenet::optim
