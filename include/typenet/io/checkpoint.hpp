// Checkpoints: a model's parameters and BatchNorm statistics, optionally with
// its optimizer's state, in one file that is never left half-written.
//
//   save_checkpoint("moons.tn", model, adam);   // or (path, model)
//   load_checkpoint("moons.tn", model, adam);   // or (path, model)
//   describe_checkpoint("moons.tn");            // without the network type
//   load_checkpoint_bytes(label, bytes, model); // bytes another process read
//
// Saving writes a temporary file beside the target, fsyncs it and renames it
// over the target, so a crash, a full disk or an error leaves the previous
// checkpoint in place. Loading reads and checks the whole file (checksums,
// topology, scalar type, sizes, optimizer kind) before changing anything, so
// a failed load leaves the model and the optimizer as they were. Byte layout,
// checksums, versioning and the order of the checks: docs/checkpoint-format.md.
//
// POSIX (open, fsync, rename): Linux and the BSDs.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "typenet/io/crc32c.hpp"
#include "typenet/train/optimizers.hpp"

namespace typenet {

// Declared, not included: the file format code (parsing, checks,
// describe_checkpoint) then compiles without the network machinery, which
// lets the fuzzer build it with clang; save and load are templates that
// meet the full Model where they are used.
template <class Net, class T>
class Model;

// Every problem with saving or loading a checkpoint; what() is
// "<path>: <problem>".
class CheckpointError : public std::runtime_error {
 public:
  CheckpointError(const std::filesystem::path& path, const std::string& problem)
      : std::runtime_error(path.string() + ": " + problem) {}
};

// The values are what the file stores: bytes per value.
enum class CheckpointScalar : std::uint32_t { float32 = 4, float64 = 8 };
enum class CheckpointOptimizer : std::uint32_t { none = 0, sgd = 1, adam = 2, adamw = 3 };

inline std::string_view to_string(CheckpointScalar s) { return s == CheckpointScalar::float32 ? "float" : "double"; }
inline std::string_view to_string(CheckpointOptimizer o) {
  switch (o) {
    case CheckpointOptimizer::sgd: return "SGD";
    case CheckpointOptimizer::adam: return "Adam";
    case CheckpointOptimizer::adamw: return "AdamW";
    case CheckpointOptimizer::none: break;
  }
  return "none";
}

// What a checkpoint holds, read without knowing the network type.
struct CheckpointInfo {
  std::uint32_t format_version = 0;
  std::string signature;  // Net::name() of the network that saved it
  CheckpointScalar scalar = CheckpointScalar::float32;
  std::uint64_t parameter_count = 0;
  std::uint64_t state_count = 0;  // BatchNorm running statistics
  // Model::dropout_step(): train-mode forward passes so far, i.e. training
  // steps when each step runs one forward.
  std::uint64_t model_step = 0;
  CheckpointOptimizer optimizer = CheckpointOptimizer::none;
  std::optional<std::uint64_t> optimizer_steps;  // Adam and AdamW count their steps; SGD does not
  std::uint64_t file_size = 0;
};

// Test hook, for fault-injection tests only: while set, save_checkpoint on
// this thread fails at `stage` with errno `error`, as the operating system
// would (stage write: once `after_bytes` bytes of the temporary file are
// written, like a disk filling up). Lets tests check, as root too, that a
// failed save removes its temporary file and leaves the old checkpoint.
namespace checkpoint_testing {
enum class SaveStage { write, fsync, rename, sync_directory };
struct SaveFault {
  SaveStage stage = SaveStage::write;
  std::uint64_t after_bytes = 0;
  int error = ENOSPC;
};
inline thread_local std::optional<SaveFault> save_fault;
}  // namespace checkpoint_testing

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
// Version 1 body: optimizer kind u32, parameter count u64, state count u64,
// model step u64, signature length u32, then the signature.
inline constexpr std::size_t v1_fixed_size = header_size + 4 + 8 + 8 + 8 + 4;
inline constexpr std::size_t sgd_fixed_size = 4 * 8 + 4 + 8;  // lr, momentum, dampening, wd; flags; length
inline constexpr std::size_t adam_fixed_size = 5 * 8 + 8 + 8;  // lr, beta1, beta2, eps, wd; steps; length
inline constexpr std::uint32_t sgd_nesterov = 1u, sgd_started = 2u;

static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559,
              "typenet: checkpoints store IEEE-754 binary32/binary64 values.");

