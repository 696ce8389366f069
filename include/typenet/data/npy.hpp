// NumPy's .npy files, read and written:
//
//   Matrix<float> x = data::read_npy<float>("x.npy");              // 2-D: rows x columns; 1-D: one column
//   std::vector<std::int32_t> y = data::read_npy_labels("y.npy");  // class ids from an integer or bool array
//   data::write_npy("x.npy", x);                                    // float32 (float64 from a Matrix<double>)
//   data::write_npy_labels("y.npy", y);                             // int32, one dimension
//   data::NpyInfo info = data::describe_npy("x.npy");               // the header alone, checked
//
// The format (numpy.lib.format): the magic "\x93NUMPY", a major and a minor
// version byte, the header's length (2 bytes little-endian in version 1.0, 4
// in 2.0 and 3.0), then the header: a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (569, 30), }
// padded with spaces and a newline; then the values, in C (row-major) order.
//
// Read: versions 1.0, 2.0 and 3.0; little- and big-endian ('<', '>'; '|'
// for one-byte types); float32, float64, signed and unsigned integers of 8,
// 16, 32 and 64 bits, and bool. read_npy converts them to T (float or
// double): integers beyond T's 24 or 53 bits of precision round to the
// nearest value, as numpy's astype does; a finite float64 beyond float's
// range is an error, not an infinity. NaN and infinities stored in a float
// array are values of the array and are read as they are. A bool byte must be
// 0 or 1.
//
// Refused, each with a sentence that says why: Fortran order, object and
// structured arrays, other types (float16, complex, strings, dates), 0-D and
// more than 2-D arrays, a file shorter or longer than its header says, and a
// header that is not the dict numpy writes. Labels must be integers (or bool)
// in [0, 2^31 - 1], the class ids the losses take, in an array of one
// dimension or of one column.
//
// Written: exactly the bytes numpy.save writes for the same array (version
// 1.0, or 2.0 if the header needed more than 65535 bytes; the header padded
// so the values start at a multiple of 64), little-endian. Saving is atomic:
// a temporary file beside the target, fsync, rename (file_io.hpp); a failed
// save leaves the old file as it was.
//
// Every problem throws NpyError (a FileError, base/file_error.hpp): "typenet: <path>: ...".
#pragma once

#include "typenet/config.hpp"

#include <bit>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/base/atomic_file.hpp"
#include "typenet/base/file_error.hpp"
#include "typenet/base/matrix.hpp"
#include "typenet/data/file_io.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::data {

struct NpyError : FileError {
  using FileError::FileError;
};

/// The element type of an .npy array, from its 'descr'.
struct NpyType {
  /// The kind of number.
  enum class Kind { floating, signed_integer, unsigned_integer, boolean };
  Kind kind = Kind::floating;  ///< the kind of number
  std::size_t bytes = 4;  ///< bytes per value
  bool big_endian = false;  ///< byte order

  /// numpy's name: "float32", "int16", "uint8", "bool".
  std::string name() const {
    switch (kind) {
      case Kind::floating: return "float" + std::to_string(8 * bytes);
      case Kind::signed_integer: return "int" + std::to_string(8 * bytes);
      case Kind::unsigned_integer: return "uint" + std::to_string(8 * bytes);
      case Kind::boolean: break;
    }
    return "bool";
  }
};

/// What an .npy file's header says, checked against the file's size.
struct NpyInfo {
  int major_version = 1;  ///< the format's major version (1, 2 or 3)
  int minor_version = 0;  ///< the format's minor version
  std::string descr;               ///< as written, e.g. "<f4"
  NpyType type;  ///< the element type, from descr
  std::vector<std::size_t> shape;  ///< one or two dimensions
  std::size_t data_offset = 0;     ///< where the values start
  std::uint64_t file_size = 0;  ///< the file's size

  /// The number of rows (the first dimension).
  std::size_t rows() const { return shape[0]; }
  /// The number of columns (1 for a vector).
  std::size_t cols() const { return shape.size() == 2 ? shape[1] : 1; }
};

