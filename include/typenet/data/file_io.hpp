// Files for the data readers and writers (npy.hpp, csv.hpp): an input file
// read whole or in exact pieces, and an output file saved atomically.
//
// Every failure throws the caller's error type (a std::runtime_error) with
// the sentence "typenet: <path>: <what went wrong>".
//
// Saving writes a temporary file beside the target (a rename is atomic only
// within one file system), fsyncs it, renames it over the target and fsyncs
// the directory: a crash, a full disk or an error leaves the old file as it
// was, and the temporary file is removed.
//
// POSIX (open, fstat, fsync, rename): Linux and the BSDs.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "typenet/config.hpp"

namespace typenet::data::file_io_detail {

using std::filesystem::path;

inline std::string os_error(int error) { return std::strerror(error); }

template <class Error>
[[noreturn]] void fail(const path& file, const std::string& problem) {
  throw Error("typenet: " + file.string() + ": " + problem);
}

class Descriptor {
 public:
  explicit Descriptor(int fd = -1) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  /// Closes now and returns close's own error (0 if none): on network file
  /// systems a failed close can be the first sign of a failed write.
  int close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

/// A file's bytes in memory. Large files go to anonymous memory the kernel
/// may back with huge pages: the page faults of a buffer of 4 KiB pages cost
/// more than the copy into it (docs/performance.md, "CSV reading").
class Bytes {
 public:
  Bytes() = default;
  explicit Bytes(std::size_t n) : size_(n) {
#ifdef MADV_HUGEPAGE
    if (n >= huge_from) {
      mapped_ = (n + huge_page - 1) / huge_page * huge_page;
      void* p = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p != MAP_FAILED) {
        ::madvise(p, mapped_, MADV_HUGEPAGE);  // advice: without it the pages are small, no more
        data_ = static_cast<char*>(p);
        return;
      }
      mapped_ = 0;
    }
#endif
    data_ = new char[n == 0 ? 1 : n];
  }
  Bytes(Bytes&& o) noexcept { swap(o); }
  Bytes& operator=(Bytes&& o) noexcept {
    swap(o);
    return *this;
  }
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;
  ~Bytes() {
    if (mapped_) ::munmap(data_, mapped_);
    else delete[] data_;
  }
  void swap(Bytes& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(mapped_, o.mapped_);
  }

  char* data() { return data_; }
  const char* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t huge_page = std::size_t{2} << 20, huge_from = std::size_t{4} << 20;
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;  ///< bytes mapped (0: from new[])
};

/// A file opened for reading. Regular files report their size; pipes and
/// other streams do not (known_size() is false) and are read to their end.
template <class Error>
class InputFile {
 public:
  explicit InputFile(const path& file) : file_(file), fd_(::open(file.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_.get() < 0) fail<Error>(file, "cannot open: " + os_error(errno) + ".");
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) fail<Error>(file, "cannot read its size: " + os_error(errno) + ".");
    if (S_ISDIR(st.st_mode)) fail<Error>(file, "is a directory, not a file.");
    if (S_ISREG(st.st_mode)) {
      known_size_ = true;
      size_ = static_cast<std::uint64_t>(st.st_size);
    }
  }

  bool known_size() const { return known_size_; }
  std::uint64_t size() const { return size_; }

  /// Up to n bytes into out; fewer only at the end of the file.
  std::size_t read_some(void* out, std::size_t n) {
    auto* bytes = static_cast<unsigned char*>(out);
    std::size_t done = 0;
    while (done < n) {
      const ssize_t got = ::read(fd_.get(), bytes + done, std::min<std::size_t>(n - done, std::size_t{1} << 30));
      if (got == 0) break;
      if (got < 0) {
        if (errno == EINTR) continue;
        fail<Error>(file_, "cannot read: " + os_error(errno) + ".");
      }
      done += static_cast<std::size_t>(got);
    }
    return done;
  }

  /// The whole file (from where reading stands) in one buffer, allocated
  /// once for a regular file.
  Bytes read_all() {
    if (known_size_) {
      const std::size_t n = checked_size(size_);
      Bytes buffer = allocate(n);
      const std::size_t got = read_some(buffer.data(), n);
      if (got != n)
        fail<Error>(file_, "changed while being read: it had " + std::to_string(n) + " bytes, then " +
                               std::to_string(got) + ".");
      return buffer;
    }
    std::vector<char> grown;
    char chunk[1 << 16];
    for (std::size_t got; (got = read_some(chunk, sizeof chunk)) > 0;) grown.insert(grown.end(), chunk, chunk + got);
    Bytes buffer = allocate(grown.size());
    std::copy(grown.begin(), grown.end(), buffer.data());
    return buffer;
  }

