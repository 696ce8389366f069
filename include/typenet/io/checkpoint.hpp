// Checkpoints: a model's parameters and BatchNorm statistics, optionally with
// its optimizer's state, in one file that is never left half-written.
//
//   save_checkpoint("moons.tn", model, adam);   // or (path, model)
//   load_checkpoint("moons.tn", model, adam);   // or (path, model)
//   describe_checkpoint("moons.tn");            // without the network type
//   load_checkpoint_bytes(label, bytes, model); // bytes another process read
//
// This header is the format: the frame, the body, parsing, loading and
// saving. Saving replaces the file atomically (base/atomic_file.hpp), so a
// crash, a full disk or an error leaves the previous checkpoint in place.
// The optimizer's section is written and read from the optimizer's own
// declaration (optim/checkpoint_section.hpp). Loading reads and checks the
// whole file (checksums, topology, scalar type, sizes, optimizer kind)
// before changing anything, so a failed load leaves the model and the
// optimizer as they were. Byte layout, checksums, versioning and the order
// of the checks: docs/checkpoint-format.md.
#pragma once

#include "typenet/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "typenet/io/checkpoint_bytes.hpp"
#include "typenet/io/checkpoint_error.hpp"
#include "typenet/io/crc32c.hpp"
#include "typenet/optim/checkpoint_section.hpp"
#include "typenet/train/optimizers.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// Declared, not included: the file format code (parsing, checks,
/// describe_checkpoint) then compiles without the network machinery, which
/// lets the fuzzer build it with clang; save and load are templates that
/// meet the full Model where they are used.
template <class Net, class T>
class Model;

/// The values are what the file stores: bytes per value.
enum class CheckpointScalar : std::uint32_t { float32 = 4, float64 = 8 };
/// The optimizer whose state a checkpoint holds: its declared kind
/// (optim/declaration.hpp), 0 for none. The enumerators name the first
/// optimizers; checkpoint_kind<O> is any optimizer's.
enum class CheckpointOptimizer : std::uint32_t { none = 0, sgd = 1, adam = 2, adamw = 3 };
/// The kind a checkpoint records for Optimizer (none for no optimizer).
template <class Optimizer>
inline constexpr CheckpointOptimizer checkpoint_kind =
    static_cast<CheckpointOptimizer>(Optimizer::declaration::tag.id);
static_assert(checkpoint_kind<SGD<>> == CheckpointOptimizer::sgd &&
              checkpoint_kind<Adam<>> == CheckpointOptimizer::adam &&
              checkpoint_kind<AdamW<>> == CheckpointOptimizer::adamw);

/// The scalar type's name in messages.
inline std::string_view to_string(CheckpointScalar s) { return s == CheckpointScalar::float32 ? "float" : "double"; }
/// The optimizer kind's name in messages.
inline std::string_view to_string(CheckpointOptimizer o) {
  if (o == CheckpointOptimizer::none) return "none";
  return checkpoint_detail::kind_name(all_optimizers{}, static_cast<std::uint32_t>(o));
}

/// What a checkpoint holds, read without knowing the network type.
struct CheckpointInfo {
  std::uint32_t format_version = 0;  ///< the file format's version
  std::string signature;  ///< Net::name() of the network that saved it
  CheckpointScalar scalar = CheckpointScalar::float32;  ///< the scalar type of the values
  std::uint64_t parameter_count = 0;  ///< the number of parameters
  std::uint64_t state_count = 0;  ///< BatchNorm running statistics
  /// Model::dropout_step(): train-mode forward passes so far, i.e. training
  /// steps when each step runs one forward.
  std::uint64_t model_step = 0;
  CheckpointOptimizer optimizer = CheckpointOptimizer::none;  ///< the optimizer whose state it holds (none: parameters only)
  /// For optimizers that count their steps (Adam, AdamW, Adagrad; not SGD or RMSprop).
  std::optional<std::uint64_t> optimizer_steps;
  std::uint64_t file_size = 0;  ///< the file's size
};