namespace npy_detail {

using std::filesystem::path;
using InputFile = file_io_detail::InputFile<NpyError>;

inline constexpr unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
/// numpy.lib.format: values start at a multiple of 64 bytes; a header that
/// fits in version 1.0's 2-byte length uses version 1.0.
inline constexpr std::size_t alignment = 64;
inline constexpr std::size_t version1_max_header = 65535;
inline constexpr std::size_t chunk_bytes = std::size_t{1} << 16;

[[noreturn]] inline void fail(const path& file, const std::string& problem) {
  file_io_detail::fail<NpyError>(file, problem);
}

/// Header text for a message: printable ASCII as it is, the rest escaped,
/// and at most `limit` characters.
inline std::string printable(std::string_view text, std::size_t limit = 120) {
  return file_io_detail::escaped(text, limit, /*keep_high=*/false);
}

// ------------------------------------------------------------ the header dict
// A parser for the one Python literal numpy writes: a dict of string keys
// whose values are strings, True/False and tuples of integers.
class HeaderParser {
 public:
  HeaderParser(const path& file, std::string_view text) : file_(file), text_(text) {}

  struct Value {
    enum class Kind { string, boolean, tuple } kind = Kind::string;
    std::string text;
    bool boolean = false;
    std::vector<std::size_t> tuple;
  };
  struct Entry {
    std::string key;
    Value value;
  };

  std::vector<Entry> dict() {
    std::vector<Entry> entries;
    skip_space();
    expect('{', "does not start with '{' (it is not the dict numpy writes)");
    skip_space();
    while (!at('}')) {
      Entry e;
      if (!at('\'') && !at('"')) bad("expected a quoted key");
      e.key = string();
      skip_space();
      expect(':', "expected ':' after the key '" + printable(e.key) + "'");
      skip_space();
      e.value = value(e.key);
      for (const Entry& seen : entries)
        if (seen.key == e.key) fail(file_, "the header names '" + printable(e.key) + "' twice.");
      entries.push_back(std::move(e));
      skip_space();
      if (at(',')) {
        ++pos_;
        skip_space();
      } else if (!at('}')) {
        bad("expected ',' or '}'");
      }
    }
    ++pos_;
    // numpy pads the dict with spaces and ends it with a newline.
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    if (pos_ != text_.size()) bad("unexpected text after the dict");
    return entries;
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }
  void expect(char c, const std::string& why) {
    if (!at(c)) bad(why);
    ++pos_;
  }
  [[noreturn]] void bad(const std::string& why) const {
    fail(file_, "the header is not the dict numpy writes: " + why + " at character " + std::to_string(pos_) +
                    " of \"" + printable(text_) + "\".");
  }

  std::string string() {
    const char quote = text_[pos_++];
    const std::size_t begin = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      // No dict numpy writes for the arrays read here has escapes.
      if (text_[pos_] == '\\') bad("a backslash escape in a string");
      ++pos_;
    }
    if (pos_ == text_.size()) bad("a string without its closing quote");
    return std::string(text_.substr(begin, pos_++ - begin));
  }

