// An optimizer's section of a checkpoint, written, parsed and restored from
// its declaration (optim/declaration.hpp) alone, the same for every
// optimizer:
//
//   f64     each number option, in declared order
//   u32     flags, if the optimizer has any boolean: the option flags from
//           bit 0 in declared order, then the state flags
//   u64     each counter
//   u64     the buffer length B: 0 (no state yet) or the parameter count
//   B·z     each buffer the options use, in declared order
//
// which is, byte for byte, the SGD, Adam and AdamW sections of format
// version 1 (docs/checkpoint-format.md). Messages name the field: "the Adam
// eps runs past the end of the file".
#pragma once

#include "typenet/config.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/io/checkpoint_bytes.hpp"
#include "typenet/io/checkpoint_error.hpp"
#include "typenet/optim/declaration.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::checkpoint_detail {

/// A section taken apart and its structure checked; the options and
/// counters are checked against the optimizer's own rules when it is restored.
struct OptimizerSection {
  std::uint32_t kind = 0;  ///< 0: none
  std::vector<double> numbers;
  std::uint32_t flags = 0;
  std::vector<std::uint64_t> counters;
  std::optional<std::uint64_t> steps;  ///< the counter of steps taken, if the optimizer keeps one
  std::uint64_t length = 0;
  std::vector<std::span<const unsigned char>> buffers;  ///< one per declared buffer; empty when not in use
};

template <class D>
inline constexpr std::size_t flag_count = D::flags.size() + D::state_flags.size();
template <class D>
inline constexpr std::uint32_t known_flags = [] {
  static_assert(flag_count<D> < 32, "typenet: an optimizer section has 31 flag bits.");
  return (std::uint32_t{1} << flag_count<D>) - 1;
}();

template <class D>
std::size_t buffers_in_use(const typename D::Options& options) {
  std::size_t n = 0;
  for (std::size_t k = 0; k < D::buffers.size(); ++k) n += optim::uses_buffer<D>(options, k);
  return n;
}

/// Bytes of the section with `length` values per buffer.
template <class D>
std::uint64_t section_size(const typename D::Options& options, std::uint64_t length, std::uint64_t scalar_size) {
  return 8 * D::numbers.size() + (flag_count<D> > 0 ? 4 : 0) + 8 * D::counters.size() + 8 +
         buffers_in_use<D>(options) * length * scalar_size;
}

template <class O>
std::uint64_t section_length(const O& optimizer) {
  using D = typename O::declaration;
  return optim::state_length<D>(optimizer.options, [&](std::size_t k) { return optimizer.state().buffers[k].size(); });
}

template <class O>
std::uint64_t section_size(const O& optimizer) {
  return section_size<typename O::declaration>(optimizer.options, section_length(optimizer),
                                               sizeof(typename O::value_type));
}

template <class O>
void write_section(ChecksummedWriter& w, const O& optimizer) {
  using D = typename O::declaration;
  const auto& options = optimizer.options;
  const auto& state = optimizer.state();
  const std::uint64_t length = section_length(optimizer);
  for (const auto& n : D::numbers) w.f64(options.*n.field);
  if constexpr (flag_count<D> > 0) {
    std::uint32_t bits = 0, bit = 1;
    for (const auto& f : D::flags) {
      if (options.*f.field) bits |= bit;
      bit <<= 1;
    }
    for (std::size_t j = 0; j < D::state_flags.size(); ++j) {
      // A flag about the buffers is not set without them (a step that had
      // no buffers to start restarts it anyway).
      if (state.flags[j] && (length != 0 || D::state_flags[j].without_buffers == nullptr)) bits |= bit;
      bit <<= 1;
    }
    w.u32(bits);
  }
  for (const std::size_t c : state.counters) w.u64(c);
  w.u64(length);
  if (length != 0)
    for (std::size_t k = 0; k < D::buffers.size(); ++k)
      if (optim::uses_buffer<D>(options, k)) w.scalars(state.buffers[k].span());
}

