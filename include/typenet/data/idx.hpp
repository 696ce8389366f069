// Reading IDX files, the format of MNIST (and Fashion-MNIST, EMNIST, ...):
//
//   auto train = data::load_mnist("data/mnist", "train");    // 60000 x 784, pixels in [0, 1]
//   auto test = data::load_mnist("data/mnist", "t10k");
//   data::check_width<784>(train);                           // or Model<Net>::input_size
//
// Format: a big-endian header, then the values. The magic number is
// 0x0000TTDD: two zero bytes, a type code TT (0x08: unsigned byte, the only
// type MNIST uses and the only one read here) and the number of dimensions
// DD; then DD big-endian uint32 sizes, then the values in row-major order.
// Images are 0x00000803 (count, rows, cols), labels 0x00000801 (count).
//
// Files may be plain or gzip-compressed (recognised by their first two bytes,
// 1f 8b, whatever their name). Decompression uses zlib when <zlib.h> is
// available (link with -lz, or Meson's dependency('zlib')); define
// TYPENET_NO_ZLIB to go without it, the same way in every translation unit.
// Without zlib a gzip file is an error that says so.
//
// Pixels become floats as byte / 255 (so [0, 1], as torchvision's ToTensor),
// then optionally (x - mean) / stddev, with statistics that are given (for
// example the training set's, applied to the test set) or computed from the
// file's own pixels (population standard deviation over all pixels).
//
// Every problem with a file throws data::IdxError (a std::runtime_error)
// whose message names the file and the problem: missing or unreadable file,
// empty file, wrong magic number (found and expected), dimensions that are
// zero or whose sizes overflow, a file shorter than its header promises
// (bytes expected and found), trailing bytes, corrupt or truncated gzip data,
// image and label counts that differ, labels that are not digits. Sizes are
// checked for overflow before anything is allocated; a plain file's length
// is checked against its header, and a gzip file is read and verified to its
// end (length, gzip checksum), before the float matrix is allocated; no
// input makes the reader read out of bounds or crash.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#if !defined(TYPENET_NO_ZLIB) && __has_include(<zlib.h>)
#include <zlib.h>
#define TYPENET_IDX_HAS_ZLIB 1
#else
#define TYPENET_IDX_HAS_ZLIB 0
#endif

#include "typenet/data/generators.hpp"
#include "typenet/base/matrix.hpp"

namespace typenet::data {

// A problem with an IDX file; the message names the file.
struct IdxError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// x = (byte / 255 - mean) / stddev.
struct PixelStatistics {
  float mean = 0.0f;
  float stddev = 1.0f;
};

// How pixels are scaled after byte / 255.
struct PixelScaling {
  enum class Kind { unit_range, standardise, standardise_from_data };
  Kind kind = Kind::unit_range;
  PixelStatistics statistics{};