  bool word(std::string_view w) {
    if (text_.substr(pos_, w.size()) != w) return false;
    const std::size_t after = pos_ + w.size();
    if (after < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[after])) || text_[after] == '_'))
      return false;
    pos_ = after;
    return true;
  }

  std::size_t integer() {
    if (!(pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')) bad("expected a dimension (an integer >= 0)");
    std::size_t v = 0;
    for (; pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; ++pos_) {
      const auto digit = static_cast<std::size_t>(text_[pos_] - '0');
      if (v > (std::numeric_limits<std::size_t>::max() - digit) / 10) bad("a dimension too large for memory sizes");
      v = v * 10 + digit;
    }
    if (at('L')) ++pos_;  // Python 2's long integers, as old writers wrote them
    return v;
  }

  Value value(const std::string& key) {
    Value v;
    if (at('\'') || at('"')) {
      v.text = string();
    } else if (word("True")) {
      v.kind = Value::Kind::boolean;
      v.boolean = true;
    } else if (word("False")) {
      v.kind = Value::Kind::boolean;
    } else if (at('(')) {
      v.kind = Value::Kind::tuple;
      ++pos_;
      skip_space();
      bool comma = false;
      while (!at(')')) {
        v.tuple.push_back(integer());
        skip_space();
        comma = at(',');
        if (comma) {
          ++pos_;
          skip_space();
        } else if (!at(')')) {
          bad("expected ',' or ')' in the tuple");
        }
      }
      ++pos_;
      // In Python (3) is the number 3; a tuple of one is written (3,).
      if (v.tuple.size() == 1 && !comma) bad("'" + key + "' is (" + std::to_string(v.tuple[0]) + "), not a tuple");
    } else if (at('[')) {
      fail(file_, "holds a structured array (its 'descr' is a list of fields); read_npy reads arrays of one "
                  "numeric type: save the fields as separate arrays, or as one array of one type.");
    } else {
      bad("expected a string, True, False or a tuple as the value of '" + printable(key) + "'");
    }
    return v;
  }

  const path& file_;
  std::string_view text_;
  std::size_t pos_ = 0;
};

[[noreturn]] inline void refuse_type(const path& file, const std::string& descr, const std::string& what) {
  fail(file, "holds " + what + " (dtype '" + printable(descr) +
                 "'); read_npy reads float32, float64, signed and unsigned integers of 8 to 64 bits and bool.");
}

/// '<f4' and its kin; anything else is refused with what it is.
inline NpyType parse_descr(const path& file, const std::string& descr) {
  if (descr.size() < 2) refuse_type(file, descr, "an unknown type");
  const char order = descr[0], kind = descr[1];
  if (order != '<' && order != '>' && order != '|' && order != '=') refuse_type(file, descr, "an unknown type");
  NpyType t;
  switch (kind) {
    case 'f': t.kind = NpyType::Kind::floating; break;
    case 'i': t.kind = NpyType::Kind::signed_integer; break;
    case 'u': t.kind = NpyType::Kind::unsigned_integer; break;
    case 'b': t.kind = NpyType::Kind::boolean; break;
    case 'O':
      fail(file, "holds an object array (dtype '" + printable(descr) +
                     "'), whose elements are pickled Python objects; read_npy reads numeric arrays: convert it "
                     "first, e.g. numpy.save(path, a.astype(numpy.float32)).");
    case 'c': refuse_type(file, descr, "complex numbers");
    case 'U': case 'S': case 'a': refuse_type(file, descr, "strings");
    case 'M': case 'm': refuse_type(file, descr, "dates or times");
    case 'V': refuse_type(file, descr, "raw bytes (void)");
    default: refuse_type(file, descr, "an unknown type");
  }
  std::size_t bytes = 0;
  for (std::size_t i = 2; i < descr.size(); ++i) {
    if (descr[i] < '0' || descr[i] > '9' || bytes > 1000) refuse_type(file, descr, "an unknown type");
    bytes = bytes * 10 + static_cast<std::size_t>(descr[i] - '0');
  }
  const bool known_size = t.kind == NpyType::Kind::floating ? (bytes == 4 || bytes == 8)
                          : t.kind == NpyType::Kind::boolean ? bytes == 1
                                                              : (bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8);
  if (!known_size) {
    if (t.kind == NpyType::Kind::floating && bytes == 2) refuse_type(file, descr, "float16 values");
    refuse_type(file, descr, bytes == 0 ? "an unknown type" : std::to_string(8 * bytes) + "-bit values of that kind");
  }
  t.bytes = bytes;
  if (bytes > 1) {
    // numpy writes '<' or '>' for every multi-byte type; '=' (native) and
    // '|' (no order) leave the byte order unknown.
    if (order != '<' && order != '>')
      fail(file, "its dtype '" + printable(descr) + "' does not say the byte order ('<' or '>') of its " +
                     std::to_string(bytes) + "-byte values.");
    t.big_endian = order == '>';
  }
  return t;
}

inline std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? " x " : "") + std::to_string(shape[i]);
  return s;
}

