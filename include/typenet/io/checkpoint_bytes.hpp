// The checkpoint's fields as bytes: little-endian integers and IEEE-754
// scalars, written through a checksumming buffer and read back with every
// length checked. Shared by the format (io/checkpoint.hpp) and the
// optimizer sections (optim/checkpoint_section.hpp).
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "typenet/base/atomic_file.hpp"
#include "typenet/io/checkpoint_error.hpp"
#include "typenet/io/checkpoint_error.hpp"
#include "typenet/io/crc32c.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::checkpoint_detail {

static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559,
              "typenet: checkpoints store IEEE-754 binary32/binary64 values.");

/// Explicit shifts: the file is little-endian whatever the host's byte order.
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

/// Streams fields into an AtomicFile through a buffer, keeping the running
/// CRC-32C of everything written, which finish() appends.
class ChecksummedWriter {
 public:
  explicit ChecksummedWriter(AtomicFile<CheckpointError>& file) : file_(file), buffer_(std::size_t{1} << 20) {}

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
  /// Appends the CRC-32C of everything before it and writes out the buffer.
  void finish() {
    flush();
    unsigned char trailer[4];
    store_le(trailer, crc_, 4);
    file_.write(trailer, 4);
    flushed_ += 4;
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
    file_.write(buffer_.data(), used_);
    flushed_ += used_;
    used_ = 0;
  }

  AtomicFile<CheckpointError>& file_;
  std::vector<unsigned char> buffer_;
  std::size_t used_ = 0;
  std::uint64_t flushed_ = 0;
  std::uint32_t crc_ = 0;
};

/// Reads the body's fields in order; every length from the file is checked
/// against what remains by division, so no product can overflow.
class BodyReader {
 public:
  BodyReader(const std::filesystem::path& file, std::span<const unsigned char> body) : file_(file), body_(body) {}

  std::uint32_t u32(const std::string& what) { return static_cast<std::uint32_t>(load_le(take(1, 4, what).data(), 4)); }
  std::uint64_t u64(const std::string& what) { return load_le(take(1, 8, what).data(), 8); }
  double f64(const std::string& what) { return std::bit_cast<double>(u64(what)); }
  std::span<const unsigned char> take(std::uint64_t count, std::uint64_t size, const std::string& what) {
    const std::uint64_t remaining = body_.size() - position_;
    if (count > remaining / size) malformed(what + " runs past the end of the file");
    const auto n = static_cast<std::size_t>(count * size);
    const auto part = body_.subspan(position_, n);
    position_ += n;
    return part;
  }
  std::size_t remaining() const { return body_.size() - position_; }
  const std::filesystem::path& file() const { return file_; }

  [[noreturn]] void malformed(const std::string& problem) const {
    throw CheckpointError(file_, "malformed checkpoint: " + problem);
  }

 private:
  const std::filesystem::path& file_;
  std::span<const unsigned char> body_;
  std::size_t position_ = 0;
};

}  // namespace typenet::checkpoint_detail
