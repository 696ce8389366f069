// Files for the data readers (npy.hpp, csv.hpp): an input file read whole
// or in exact pieces. The writers save through base/atomic_file.hpp.
//
// Every failure throws the caller's error type (a FileError,
// base/file_error.hpp): "typenet: <path>: <what went wrong>".
//
// POSIX (open, fstat, read, mmap): Linux and the BSDs.
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
#include <string_view>
#include <utility>
#include <vector>

#include "typenet/base/file_descriptor.hpp"
#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::data::file_io_detail {

using std::filesystem::path;

using file_detail::os_error;
using Descriptor = file_detail::FileDescriptor;

template <class Error>
[[noreturn]] void fail(const path& file, const std::string& problem) {
  throw Error(file, problem);
}

/// Text from a file for a message: at most `limit` bytes, "..." when cut;
/// control bytes, and unless `keep_high` (UTF-8 text) every byte from 0x7f
/// up, as \xNN.
inline std::string escaped(std::string_view text, std::size_t limit, bool keep_high) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != 0x7f && (keep_high || c < 0x7f)) {
      out += static_cast<char>(c);
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (text.size() > limit) out += "...";
  return out;
}

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

}  // namespace typenet::data::file_io_detail