/// Reads and checks the prefix and header; leaves `in` at the first value.
inline NpyInfo read_header(InputFile& in, const path& file) {
  NpyInfo info;
  if (!in.known_size()) fail(file, "is not a regular file; .npy files are read from regular files.");
  info.file_size = in.size();
  unsigned char prefix[12];
  const std::size_t got = in.read_some(prefix, 8);
  if (got == 0) fail(file, "is empty.");
  if (got < 8 || std::memcmp(prefix, magic, 6) != 0) {
    if (got >= 6 && std::memcmp(prefix, magic, 6) != 0)
      fail(file, "is not an .npy file: it does not start with the magic \\x93NUMPY.");
    fail(file, "is truncated: " + std::to_string(got) + " bytes, shorter than an .npy file's prefix.");
  }
  info.major_version = prefix[6];
  info.minor_version = prefix[7];
  if (!(info.minor_version == 0 && info.major_version >= 1 && info.major_version <= 3))
    fail(file, "is .npy format version " + std::to_string(info.major_version) + "." +
                   std::to_string(info.minor_version) + "; this reader knows versions 1.0, 2.0 and 3.0.");
  const std::size_t length_bytes = info.major_version == 1 ? 2 : 4;
  if (in.read_some(prefix + 8, length_bytes) != length_bytes)
    fail(file, "is truncated: it ends inside the header's length.");
  std::uint64_t header_length = 0;
  for (std::size_t i = 0; i < length_bytes; ++i) header_length |= std::uint64_t{prefix[8 + i]} << (8 * i);
  const std::uint64_t prefix_length = 8 + length_bytes;
  if (info.file_size < prefix_length) fail(file, "is truncated: it ends inside the header's length.");
  if (header_length > info.file_size - prefix_length)
    fail(file, "is truncated: its header of " + std::to_string(header_length) + " bytes does not fit in the " +
                   std::to_string(info.file_size) + "-byte file.");
  std::string text(static_cast<std::size_t>(header_length), '\0');
  if (in.read_some(text.data(), text.size()) != text.size()) fail(file, "is truncated: it ends inside its header.");
  info.data_offset = static_cast<std::size_t>(prefix_length + header_length);

  HeaderParser parser(file, text);
  const auto entries = parser.dict();
  const HeaderParser::Value *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (const auto& e : entries) {
    if (e.key == "descr") descr = &e.value;
    else if (e.key == "fortran_order") fortran = &e.value;
    else if (e.key == "shape") shape = &e.value;
    else fail(file, "the header has the key '" + printable(e.key) + "'; numpy's has 'descr', 'fortran_order' and "
                    "'shape' only.");
  }
  if (!descr || !fortran || !shape)
    fail(file, std::string("the header lacks '") + (!descr ? "descr" : !fortran ? "fortran_order" : "shape") +
                   "' (numpy's has 'descr', 'fortran_order' and 'shape').");
  using Kind = HeaderParser::Value::Kind;
  if (descr->kind != Kind::string) fail(file, "the header's 'descr' is not a string.");
  if (fortran->kind != Kind::boolean) fail(file, "the header's 'fortran_order' is not True or False.");
  if (shape->kind != Kind::tuple) fail(file, "the header's 'shape' is not a tuple.");
  info.descr = descr->text;
  info.type = parse_descr(file, info.descr);
  info.shape = shape->tuple;
  if (fortran->boolean)
    fail(file, "holds an array in Fortran (column-major) order; read_npy reads C order: save it with "
               "numpy.save(path, numpy.ascontiguousarray(a)).");
  if (info.shape.empty())
    fail(file, "holds a 0-dimensional array (a single value); read_npy reads 1-D arrays (as one column) and 2-D "
               "arrays (rows x columns).");
  if (info.shape.size() > 2)
    fail(file, "holds a " + std::to_string(info.shape.size()) + "-dimensional array (" + shape_text(info.shape) +
                   "); read_npy reads 1-D arrays (as one column) and 2-D arrays (rows x columns): reshape it "
                   "before saving, e.g. a.reshape(len(a), -1).");

  std::uint64_t values = info.shape[0], data_bytes = 0;
  const bool fits = (info.shape.size() < 2 || !__builtin_mul_overflow(values, std::uint64_t{info.shape[1]}, &values)) &&
                    !__builtin_mul_overflow(values, std::uint64_t{info.type.bytes}, &data_bytes);
  const std::uint64_t available = info.file_size - info.data_offset;
  const std::string promise = "its header promises " + shape_text(info.shape) + " " + info.type.name() +
                              " values, " + (fits ? std::to_string(data_bytes) + " bytes" : "more bytes than memory "
                                                                                             "holds");
  if (!fits || data_bytes > available)
    fail(file, "is truncated: " + promise + ", but " + std::to_string(available) + " follow the header.");
  if (data_bytes < available)
    fail(file, "has " + std::to_string(available - data_bytes) + " bytes of trailing data after the " +
                   std::to_string(data_bytes) + " bytes of values its header describes (" + shape_text(info.shape) +
                   " " + info.type.name() + ").");
  return info;
}

