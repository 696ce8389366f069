// Reading IDX files, the format of MNIST (and Fashion-MNIST, EMNIST, ...):
//
//   auto images = data::read_idx_images("data/mnist/train-images-idx3-ubyte");  // 60000 x 784, in [0, 1]
//   auto labels = data::read_idx_labels("data/mnist/train-labels-idx1-ubyte");
//   data::check_width<784>(images);                          // or Model<Net>::input_size
//
// (data/mnist.hpp reads MNIST's pairs of files as one labelled set.)
//
// Format: a big-endian header, then the values. The magic number is
// 0x0000TTDD: two zero bytes, a type code TT (0x08: unsigned byte, the only
// type MNIST uses and the only one read here) and the number of dimensions
// DD; then DD big-endian uint32 sizes, then the values in row-major order.
// Images are 0x00000803 (count, rows, cols), labels 0x00000801 (count).
//
// Files may be plain or gzip-compressed (data/gzip_stream.hpp: zlib, or an
// error that says it is missing).
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
// (bytes expected and found), trailing bytes, corrupt or truncated gzip data.
// Sizes are checked for overflow before anything is allocated; a plain
// file's length is checked against its header, and a gzip file is read and
// verified to its end (length, gzip checksum), before the float matrix is
// allocated; no input makes the reader read out of bounds or crash.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "typenet/base/matrix.hpp"
#include "typenet/data/gzip_stream.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::data {

/// A problem with an IDX file; the message names the file.
struct IdxError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// x = (byte / 255 - mean) / stddev.
struct PixelStatistics {
  float mean = 0.0f;  ///< subtracted after byte / 255
  float stddev = 1.0f;  ///< divided by after the mean is subtracted
};

/// How pixels are scaled after byte / 255.
struct PixelScaling {
  /// Which scaling.
  enum class Kind { unit_range, standardise, standardise_from_data };
  Kind kind = Kind::unit_range;  ///< which scaling
  PixelStatistics statistics{};  ///< the statistics used by standardise

  /// byte / 255, in [0, 1].
  static PixelScaling unit_range() { return {}; }
  /// (byte / 255 - s.mean) / s.stddev, e.g. MNIST's usual {0.1307f, 0.3081f},
  /// or the statistics a training set was standardised with.
  static PixelScaling standardise(PixelStatistics s) { return {Kind::standardise, s}; }
  /// With the mean and standard deviation of this file's own pixels.
  static PixelScaling standardise_from_data() { return {Kind::standardise_from_data, {}}; }
};

/// An IDX image file read into floats: the pixels and their shape.
struct IdxImages {
  Matrix<float> pixels;  ///< one image per row: count x (image_rows * image_cols)
  std::size_t image_rows = 0;  ///< the height of an image
  std::size_t image_cols = 0;  ///< the width of an image
  PixelStatistics statistics;  ///< what was applied: {0, 1} for unit_range
  std::filesystem::path file;  ///< the file read
};

namespace idx_detail {

inline constexpr std::uint32_t images_magic = 0x00000803;
inline constexpr std::uint32_t labels_magic = 0x00000801;
/// The values are read this many bytes at a time.
inline constexpr std::size_t chunk_bytes = std::size_t{1} << 20;
/// Trailing bytes in a gzip file are counted up to this much (decompressing
/// further only to count would let a tiny file cost minutes).
inline constexpr std::uint64_t trailing_count_limit = std::uint64_t{1} << 20;

[[noreturn]] inline void fail(const std::filesystem::path& file, const std::string& problem) {
  throw IdxError("typenet: " + file.string() + ": " + problem);
}

inline std::string hex32(std::uint32_t v) {
  char s[11];
  std::snprintf(s, sizeof s, "0x%08X", static_cast<unsigned>(v));
  return s;
}

/// "0x00000801 (IDX, unsigned bytes, 1 dimension)" or "... (not an IDX file)".
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

/// a * b, or false when it does not fit in std::size_t.
inline bool multiply(std::size_t a, std::size_t b, std::size_t& out) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
  out = a * b;
  return true;
}

inline std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

/// The file's bytes, every problem an IdxError.
using Stream = ByteStream<IdxError>;

/// The verified contents of an IDX file of unsigned bytes.
struct IdxBytes {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> values;
};

/// Where a byte count in a message comes from.
inline std::string holder(const Stream& in) { return in.gzip() ? "the decompressed data has" : "the file has"; }

/// Nowhere in particular: read_idx_bytes keeps the values itself.
struct KeepValues {
  std::uint8_t* operator()(const std::vector<std::size_t>&, std::size_t) const { return nullptr; }
};

/// Reads the whole file, checking the magic number, the sizes, the length
/// and the end. `what(dims)` describes the contents for messages ("60000
/// images of 28 x 28 pixels"). For a plain file, whose length has been
/// checked against the header first, `place(dims, count)` may return where
/// the `count` values should go instead (IdxBytes::values then stays empty);
/// a gzip file is always verified to its end in `values` before anything
/// else is allocated.
template <class Describe, class Place = KeepValues>
IdxBytes read_idx_bytes(const std::filesystem::path& file, std::uint32_t expected_magic, Describe what,
                        Place place = {}) {
  Stream in(file, "an IDX file");
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

/// Mean and population standard deviation of all the values of x (two
/// passes in double: sum of squares minus squared sum would cancel).
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

/// Images from an IDX file of type 0x00000803: one row of rows * cols pixels
/// per image, scaled as asked.
///
/// A plain file's bytes are read straight into the last quarter of the float
/// matrix and converted front to back: float i covers bytes [4i, 4i + 4),
/// which reach byte i of the data (at 3n + i) only at i = n - 1, after it has
/// been read. So reading MNIST's 47 MB of pixels costs no buffer beside the
/// 188 MB of floats.
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

/// Labels from an IDX file of type 0x00000801.
inline std::vector<std::int32_t> read_idx_labels(const std::filesystem::path& file) {
  const auto raw = idx_detail::read_idx_bytes(file, idx_detail::labels_magic, idx_detail::describe_labels);
  return std::vector<std::int32_t>(raw.values.begin(), raw.values.end());
}

/// The error a network of the wrong input width would otherwise meet as a
/// shape mismatch deep inside a kernel.
inline void check_width(std::size_t pixels_per_image, std::size_t expected, const std::filesystem::path& file) {
  if (pixels_per_image != expected)
    throw IdxError("typenet: the images in " + file.string() + " have " + std::to_string(pixels_per_image) +
                   " pixels each but the network's Input<" + std::to_string(expected) + "> expects " +
                   std::to_string(expected) + ".");
}
/// Throws, naming the file, unless the images are N pixels wide (the network's `Input<N>`).
template <std::size_t N>
void check_width(MatrixView<const float> images, const std::filesystem::path& file) {
  check_width(images.cols, N, file);
}
/// Throws, naming the file, unless the images are N pixels wide (the network's `Input<N>`).
template <std::size_t N>
void check_width(const IdxImages& images) {
  check_width(images.pixels.cols(), N, images.file);
}

}  // namespace typenet::data