  // byte / 255, in [0, 1].
  static PixelScaling unit_range() { return {}; }
  // (byte / 255 - s.mean) / s.stddev, e.g. MNIST's usual {0.1307f, 0.3081f},
  // or the statistics a training set was standardised with.
  static PixelScaling standardise(PixelStatistics s) { return {Kind::standardise, s}; }
  // With the mean and standard deviation of this file's own pixels.
  static PixelScaling standardise_from_data() { return {Kind::standardise_from_data, {}}; }
};

struct IdxImages {
  Matrix<float> pixels;  // one image per row: count x (image_rows * image_cols)
  std::size_t image_rows = 0;
  std::size_t image_cols = 0;
  PixelStatistics statistics;  // what was applied: {0, 1} for unit_range
  std::filesystem::path file;
};

struct MnistSet {
  LabelledData<float> data;  // x: count x 784 (rows x cols), labels 0..9
  std::size_t image_rows = 0;
  std::size_t image_cols = 0;
  PixelStatistics statistics;
  std::filesystem::path images_file;
  std::filesystem::path labels_file;
};

namespace idx_detail {

inline constexpr std::uint32_t images_magic = 0x00000803;
inline constexpr std::uint32_t labels_magic = 0x00000801;
inline constexpr std::size_t chunk_bytes = std::size_t{1} << 20;
// Deflate's best case is about 1032 : 1, so a gzip file of n bytes can never
// hold more than 1032 n bytes: a header that promises more is a lie we can
// refuse before reading (with a little slack for the gzip framing).
inline constexpr std::uint64_t max_deflate_ratio = 1032;
// Trailing bytes in a gzip file are counted up to this much (decompressing
// further only to count would let a tiny file cost minutes).
inline constexpr std::uint64_t trailing_count_limit = std::uint64_t{1} << 20;

[[noreturn]] inline void fail(const std::filesystem::path& file, const std::string& problem) {
  throw IdxError("typenet: " + file.string() + ": " + problem);
}

inline std::string hex32(std::uint32_t v) {
  char s[11];
  std::snprintf(s, sizeof s, "0x%08X", static_cast<unsigned>(v));
  return s;
}

// "0x00000801 (IDX, unsigned bytes, 1 dimension)" or "... (not an IDX file)".
inline std::string describe_magic(std::uint32_t magic) {
  const auto type = static_cast<unsigned>((magic >> 8) & 0xff);
  const auto dims = static_cast<unsigned>(magic & 0xff);
  const char* type_name = type == 0x08   ? "unsigned bytes"
                          : type == 0x09 ? "signed bytes"
                          : type == 0x0B ? "16-bit integers"
                          : type == 0x0C ? "32-bit integers"
                          : type == 0x0D ? "32-bit floats"
                          : type == 0x0E ? "64-bit floats"
                                         : nullptr;
  if ((magic >> 16) != 0 || type_name == nullptr) return hex32(magic) + " (not an IDX file)";
  return hex32(magic) + " (IDX, " + type_name + ", " + std::to_string(dims) +
         (dims == 1 ? " dimension)" : " dimensions)");
}

// a * b, or false when it does not fit in std::size_t.
inline bool multiply(std::size_t a, std::size_t b, std::size_t& out) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
  out = a * b;
  return true;
}

inline std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

// The decompressed bytes of a file, plain or gzip, read front to back.
class ByteStream {
 public:
  explicit ByteStream(const std::filesystem::path& file) : file_(file) {
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (status.type() == std::filesystem::file_type::not_found) fail(file, "no such file.");
    if (std::filesystem::is_directory(status)) fail(file, "is a directory, not an IDX file.");
    handle_.reset(std::fopen(file.string().c_str(), "rb"));
    if (!handle_) fail(file, std::string("cannot open it: ") + std::strerror(errno) + ".");
    const std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (ec) fail(file, "cannot read its size: " + ec.message() + ".");
    size_ = size;
    if (size_ == 0) fail(file, "is empty (0 bytes).");
    std::uint8_t first[2] = {0, 0};
    const std::size_t got = read_raw(first, 2);
    gzip_ = got == 2 && first[0] == 0x1f && first[1] == 0x8b;
    if (std::fseek(handle_.get(), 0, SEEK_SET) != 0)
      fail(file, std::string("cannot seek in it: ") + std::strerror(errno) + ".");
    if (gzip_) start_gzip();
  }
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;
  ~ByteStream() {
#if TYPENET_IDX_HAS_ZLIB
    if (gzip_) inflateEnd(&zs_);
#endif
  }

  bool gzip() const { return gzip_; }
  std::uint64_t file_size() const { return size_; }
  // The most bytes this file can possibly deliver.
  std::uint64_t most_bytes_possible() const {
    if (!gzip_) return size_;
    return size_ > std::numeric_limits<std::uint64_t>::max() / max_deflate_ratio
               ? std::numeric_limits<std::uint64_t>::max()
               : size_ * max_deflate_ratio;
  }

  // Reads up to n bytes; fewer only at the end of the data.
  std::size_t read(std::uint8_t* out, std::size_t n) { return gzip_ ? read_gzip(out, n) : read_raw(out, n); }