/// Reads D's section; `parameters` is the file's parameter count, `scalar_size` its z.
template <class D>
OptimizerSection parse_section(BodyReader& r, std::uint64_t parameters, std::uint64_t scalar_size) {
  const std::string of = std::string("the ") + D::tag.name + " ";
  OptimizerSection s;
  s.kind = D::tag.id;
  typename D::Options options{};
  for (const auto& n : D::numbers) s.numbers.push_back(options.*n.field = r.f64(of + n.name));
  if constexpr (flag_count<D> > 0) {
    s.flags = r.u32(of + "flags");
    if (s.flags & ~known_flags<D>)
      r.malformed(std::string("unknown ") + D::tag.name + " flags " + std::to_string(s.flags));
    for (std::size_t j = 0; j < D::flags.size(); ++j) options.*D::flags[j].field = (s.flags >> j) & 1u;
  }
  for (std::size_t i = 0; i < D::counters.size(); ++i) {
    s.counters.push_back(r.u64(of + D::counters[i].name));
    if (D::counters[i].steps) s.steps = s.counters.back();
  }
  const std::string length_name = of + D::buffer_length;
  s.length = r.u64(length_name);
  if (s.length != 0 && s.length != parameters)
    r.malformed(length_name + " is " + std::to_string(s.length) + ", neither 0 nor the parameter count " +
                std::to_string(parameters));
  for (std::size_t j = 0; j < D::state_flags.size(); ++j)
    if (D::state_flags[j].without_buffers && ((s.flags >> (D::flags.size() + j)) & 1u) && s.length == 0)
      r.malformed(std::string(D::tag.name) + " " + D::state_flags[j].without_buffers);
  s.buffers.resize(D::buffers.size());
  for (std::size_t k = 0; k < D::buffers.size(); ++k)
    if (optim::uses_buffer<D>(options, k)) s.buffers[k] = r.take(s.length, scalar_size, of + D::buffers[k].name);
  return s;
}

/// Parses the section of the optimizer of this kind among `list`; false if
/// none has it.
template <template <class> class... Os>
bool parse_known_section(optim::OptimizerList<Os...>, std::uint32_t kind, BodyReader& r, std::uint64_t parameters,
                         std::uint64_t scalar_size, OptimizerSection& s) {
  bool found = false;
  const auto parse_if_kind = [&]<class D>(std::type_identity<D>) {
    if (found || kind != D::tag.id) return;
    s = parse_section<D>(r, parameters, scalar_size);
    found = true;
  };
  (parse_if_kind(std::type_identity<typename Os<float>::declaration>{}), ...);
  return found;
}
template <template <class> class... Os>
bool known_kind(optim::OptimizerList<Os...>, std::uint32_t kind) {
  return ((kind == Os<float>::declaration::tag.id) || ...);
}
template <template <class> class... Os>
std::string_view kind_name(optim::OptimizerList<Os...>, std::uint32_t kind) {
  for (const optim::Tag& tag : {Os<float>::declaration::tag...})
    if (tag.id == kind) return tag.name;
  return "unknown";
}

/// Checks what is left to check (the options by the optimizer's own rules,
/// the counters against size_t), then changes the optimizer only through
/// restore(), after allocating its new state.
template <class O>
void restore_section(const std::filesystem::path& file, O& optimizer, const OptimizerSection& s) {
  using D = typename O::declaration;
  using T = typename O::value_type;
  typename D::Options options{};
  for (std::size_t i = 0; i < D::numbers.size(); ++i) options.*D::numbers[i].field = s.numbers[i];
  for (std::size_t j = 0; j < D::flags.size(); ++j) options.*D::flags[j].field = (s.flags >> j) & 1u;
  try {
    D::check(options);
  } catch (const std::invalid_argument& e) {
    throw CheckpointError(file, std::string("malformed checkpoint: the saved optimizer options are invalid (") +
                                    e.what() + ")");
  }
  typename O::State state;
  for (std::size_t i = 0; i < D::counters.size(); ++i) {
    if (s.counters[i] > std::numeric_limits<std::size_t>::max())
      throw CheckpointError(file, std::string("malformed checkpoint: the ") + D::tag.name + " " +
                                      D::counters[i].name + " " + std::to_string(s.counters[i]) +
                                      " does not fit this machine's size_t");
    state.counters[i] = static_cast<std::size_t>(s.counters[i]);
  }
  for (std::size_t j = 0; j < D::state_flags.size(); ++j) state.flags[j] = (s.flags >> (D::flags.size() + j)) & 1u;
  for (std::size_t k = 0; k < D::buffers.size(); ++k) {
    if (s.buffers[k].empty()) continue;
    state.buffers[k].resize(s.buffers[k].size() / sizeof(T));
    decode_scalars<T>(s.buffers[k], state.buffers[k].span());
  }
  optimizer.restore(std::move(state));
  optimizer.options = options;
}

}  // namespace typenet::checkpoint_detail