// ------------------------------------------------------------ little-endian bytes
// Explicit shifts: the file is little-endian whatever the host's byte order.
inline void store_le(unsigned char* out, std::uint64_t v, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) out[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline std::uint64_t load_le(const unsigned char* in, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = bytes; i-- > 0;) v = (v << 8) | in[i];
  return v;
}

template <class T>
using bits_of = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

template <class T>
void encode_scalars(std::span<const T> values, unsigned char* out) {
  for (std::size_t i = 0; i < values.size(); ++i)
    store_le(out + i * sizeof(T), std::bit_cast<bits_of<T>>(values[i]), sizeof(T));
}
template <class T>
void decode_scalars(std::span<const unsigned char> bytes, std::span<T> out) {
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = std::bit_cast<T>(static_cast<bits_of<T>>(load_le(bytes.data() + i * sizeof(T), sizeof(T))));
}

inline std::string os_error(int error) { return std::strerror(error); }

// ------------------------------------------------------------ optimizers
template <class Optimizer>
struct optimizer_kind;
template <class T>
struct optimizer_kind<SGD<T>> {
  static constexpr CheckpointOptimizer value = CheckpointOptimizer::sgd;
  using scalar = T;
};
template <class T, bool Decoupled>
struct optimizer_kind<BasicAdam<T, Decoupled>> {
  static constexpr CheckpointOptimizer value = Decoupled ? CheckpointOptimizer::adamw : CheckpointOptimizer::adam;
  using scalar = T;
};

template <class Optimizer, class T>
constexpr void check_optimizer_type() {
  static_assert(requires { optimizer_kind<Optimizer>::value; },
                "typenet: checkpoints store the state of SGD, Adam and AdamW optimizers only.");
  if constexpr (requires { optimizer_kind<Optimizer>::value; })
    static_assert(std::is_same_v<typename optimizer_kind<Optimizer>::scalar, T>,
                  "typenet: the optimizer's scalar type must be the model's (SGD<float> for Model<Net, float>).");
}

// Body bytes of each optimizer section, with `buffer_length` values per buffer.
inline std::uint64_t optimizer_section_size(CheckpointOptimizer kind, std::uint64_t buffer_length,
                                            std::uint64_t scalar_size) {
  switch (kind) {
    case CheckpointOptimizer::sgd: return sgd_fixed_size + buffer_length * scalar_size;
    case CheckpointOptimizer::adam:
    case CheckpointOptimizer::adamw: return adam_fixed_size + 2 * buffer_length * scalar_size;
    case CheckpointOptimizer::none: break;
  }
  return 0;
}

// ------------------------------------------------------------ files
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close's own error (0 if none): on network file
  // systems a failed close can be the first sign of a failed write.
  int close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

inline const checkpoint_testing::SaveFault* injected_fault(checkpoint_testing::SaveStage stage) {
  const auto& f = checkpoint_testing::save_fault;
  return f && f->stage == stage ? &*f : nullptr;
}

// Streams the checkpoint into the temporary file through a buffer, keeping
// the running CRC-32C of everything written, which finish() appends.
class ChecksummedWriter {
 public:
  ChecksummedWriter(int fd, const path& target, const path& temp)
      : fd_(fd), target_(target), temp_(temp), buffer_(std::size_t{1} << 20) {}