// ------------------------------------------------------------ values
// One value of type `t` at `p` (any byte order), as the widest type of its
// kind.
struct RawValue {
  double floating = 0;
  std::int64_t signed_integer = 0;
  std::uint64_t unsigned_integer = 0;
};

inline std::uint64_t load_unsigned(const unsigned char* p, std::size_t bytes, bool big_endian) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v |= std::uint64_t{p[big_endian ? bytes - 1 - i : i]} << (8 * i);
  return v;
}

inline RawValue load(const unsigned char* p, const NpyType& t) {
  const std::uint64_t bits = load_unsigned(p, t.bytes, t.big_endian);
  RawValue v;
  switch (t.kind) {
    case NpyType::Kind::floating:
      v.floating = t.bytes == 4 ? static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)))
                                : std::bit_cast<double>(bits);
      break;
    case NpyType::Kind::signed_integer: {
      const unsigned shift = static_cast<unsigned>(64 - 8 * t.bytes);  // sign-extend
      v.signed_integer = static_cast<std::int64_t>(bits << shift) >> shift;
      break;
    }
    case NpyType::Kind::unsigned_integer:
    case NpyType::Kind::boolean: v.unsigned_integer = bits; break;
  }
  return v;
}

inline std::string where(const NpyInfo& info, std::size_t index) {
  if (info.shape.size() == 1) return "element " + std::to_string(index);
  return "row " + std::to_string(index / info.cols()) + ", column " + std::to_string(index % info.cols());
}

/// Reads every value after the header, in chunks, handing each (as its
/// index and a pointer to its bytes) to `each`.
template <class Each>
void for_each_value(InputFile& in, const path& file, const NpyInfo& info, Each each) {
  const std::size_t count = info.rows() * info.cols();
  std::vector<unsigned char> chunk(chunk_bytes);
  const std::size_t per_chunk = chunk_bytes / info.type.bytes;
  for (std::size_t begin = 0; begin < count; begin += per_chunk) {
    const std::size_t n = std::min(per_chunk, count - begin);
    if (in.read_some(chunk.data(), n * info.type.bytes) != n * info.type.bytes)
      fail(file, "is truncated: it ended while its values were read (did it change?).");
    for (std::size_t i = 0; i < n; ++i) each(begin + i, chunk.data() + i * info.type.bytes);
  }
}

template <class T>
Matrix<T> allocate(const path& file, const NpyInfo& info) {
  try {
    return Matrix<T>(info.rows(), info.cols());
  } catch (const std::bad_alloc&) {
    fail(file, "not enough memory for " + shape_text(info.shape) + " values.");
  }
}

inline void check_bool(const path& file, const NpyInfo& info, std::size_t index, std::uint64_t byte) {
  if (byte > 1)
    fail(file, "the bool at " + where(info, index) + " is the byte " + std::to_string(byte) +
                   "; numpy's bools are 0 or 1.");
}

