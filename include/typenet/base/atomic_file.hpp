// Replacing a file atomically, for every file typenet writes (checkpoints,
// safetensors, ONNX, exported headers, NumPy and CSV files): the new
// contents go to a temporary file beside the target, which is fsynced and
// renamed over it, so a crash, a full disk or an error leaves the previous
// file in place. Every failure throws the writer's own error type, built as
// Error(target, problem), naming the step, the temporary file and the
// operating system's error. docs/checkpoint-format.md ("Saving: atomic
// replacement") says why each step is there.
//
// POSIX (open, fsync, rename): Linux and the BSDs.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "typenet/base/file_descriptor.hpp"
#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// Test hook, for fault-injection tests only: while set, every save on this
// thread fails at `stage` with errno `error`, as the operating system would
// (stage write: once `after_bytes` bytes of the temporary file are written,
// like a disk filling up). Lets tests check, as root too, that a failed save
// removes its temporary file and leaves the old file.
namespace save_testing {
enum class SaveStage { write, fsync, rename, sync_directory };
struct SaveFault {
  SaveStage stage = SaveStage::write;
  std::uint64_t after_bytes = 0;
  int error = ENOSPC;
};
inline thread_local std::optional<SaveFault> save_fault;
}  // namespace save_testing

namespace atomic_file_detail {

inline const save_testing::SaveFault* injected_fault(save_testing::SaveStage stage) {
  const auto& f = save_testing::save_fault;
  return f && f->stage == stage ? &*f : nullptr;
}

}  // namespace atomic_file_detail

/// The temporary file of one save: created beside the target (a rename is
/// atomic only within one file system), removed unless it was renamed.
/// write() is buffered, so small pieces (a row of a table) cost no system
/// call each; commit() replaces the target. Failures throw Error(target,
/// problem).
template <class Error>
class AtomicFile {
  using path = std::filesystem::path;
  using FileDescriptor = file_detail::FileDescriptor;

 public:
  /// Creates the temporary file beside `target`.
  explicit AtomicFile(const path& target) : target_(target) {
    if (!target.has_filename()) throw Error(target, "cannot save: the path names a directory, not a file");
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
    throw Error(target, "cannot save: cannot create a temporary file in " + directory_.string() + ": " +
                            file_detail::os_error(error));
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() {
    if (!renamed_) {
      fd_.reset();
      ::unlink(path_.c_str());
    }
  }

  /// The temporary file's name.
  const path& name() const { return path_; }

  /// Appends n bytes to the temporary file.
  void write(const void* data, std::size_t n) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    if (buffer_.empty()) buffer_.resize(buffer_bytes);
    while (n > 0) {
      if (used_ == buffer_.size()) flush();
      const std::size_t step = std::min(n, buffer_.size() - used_);
      std::memcpy(buffer_.data() + used_, bytes, step);
      used_ += step;
      bytes += step;
      n -= step;
    }
  }

  /// fsync, close, rename over the target, fsync the directory. Before the
  /// rename the target is untouched; after it the target is the new file.
  void commit() {
    using save_testing::SaveStage;
    flush();
    if (int e = system_call(SaveStage::fsync, [&] { return ::fsync(fd_->get()); }))
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
      throw Error(target_, "saved, but syncing the directory " + directory_.string() + " failed: " +
                               file_detail::os_error(e) + "; the new file may not survive a power loss");
  }

 private:
  /// Runs `call` (a system call returning 0 on success) and returns its errno,
  /// 0 on success; an injected fault fails the stage without making the call.
  static constexpr std::size_t buffer_bytes = std::size_t{1} << 20;

  /// Writes out the buffer; a write of 0 bytes makes no progress, which is a
  /// full disk in all but name.
  void flush() {
    const unsigned char* p = buffer_.data();
    std::size_t n = used_;
    while (n > 0) {
      std::size_t chunk = n;
      if (const auto* fault = atomic_file_detail::injected_fault(save_testing::SaveStage::write)) {
        const std::uint64_t allowed = fault->after_bytes > written_ ? fault->after_bytes - written_ : 0;
        if (allowed == 0) fail_before_rename("writing " + path_.string(), fault->error);
        chunk = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, allowed));  // a partial write, then the error
      }
      const ssize_t r = ::write(fd_->get(), p, chunk);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) fail_before_rename("writing " + path_.string(), r < 0 ? errno : ENOSPC);
      p += r;
      n -= static_cast<std::size_t>(r);
      written_ += static_cast<std::uint64_t>(r);
    }
    used_ = 0;
  }
  template <class Call>
  static int system_call(save_testing::SaveStage stage, Call call) {
    if (const auto* fault = atomic_file_detail::injected_fault(stage)) return fault->error;
    return call() == 0 ? 0 : errno;
  }
  [[noreturn]] void fail_before_rename(const std::string& what, int error) const {
    throw Error(target_, "cannot save (the existing file is untouched): " + what + ": " + file_detail::os_error(error));
  }

  path target_, directory_, path_;
  std::unique_ptr<FileDescriptor> fd_;
  std::vector<unsigned char> buffer_;
  std::size_t used_ = 0;
  std::uint64_t written_ = 0;
  bool renamed_ = false;
};

}  // namespace typenet