  void bytes(std::span<const unsigned char> data) {
    while (!data.empty()) {
      if (used_ == buffer_.size()) flush();
      const std::size_t n = std::min(data.size(), buffer_.size() - used_);
      std::copy_n(data.data(), n, buffer_.data() + used_);
      used_ += n;
      data = data.subspan(n);
    }
  }
  void u32(std::uint32_t v) { integer(v, 4); }
  void u64(std::uint64_t v) { integer(v, 8); }
  void f64(double v) { integer(std::bit_cast<std::uint64_t>(v), 8); }
  template <class T>
  void scalars(std::span<const T> values) {
    while (!values.empty()) {
      if (buffer_.size() - used_ < sizeof(T)) flush();
      const std::size_t n = std::min(values.size(), (buffer_.size() - used_) / sizeof(T));
      encode_scalars(values.first(n), buffer_.data() + used_);
      used_ += n * sizeof(T);
      values = values.subspan(n);
    }
  }
  // Appends the CRC-32C of everything before it and writes out the buffer.
  void finish() {
    flush();
    unsigned char trailer[trailer_size];
    store_le(trailer, crc_, trailer_size);
    write_all(trailer, trailer_size);
  }
  std::uint64_t written() const { return flushed_ + used_; }

 private:
  void integer(std::uint64_t v, std::size_t n) {
    unsigned char b[8];
    store_le(b, v, n);
    bytes({b, n});
  }
  void flush() {
    crc_ = crc32c_extend(crc_, {buffer_.data(), used_});
    write_all(buffer_.data(), used_);
    used_ = 0;
  }
  void write_all(const unsigned char* p, std::size_t n) {
    while (n > 0) {
      std::size_t chunk = n;
      if (const auto* fault = injected_fault(checkpoint_testing::SaveStage::write)) {
        const std::uint64_t allowed = fault->after_bytes > flushed_ ? fault->after_bytes - flushed_ : 0;
        if (allowed == 0) fail(fault->error);
        chunk = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, allowed));  // a partial write, then the error
      }
      const ssize_t r = ::write(fd_, p, chunk);
      if (r < 0) {
        if (errno == EINTR) continue;
        fail(errno);
      }
      p += r;
      n -= static_cast<std::size_t>(r);
      flushed_ += static_cast<std::uint64_t>(r);
    }
  }
  [[noreturn]] void fail(int error) const {
    throw CheckpointError(target_, "cannot save (the existing file is untouched): writing " + temp_.string() +
                                       ": " + os_error(error));
  }

  int fd_;
  const path& target_;
  const path& temp_;
  std::vector<unsigned char> buffer_;
  std::size_t used_ = 0;
  std::uint64_t flushed_ = 0;
  std::uint32_t crc_ = 0;
};

