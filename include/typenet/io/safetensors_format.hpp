// The safetensors file format (Hugging Face's), independent of any model:
// reading a file with every check the format requires, its tensors'
// values in C++ types, and writing a file atomically.
//
//   8 bytes    N, the header's size (little-endian u64, at most 100 MB)
//   N bytes    a JSON object: {"__metadata__": {string: string}, (optional)
//                "NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//              padded with spaces
//   the rest   the tensors' bytes, little-endian, row-major; offsets are
//              relative to the start of this section, contiguous from 0,
//              and the last tensor ends where the file ends
//
// The model's side (names, layouts, the network type) is io/safetensors.hpp;
// this header compiles without the network machinery, so the fuzzer
// (test/fuzz/fuzz_safetensors.cpp) builds it alone. The header's JSON is
// parsed by nlohmann/json (Debian: nlohmann-json3-dev).
#pragma once

#include "typenet/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "typenet/base/atomic_file.hpp"
#include "typenet/base/file_descriptor.hpp"
#include "typenet/base/file_error.hpp"
#include "typenet/io/checkpoint_bytes.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// Every problem with a safetensors file; what() is "typenet: <path>: <problem>".
class SafetensorsError : public FileError {
 public:
  using FileError::FileError;
};

/// The format's element types, in the order of its alignment rule: a writer
/// puts the tensors of later types first (then by name), so that each
/// starts aligned to its element size when the header is padded to 8 bytes.
enum class SafetensorsDtype { BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

namespace safetensors_detail {

struct DtypeInfo {
  SafetensorsDtype dtype;
  std::string_view name;
  std::size_t size;
};
inline constexpr std::array<DtypeInfo, 15> dtypes{{
    {SafetensorsDtype::BOOL, "BOOL", 1},
    {SafetensorsDtype::U8, "U8", 1},
    {SafetensorsDtype::I8, "I8", 1},
    {SafetensorsDtype::F8_E5M2, "F8_E5M2", 1},
    {SafetensorsDtype::F8_E4M3, "F8_E4M3", 1},
    {SafetensorsDtype::I16, "I16", 2},
    {SafetensorsDtype::U16, "U16", 2},
    {SafetensorsDtype::F16, "F16", 2},
    {SafetensorsDtype::BF16, "BF16", 2},
    {SafetensorsDtype::I32, "I32", 4},
    {SafetensorsDtype::U32, "U32", 4},
    {SafetensorsDtype::F32, "F32", 4},
    {SafetensorsDtype::F64, "F64", 8},
    {SafetensorsDtype::I64, "I64", 8},
    {SafetensorsDtype::U64, "U64", 8},
}};

}  // namespace safetensors_detail

/// The dtype's name in the format ("F32", "BF16", ...).
inline std::string_view to_string(SafetensorsDtype d) {
  return safetensors_detail::dtypes[static_cast<std::size_t>(d)].name;
}
/// Bytes per element of the dtype.
inline std::size_t element_size(SafetensorsDtype d) { return safetensors_detail::dtypes[static_cast<std::size_t>(d)].size; }

/// The dtype of a scalar type: F32 for float, F64 for double, I64 for std::int64_t...
template <class T>
constexpr SafetensorsDtype safetensors_dtype_of() {
  if constexpr (std::is_same_v<T, float>) return SafetensorsDtype::F32;
  else if constexpr (std::is_same_v<T, double>) return SafetensorsDtype::F64;
  else if constexpr (std::is_same_v<T, std::int64_t>) return SafetensorsDtype::I64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return SafetensorsDtype::I32;
  else static_assert(sizeof(T) == 0, "typenet: safetensors_dtype_of: float, double, std::int64_t or std::int32_t.");
}

/// A shape as text: "[16, 2]".
inline std::string shape_string(std::span<const std::uint64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// One tensor of a parsed file: where its bytes are in the file's data section.
struct SafetensorsTensor {
  std::string name;  ///< the tensor's name
  SafetensorsDtype dtype = SafetensorsDtype::F32;  ///< its element type
  std::vector<std::uint64_t> shape;  ///< its dimensions
  std::uint64_t begin = 0;  ///< where its bytes start in the data section (data_offsets[0])
  std::uint64_t end = 0;    ///< where they end (data_offsets[1])

  /// The product of the shape.
  std::uint64_t element_count() const {
    std::uint64_t n = 1;
    for (std::uint64_t d : shape) n *= d;  // checked against overflow when parsed
    return n;
  }
};

/// A whole file, checked: the tensors in the order of their bytes.
struct SafetensorsFile {
  std::filesystem::path path;  ///< the file, for messages
  std::vector<unsigned char> bytes;  ///< the whole file
  std::uint64_t data_start = 0;  ///< where the data section starts: 8 + the header's size
  std::map<std::string, std::string> metadata;  ///< the header's __metadata__
  std::vector<SafetensorsTensor> tensors;  ///< the tensors, in the order of their bytes

  /// The tensor named `name`, or nullptr.
  const SafetensorsTensor* find(std::string_view name) const {
    for (const SafetensorsTensor& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
  /// A tensor's bytes in the file.
  std::span<const unsigned char> data(const SafetensorsTensor& t) const {
    return std::span<const unsigned char>(bytes).subspan(static_cast<std::size_t>(data_start + t.begin),
                                                         static_cast<std::size_t>(t.end - t.begin));
  }
};

// ------------------------------------------------------------ element values
namespace safetensors_detail {

using checkpoint_detail::load_le;
using checkpoint_detail::store_le;

// IEEE binary16 to float, exactly (every half is a float).
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h >> 15) << 31;
  const std::uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}
// bfloat16 is the upper half of a float.
inline float bfloat16_to_float(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

inline double float_at(SafetensorsDtype d, const unsigned char* p) {
  switch (d) {
    case SafetensorsDtype::F16: return half_to_float(static_cast<std::uint16_t>(load_le(p, 2)));
    case SafetensorsDtype::BF16: return bfloat16_to_float(static_cast<std::uint16_t>(load_le(p, 2)));
    case SafetensorsDtype::F32: return std::bit_cast<float>(static_cast<std::uint32_t>(load_le(p, 4)));
    default: return std::bit_cast<double>(load_le(p, 8));
  }
}

inline bool is_float(SafetensorsDtype d) {
  return d == SafetensorsDtype::F16 || d == SafetensorsDtype::BF16 || d == SafetensorsDtype::F32 ||
         d == SafetensorsDtype::F64;
}
inline bool is_integer(SafetensorsDtype d) {
  using enum SafetensorsDtype;
  return d == BOOL || d == U8 || d == I8 || d == I16 || d == U16 || d == I32 || d == U32 || d == I64 || d == U64;
}
inline bool is_signed(SafetensorsDtype d) {
  using enum SafetensorsDtype;
  return d == I8 || d == I16 || d == I32 || d == I64;
}

}  // namespace safetensors_detail

/// A tensor's values as T: a floating-point T from F16, BF16, F32 or F64 (F64
/// into float rounds to nearest); an integer T from the integer types and
/// BOOL, each value checked to fit. Anything else is a SafetensorsError.
template <class T>
std::vector<T> tensor_values(const SafetensorsFile& file, const SafetensorsTensor& t) {
  using namespace safetensors_detail;
  const std::span<const unsigned char> bytes = file.data(t);
  const std::size_t z = element_size(t.dtype), n = bytes.size() / z;
  std::vector<T> out(n);
  if constexpr (std::is_floating_point_v<T>) {
    if (!is_float(t.dtype))
      throw SafetensorsError(file.path, "tensor '" + t.name + "' is " + std::string(to_string(t.dtype)) +
                                            "; expected floating-point values (F16, BF16, F32 or F64)");
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(float_at(t.dtype, bytes.data() + i * z));
  } else {
    static_assert(std::is_integral_v<T>, "typenet: tensor_values: a floating-point or an integer type.");
    if (!is_integer(t.dtype))
      throw SafetensorsError(file.path, "tensor '" + t.name + "' is " + std::string(to_string(t.dtype)) +
                                            "; expected integers");
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t raw = load_le(bytes.data() + i * z, z);
      const unsigned bits = static_cast<unsigned>(8 * z);
      const bool negative = is_signed(t.dtype) && (raw >> (bits - 1)) != 0;
      // Sign-extended through the unsigned type: no signed overflow anywhere.
      const std::uint64_t magnitude = negative ? (bits == 64 ? ~raw + 1 : (std::uint64_t{1} << bits) - raw) : raw;
      const bool fits = negative ? std::is_signed_v<T> && magnitude <= std::uint64_t{1} + static_cast<std::uint64_t>(
                                                                                            std::numeric_limits<T>::max())
                                 : magnitude <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
      if (!fits)
        throw SafetensorsError(file.path, "tensor '" + t.name + "' element " + std::to_string(i) + " (" +
                                              (negative ? "-" : "") + std::to_string(magnitude) +
                                              ") does not fit the integer type it is read as");
      out[i] = negative ? static_cast<T>(-static_cast<T>(magnitude - 1) - 1) : static_cast<T>(magnitude);
    }
  }
  return out;
}

// ------------------------------------------------------------ reading
namespace safetensors_detail {

// The format's own bound (the reference implementation refuses larger
// headers): a hostile size field cannot make a reader allocate more.
inline constexpr std::uint64_t max_header_size = 100'000'000;

inline std::optional<SafetensorsDtype> parse_dtype(std::string_view name) {
  for (const DtypeInfo& d : dtypes)
    if (d.name == name) return d.dtype;
  return std::nullopt;
}

// The functions that touch JSON are templates on the JSON library's value
// type (nlohmann::json, the default): its parser is then compiled only in
// the files that read or write safetensors, not in every one that includes
// typenet.hpp (docs/interop.md measures both).

// A JSON value as the format requires: a non-negative integer.
template <class Json>
std::optional<std::uint64_t> as_count(const Json& v) {
  if (!v.is_number_unsigned()) return std::nullopt;
  return v.template get<std::uint64_t>();
}

// The tensor entry `name: {...}` of the header.
template <class Json>
SafetensorsTensor parse_entry(const std::filesystem::path& file, const std::string& name, const Json& v) {
  const std::string what = "tensor '" + name + "'";
  if (!v.is_object()) throw SafetensorsError(file, what + ": its entry is not a JSON object");
  for (const auto& [key, value] : v.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      throw SafetensorsError(file, what + ": unknown field '" + key + "' (expected dtype, shape, data_offsets)");
  SafetensorsTensor t;
  t.name = name;
  const auto dtype = v.find("dtype");
  if (dtype == v.end() || !dtype->is_string()) throw SafetensorsError(file, what + ": no dtype string");
  const auto d = parse_dtype(dtype->template get_ref<const std::string&>());
  if (!d) throw SafetensorsError(file, what + ": unknown dtype '" + dtype->template get<std::string>() + "'");
  t.dtype = *d;
  const auto shape = v.find("shape");
  if (shape == v.end() || !shape->is_array())
    throw SafetensorsError(file, what + ": no shape (an array of non-negative integers)");
  std::uint64_t elements = 1;
  bool overflow = false;
  for (const auto& dim : *shape) {
    const auto n = as_count(dim);
    if (!n) throw SafetensorsError(file, what + ": the shape " + shape->dump() + " holds a non-integer or negative size");
    t.shape.push_back(*n);
    if (*n != 0 && elements > std::numeric_limits<std::uint64_t>::max() / *n) overflow = true;
    elements *= *n;
  }
  const auto offsets = v.find("data_offsets");
  if (offsets == v.end() || !offsets->is_array() || offsets->size() != 2 || !as_count((*offsets)[0]) ||
      !as_count((*offsets)[1]))
    throw SafetensorsError(file, what + ": data_offsets is not a pair of non-negative integers");
  t.begin = *as_count((*offsets)[0]);
  t.end = *as_count((*offsets)[1]);
  const std::size_t z = element_size(t.dtype);
  if (overflow || (elements != 0 && elements > std::numeric_limits<std::uint64_t>::max() / z))
    throw SafetensorsError(file, what + ": its shape " + shape_string(t.shape) + " has more bytes than 2^64");
  if (t.end < t.begin)
    throw SafetensorsError(file, what + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                                     "] end before they begin");
  if (t.end - t.begin != elements * z)
    throw SafetensorsError(file, what + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                                     "] hold " + std::to_string(t.end - t.begin) + " bytes, but " +
                                     std::string(to_string(t.dtype)) + " " + shape_string(t.shape) + " takes " +
                                     std::to_string(elements * z));
  return t;
}

// Parses the header's JSON, refusing duplicate keys in any object (the
// format disallows them; a parser that kept the last would let two
// readers see two different files).
template <class Json>
Json parse_json(const std::filesystem::path& file, std::string_view text) {
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  const typename Json::parser_callback_t callback = [&](int, typename Json::parse_event_t event, Json& parsed) {
    using E = typename Json::parse_event_t;
    if (event == E::object_start) keys.emplace_back();
    else if (event == E::object_end) keys.pop_back();
    else if (event == E::key && !keys.back().insert(parsed.template get<std::string>()).second && duplicate.empty())
      duplicate = parsed.template get<std::string>();
    return true;
  };
  Json header;
  try {
    header = Json::parse(text.begin(), text.end(), callback);
  } catch (const typename Json::exception& e) {
    throw SafetensorsError(file, std::string("the header is not well-formed JSON: ") + e.what());
  }
  if (!duplicate.empty()) throw SafetensorsError(file, "the header names '" + duplicate + "' twice");
  return header;
}

}  // namespace safetensors_detail

/// Takes apart a whole file already in memory (`label` names it in errors),
/// checking everything the format requires before returning:
///   the header's size is at most 100 MB and within the file;
///   the header is a well-formed JSON object, starting with '{', no key twice;
///   each tensor has a known dtype, a shape of non-negative integers, and
///   data_offsets whose size is its element count times its dtype's size;
///   the offsets are contiguous from 0, and the data ends where the file ends;
///   __metadata__, if present, maps strings to strings.
template <class Json = nlohmann::json>
SafetensorsFile parse_safetensors(const std::filesystem::path& label, std::vector<unsigned char> bytes) {
  using namespace safetensors_detail;
  SafetensorsFile f;
  f.path = label;
  f.bytes = std::move(bytes);
  const std::uint64_t size = f.bytes.size();
  if (size < 8)
    throw SafetensorsError(label, "too short for a safetensors file: " + std::to_string(size) +
                                      " bytes, and the header's size alone takes 8");
  const std::uint64_t n = load_le(f.bytes.data(), 8);
  if (n > max_header_size)
    throw SafetensorsError(label, "the header's size field says " + std::to_string(n) +
                                      " bytes; the format allows at most 100000000 (100 MB)");
  if (n > size - 8)
    throw SafetensorsError(label, "the header's size field says " + std::to_string(n) + " bytes, but the file has only " +
                                      std::to_string(size - 8) + " after it");
  f.data_start = 8 + n;
  const std::string_view text(reinterpret_cast<const char*>(f.bytes.data() + 8), static_cast<std::size_t>(n));
  if (text.empty() || text.front() != '{')
    throw SafetensorsError(label, "the header does not start with '{' (a safetensors header is a JSON object)");
  const Json header = parse_json<Json>(label, text);
  if (!header.is_object()) throw SafetensorsError(label, "the header is not a JSON object");

  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) throw SafetensorsError(label, "__metadata__ is not a JSON object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string())
          throw SafetensorsError(label, "__metadata__ '" + k + "' is " + v.dump() + "; its values must be strings");
        f.metadata[k] = v.template get<std::string>();
      }
    } else {
      f.tensors.push_back(parse_entry(label, key, value));
    }
  }
  std::sort(f.tensors.begin(), f.tensors.end(), [](const SafetensorsTensor& a, const SafetensorsTensor& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const std::uint64_t data_size = size - f.data_start;
  std::uint64_t at = 0;
  for (const SafetensorsTensor& t : f.tensors) {
    const std::string offsets = "[" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
    if (t.begin < at)
      throw SafetensorsError(label, "tensor '" + t.name + "': data_offsets " + offsets +
                                        " overlap the tensor before it, which ends at " + std::to_string(at));
    if (t.begin > at)
      throw SafetensorsError(label, "tensor '" + t.name + "': data_offsets " + offsets + " leave a gap after byte " +
                                        std::to_string(at) + " (the offsets must be contiguous from 0)");
    if (t.end > data_size)
      throw SafetensorsError(label, "tensor '" + t.name + "': data_offsets " + offsets +
                                        " reach past the end of the file (its data section has " +
                                        std::to_string(data_size) + " bytes)");
    at = t.end;
  }
  if (at != data_size)
    throw SafetensorsError(label, "the tensors' data ends at byte " + std::to_string(at) + " of the data section, but " +
                                      std::to_string(data_size - at) +
                                      " more bytes follow (the data must end where the file ends)");
  return f;
}

/// Reads and parses a file (all of parse_safetensors' checks). The header's
/// size is checked against the file's before the rest is read.
template <class Json = nlohmann::json>
SafetensorsFile read_safetensors(const std::filesystem::path& file) {
  using file_detail::FileDescriptor;
  using file_detail::os_error;
  FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int error = errno;
    throw SafetensorsError(file, "cannot open: " + os_error(error));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw SafetensorsError(file, "cannot read: " + os_error(errno));
  if (!S_ISREG(st.st_mode)) throw SafetensorsError(file, "not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > std::numeric_limits<std::size_t>::max())
    throw SafetensorsError(file, "too large for this machine's address space (" + std::to_string(size) + " bytes)");
  std::vector<unsigned char> bytes;
  auto read_to = [&](std::size_t n) {
    std::size_t got = bytes.size();
    bytes.resize(n);
    while (got < n) {
      const ssize_t r = ::read(fd.get(), bytes.data() + got, n - got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw SafetensorsError(file, "cannot read: " + os_error(errno));
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    bytes.resize(got);  // shorter if the file shrank meanwhile: then judged by what was read
  };
  read_to(static_cast<std::size_t>(std::min<std::uint64_t>(size, 8)));
  if (bytes.size() == 8) {
    const std::uint64_t n = checkpoint_detail::load_le(bytes.data(), 8);
    if (n <= safetensors_detail::max_header_size && n <= size - 8) read_to(static_cast<std::size_t>(size));
  }
  return parse_safetensors<Json>(file, std::move(bytes));
}

/// ------------------------------------------------------------ writing
/// One tensor to write: its bytes already little-endian (make_safetensor
/// encodes them from values).
struct SafetensorsTensorData {
  std::string name;  ///< the tensor's name
  SafetensorsDtype dtype = SafetensorsDtype::F32;  ///< its element type
  std::vector<std::uint64_t> shape;  ///< its dimensions
  std::vector<unsigned char> bytes;  ///< its values, little-endian
};

template <class T>
/// A tensor to write from values of T (its dtype is T's), encoded little-endian.
SafetensorsTensorData make_safetensor(std::string name, std::vector<std::uint64_t> shape, std::span<const T> values) {
  SafetensorsTensorData t{std::move(name), safetensors_dtype_of<T>(), std::move(shape), {}};
  t.bytes.resize(values.size() * sizeof(T));
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  for (std::size_t i = 0; i < values.size(); ++i)
    safetensors_detail::store_le(t.bytes.data() + i * sizeof(T), std::bit_cast<Bits>(values[i]), sizeof(T));
  return t;
}

/// The file's bytes, laid out as the format's reference writer lays them
/// out: the tensors ordered by dtype (the alignment rule above), then by
/// name; the header compact, __metadata__ first, padded with spaces to a
/// multiple of 8 bytes. Throws std::invalid_argument for a tensor whose
/// bytes do not match its shape and dtype, or a name used twice.
template <class Json = nlohmann::ordered_json>
std::vector<unsigned char> encode_safetensors(std::vector<SafetensorsTensorData> tensors,
                                              const std::map<std::string, std::string>& metadata = {}) {
  std::sort(tensors.begin(), tensors.end(), [](const SafetensorsTensorData& a, const SafetensorsTensorData& b) {
    return a.dtype != b.dtype ? a.dtype > b.dtype : a.name < b.name;
  });
  Json header = Json::object();  // ordered: __metadata__ first, then the tensors as laid out
  if (!metadata.empty()) {
    auto& m = header["__metadata__"] = Json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
  }
  std::uint64_t offset = 0;
  for (const SafetensorsTensorData& t : tensors) {
    std::uint64_t elements = 1;
    for (std::uint64_t d : t.shape) elements *= d;
    if (t.bytes.size() != elements * element_size(t.dtype))
      throw std::invalid_argument("typenet: safetensors: tensor '" + t.name + "' has " + std::to_string(t.bytes.size()) +
                                  " bytes; " + std::string(to_string(t.dtype)) + " " + shape_string(t.shape) +
                                  " takes " + std::to_string(elements * element_size(t.dtype)));
    if (t.name == "__metadata__" || header.contains(t.name))
      throw std::invalid_argument("typenet: safetensors: the tensor name '" + t.name + "' is used twice");
    header[t.name] = {{"dtype", std::string(to_string(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const typename Json::exception&) {
    throw std::invalid_argument("typenet: safetensors: a tensor name or a metadata entry is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<unsigned char> out(8 + text.size() + offset);
  safetensors_detail::store_le(out.data(), text.size(), 8);
  std::copy(text.begin(), text.end(), out.begin() + 8);
  auto at = out.begin() + 8 + static_cast<std::ptrdiff_t>(text.size());
  for (const SafetensorsTensorData& t : tensors) at = std::copy(t.bytes.begin(), t.bytes.end(), at);
  return out;
}

/// Writes encode_safetensors' bytes to `target`, atomically (base/atomic_file.hpp):
/// a failed save throws SafetensorsError and leaves the old file as it was.
template <class Json = nlohmann::ordered_json>
void write_safetensors(const std::filesystem::path& target, std::vector<SafetensorsTensorData> tensors,
                       const std::map<std::string, std::string>& metadata = {}) {
  const std::vector<unsigned char> bytes = encode_safetensors<Json>(std::move(tensors), metadata);
  AtomicFile<SafetensorsError> file(target);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace typenet