 private:
  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  std::size_t read_raw(std::uint8_t* out, std::size_t n) {
    const std::size_t got = std::fread(out, 1, n, handle_.get());
    if (got < n && std::ferror(handle_.get())) fail(file_, std::string("read error: ") + std::strerror(errno) + ".");
    return got;
  }

#if TYPENET_IDX_HAS_ZLIB
  void start_gzip() {
    input_.resize(chunk_bytes);
    // 16 + MAX_WBITS: a gzip wrapper (header and CRC-32 trailer), not zlib's.
    // The constructor throws on failure, so the destructor's inflateEnd only
    // ever runs after a successful inflateInit2.
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) fail(file_, "cannot start zlib's decompressor (out of memory?).");
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
      const std::size_t want = std::min(n - done, chunk_bytes);
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
        fail(file_, "corrupt gzip stream: it ends before its end marker (the .gz file is truncated).");
      } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs_.avail_in == 0)) {
        const std::string why = zs_.msg ? zs_.msg : zError(rc);
        fail(file_, members_ == 0 ? "corrupt gzip stream (" + why + ")."
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
    fail(file_,
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

// The verified contents of an IDX file of unsigned bytes.
struct IdxBytes {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> values;
};

// Where a byte count in a message comes from.
inline std::string holder(const ByteStream& in) { return in.gzip() ? "the decompressed data has" : "the file has"; }

// Nowhere in particular: read_idx_bytes keeps the values itself.
struct KeepValues {
  std::uint8_t* operator()(const std::vector<std::size_t>&, std::size_t) const { return nullptr; }
};

// Reads the whole file, checking the magic number, the sizes, the length
// and the end. `what(dims)` describes the contents for messages ("60000
// images of 28 x 28 pixels"). For a plain file, whose length has been
// checked against the header first, `place(dims, count)` may return where
// the `count` values should go instead (IdxBytes::values then stays empty);
// a gzip file is always verified to its end in `values` before anything
// else is allocated.
template <class Describe, class Place = KeepValues>
IdxBytes read_idx_bytes(const std::filesystem::path& file, std::uint32_t expected_magic, Describe what,
                        Place place = {}) {
  ByteStream in(file);
  std::uint8_t head[4];
  const std::size_t got_magic = in.read(head, 4);
  if (got_magic == 0) fail(file, "is empty (the gzip data decompresses to 0 bytes).");
  if (got_magic < 4)
    fail(file, "is truncated: an IDX header needs at least 4 bytes but " + holder(in) + " " +
                   std::to_string(got_magic) + ".");
  const std::uint32_t magic = big_endian32(head);
  if (magic != expected_magic) {
    std::string hint;
    if (magic == labels_magic) hint = " It looks like a labels file.";
    if (magic == images_magic) hint = " It looks like an images file.";
    if ((magic >> 16) == 0x1f8b) hint = " It looks like a gzip file compressed twice.";
    fail(file, "wrong magic number: found " + describe_magic(magic) + ", expected " + describe_magic(expected_magic) +
                   "." + hint);
  }

  const std::size_t rank = magic & 0xff;
  const std::size_t header_bytes = 4 + 4 * rank;
  std::vector<std::uint8_t> dim_bytes(4 * rank);
  const std::size_t got_dims = in.read(dim_bytes.data(), dim_bytes.size());
  if (got_dims < dim_bytes.size())
    fail(file, "is truncated: its header needs " + std::to_string(header_bytes) + " bytes but " + holder(in) + " " +
                   std::to_string(4 + got_dims) + ".");
  IdxBytes result;
  std::string shape;
  std::size_t count = 1;
  bool overflow = false;
  for (std::size_t d = 0; d < rank; ++d) {
    result.dims.push_back(big_endian32(dim_bytes.data() + 4 * d));
    shape += (d ? " x " : "") + std::to_string(result.dims.back());
    overflow = overflow || !multiply(count, result.dims.back(), count);
  }
  // Room for the header and for the float copy as well: every later size
  // computation is then safe.
  std::size_t float_bytes = 0;
  if (overflow || !multiply(count, sizeof(float), float_bytes) || float_bytes > std::numeric_limits<std::size_t>::max() / 2)
    fail(file, "the header's dimensions " + shape + " overflow (the product does not fit in memory sizes); the header "
                   "is corrupt.");
  for (std::size_t d = 0; d < rank; ++d)
    if (result.dims[d] == 0)
      fail(file, "the header's dimensions " + shape + " include a zero: " + what(result.dims) + " is no data set.");
  const std::size_t total = header_bytes + count;

  const std::string promise = "its header promises " + what(result.dims) + ", " + std::to_string(total) +
                              " bytes with the header, but ";
  if (total > in.most_bytes_possible())
    fail(file, "is truncated: " + promise +
                   (in.gzip() ? "a gzip file of " + std::to_string(in.file_size()) + " bytes decompresses to at most " +
                                    std::to_string(in.most_bytes_possible())
                              : "the file has " + std::to_string(in.file_size())) +
                   ".");
  if (!in.gzip() && total < in.file_size())
    fail(file, "has " + std::to_string(in.file_size() - total) + " bytes of trailing data after the " +
                   std::to_string(total) + " bytes its header describes (" + what(result.dims) + ").");

  if (!in.gzip()) {
    if (std::uint8_t* out = place(result.dims, count)) {
      for (std::size_t have = 0; have < count;) {
        const std::size_t step = std::min(count - have, chunk_bytes);
        const std::size_t got = in.read(out + have, step);
        if (got < step)
          fail(file, "is truncated: " + promise + holder(in) + " " + std::to_string(header_bytes + have + got) + ".");
        have += step;
      }
      return result;
    }
  }
  // Grows as data arrives, so a header that lies costs no more memory than
  // the file really holds.
  if (!in.gzip()) result.values.reserve(count);
  while (result.values.size() < count) {
    const std::size_t have = result.values.size();
    const std::size_t step = std::min(count - have, chunk_bytes);
    result.values.resize(have + step);
    const std::size_t got = in.read(result.values.data() + have, step);
    if (got < step)
      fail(file, "is truncated: " + promise + holder(in) + " " + std::to_string(header_bytes + have + got) + ".");
  }
  if (in.gzip()) {
    // Reading on to the end also makes zlib verify the gzip checksum.
    std::uint8_t scratch[4096];
    std::uint64_t trailing = 0;
    while (trailing < trailing_count_limit) {
      const std::size_t got = in.read(scratch, sizeof scratch);
      if (got == 0) break;
      trailing += got;
    }
    if (trailing > 0)
      fail(file, "has " + std::string(trailing >= trailing_count_limit ? "at least " : "") + std::to_string(trailing) +
                     " bytes of trailing data (decompressed) after the " + std::to_string(total) +
                     " bytes its header describes (" + what(result.dims) + ").");
  }
  return result;
}

inline std::string describe_images(const std::vector<std::size_t>& d) {
  return std::to_string(d[0]) + " images of " + std::to_string(d[1]) + " x " + std::to_string(d[2]) + " pixels";
}
inline std::string describe_labels(const std::vector<std::size_t>& d) { return std::to_string(d[0]) + " labels"; }

inline void check_statistics(PixelStatistics s) {
  if (!std::isfinite(s.mean) || !std::isfinite(s.stddev) || !(s.stddev > 0))
    throw std::invalid_argument("typenet: PixelScaling::standardise: mean " + std::to_string(s.mean) + ", stddev " +
                                std::to_string(s.stddev) + "; the mean must be finite and the stddev finite and > 0.");
}

}  // namespace idx_detail

// Mean and population standard deviation of all the values of x (two
// passes in double: sum of squares minus squared sum would cancel).
inline PixelStatistics pixel_statistics(MatrixView<const float> x) {
  const double n = static_cast<double>(x.rows) * static_cast<double>(x.cols);
  if (n == 0) return {0.0f, 0.0f};
  double sum = 0;
  for (std::size_t i = 0; i < x.rows; ++i)
    for (std::size_t j = 0; j < x.cols; ++j) sum += x(i, j);
  const double mean = sum / n;
  double squares = 0;
  for (std::size_t i = 0; i < x.rows; ++i)
    for (std::size_t j = 0; j < x.cols; ++j) squares += (x(i, j) - mean) * (x(i, j) - mean);
  return {static_cast<float>(mean), static_cast<float>(std::sqrt(squares / n))};
}

// Images from an IDX file of type 0x00000803: one row of rows * cols pixels
// per image, scaled as asked.
//
// A plain file's bytes are read straight into the last quarter of the float
// matrix and converted front to back: float i covers bytes [4i, 4i + 4),
// which reach byte i of the data (at 3n + i) only at i = n - 1, after it has
// been read. So reading MNIST's 47 MB of pixels costs no buffer beside the
// 188 MB of floats.
inline IdxImages read_idx_images(const std::filesystem::path& file, PixelScaling scaling = {}) {
  if (scaling.kind == PixelScaling::Kind::standardise) idx_detail::check_statistics(scaling.statistics);
  IdxImages images;
  images.file = file;
  auto allocate = [&](const std::vector<std::size_t>& dims) {
    try {
      images.pixels = Matrix<float>(dims[0], dims[1] * dims[2]);
    } catch (const std::bad_alloc&) {
      idx_detail::fail(file, "not enough memory for " + idx_detail::describe_images(dims) + " as floats.");
    }
  };
  std::uint8_t* in_place = nullptr;
  const auto raw = idx_detail::read_idx_bytes(
      file, idx_detail::images_magic, idx_detail::describe_images,
      [&](const std::vector<std::size_t>& dims, std::size_t count) {
        allocate(dims);
        in_place = reinterpret_cast<std::uint8_t*>(images.pixels.data()) + 3 * count;
        return in_place;
      });
  images.image_rows = raw.dims[1];
  images.image_cols = raw.dims[2];
  if (!in_place) allocate(raw.dims);
  const std::uint8_t* bytes = in_place ? in_place : raw.values.data();
  const std::size_t count = images.pixels.rows() * images.pixels.cols();

  float table[256];  // the float of each byte value, the same for every pixel of that value
  for (int b = 0; b < 256; ++b) table[b] = static_cast<float>(b) / 255.0f;
  auto rescale_table = [&](PixelStatistics st) {
    for (float& v : table) v = (v - st.mean) / st.stddev;  // torchvision's Normalize, per value
    images.statistics = st;
  };
  if (scaling.kind == PixelScaling::Kind::standardise) rescale_table(scaling.statistics);
  float* out = images.pixels.data();
  for (std::size_t i = 0; i < count; ++i) out[i] = table[bytes[i]];  // front to back (see above)

  if (scaling.kind == PixelScaling::Kind::standardise_from_data) {
    const PixelStatistics st = pixel_statistics(images.pixels.view());
    if (!(st.stddev > 0))
      idx_detail::fail(file, "every pixel has the same value, so the pixels cannot be standardised (standard "
                             "deviation 0).");
    rescale_table(st);
    // Each float is byte / 255 exactly as the table made it, so the byte
    // comes back by rounding (the bytes themselves may be overwritten).
    for (std::size_t i = 0; i < count; ++i) out[i] = table[std::lrint(out[i] * 255.0f)];
  }
  return images;
}

// Labels from an IDX file of type 0x00000801.
inline std::vector<std::int32_t> read_idx_labels(const std::filesystem::path& file) {
  const auto raw = idx_detail::read_idx_bytes(file, idx_detail::labels_magic, idx_detail::describe_labels);
  return std::vector<std::int32_t>(raw.values.begin(), raw.values.end());
}

// The error a network of the wrong input width would otherwise meet as a
// shape mismatch deep inside a kernel.
inline void check_width(std::size_t pixels_per_image, std::size_t expected, const std::filesystem::path& file) {
  if (pixels_per_image != expected)
    throw IdxError("typenet: the images in " + file.string() + " have " + std::to_string(pixels_per_image) +
                   " pixels each but the network's Input<" + std::to_string(expected) + "> expects " +
                   std::to_string(expected) + ".");
}
template <std::size_t N>
void check_width(MatrixView<const float> images, const std::filesystem::path& file) {
  check_width(images.cols, N, file);
}
template <std::size_t N>
void check_width(const IdxImages& images) {
  check_width(images.pixels.cols(), N, images.file);
}
template <std::size_t N>
void check_width(const MnistSet& set) {
  check_width(set.data.x.cols(), N, set.images_file);
}

// MNIST's "train" or "t10k" set from `dir`, which holds SET-images-idx3-ubyte
// and SET-labels-idx1-ubyte, plain or with .gz (examples/fetch_mnist.py
// puts them there). Plain files are preferred when both exist. Checks that
// there are as many labels as images and that every label is a digit.
inline MnistSet load_mnist(const std::filesystem::path& dir, std::string_view set, PixelScaling scaling = {}) {
  if (set != "train" && set != "t10k")
    throw std::invalid_argument("typenet: load_mnist: the set is \"" + std::string(set) +
                                "\"; MNIST has \"train\" and \"t10k\".");
  auto find = [&](const std::string& kind) {
    const std::string name = std::string(set) + "-" + kind;
    for (const std::string& candidate : {name, name + ".gz"}) {
      std::error_code ec;
      if (std::filesystem::exists(dir / candidate, ec)) return dir / candidate;
    }
    throw IdxError("typenet: load_mnist: neither " + name + " nor " + name + ".gz is in " + dir.string() +
                   " (python3 examples/fetch_mnist.py " + dir.string() + " downloads MNIST).");
  };
  MnistSet out;
  out.images_file = find("images-idx3-ubyte");
  out.labels_file = find("labels-idx1-ubyte");
  IdxImages images = read_idx_images(out.images_file, scaling);
  std::vector<std::int32_t> labels = read_idx_labels(out.labels_file);
  if (labels.size() != images.pixels.rows())
    throw IdxError("typenet: load_mnist: " + out.images_file.string() + " has " +
                   std::to_string(images.pixels.rows()) + " images but " + out.labels_file.string() + " has " +
                   std::to_string(labels.size()) + " labels.");
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] > 9)
      idx_detail::fail(out.labels_file, "label " + std::to_string(i) + " is " + std::to_string(labels[i]) +
                                            ", not a digit 0-9.");
  out.image_rows = images.image_rows;
  out.image_cols = images.image_cols;
  out.statistics = images.statistics;
  out.data = LabelledData<float>{std::move(images.pixels), std::move(labels)};
  return out;
}

}  // namespace typenet::data