// The temporary file of one save: created beside the target (a rename is
// atomic only within one file system), removed unless it was renamed.
class TemporaryFile {
 public:
  explicit TemporaryFile(const path& target) : target_(target) {
    if (!target.has_filename()) throw CheckpointError(target, "cannot save: the path names a directory, not a file");
    directory_ = target.has_parent_path() ? target.parent_path() : path(".");
    // A unique name from the process id and a counter; O_EXCL makes sure no
    // other saver (another thread, process or a stale leftover) shares it.
    static std::atomic<std::uint64_t> counter{0};
    int error = EEXIST;
    for (int attempt = 0; attempt < 1000 && error == EEXIST; ++attempt) {
      path_ = directory_ / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                            std::to_string(counter.fetch_add(1)));
      const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd >= 0) {
        fd_ = std::make_unique<FileDescriptor>(fd);
        return;
      }
      error = errno;
    }
    throw CheckpointError(target, "cannot save: cannot create a temporary file in " + directory_.string() + ": " +
                                      os_error(error));
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (!renamed_) {
      fd_.reset();
      ::unlink(path_.c_str());
    }
  }

  int fd() const { return fd_->get(); }
  const path& name() const { return path_; }

  // fsync, close, rename over the target, fsync the directory. Before the
  // rename the target is untouched; after it the target is the new file.
  void commit() {
    using checkpoint_testing::SaveStage;
    if (int e = system_call(SaveStage::fsync, [&] { return ::fsync(fd()); }))
      fail_before_rename("syncing " + path_.string(), e);
    if (int e = fd_->close()) fail_before_rename("closing " + path_.string(), e);
    if (int e = system_call(SaveStage::rename, [&] { return ::rename(path_.c_str(), target_.c_str()); }))
      fail_before_rename("renaming " + path_.string() + " to " + target_.string(), e);
    renamed_ = true;
    // Without this the rename itself may not survive a power loss. Some file
    // systems cannot sync a directory (EINVAL); nothing more can be done there.
    FileDescriptor dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const int e = dir.get() < 0 ? errno : system_call(SaveStage::sync_directory, [&] { return ::fsync(dir.get()); });
    if (e != 0 && e != EINVAL)
      throw CheckpointError(target_, "saved, but syncing the directory " + directory_.string() + " failed: " +
                                         os_error(e) + "; the new checkpoint may not survive a power loss");
  }

 private:
  // Runs `call` (a system call returning 0 on success) and returns its errno,
  // 0 on success; an injected fault fails the stage without making the call.
  template <class Call>
  static int system_call(checkpoint_testing::SaveStage stage, Call call) {
    if (const auto* fault = injected_fault(stage)) return fault->error;
    return call() == 0 ? 0 : errno;
  }
  [[noreturn]] void fail_before_rename(const std::string& what, int error) const {
    throw CheckpointError(target_, "cannot save (the existing file is untouched): " + what + ": " + os_error(error));
  }

  const path& target_;
  path directory_, path_;
  std::unique_ptr<FileDescriptor> fd_;
  bool renamed_ = false;
};