// ------------------------------------------------------------ writing
// numpy.lib.format._wrap_header: the prefix and dict, padded with spaces and
// a final newline so that the values start at a multiple of 64 (1 to 64
// spaces, as numpy pads); version 1.0 when the length fits in its 2 bytes,
// else 2.0.
inline std::string header_bytes(const std::string& dict) {
  for (const std::size_t length_bytes : {std::size_t{2}, std::size_t{4}}) {
    const std::size_t unpadded = 8 + length_bytes + dict.size() + 1;
    const std::size_t header_length = dict.size() + 1 + (alignment - unpadded % alignment);
    if (length_bytes == 2 && header_length > version1_max_header) continue;
    std::string out(reinterpret_cast<const char*>(magic), 6);
    out += static_cast<char>(length_bytes == 2 ? 1 : 2);
    out += '\0';
    for (std::size_t i = 0; i < length_bytes; ++i) out += static_cast<char>((header_length >> (8 * i)) & 0xff);
    out += dict;
    out.append(header_length - dict.size() - 1, ' ');
    out += '\n';
    return out;
  }
  return {};  // (not reached: 4 bytes hold any length a string can have here)
}

/// The dict numpy.save writes: keys sorted, Python's repr of each value, and
/// room for the first dimension to grow to 21 digits in place
/// (numpy.lib.format.GROWTH_AXIS_MAX_DIGITS).
inline std::string header_dict(std::string_view descr, const std::vector<std::size_t>& shape) {
  std::string tuple = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) tuple += (i ? ", " : "") + std::to_string(shape[i]);
  tuple += shape.size() == 1 ? ",)" : ")";
  std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + tuple + ", }";
  const std::size_t digits = std::to_string(shape[0]).size();
  if (digits < 21) dict.append(21 - digits, ' ');
  return dict;
}

/// Little-endian bytes of `v` into the file (on a big-endian host; on a
/// little-endian one the values are written as they are in memory).
template <class U, class Out>
void write_little_endian(Out& out, U v) {
  unsigned char bytes[sizeof(U)];
  std::memcpy(bytes, &v, sizeof(U));
  if constexpr (std::endian::native == std::endian::big)
    for (std::size_t i = 0; i < sizeof(U) / 2; ++i) std::swap(bytes[i], bytes[sizeof(U) - 1 - i]);
  out.write(bytes, sizeof(U));
}

inline std::string format_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

}  // namespace npy_detail

/// The header of an .npy file, with every check read_npy makes before it
/// reads the values.
inline NpyInfo describe_npy(const std::filesystem::path& file) {
  npy_detail::InputFile in(file);
  return npy_detail::read_header(in, file);
}

/// A 2-D array as rows x columns, a 1-D array as one column, converted to T
/// (float or double); see the top of this file.
template <class T>
Matrix<T> read_npy(const std::filesystem::path& file) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "typenet: read_npy reads float or double.");
  using namespace npy_detail;
  InputFile in(file);
  const NpyInfo info = read_header(in, file);
  Matrix<T> m = allocate<T>(file, info);
  const std::size_t count = info.rows() * info.cols();
  const bool big_endian_host = std::endian::native == std::endian::big;
  if (info.type.kind == NpyType::Kind::floating && info.type.bytes == sizeof(T) &&
      info.type.big_endian == big_endian_host) {
    // The file's values are T's bytes: straight into the matrix.
    if (in.read_some(m.data(), count * sizeof(T)) != count * sizeof(T))
      fail(file, "is truncated: it ended while its values were read (did it change?).");
    return m;
  }
  T* out = m.data();
  for_each_value(in, file, info, [&](std::size_t i, const unsigned char* p) {
    const RawValue v = load(p, info.type);
    switch (info.type.kind) {
      case NpyType::Kind::floating:
        out[i] = static_cast<T>(v.floating);
        if (std::isinf(out[i]) && std::isfinite(v.floating))
          fail(file, "the value at " + where(info, i) + " is " + format_number(v.floating) +
                         ", beyond float's range (largest 3.4e+38); read it as double (read_npy<double>).");
        break;
      case NpyType::Kind::signed_integer: out[i] = static_cast<T>(v.signed_integer); break;
      case NpyType::Kind::boolean: check_bool(file, info, i, v.unsigned_integer); [[fallthrough]];
      case NpyType::Kind::unsigned_integer: out[i] = static_cast<T>(v.unsigned_integer); break;
    }
  });
  return m;
}

