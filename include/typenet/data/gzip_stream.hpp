// A data file's bytes, front to back, whether the file is plain or
// gzip-compressed (recognised by its first two bytes, 1f 8b, whatever its
// name). A file of concatenated gzip members (`cat a.gz b.gz`) reads as
// their contents one after another; zlib verifies each member's length and
// CRC-32 as the reading reaches its end.
//
// Decompression uses zlib when <zlib.h> is available (link with -lz, or
// Meson's dependency('zlib')); define TYPENET_NO_ZLIB to go without it, the
// same way in every translation unit. Without zlib a gzip file is an error
// that says so.
//
// The reader of a format (data/idx.hpp) names the type of error thrown: each
// problem throws Error("typenet: FILE: PROBLEM").
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "typenet/config.hpp"

#if !defined(TYPENET_NO_ZLIB) && __has_include(<zlib.h>)
#include <zlib.h>
#define TYPENET_GZIP_HAS_ZLIB 1
#else
#define TYPENET_GZIP_HAS_ZLIB 0
#endif

namespace typenet::inline TYPENET_ISA_NAMESPACE::data {

namespace gzip_detail {
/// How much compressed input is read from the file at a time, and the most
/// decompressed output asked of zlib per call.
inline constexpr std::size_t chunk_bytes = std::size_t{1} << 20;
/// Deflate's best case is about 1032 : 1, so a gzip file of n bytes can never
/// hold more than 1032 n bytes: a header that promises more is a lie the
/// reader can refuse before reading (with a little slack for the gzip framing).
inline constexpr std::uint64_t max_deflate_ratio = 1032;
}  // namespace gzip_detail

/// The decompressed bytes of a file, plain or gzip, read front to back.
/// `kind` says what the file should be, for the message about a directory
/// ("an IDX file").
template <class Error>
class ByteStream {
 public:
  /// Opens file, plain or gzip (found from its first bytes); errors name the file and `kind`.
  ByteStream(const std::filesystem::path& file, std::string_view kind) : file_(file) {
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (status.type() == std::filesystem::file_type::not_found) fail("no such file.");
    if (std::filesystem::is_directory(status)) fail("is a directory, not " + std::string(kind) + ".");
    handle_.reset(std::fopen(file.string().c_str(), "rb"));
    if (!handle_) fail(std::string("cannot open it: ") + std::strerror(errno) + ".");
    const std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (ec) fail("cannot read its size: " + ec.message() + ".");
    size_ = size;
    if (size_ == 0) fail("is empty (0 bytes).");
    std::uint8_t first[2] = {0, 0};
    const std::size_t got = read_raw(first, 2);
    gzip_ = got == 2 && first[0] == 0x1f && first[1] == 0x8b;
    if (std::fseek(handle_.get(), 0, SEEK_SET) != 0) fail(std::string("cannot seek in it: ") + std::strerror(errno) + ".");
    if (gzip_) start_gzip();
  }
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;
  ~ByteStream() {
#if TYPENET_GZIP_HAS_ZLIB
    if (gzip_) inflateEnd(&zs_);
#endif
  }

  /// Whether the file is gzip.
  bool gzip() const { return gzip_; }
  /// The size of the file on disk.
  std::uint64_t file_size() const { return size_; }
  /// The most bytes this file can possibly deliver.
  std::uint64_t most_bytes_possible() const {
    using gzip_detail::max_deflate_ratio;
    if (!gzip_) return size_;
    return size_ > std::numeric_limits<std::uint64_t>::max() / max_deflate_ratio
               ? std::numeric_limits<std::uint64_t>::max()
               : size_ * max_deflate_ratio;
  }

  /// Reads up to n bytes; fewer only at the end of the data.
  std::size_t read(std::uint8_t* out, std::size_t n) { return gzip_ ? read_gzip(out, n) : read_raw(out, n); }

 private:
  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error("typenet: " + file_.string() + ": " + problem);
  }

  std::size_t read_raw(std::uint8_t* out, std::size_t n) {
    const std::size_t got = std::fread(out, 1, n, handle_.get());
    if (got < n && std::ferror(handle_.get())) fail(std::string("read error: ") + std::strerror(errno) + ".");
    return got;
  }

#if TYPENET_GZIP_HAS_ZLIB
  void start_gzip() {
    input_.resize(gzip_detail::chunk_bytes);
    // 16 + MAX_WBITS: a gzip wrapper (header and CRC-32 trailer), not zlib's.
    // The constructor throws on failure, so the destructor's inflateEnd only
    // ever runs after a successful inflateInit2.
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) fail("cannot start zlib's decompressor (out of memory?).");
  }

  void refill() {
    const std::size_t got = read_raw(input_.data(), input_.size());
    zs_.next_in = input_.data();
    zs_.avail_in = static_cast<uInt>(got);
    input_done_ = got == 0;
  }

  std::size_t read_gzip(std::uint8_t* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n && !stream_done_) {
      const std::size_t want = std::min(n - done, gzip_detail::chunk_bytes);
      zs_.next_out = out + done;
      zs_.avail_out = static_cast<uInt>(want);
      if (zs_.avail_in == 0 && !input_done_) refill();
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      done += want - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        ++members_;
        if (zs_.avail_in == 0 && !input_done_) refill();
        if (zs_.avail_in == 0)
          stream_done_ = true;
        else
          inflateReset(&zs_);  // another gzip member follows, as `cat a.gz b.gz` makes
      } else if (rc == Z_BUF_ERROR && zs_.avail_in == 0 && input_done_) {
        fail("corrupt gzip stream: it ends before its end marker (the .gz file is truncated).");
      } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs_.avail_in == 0)) {
        const std::string why = zs_.msg ? zs_.msg : zError(rc);
        fail(members_ == 0 ? "corrupt gzip stream (" + why + ")."
                           : "corrupt gzip stream: the data after gzip member " + std::to_string(members_) +
                                 " is not gzip (" + why + ").");
      }
    }
    return done;
  }

  z_stream zs_{};
  std::vector<std::uint8_t> input_;
  bool input_done_ = false;
  bool stream_done_ = false;
  std::size_t members_ = 0;
#else
  void start_gzip() {
    fail(
        "is gzip-compressed, but typenet was built without zlib: install zlib's headers (Debian: zlib1g-dev) and "
        "rebuild linking zlib, or decompress the file with gunzip.");
  }
  std::size_t read_gzip(std::uint8_t*, std::size_t) { return 0; }
#endif

  std::filesystem::path file_;
  std::unique_ptr<std::FILE, Close> handle_;
  std::uint64_t size_ = 0;
  bool gzip_ = false;
};

}  // namespace typenet::data