namespace checkpoint_detail {

using std::filesystem::path;

// ------------------------------------------------------------ format constants
// The frame (magic, version, scalar size, file size, header CRC, trailer
// CRC) keeps its place in every format version; the body between may change.
// Magic in PNG's style: a non-ASCII first byte, then CR LF, ^Z and LF, which
// text-mode transfers and line-ending conversions would alter.
inline constexpr std::array<unsigned char, 8> magic{0x89, 'T', 'N', 'C', '\r', '\n', 0x1A, '\n'};
inline constexpr std::uint32_t current_version = 1;
inline constexpr std::size_t version_offset = 8, scalar_offset = 12, file_size_offset = 16, header_crc_offset = 24;
inline constexpr std::size_t header_size = 28;
inline constexpr std::size_t trailer_size = 4;
/// Version 1 body: optimizer kind u32, parameter count u64, state count u64,
/// model step u64, signature length u32, then the signature.
inline constexpr std::size_t v1_fixed_size = header_size + 4 + 8 + 8 + 8 + 4;

template <class Optimizer, class T>
constexpr void check_optimizer_type() {
  static_assert(requires { typename Optimizer::declaration; },
                "typenet: checkpoints store the state of optimizers that declare themselves (optim/declaration.hpp).");
  if constexpr (requires { typename Optimizer::declaration; })
    static_assert(std::is_same_v<typename Optimizer::value_type, T>,
                  "typenet: the optimizer's scalar type must be the model's (SGD<float> for Model<Net, float>).");
}

// ------------------------------------------------------------ saving
template <class Net, class T, class Optimizer>
void save(const path& target, const Model<Net, T>& model, const Optimizer* optimizer) {
  std::uint32_t kind = 0;
  std::uint64_t section = 0;
  if constexpr (!std::is_void_v<Optimizer>) {
    kind = Optimizer::declaration::tag.id;
    section = section_size(*optimizer);
  }
  const std::string signature = Net::name();
  const std::uint64_t file_size = v1_fixed_size + signature.size() +
                                  (model.parameters().size() + model.state().size()) * sizeof(T) + section +
                                  trailer_size;

  AtomicFile<CheckpointError> file(target);
  ChecksummedWriter w(file);
  std::array<unsigned char, header_size> header{};
  std::copy(magic.begin(), magic.end(), header.begin());
  store_le(header.data() + version_offset, current_version, 4);
  store_le(header.data() + scalar_offset, sizeof(T), 4);
  store_le(header.data() + file_size_offset, file_size, 8);
  store_le(header.data() + header_crc_offset, crc32c({header.data(), header_crc_offset}), 4);
  w.bytes(header);
  w.u32(kind);
  w.u64(model.parameters().size());
  w.u64(model.state().size());
  w.u64(model.dropout_step());
  w.u32(static_cast<std::uint32_t>(signature.size()));
  w.bytes({reinterpret_cast<const unsigned char*>(signature.data()), signature.size()});
  w.scalars(model.parameters());
  w.scalars(model.state());
  if constexpr (!std::is_void_v<Optimizer>) write_section(w, *optimizer);
  w.finish();
  if (w.written() != file_size)
    throw std::logic_error("typenet: checkpoint writer: wrote " + std::to_string(w.written()) + " bytes, planned " +
                           std::to_string(file_size));
  file.commit();
}

// ------------------------------------------------------------ reading
// Checks the frame (magic, header checksum, version, file size) on the first
// bytes alone, before allocating anything for the rest.
inline void check_frame(const path& file, std::span<const unsigned char> head, std::uint64_t actual_size) {
  const std::size_t n = std::min(head.size(), magic.size());
  if (!std::equal(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(n), magic.begin()))
    throw CheckpointError(file, "not a typenet checkpoint (bad magic)");
  if (actual_size < header_size)
    throw CheckpointError(file, "truncated: expected at least " + std::to_string(header_size) + " bytes, found " +
                                    std::to_string(actual_size));
  if (load_le(head.data() + header_crc_offset, 4) != crc32c(head.first(header_crc_offset)))
    throw CheckpointError(file, "header checksum mismatch (file corrupted)");
  const std::uint64_t version = load_le(head.data() + version_offset, 4);
  if (version > current_version)
    throw CheckpointError(file, "format version " + std::to_string(version) + " is newer than this typenet (" +
                                    std::to_string(current_version) + ")");
  if (version == 0) throw CheckpointError(file, "malformed checkpoint: format version 0 does not exist");
  const std::uint64_t scalar = load_le(head.data() + scalar_offset, 4);
  if (scalar != 4 && scalar != 8)
    throw CheckpointError(file, "malformed checkpoint: unknown scalar type (" + std::to_string(scalar) +
                                    " bytes per value)");
  const std::uint64_t expected = load_le(head.data() + file_size_offset, 8);
  if (expected < header_size + trailer_size)
    throw CheckpointError(file, "malformed checkpoint: its header gives a size of " + std::to_string(expected) +
                                    " bytes, smaller than the header");
  if (actual_size < expected)
    throw CheckpointError(file, "truncated: expected " + std::to_string(expected) + " bytes, found " +
                                    std::to_string(actual_size));
  if (actual_size > expected)
    throw CheckpointError(file, "expected " + std::to_string(expected) + " bytes, found " +
                                    std::to_string(actual_size) + " (data appended after the checkpoint)");
}

/// Fills `out` from the file; returns how many bytes it got (fewer at the end of file).
inline std::size_t read_fully(const path& file, int fd, unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, out + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw CheckpointError(file, "cannot read: " + file_detail::os_error(errno));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

inline void verify_trailer(const path& file, std::span<const unsigned char> bytes) {
  const std::size_t body = bytes.size() - trailer_size;
  if (load_le(bytes.data() + body, trailer_size) != crc32c({bytes.data(), body}))
    throw CheckpointError(file, "checksum mismatch (file corrupted)");
}

/// A checkpoint already in memory (the fuzzer's entry): frame and both
/// checksums verified, as read_verified does for a file.
inline std::vector<unsigned char> verified_bytes(const path& label, std::span<const unsigned char> bytes) {
  check_frame(label, bytes.first(std::min(bytes.size(), header_size)), bytes.size());
  verify_trailer(label, bytes);
  return {bytes.begin(), bytes.end()};
}

/// The whole file, its frame and both checksums verified.
inline std::vector<unsigned char> read_verified(const path& file) {
  file_detail::FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int error = errno;
    throw CheckpointError(file, "cannot open: " + file_detail::os_error(error));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw CheckpointError(file, "cannot read: " + file_detail::os_error(errno));
  if (!S_ISREG(st.st_mode)) throw CheckpointError(file, "not a regular file");
  const auto actual = static_cast<std::uint64_t>(st.st_size);

  std::array<unsigned char, header_size> head{};
  const std::size_t head_size = read_fully(file, fd.get(), head.data(), head.size());
  // A file that is shorter than its size said (it shrank meanwhile) is judged by what was read.
  check_frame(file, {head.data(), head_size}, head_size < header_size ? head_size : actual);
  if (actual > std::numeric_limits<std::size_t>::max())
    throw CheckpointError(file, "too large for this machine's address space (" + std::to_string(actual) + " bytes)");

  std::vector<unsigned char> bytes(static_cast<std::size_t>(actual));
  std::copy(head.begin(), head.end(), bytes.begin());
  const std::size_t rest = read_fully(file, fd.get(), bytes.data() + header_size, bytes.size() - header_size);
  if (rest != bytes.size() - header_size)  // it shrank while we read
    throw CheckpointError(file, "truncated: expected " + std::to_string(actual) + " bytes, found " +
                                    std::to_string(header_size + rest));
  verify_trailer(file, bytes);
  return bytes;
}

/// A verified file, taken apart; the spans point into `bytes`.
struct Parsed {
  std::vector<unsigned char> bytes;
  CheckpointInfo info;
  std::span<const unsigned char> parameters, state;
  OptimizerSection optimizer;  ///< kind 0: none
};

inline Parsed parse(const path& file, std::vector<unsigned char> verified);

inline Parsed parse(const path& file) { return parse(file, read_verified(file)); }

/// Takes apart bytes whose frame and checksums are verified.
inline Parsed parse(const path& file, std::vector<unsigned char> verified) {
  Parsed p;
  p.bytes = std::move(verified);
  CheckpointInfo& info = p.info;
  info.file_size = p.bytes.size();
  info.format_version = static_cast<std::uint32_t>(load_le(p.bytes.data() + version_offset, 4));
  info.scalar = static_cast<CheckpointScalar>(load_le(p.bytes.data() + scalar_offset, 4));
  const std::uint64_t z = static_cast<std::uint64_t>(info.scalar);

  BodyReader r(file, std::span<const unsigned char>(p.bytes).subspan(header_size, p.bytes.size() - header_size -
                                                                                      trailer_size));
  const std::uint32_t kind = r.u32("the optimizer kind");
  if (kind != 0 && !known_kind(all_optimizers{}, kind)) r.malformed("unknown optimizer kind " + std::to_string(kind));
  info.optimizer = static_cast<CheckpointOptimizer>(kind);
  info.parameter_count = r.u64("the parameter count");
  info.state_count = r.u64("the state count");
  info.model_step = r.u64("the model step");
  const auto signature = r.take(r.u32("the signature length"), 1, "the topology signature");
  info.signature.assign(signature.begin(), signature.end());
  p.parameters = r.take(info.parameter_count, z, "the parameter section");
  p.state = r.take(info.state_count, z, "the state section");
  if (kind != 0) {
    parse_known_section(all_optimizers{}, kind, r, info.parameter_count, z, p.optimizer);
    info.optimizer_steps = p.optimizer.steps;
  }
  if (r.remaining() != 0)
    r.malformed(std::to_string(r.remaining()) + " unexpected bytes after the last section");
  return p;
}

// ------------------------------------------------------------ loading
template <class Net, class T, class Optimizer>
void load(const path& file, const Parsed& p, Model<Net, T>& model, Optimizer* optimizer) {
  const CheckpointInfo& info = p.info;
  if (info.signature != Net::name())
    throw CheckpointError(file, "saved for " + info.signature + ", this network is " + Net::name());
  const CheckpointScalar ours = sizeof(T) == 4 ? CheckpointScalar::float32 : CheckpointScalar::float64;
  if (info.scalar != ours)
    throw CheckpointError(file, "saved with " + std::string(to_string(info.scalar)) + " parameters, this model uses " +
                                    std::string(to_string(ours)));
  // Same signature, other counts: the file comes from a typenet that laid the
  // network out differently.
  if (info.parameter_count != Net::parameter_count || info.state_count != Net::state_count)
    throw CheckpointError(file, "saved with " + std::to_string(info.parameter_count) + " parameters and " +
                                    std::to_string(info.state_count) + " state values, this network has " +
                                    std::to_string(Net::parameter_count) + " and " +
                                    std::to_string(Net::state_count));
  if constexpr (!std::is_void_v<Optimizer>) {
    constexpr CheckpointOptimizer wanted = checkpoint_kind<Optimizer>;
    if (info.optimizer == CheckpointOptimizer::none)
      throw CheckpointError(file, "saved without optimizer state, so it cannot restore this " +
                                      std::string(to_string(wanted)) + " optimizer; load the model alone");
    if (info.optimizer != wanted)
      throw CheckpointError(file, "saved with " + std::string(to_string(info.optimizer)) +
                                      " optimizer state, this optimizer is " + std::string(to_string(wanted)));
    restore_section(file, *optimizer, p.optimizer);  // last step that may fail
  }
  decode_scalars<T>(p.parameters, model.parameters());
  decode_scalars<T>(p.state, model.state());
  model.set_dropout_step(info.model_step);
}

}  // namespace checkpoint_detail

// ------------------------------------------------------------ public interface
// Writes the model (parameters, BatchNorm running statistics, dropout step)
// and, in the second form, the optimizer's state and hyper-parameters.
// Throws CheckpointError naming the path and the OS error; the file at
// `path` is then as it was.
/// Saves the model's parameters and state, atomically (the old file stays until the new one is complete).
template <class Net, class T>
void save_checkpoint(const std::filesystem::path& path, const Model<Net, T>& model) {
  checkpoint_detail::save<Net, T, void>(path, model, nullptr);
}
/// Saves the model and the optimizer's state, atomically.
template <class Net, class T, class Optimizer>
void save_checkpoint(const std::filesystem::path& path, const Model<Net, T>& model, const Optimizer& optimizer) {
  checkpoint_detail::check_optimizer_type<Optimizer, T>();
  checkpoint_detail::save(path, model, &optimizer);
}

/// Restores what save_checkpoint wrote: the model alone (any optimizer state
/// in the file is skipped), or the model and the optimizer, whose kind must
/// match and whose options become the saved ones (as torch's load_state_dict).
/// Throws CheckpointError for any problem, and then has changed nothing.
template <class Net, class T>
void load_checkpoint(const std::filesystem::path& path, Model<Net, T>& model) {
  checkpoint_detail::load<Net, T, void>(path, checkpoint_detail::parse(path), model, nullptr);
}
/// Loads the model and the optimizer's state; on any error it throws CheckpointError and changes neither.
template <class Net, class T, class Optimizer>
void load_checkpoint(const std::filesystem::path& path, Model<Net, T>& model, Optimizer& optimizer) {
  checkpoint_detail::check_optimizer_type<Optimizer, T>();
  checkpoint_detail::load(path, checkpoint_detail::parse(path), model, &optimizer);
}

/// A checkpoint file's bytes, frame and checksums verified: for a process
/// that reads the file on behalf of others (distributed/checkpoint.hpp
/// broadcasts them).
inline std::vector<unsigned char> read_checkpoint_bytes(const std::filesystem::path& path) {
  return checkpoint_detail::read_verified(path);
}
/// load_checkpoint from such bytes in memory, with every check a file gets;
/// `label` names the checkpoint in errors.
template <class Net, class T>
void load_checkpoint_bytes(const std::filesystem::path& label, std::span<const unsigned char> bytes,
                           Model<Net, T>& model) {
  using namespace checkpoint_detail;
  load<Net, T, void>(label, parse(label, verified_bytes(label, bytes)), model, nullptr);
}
/// Loads the model and the optimizer's state from a file's bytes (label names it in errors); on any error it throws and changes neither.
template <class Net, class T, class Optimizer>
void load_checkpoint_bytes(const std::filesystem::path& label, std::span<const unsigned char> bytes,
                           Model<Net, T>& model, Optimizer& optimizer) {
  using namespace checkpoint_detail;
  check_optimizer_type<Optimizer, T>();
  load(label, parse(label, verified_bytes(label, bytes)), model, &optimizer);
}

/// What a checkpoint holds, after the same checks as loading short of
/// comparing with a network: for tools, and for saying what a file is.
inline CheckpointInfo describe_checkpoint(const std::filesystem::path& path) {
  return checkpoint_detail::parse(path).info;
}

}  // namespace typenet