// ------------------------------------------------------------ saving
template <class Net, class T, class Optimizer>
void save(const path& target, const Model<Net, T>& model, const Optimizer* optimizer) {
  constexpr CheckpointOptimizer kind = [] {
    if constexpr (std::is_void_v<Optimizer>) return CheckpointOptimizer::none;
    else return optimizer_kind<Optimizer>::value;
  }();
  std::uint64_t buffer_length = 0;
  if constexpr (kind == CheckpointOptimizer::sgd) buffer_length = optimizer->momentum_buffer().size();
  else if constexpr (kind != CheckpointOptimizer::none) buffer_length = optimizer->first_moment().size();

  const std::string signature = Net::name();
  const std::uint64_t file_size = v1_fixed_size + signature.size() +
                                  (model.parameters().size() + model.state().size()) * sizeof(T) +
                                  optimizer_section_size(kind, buffer_length, sizeof(T)) + trailer_size;

  TemporaryFile temp(target);
  ChecksummedWriter w(temp.fd(), target, temp.name());
  std::array<unsigned char, header_size> header{};
  std::copy(magic.begin(), magic.end(), header.begin());
  store_le(header.data() + version_offset, current_version, 4);
  store_le(header.data() + scalar_offset, sizeof(T), 4);
  store_le(header.data() + file_size_offset, file_size, 8);
  store_le(header.data() + header_crc_offset, crc32c({header.data(), header_crc_offset}), 4);
  w.bytes(header);
  w.u32(static_cast<std::uint32_t>(kind));
  w.u64(model.parameters().size());
  w.u64(model.state().size());
  w.u64(model.dropout_step());
  w.u32(static_cast<std::uint32_t>(signature.size()));
  w.bytes({reinterpret_cast<const unsigned char*>(signature.data()), signature.size()});
  w.scalars(model.parameters());
  w.scalars(model.state());
  if constexpr (kind == CheckpointOptimizer::sgd) {
    const SGDOptions& o = optimizer->options;
    w.f64(o.lr);
    w.f64(o.momentum);
    w.f64(o.dampening);
    w.f64(o.weight_decay);
    w.u32((o.nesterov ? sgd_nesterov : 0u) | (optimizer->started() ? sgd_started : 0u));
    w.u64(buffer_length);
    w.scalars(optimizer->momentum_buffer());
  } else if constexpr (kind != CheckpointOptimizer::none) {
    const AdamOptions& o = optimizer->options;
    w.f64(o.lr);
    w.f64(o.beta1);
    w.f64(o.beta2);
    w.f64(o.eps);
    w.f64(o.weight_decay);
    w.u64(optimizer->steps());
    w.u64(buffer_length);
    w.scalars(optimizer->first_moment());
    w.scalars(optimizer->second_moment());
  }
  w.finish();
  if (w.written() != file_size)
    throw std::logic_error("typenet: checkpoint writer: wrote " + std::to_string(w.written()) + " bytes, planned " +
                           std::to_string(file_size));
  temp.commit();
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

// Fills `out` from the file; returns how many bytes it got (fewer at the end of file).
inline std::size_t read_fully(const path& file, int fd, unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, out + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw CheckpointError(file, "cannot read: " + os_error(errno));
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

// A checkpoint already in memory (the fuzzer's entry): frame and both
// checksums verified, as read_verified does for a file.
inline std::vector<unsigned char> verified_bytes(const path& label, std::span<const unsigned char> bytes) {
  check_frame(label, bytes.first(std::min(bytes.size(), header_size)), bytes.size());
  verify_trailer(label, bytes);
  return {bytes.begin(), bytes.end()};
}

// The whole file, its frame and both checksums verified.
inline std::vector<unsigned char> read_verified(const path& file) {
  FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int error = errno;
    throw CheckpointError(file, "cannot open: " + os_error(error));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw CheckpointError(file, "cannot read: " + os_error(errno));
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

// Reads the body's fields in order; every length from the file is checked
// against what remains by division, so no product can overflow.
class BodyReader {
 public:
  BodyReader(const path& file, std::span<const unsigned char> body) : file_(file), body_(body) {}

  std::uint32_t u32(const char* what) { return static_cast<std::uint32_t>(load_le(take(1, 4, what).data(), 4)); }
  std::uint64_t u64(const char* what) { return load_le(take(1, 8, what).data(), 8); }
  double f64(const char* what) { return std::bit_cast<double>(u64(what)); }
  std::span<const unsigned char> take(std::uint64_t count, std::uint64_t size, const char* what) {
    const std::uint64_t remaining = body_.size() - position_;
    if (count > remaining / size)
      throw CheckpointError(file_, std::string("malformed checkpoint: ") + what + " runs past the end of the file");
    const auto n = static_cast<std::size_t>(count * size);
    const auto part = body_.subspan(position_, n);
    position_ += n;
    return part;
  }
  std::size_t remaining() const { return body_.size() - position_; }

 private:
  const path& file_;
  std::span<const unsigned char> body_;
  std::size_t position_ = 0;
};

struct SgdSection {
  SGDOptions options;
  bool started = false;
  std::span<const unsigned char> momentum;
};
struct AdamSection {
  AdamOptions options;
  std::uint64_t steps = 0;
  std::span<const unsigned char> first, second;
};

// A verified file, taken apart; the spans point into `bytes`.
struct Parsed {
  std::vector<unsigned char> bytes;
  CheckpointInfo info;
  std::span<const unsigned char> parameters, state;
  std::variant<std::monostate, SgdSection, AdamSection> optimizer;
};

inline Parsed parse(const path& file, std::vector<unsigned char> verified);

inline Parsed parse(const path& file) { return parse(file, read_verified(file)); }

// Takes apart bytes whose frame and checksums are verified.
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
  if (kind > static_cast<std::uint32_t>(CheckpointOptimizer::adamw))
    throw CheckpointError(file, "malformed checkpoint: unknown optimizer kind " + std::to_string(kind));
  info.optimizer = static_cast<CheckpointOptimizer>(kind);
  info.parameter_count = r.u64("the parameter count");
  info.state_count = r.u64("the state count");
  info.model_step = r.u64("the model step");
  const auto signature = r.take(r.u32("the signature length"), 1, "the topology signature");
  info.signature.assign(signature.begin(), signature.end());
  p.parameters = r.take(info.parameter_count, z, "the parameter section");
  p.state = r.take(info.state_count, z, "the state section");

  auto buffer_length = [&](const char* what) {
    const std::uint64_t n = r.u64(what);
    if (n != 0 && n != info.parameter_count)
      throw CheckpointError(file, std::string("malformed checkpoint: ") + what + " is " + std::to_string(n) +
                                      ", neither 0 nor the parameter count " + std::to_string(info.parameter_count));
    return n;
  };
  if (info.optimizer == CheckpointOptimizer::sgd) {
    SgdSection s;
    s.options.lr = r.f64("the SGD learning rate");
    s.options.momentum = r.f64("the SGD momentum");
    s.options.dampening = r.f64("the SGD dampening");
    s.options.weight_decay = r.f64("the SGD weight decay");
    const std::uint32_t flags = r.u32("the SGD flags");
    if (flags & ~(sgd_nesterov | sgd_started))
      throw CheckpointError(file, "malformed checkpoint: unknown SGD flags " + std::to_string(flags));
    s.options.nesterov = (flags & sgd_nesterov) != 0;
    s.started = (flags & sgd_started) != 0;
    const std::uint64_t n = buffer_length("the SGD momentum buffer length");
    if (s.started && n == 0)
      throw CheckpointError(file, "malformed checkpoint: SGD momentum marked started, but no momentum buffer");
    s.momentum = r.take(n, z, "the SGD momentum buffer");
    p.optimizer = s;
  } else if (info.optimizer != CheckpointOptimizer::none) {
    AdamSection s;
    s.options.lr = r.f64("the Adam learning rate");
    s.options.beta1 = r.f64("the Adam beta1");
    s.options.beta2 = r.f64("the Adam beta2");
    s.options.eps = r.f64("the Adam eps");
    s.options.weight_decay = r.f64("the Adam weight decay");
    s.steps = r.u64("the Adam step count");
    const std::uint64_t n = buffer_length("the Adam moment length");
    s.first = r.take(n, z, "the Adam first moment");
    s.second = r.take(n, z, "the Adam second moment");
    info.optimizer_steps = s.steps;
    p.optimizer = s;
  }
  if (r.remaining() != 0)
    throw CheckpointError(file, "malformed checkpoint: " + std::to_string(r.remaining()) +
                                    " unexpected bytes after the last section");
  return p;
}

// ------------------------------------------------------------ restoring
template <class T>
std::vector<T> decode_vector(std::span<const unsigned char> bytes) {
  std::vector<T> v(bytes.size() / sizeof(T));
  decode_scalars<T>(bytes, v);
  return v;
}

// Optimizer options as saved, checked by the optimizer's own constructor.
template <class Optimizer, class Options>
void check_options(const path& file, const Options& options) {
  try {
    Optimizer probe(options);
  } catch (const std::invalid_argument& e) {
    throw CheckpointError(file, std::string("malformed checkpoint: the saved optimizer options are invalid (") +
                                    e.what() + ")");
  }
}

// Each restore checks what is left to check, then changes the optimizer
// only through restore(), which allocates before it modifies.
template <class T>
void restore_optimizer(const path& file, SGD<T>& sgd, const Parsed& p) {
  const auto& s = std::get<SgdSection>(p.optimizer);
  check_options<SGD<T>>(file, s.options);
  sgd.restore(decode_vector<T>(s.momentum), s.started);
  sgd.options = s.options;
}
template <class T, bool Decoupled>
void restore_optimizer(const path& file, BasicAdam<T, Decoupled>& adam, const Parsed& p) {
  const auto& s = std::get<AdamSection>(p.optimizer);
  check_options<BasicAdam<T, Decoupled>>(file, s.options);
  if (s.steps > std::numeric_limits<std::size_t>::max())
    throw CheckpointError(file, "malformed checkpoint: the Adam step count " + std::to_string(s.steps) +
                                    " does not fit this machine's size_t");
  adam.restore(decode_vector<T>(s.first), decode_vector<T>(s.second), static_cast<std::size_t>(s.steps));
  adam.options = s.options;
}

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
    constexpr CheckpointOptimizer wanted = optimizer_kind<Optimizer>::value;
    if (info.optimizer == CheckpointOptimizer::none)
      throw CheckpointError(file, "saved without optimizer state, so it cannot restore this " +
                                      std::string(to_string(wanted)) + " optimizer; load the model alone");
    if (info.optimizer != wanted)
      throw CheckpointError(file, "saved with " + std::string(to_string(info.optimizer)) +
                                      " optimizer state, this optimizer is " + std::string(to_string(wanted)));
    restore_optimizer(file, *optimizer, p);  // last step that may fail
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
template <class Net, class T>
void save_checkpoint(const std::filesystem::path& path, const Model<Net, T>& model) {
  checkpoint_detail::save<Net, T, void>(path, model, nullptr);
}
template <class Net, class T, class Optimizer>
void save_checkpoint(const std::filesystem::path& path, const Model<Net, T>& model, const Optimizer& optimizer) {
  checkpoint_detail::check_optimizer_type<Optimizer, T>();
  checkpoint_detail::save(path, model, &optimizer);
}

// Restores what save_checkpoint wrote: the model alone (any optimizer state
// in the file is skipped), or the model and the optimizer, whose kind must
// match and whose options become the saved ones (as torch's load_state_dict).
// Throws CheckpointError for any problem, and then has changed nothing.
template <class Net, class T>
void load_checkpoint(const std::filesystem::path& path, Model<Net, T>& model) {
  checkpoint_detail::load<Net, T, void>(path, checkpoint_detail::parse(path), model, nullptr);
}
template <class Net, class T, class Optimizer>
void load_checkpoint(const std::filesystem::path& path, Model<Net, T>& model, Optimizer& optimizer) {
  checkpoint_detail::check_optimizer_type<Optimizer, T>();
  checkpoint_detail::load(path, checkpoint_detail::parse(path), model, &optimizer);
}

// A checkpoint file's bytes, frame and checksums verified: for a process
// that reads the file on behalf of others (distributed/checkpoint.hpp
// broadcasts them).
inline std::vector<unsigned char> read_checkpoint_bytes(const std::filesystem::path& path) {
  return checkpoint_detail::read_verified(path);
}
// load_checkpoint from such bytes in memory, with every check a file gets;
// `label` names the checkpoint in errors.
template <class Net, class T>
void load_checkpoint_bytes(const std::filesystem::path& label, std::span<const unsigned char> bytes,
                           Model<Net, T>& model) {
  using namespace checkpoint_detail;
  load<Net, T, void>(label, parse(label, verified_bytes(label, bytes)), model, nullptr);
}
template <class Net, class T, class Optimizer>
void load_checkpoint_bytes(const std::filesystem::path& label, std::span<const unsigned char> bytes,
                           Model<Net, T>& model, Optimizer& optimizer) {
  using namespace checkpoint_detail;
  check_optimizer_type<Optimizer, T>();
  load(label, parse(label, verified_bytes(label, bytes)), model, &optimizer);
}

// What a checkpoint holds, after the same checks as loading short of
// comparing with a network: for tools, and for saying what a file is.
inline CheckpointInfo describe_checkpoint(const std::filesystem::path& path) {
  return checkpoint_detail::parse(path).info;
}

}  // namespace typenet