/// Class ids from an integer or bool array of one dimension (or n x 1): each
/// in [0, 2^31 - 1].
inline std::vector<std::int32_t> read_npy_labels(const std::filesystem::path& file) {
  using namespace npy_detail;
  InputFile in(file);
  const NpyInfo info = read_header(in, file);
  if (info.type.kind == NpyType::Kind::floating)
    fail(file, "holds " + info.type.name() + " values; labels are read from integer arrays: save them with "
                                             "numpy.save(path, y.astype(numpy.int32)).");
  if (info.shape.size() == 2 && info.shape[1] != 1)
    fail(file, "holds a " + shape_text(info.shape) + " array; labels are one per sample, in an array of one "
                                                     "dimension (or of one column).");
  std::vector<std::int32_t> labels;
  try {
    labels.resize(info.rows());
  } catch (const std::bad_alloc&) {
    fail(file, "not enough memory for " + std::to_string(info.rows()) + " labels.");
  }
  constexpr std::int64_t largest = std::numeric_limits<std::int32_t>::max();
  for_each_value(in, file, info, [&](std::size_t i, const unsigned char* p) {
    const RawValue v = load(p, info.type);
    if (info.type.kind == NpyType::Kind::boolean) check_bool(file, info, i, v.unsigned_integer);
    const bool is_signed = info.type.kind == NpyType::Kind::signed_integer;
    if (is_signed ? (v.signed_integer < 0 || v.signed_integer > largest)
                  : v.unsigned_integer > static_cast<std::uint64_t>(largest))
      fail(file, "label " + std::to_string(i) + " is " +
                     (is_signed ? std::to_string(v.signed_integer) : std::to_string(v.unsigned_integer)) +
                     "; labels are class ids 0, 1, 2, ... up to 2147483647.");
    labels[i] = static_cast<std::int32_t>(is_signed ? v.signed_integer : static_cast<std::int64_t>(v.unsigned_integer));
  });
  return labels;
}

/// As numpy.save(path, x) with x a float32 (T = float) or float64 (T =
/// double) array of x.rows x x.cols. Atomic; see the top of this file.
template <class T>
void write_npy(const std::filesystem::path& file, MatrixView<T> x) {
  using Value = std::remove_const_t<T>;
  static_assert(std::is_same_v<Value, float> || std::is_same_v<Value, double>,
                "typenet: write_npy writes float or double matrices (and write_npy_labels int32 labels).");
  AtomicFile<NpyError> out(file);
  const std::string header =
      npy_detail::header_bytes(npy_detail::header_dict(sizeof(Value) == 4 ? "<f4" : "<f8", {x.rows, x.cols}));
  out.write(header.data(), header.size());
  for (std::size_t i = 0; i < x.rows; ++i) {
    if constexpr (std::endian::native == std::endian::little) {
      out.write(x.row(i), x.cols * sizeof(Value));
    } else {
      for (std::size_t j = 0; j < x.cols; ++j) npy_detail::write_little_endian(out, x(i, j));
    }
  }
  out.commit();
}
/// Writes x as a two-dimensional .npy file with numpy.save's bytes, atomically.
template <class T>
void write_npy(const std::filesystem::path& file, const Matrix<T>& x) {
  write_npy(file, x.view());
}

/// As numpy.save(path, numpy.array(labels, dtype=numpy.int32)): one dimension.
inline void write_npy_labels(const std::filesystem::path& file, std::span<const std::int32_t> labels) {
  AtomicFile<NpyError> out(file);
  const std::string header = npy_detail::header_bytes(npy_detail::header_dict("<i4", {labels.size()}));
  out.write(header.data(), header.size());
  if constexpr (std::endian::native == std::endian::little) {
    out.write(labels.data(), labels.size_bytes());
  } else {
    for (const std::int32_t label : labels) npy_detail::write_little_endian(out, label);
  }
  out.commit();
}

}  // namespace typenet::data