 private:
  std::size_t checked_size(std::uint64_t n) const {
    if (n > static_cast<std::uint64_t>(PTRDIFF_MAX))
      fail<Error>(file_, "is too large to read into memory (" + std::to_string(n) + " bytes).");
    return static_cast<std::size_t>(n);
  }
  Bytes allocate(std::size_t n) const {
    try {
      return Bytes(n);
    } catch (const std::bad_alloc&) {
      fail<Error>(file_, "not enough memory to read its " + std::to_string(n) + " bytes.");
    }
  }

  path file_;
  Descriptor fd_;
  bool known_size_ = false;
  std::uint64_t size_ = 0;
};

/// A file saved atomically (see the top): write(), then commit(). Destroyed
/// without commit(), it removes its temporary file and the target is as it
/// was.
template <class Error>
class AtomicOutputFile {
 public:
  explicit AtomicOutputFile(const path& target) : target_(target) {
    if (!target.has_filename()) fail<Error>(target, "cannot save: the path names a directory, not a file.");
    directory_ = target.has_parent_path() ? target.parent_path() : path(".");
    // A unique name from the process id and a counter; O_EXCL makes sure no
    // other saver (another thread, process or a stale leftover) shares it.
    static std::atomic<std::uint64_t> counter{0};
    int error = EEXIST;
    for (int attempt = 0; attempt < 1000 && error == EEXIST; ++attempt) {
      temp_ = directory_ / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                            std::to_string(counter.fetch_add(1)));
      const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd >= 0) {
        fd_ = std::make_unique<Descriptor>(fd);
        buffer_.resize(buffer_bytes);
        return;
      }
      error = errno;
    }
    fail<Error>(target, "cannot save: cannot create a temporary file in " + directory_.string() + ": " +
                            os_error(error) + ".");
  }
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;
  ~AtomicOutputFile() {
    if (!renamed_) {
      fd_.reset();
      ::unlink(temp_.c_str());
    }
  }

  /// Buffered: small pieces (a row of a table) cost no system call each.
  void write(const void* data, std::size_t n) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    while (n > 0) {
      if (used_ == buffer_.size()) flush();
      const std::size_t step = std::min(n, buffer_.size() - used_);
      std::memcpy(buffer_.data() + used_, bytes, step);
      used_ += step;
      bytes += step;
      n -= step;
    }
  }

  /// Flush, fsync, close, rename over the target, fsync the directory. Before
  /// the rename the target is untouched; after it the target is the new file.
  void commit() {
    flush();
    if (::fsync(fd_->get()) != 0) fail_before_rename("syncing " + temp_.string(), errno);
    if (const int e = fd_->close()) fail_before_rename("closing " + temp_.string(), e);
    if (::rename(temp_.c_str(), target_.c_str()) != 0)
      fail_before_rename("renaming " + temp_.string() + " to " + target_.string(), errno);
    renamed_ = true;
    // Without this the rename itself may not survive a power loss. Some file
    // systems cannot sync a directory (EINVAL); nothing more can be done there.
    Descriptor dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const int e = dir.get() < 0 ? errno : (::fsync(dir.get()) == 0 ? 0 : errno);
    if (e != 0 && e != EINVAL)
      fail<Error>(target_, "saved, but syncing the directory " + directory_.string() + " failed: " + os_error(e) +
                               "; the new file may not survive a power loss.");
  }

 private:
  static constexpr std::size_t buffer_bytes = std::size_t{1} << 20;

  void flush() {
    for (std::size_t done = 0; done < used_;) {
      const ssize_t n = ::write(fd_->get(), buffer_.data() + done, used_ - done);
      if (n < 0 && errno == EINTR) continue;
      // A write of 0 bytes makes no progress: the disk is full in all but name.
      if (n <= 0) fail_before_rename("writing " + temp_.string(), n < 0 ? errno : ENOSPC);
      done += static_cast<std::size_t>(n);
    }
    used_ = 0;
  }
  [[noreturn]] void fail_before_rename(const std::string& what, int error) const {
    fail<Error>(target_, "cannot save (the existing file is untouched): " + what + ": " + os_error(error) + ".");
  }

  path target_, directory_, temp_;
  std::unique_ptr<Descriptor> fd_;
  std::vector<unsigned char> buffer_;
  std::size_t used_ = 0;
  bool renamed_ = false;
};

}  // namespace typenet::data::file_io_detail
