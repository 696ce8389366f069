// The NumPy (.npy) and CSV readers and writers: every dtype, byte
// order and format version from hand-written bytes, every refusal with its
// sentence, atomic saves (a failed save leaves the old file), every CSV
// dialect feature and error, scikit-learn's bundled tables (skipped when
// python3-sklearn is missing), and corrupted inputs that must only ever
// raise the reader's error. (test/npy_csv_check.py compares the same
// readers with numpy and pandas themselves.)
#define BOOST_TEST_MODULE npy_csv
#include <boost/test/unit_test.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "typenet/data/csv.hpp"
#include "typenet/data/csv_writer.hpp"
#include "typenet/data/npy.hpp"
#include "typenet/random/rng.hpp"

// Counts heap allocations: reading a CSV allocates the same whatever its rows.
#include "count_allocations.hpp"
#include "error_messages.hpp"

using namespace typenet;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("typenet_test_npy_csv_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, std::string_view bytes) const {
    std::ofstream(path / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path / name;
  }
  std::size_t entries() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(path)) ++n;
    return n;
  }
};

std::string contents(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---------------------------------------------------------------- .npy bytes
// A file with this header dict and these value bytes, in format version
// `major`.0, padded as numpy pads it.
std::string npy_bytes(const std::string& dict, std::string_view values, int major = 1) {
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  while ((8 + length_bytes + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < length_bytes; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + std::string(values);
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape +
         ", }";
}

// The bytes of each value, little- or big-endian.
template <class U>
std::string encode(const std::vector<U>& values, bool big_endian) {
  std::string out;
  for (const U v : values) {
    unsigned char b[sizeof(U)];
    std::memcpy(b, &v, sizeof(U));
    if ((std::endian::native == std::endian::big) != big_endian)
      for (std::size_t i = 0; i < sizeof(U) / 2; ++i) std::swap(b[i], b[sizeof(U) - 1 - i]);
    out.append(reinterpret_cast<const char*>(b), sizeof(U));
  }
  return out;
}

// A 2 x 3 array of type U with values that test its range, as a file in
// every byte order and version, read back as double and float.
template <class U>
void check_dtype(const std::string& code, const std::vector<U>& values) {
  TempDir dir;
  for (const char order : {'<', '>'}) {
    if (sizeof(U) == 1 && order == '>') continue;
    for (const int major : {1, 2, 3}) {
      const std::string descr = (sizeof(U) == 1 ? std::string("|") : std::string(1, order)) + code;
      const fs::path file = dir.write("a.npy", npy_bytes(dict(descr, "(2, 3)"), encode(values, order == '>'), major));
      BOOST_TEST_CONTEXT(descr << " version " << major) {
        const auto info = data::describe_npy(file);
        BOOST_TEST(info.major_version == major);
        BOOST_TEST(info.descr == descr);
        BOOST_TEST(info.data_offset % 64 == 0u);
        const Matrix<double> d = data::read_npy<double>(file);
        const Matrix<float> f = data::read_npy<float>(file);
        BOOST_TEST_REQUIRE(d.rows() == 2u);
        BOOST_TEST_REQUIRE(d.cols() == 3u);
        for (std::size_t i = 0; i < 6; ++i) {
          BOOST_TEST(d.data()[i] == static_cast<double>(values[i]));
          BOOST_TEST(f.data()[i] == static_cast<float>(values[i]));
        }
      }
    }
  }
}

}  // namespace

// ---------------------------------------------------------------- npy: reading

BOOST_AUTO_TEST_SUITE(npy_reading)

BOOST_AUTO_TEST_CASE(every_dtype_byte_order_and_version) {
  check_dtype<float>("f4", {0.0f, -1.5f, 3.25f, std::numeric_limits<float>::max(), 1e-40f, -0.0f});
  check_dtype<double>("f8", {0.0, -1.5, 0.1, 1e30, std::numeric_limits<double>::denorm_min(), -2.0});
  check_dtype<std::int8_t>("i1", {0, 1, -1, -128, 127, 42});
  check_dtype<std::int16_t>("i2", {0, 1, -1, -32768, 32767, 300});
  check_dtype<std::int32_t>("i4", {0, 1, -1, std::numeric_limits<std::int32_t>::min(), 2147483647, 65536});
  check_dtype<std::int64_t>("i8", {0, 1, -1, std::numeric_limits<std::int64_t>::min(), (std::int64_t{1} << 53) + 1,
                                   std::numeric_limits<std::int64_t>::max()});
  check_dtype<std::uint8_t>("u1", {0, 1, 2, 254, 255, 128});
  check_dtype<std::uint16_t>("u2", {0, 1, 2, 65535, 256, 7});
  check_dtype<std::uint32_t>("u4", {0, 1, 4294967295u, 16777217u, 256, 7});
  check_dtype<std::uint64_t>("u8", {0, 1, std::numeric_limits<std::uint64_t>::max(), 1ull << 63, 256, 7});
  check_dtype<std::uint8_t>("b1", {0, 1, 1, 0, 0, 1});
}

BOOST_AUTO_TEST_CASE(one_dimension_is_a_column_and_empty_arrays_read) {
  TempDir dir;
  const auto column = data::read_npy<double>(dir.write("c.npy", npy_bytes(dict("<f8", "(3,)"), encode<double>({1, 2, 3}, false))));
  BOOST_TEST(column.rows() == 3u);
  BOOST_TEST(column.cols() == 1u);
  BOOST_TEST(column(2, 0) == 3.0);
  const auto empty = data::read_npy<float>(dir.write("e.npy", npy_bytes(dict("<f4", "(0, 5)"), "")));
  BOOST_TEST(empty.rows() == 0u);
  BOOST_TEST(empty.cols() == 5u);
}

BOOST_AUTO_TEST_CASE(header_variants_numpy_and_others_write) {
  TempDir dir;
  const std::string values = encode<float>({1, 2, 3, 4}, false);
  // Keys in any order, double quotes, no trailing comma, Python 2 longs,
  // no padding: all the same array.
  for (const std::string& d : {std::string("{'shape': (2, 2), 'fortran_order': False, 'descr': '<f4'}"),
                              std::string("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L, 2L)}"),
                              std::string("{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 2 , 2 , ) , }")}) {
    BOOST_TEST_CONTEXT(d) {
      const auto m = data::read_npy<float>(dir.write("h.npy", npy_bytes(d, values)));
      BOOST_TEST(m.rows() == 2u);
      BOOST_TEST(m(1, 1) == 4.0f);
    }
  }
  std::string unpadded = "\x93NUMPY\x01";
  unpadded += '\0';
  const std::string d = dict("<f4", "(2, 2)");
  unpadded += static_cast<char>(d.size());
  unpadded += '\0';
  const auto m = data::read_npy<float>(dir.write("u.npy", unpadded + d + values));
  BOOST_TEST(m(0, 1) == 2.0f);
}

BOOST_AUTO_TEST_CASE(nan_and_infinity_are_values_of_the_array) {
  TempDir dir;
  const double inf = std::numeric_limits<double>::infinity();
  const auto m = data::read_npy<float>(dir.write("n.npy", npy_bytes(dict("<f8", "(3,)"),
                                                                    encode<double>({std::nan(""), inf, -inf}, false))));
  BOOST_TEST(std::isnan(m(0, 0)));
  BOOST_TEST(m(1, 0) == std::numeric_limits<float>::infinity());
  BOOST_TEST(m(2, 0) == -std::numeric_limits<float>::infinity());
}

BOOST_AUTO_TEST_CASE(float64_beyond_float_is_refused_as_float_and_read_as_double) {
  TempDir dir;
  const fs::path file = dir.write("big.npy", npy_bytes(dict("<f8", "(2, 2)"), encode<double>({1, 2, 3, 1e300}, false)));
  check_contains(error_of<data::NpyError>([&] { (void)data::read_npy<float>(file); }),
                 {"typenet: " + file.string() + ": ", "row 1, column 1", "1e+300", "read_npy<double>"});
  BOOST_TEST(data::read_npy<double>(file)(1, 1) == 1e300);
}

BOOST_AUTO_TEST_CASE(labels_from_integer_and_bool_arrays) {
  TempDir dir;
  BOOST_TEST(data::read_npy_labels(dir.write("a.npy", npy_bytes(dict("<i8", "(4,)"), encode<std::int64_t>({0, 1, 2, 2147483647}, false)))) ==
                 (std::vector<std::int32_t>{0, 1, 2, 2147483647}),
             boost::test_tools::per_element());
  BOOST_TEST(data::read_npy_labels(dir.write("b.npy", npy_bytes(dict(">u2", "(3, 1)"), encode<std::uint16_t>({9, 0, 65535}, true)))) ==
                 (std::vector<std::int32_t>{9, 0, 65535}),
             boost::test_tools::per_element());
  BOOST_TEST(data::read_npy_labels(dir.write("c.npy", npy_bytes(dict("|b1", "(2,)"), std::string("\x01\x00", 2)))) ==
                 (std::vector<std::int32_t>{1, 0}),
             boost::test_tools::per_element());
  BOOST_TEST(data::read_npy_labels(dir.write("d.npy", npy_bytes(dict("|i1", "(0,)"), ""))).empty());
}

BOOST_AUTO_TEST_CASE(labels_refused_with_their_sentence) {
  TempDir dir;
  struct Case {
    std::string name, dict, values, expected;
  };
  const std::vector<Case> cases = {
      {"negative", dict("<i4", "(3,)"), encode<std::int32_t>({0, -3, 1}, false), "label 1 is -3; labels are class ids"},
      {"too_large_signed", dict("<i8", "(1,)"), encode<std::int64_t>({2147483648LL}, false), "label 0 is 2147483648"},
      {"too_large_unsigned", dict("<u4", "(2,)"), encode<std::uint32_t>({1, 4294967295u}, false),
       "label 1 is 4294967295"},
      {"float", dict("<f4", "(1,)"), encode<float>({1}, false), "holds float32 values; labels are read from integer"},
      {"two_columns", dict("<i4", "(1, 2)"), encode<std::int32_t>({1, 2}, false),
       "holds a 1 x 2 array; labels are one per sample"},
      {"bad_bool", dict("|b1", "(2,)"), std::string("\x01\x02", 2), "the bool at element 1 is the byte 2"},
  };
  for (const Case& c : cases) {
    const fs::path file = dir.write(c.name + ".npy", npy_bytes(c.dict, c.values));
    BOOST_TEST_CONTEXT(c.name) {
      check_contains(error_of<data::NpyError>([&] { (void)data::read_npy_labels(file); }),
                     {"typenet: " + file.string() + ": ", c.expected});
    }
  }
}

// Every refusal of the format, each with its sentence.
BOOST_AUTO_TEST_CASE(refusals_name_the_file_and_the_reason) {
  TempDir dir;
  const std::string four = encode<float>({1, 2, 3, 4}, false);
  std::string bad_version = npy_bytes(dict("<f4", "(2, 2)"), four);
  bad_version[6] = 4;
  std::string bad_minor = npy_bytes(dict("<f4", "(2, 2)"), four);
  bad_minor[7] = 1;
  struct Case {
    std::string name, bytes, expected;
  };
  const std::vector<Case> cases = {
      {"empty", "", "is empty."},
      {"not_npy", "PK\x03\x04 a zip file, perhaps", "is not an .npy file: it does not start with the magic"},
      {"short", "\x93NUM", "is truncated: 4 bytes"},
      {"version4", bad_version, "is .npy format version 4.0; this reader knows versions 1.0, 2.0 and 3.0."},
      {"version1_1", bad_minor, "version 1.1"},
      {"fortran", npy_bytes(dict("<f4", "(2, 2)", true), four), "Fortran (column-major) order"},
      {"object", npy_bytes(dict("|O", "(2,)"), std::string(16, '\0')), "holds an object array"},
      {"structured", npy_bytes("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (2,), }",
                               std::string(16, '\0')),
       "holds a structured array"},
      {"three_d", npy_bytes(dict("<f4", "(1, 2, 2)"), four), "holds a 3-dimensional array (1 x 2 x 2)"},
      {"scalar", npy_bytes(dict("<f4", "()"), encode<float>({1}, false)), "holds a 0-dimensional array"},
      {"float16", npy_bytes(dict("<f2", "(2,)"), std::string(4, '\0')), "holds float16 values (dtype '<f2')"},
      {"complex", npy_bytes(dict("<c8", "(1,)"), std::string(8, '\0')), "holds complex numbers"},
      {"strings", npy_bytes(dict("<U3", "(1,)"), std::string(12, '\0')), "holds strings"},
      {"dates", npy_bytes(dict("<M8[D]", "(1,)"), std::string(8, '\0')), "holds dates or times"},
      {"int128", npy_bytes(dict("<i16", "(1,)"), std::string(16, '\0')), "holds 128-bit values of that kind"},
      {"native_order", npy_bytes(dict("=f4", "(2, 2)"), four), "does not say the byte order ('<' or '>')"},
      {"no_order", npy_bytes(dict("|f4", "(2, 2)"), four), "does not say the byte order"},
      {"truncated_values", npy_bytes(dict("<f4", "(2, 2)"), four.substr(0, 15)),
       "is truncated: its header promises 2 x 2 float32 values, 16 bytes, but 15 follow the header."},
      {"trailing", npy_bytes(dict("<f4", "(2, 2)"), four + "xy"),
       "has 2 bytes of trailing data after the 16 bytes of values"},
      {"huge_shape", npy_bytes(dict("<f8", "(4294967296, 4294967296)"), four), "more bytes than memory holds"},
      {"huge_dimension", npy_bytes(dict("<f8", "(99999999999999999999999,)"), four),
       "a dimension too large for memory sizes"},
      {"not_a_dict", npy_bytes("['descr', '<f4']", four), "does not start with '{'"},
      {"missing_key", npy_bytes("{'descr': '<f4', 'shape': (4,), }", four), "the header lacks 'fortran_order'"},
      {"extra_key", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1, }", four),
       "expected a string, True, False or a tuple as the value of 'x'"},
      {"extra_key_string",
       npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'version': '1', }", four),
       "the header has the key 'version'"},
      {"duplicate_key", npy_bytes("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", four),
       "the header names 'descr' twice."},
      {"not_a_tuple", npy_bytes(dict("<f4", "(4)"), four), "'shape' is (4), not a tuple"},
      {"shape_string", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': '4', }", four),
       "the header's 'shape' is not a tuple."},
      {"unclosed", npy_bytes("{'descr': '<f4, 'fortran_order': False, 'shape': (4,), }", four),
       "expected ',' or '}' at character 17"},
      {"text_after", npy_bytes(dict("<f4", "(4,)") + " junk", four), "unexpected text after the dict"},
      {"header_too_long", std::string("\x93NUMPY\x01\x00\xff\x00{", 11), "is truncated: its header of 255 bytes"},
  };
  for (const Case& c : cases) {
    const fs::path file = dir.write(c.name + ".npy", c.bytes);
    BOOST_TEST_CONTEXT(c.name) {
      const std::string m = error_of<data::NpyError>([&] { (void)data::read_npy<float>(file); });
      check_contains(m, {"typenet: " + file.string() + ": ", c.expected});
      // The header's checks are describe_npy's too; labels meet them first.
      BOOST_TEST(error_of<data::NpyError>([&] { (void)data::describe_npy(file); }) == m);
      if (c.name != "float16" && c.name != "complex")
        BOOST_TEST(error_of<data::NpyError>([&] { (void)data::read_npy_labels(file); }) == m);
    }
  }
  check_contains(error_of<data::NpyError>([&] { (void)data::read_npy<float>(dir.path / "missing.npy"); }),
                 {"typenet: " + (dir.path / "missing.npy").string() + ": cannot open: No such file or directory."});
  check_contains(error_of<data::NpyError>([&] { (void)data::read_npy<float>(dir.path); }), {"is a directory"});
}

// Every prefix of valid files and thousands of corruptions: NpyError or a
// correct read, never a crash or another exception.
BOOST_AUTO_TEST_CASE(corrupted_files_raise_only_npy_errors) {
  TempDir dir;
  const std::vector<std::string> sources = {
      npy_bytes(dict("<f4", "(2, 3)"), encode<float>({1, 2, 3, 4, 5, 6}, false)),
      npy_bytes(dict(">i8", "(3,)"), encode<std::int64_t>({1, 2, 3}, true), 2),
      npy_bytes(dict("|b1", "(1, 2)"), std::string("\x01\x00", 2), 3)};
  std::size_t rejected = 0, cases = 0;
  auto attempt = [&](const std::string& bytes) {
    const fs::path file = dir.write("f.npy", bytes);
    ++cases;
    for (int reader = 0; reader < 3; ++reader) {
      try {
        if (reader == 0) (void)data::read_npy<float>(file);
        if (reader == 1) (void)data::read_npy<double>(file);
        if (reader == 2) (void)data::read_npy_labels(file);
      } catch (const data::NpyError& e) {
        ++rejected;
        BOOST_TEST(std::string(e.what()).starts_with("typenet: " + file.string() + ": "));
      }
    }
  };
  for (const std::string& s : sources)
    for (std::size_t n = 0; n < s.size(); ++n) attempt(s.substr(0, n));
  Rng rng(3);
  for (int k = 0; k < 3000; ++k) {
    std::string b = sources[static_cast<std::size_t>(k) % sources.size()];
    for (std::size_t f = 0, flips = 1 + rng.below(3); f < flips; ++f)
      b[rng.below(k % 4 < 3 ? std::min<std::size_t>(b.size(), 72) : b.size())] ^= static_cast<char>(1 + rng.below(255));
    attempt(b);
  }
  BOOST_TEST_MESSAGE("npy corruptions: " << rejected << " reads of " << 3 * cases << " rejected with an NpyError");
  BOOST_TEST(rejected >= 3 * (sources[0].size() + sources[1].size() + sources[2].size()));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- npy: writing

BOOST_AUTO_TEST_SUITE(npy_writing)

BOOST_AUTO_TEST_CASE(header_is_numpys_to_the_byte) {
  TempDir dir;
  Matrix<float> x(3, 4);
  for (std::size_t i = 0; i < 12; ++i) x.data()[i] = static_cast<float>(i) * 0.5f - 1;
  const fs::path file = dir.path / "x.npy";
  data::write_npy(file, x);
  // numpy.save(f, numpy.zeros((3, 4), numpy.float32)): its first 128 bytes.
  std::string expected = "\x93NUMPY\x01";
  expected += '\0';
  expected += "v";  // header length 118
  expected += '\0';
  const std::string dict_text = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
  expected += dict_text + std::string(118 - 1 - dict_text.size(), ' ') + "\n";
  const std::string bytes = contents(file);
  BOOST_TEST_REQUIRE(bytes.size() == 128u + 48u);
  BOOST_TEST(bytes.substr(0, 128) == expected);
  BOOST_TEST(bytes.substr(128) == encode(std::vector<float>(x.data(), x.data() + 12), false));
  BOOST_TEST(data::describe_npy(file).data_offset == 128u);
}

BOOST_AUTO_TEST_CASE(round_trips_float_double_labels_and_strided_views) {
  TempDir dir;
  Matrix<double> d(5, 3);
  for (std::size_t i = 0; i < 15; ++i) d.data()[i] = std::ldexp(1.0 + static_cast<double>(i) / 7, static_cast<int>(i) - 7);
  data::write_npy(dir.path / "d.npy", d);
  const Matrix<double> back = data::read_npy<double>(dir.path / "d.npy");
  BOOST_TEST(data::describe_npy(dir.path / "d.npy").descr == "<f8");
  BOOST_TEST(std::vector<double>(back.data(), back.data() + 15) == std::vector<double>(d.data(), d.data() + 15),
             boost::test_tools::per_element());
  // Rows 1-3 and columns 0-1 of d, as float: a view with a stride.
  Matrix<float> f(5, 3);
  for (std::size_t i = 0; i < 15; ++i) f.data()[i] = static_cast<float>(d.data()[i]);
  const MatrixView<const float> part(f.row(1), 3, 2, 3);
  data::write_npy(dir.path / "f.npy", part);
  const Matrix<float> part_back = data::read_npy<float>(dir.path / "f.npy");
  BOOST_TEST_REQUIRE(part_back.rows() == 3u);
  BOOST_TEST_REQUIRE(part_back.cols() == 2u);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 2; ++j) BOOST_TEST(part_back(i, j) == part(i, j));
  const std::vector<std::int32_t> labels = {3, 0, 2147483647, 1};
  data::write_npy_labels(dir.path / "y.npy", labels);
  BOOST_TEST(data::describe_npy(dir.path / "y.npy").descr == "<i4");
  BOOST_TEST(data::describe_npy(dir.path / "y.npy").shape == std::vector<std::size_t>{4}, boost::test_tools::per_element());
  BOOST_TEST(data::read_npy_labels(dir.path / "y.npy") == labels, boost::test_tools::per_element());
  data::write_npy_labels(dir.path / "empty.npy", {});
  BOOST_TEST(data::read_npy_labels(dir.path / "empty.npy").empty());
}

// Version 1.0's length field holds 65535; a longer header takes version 2.0.
BOOST_AUTO_TEST_CASE(version_two_when_the_header_needs_it) {
  const std::string short_header = data::npy_detail::header_bytes(std::string(100, ' '));
  BOOST_TEST(short_header[6] == 1);
  BOOST_TEST(short_header.size() % 64 == 0u);
  const std::string long_header = data::npy_detail::header_bytes(std::string(70000, ' '));
  BOOST_TEST(long_header[6] == 2);
  BOOST_TEST(long_header.size() % 64 == 0u);
  std::uint32_t length = 0;
  for (int i = 0; i < 4; ++i) length |= std::uint32_t{static_cast<unsigned char>(long_header[8 + i])} << (8 * i);
  BOOST_TEST(length == long_header.size() - 12);
  BOOST_TEST(long_header.back() == '\n');
  // The largest dict version 1.0 holds: 65524 bytes, a newline and one
  // space make 65526, and 10 + 65526 is a multiple of 64. One more byte and
  // numpy's padding (1 to 64 spaces) passes 65535.
  BOOST_TEST(data::npy_detail::header_bytes(std::string(65524, ' '))[6] == 1);
  BOOST_TEST(data::npy_detail::header_bytes(std::string(65524, ' ')).size() == 65536u);
  BOOST_TEST(data::npy_detail::header_bytes(std::string(65525, ' '))[6] == 2);
}

BOOST_AUTO_TEST_CASE(a_save_replaces_the_file_atomically) {
  TempDir dir;
  const fs::path file = dir.path / "x.npy";
  Matrix<float> a(2, 2), b(4, 4);
  a(0, 0) = 1;
  b(3, 3) = 2;
  data::write_npy(file, a);
  data::write_npy(file, b);
  BOOST_TEST(data::read_npy<float>(file)(3, 3) == 2.0f);
  BOOST_TEST(dir.entries() == 1u);  // no temporary file left
}

// A save that fails (the file size limit: the write fails with EFBIG as on a
// full disk) leaves the old file as it was, and no temporary file.
BOOST_AUTO_TEST_CASE(a_failed_save_leaves_the_old_file) {
  TempDir dir;
  const fs::path file = dir.path / "x.npy";
  Matrix<float> small(2, 2), large(1000, 100);
  small(1, 1) = 7;
  data::write_npy(file, small);
  const std::string before = contents(file);
  rlimit old{};
  BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto previous = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = old;
  limited.rlim_cur = 4096;
  BOOST_TEST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
  const std::string m = error_of<data::NpyError>([&] { data::write_npy(file, large); });
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  check_contains(m, {"typenet: " + file.string() + ": cannot save (the existing file is untouched): writing ",
                     "File too large"});
  BOOST_TEST(contents(file) == before);
  BOOST_TEST(dir.entries() == 1u);

  // A directory in the way: the rename fails, the directory stays.
  fs::create_directory(dir.path / "d.npy");
  check_contains(error_of<data::NpyError>([&] { data::write_npy(dir.path / "d.npy", small); }),
                 {"cannot save (the existing file is untouched): renaming ", "Is a directory"});
  BOOST_TEST(fs::is_directory(dir.path / "d.npy"));
  BOOST_TEST(dir.entries() == 2u);
  check_contains(error_of<data::NpyError>([&] { data::write_npy(dir.path / "no" / "x.npy", small); }),
                 {"typenet: " + (dir.path / "no" / "x.npy").string() + ": cannot save: cannot create a temporary file in "});
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- csv

namespace {

std::vector<float> row_of(const Matrix<float>& m, std::size_t i) { return {m.row(i), m.row(i) + m.cols()}; }

template <class F>
std::string csv_error(F&& f) {
  return error_of<data::CsvError>(std::forward<F>(f));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(csv_reading)

BOOST_AUTO_TEST_CASE(a_header_and_a_named_label_column) {
  TempDir dir;
  const fs::path file = dir.write("iris.csv",
                                  "sepal,petal,species,width\n"
                                  "5.1,1.4,setosa,0.2\n"
                                  "7.0,4.7,versicolor,1.4\n"
                                  "6.3,6.0,virginica,2.5\n"
                                  "4.9,1.4,setosa,0.2\n");
  const auto t = data::read_csv<float>(file, {.label = "species"});
  BOOST_TEST(t.data.x.rows() == 4u);
  BOOST_TEST(t.data.x.cols() == 3u);
  BOOST_TEST(row_of(t.data.x, 1) == (std::vector<float>{7.0f, 4.7f, 1.4f}), boost::test_tools::per_element());
  BOOST_TEST(t.data.labels == (std::vector<std::int32_t>{0, 1, 2, 0}), boost::test_tools::per_element());
  BOOST_TEST(t.class_names == (std::vector<std::string>{"setosa", "versicolor", "virginica"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.feature_names == (std::vector<std::string>{"sepal", "petal", "width"}), boost::test_tools::per_element());
  BOOST_TEST(t.label_name == "species");
  BOOST_TEST(t.dropped_lines.empty());
  // The same column by position, from the start and from the end.
  BOOST_TEST(data::read_csv<float>(file, {.label = 2}).data.labels == t.data.labels, boost::test_tools::per_element());
  BOOST_TEST(data::read_csv<float>(file, {.label = -2}).data.labels == t.data.labels, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(integer_labels_are_class_ids_and_names_sort) {
  TempDir dir;
  const auto ids = data::read_csv<double>(dir.write("a.csv", "1.5,2,3\n2.5,3,0\n3.5,4,+1\n"));
  BOOST_TEST(ids.data.labels == (std::vector<std::int32_t>{3, 0, 1}), boost::test_tools::per_element());
  BOOST_TEST(ids.class_names.empty());
  BOOST_TEST(ids.feature_names.empty());
  BOOST_TEST(ids.data.x(2, 1) == 4.0);
  // Names sort by bytes, as scikit-learn's LabelEncoder sorts strings.
  const auto names = data::read_csv<float>(dir.write("b.csv", "1,b\n2,B\n3,a\n4,b\n"));
  BOOST_TEST(names.class_names == (std::vector<std::string>{"B", "a", "b"}), boost::test_tools::per_element());
  BOOST_TEST(names.data.labels == (std::vector<std::int32_t>{2, 0, 1, 2}), boost::test_tools::per_element());
  // Numbers as names, when asked: -1 and 1 become classes 0 and 1.
  const auto signs = data::read_csv<float>(dir.write("c.csv", "1,-1\n2,1\n3,-1\n"),
                                           {.label_kind = data::CsvLabelKind::names});
  BOOST_TEST(signs.class_names == (std::vector<std::string>{"-1", "1"}), boost::test_tools::per_element());
  BOOST_TEST(signs.data.labels == (std::vector<std::int32_t>{0, 1, 0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(label_errors) {
  TempDir dir;
  const fs::path fractions = dir.write("f.csv", "x,y\n1,0\n2,1.5\n3,2\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(fractions); }),
                 {"typenet: " + fractions.string() + ": line 3, column 2 ('y'): the label '1.5' is a number but not "
                  "an integer class id; numeric targets are read by read_csv_regression"});
  const fs::path negative = dir.write("n.csv", "1,0\n2,-1\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(negative); }),
                 {": line 2, column 2: the label '-1' is not a class id 0, 1, 2, ... up to 2147483647"});
  const fs::path huge = dir.write("h.csv", "1,0\n2,2147483648\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(huge); }), {"line 2, column 2: the label '2147483648'"});
  const fs::path mixed = dir.write("m.csv", "1,0\n2,cat\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(mixed, {.label_kind = data::CsvLabelKind::integers}); }),
                 {"line 2, column 2: the label 'cat' is not an integer class id (.label_kind is CsvLabelKind::integers)."});
  const fs::path empty = dir.write("e.csv", "a,b\n1,x\n2,\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(empty); }), {"line 3, column 2 ('b'): the label is empty."});
  const fs::path only = dir.write("o.csv", "a\nx\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(only); }), {"has one column, the label's: there are no features."});
}

BOOST_AUTO_TEST_CASE(separators_found_or_given) {
  TempDir dir;
  for (const char sep : {',', ';', '\t'}) {
    std::string text = "a?b?c\n1?2?3\n4?5?6\n";
    std::replace(text.begin(), text.end(), '?', sep);
    const auto m = data::read_csv_matrix<float>(dir.write("s.csv", text));
    BOOST_TEST_CONTEXT("separator " << int(sep)) {
      BOOST_TEST(m.values.rows() == 2u);
      BOOST_TEST(m.values.cols() == 3u);
      BOOST_TEST(m.values(1, 2) == 6.0f);
      BOOST_TEST(m.column_names == (std::vector<std::string>{"a", "b", "c"}), boost::test_tools::per_element());
    }
  }
  // A comma inside quotes does not count; semicolons separate here.
  const auto q = data::read_csv<float>(dir.write("q.csv", "x;name\n1;\"a, b\"\n2;\"c, d\"\n"));
  BOOST_TEST(q.class_names == (std::vector<std::string>{"a, b", "c, d"}), boost::test_tools::per_element());
  // Spaces (scikit-learn's linnerud tables), when given.
  const auto spaces = data::read_csv_matrix<float>(dir.write("sp.csv", "Chins Situps Jumps\n5 162 60\n2 110 60\n"),
                                                   {.separator = ' '});
  BOOST_TEST(spaces.values(0, 1) == 162.0f);
  BOOST_TEST(spaces.column_names.size() == 3u);
  const fs::path tie = dir.write("t.csv", "a,b;c\n1,2;3\n");
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(tie); }),
                 {"typenet: " + tie.string() + ": line 1 has 1 commas, 1 semicolons and 0 tabs: which separates the "
                  "columns is unclear; set .separator."});
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(tie, {.separator = '.'}); }),
                 {"typenet: " + tie.string() + ": read_csv_matrix: .separator '.' cannot separate numbers"});
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(tie, {.separator = 'x'}); }), {".separator 'x'"});
  // A single column needs no separator.
  BOOST_TEST(data::read_csv_matrix<float>(dir.write("one.csv", "v\n1\n2\n")).values(1, 0) == 2.0f);
}

BOOST_AUTO_TEST_CASE(header_found_given_or_absent) {
  TempDir dir;
  const fs::path with = dir.write("w.csv", "a,b\n1,2\n");
  const fs::path without = dir.write("n.csv", "1,2\n3,4\n");
  BOOST_TEST(data::read_csv_matrix<float>(with).column_names.size() == 2u);
  BOOST_TEST(data::read_csv_matrix<float>(with).values.rows() == 1u);
  BOOST_TEST(data::read_csv_matrix<float>(without).column_names.empty());
  BOOST_TEST(data::read_csv_matrix<float>(without).values.rows() == 2u);
  // Numbers as column names: only .header = names says so.
  const auto numbered = data::read_csv_matrix<float>(without, {.header = data::CsvHeader::names});
  BOOST_TEST(numbered.column_names == (std::vector<std::string>{"1", "2"}), boost::test_tools::per_element());
  BOOST_TEST(numbered.values.rows() == 1u);
  // Names in the label column of data rows do not make a header.
  const auto labelled = data::read_csv<float>(dir.write("l.csv", "1,cat\n2,dog\n"));
  BOOST_TEST(labelled.data.x.rows() == 2u);
  BOOST_TEST(labelled.feature_names.empty());
  // Naming the label column implies a header, even of numbers.
  const auto named = data::read_csv<float>(dir.write("m.csv", "7,8\n1,0\n2,1\n"), {.label = "8"});
  BOOST_TEST(named.data.x.rows() == 2u);
  BOOST_TEST(named.label_name == "8");
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(with, {.header = data::CsvHeader::none}); }),
                 {"line 1, column 1: 'a' is not a number."});
  check_contains(csv_error([&] { (void)data::read_csv<float>(without, {.label = "b", .header = data::CsvHeader::none}); }),
                 {"read_csv: the .label column is named ('b'), but .header is CsvHeader::none; give it by position."});
  const fs::path header_only = dir.write("h.csv", "a,b\n");
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(header_only); }),
                 {"typenet: " + header_only.string() + ": has no data rows after its header (line 1)."});
}

BOOST_AUTO_TEST_CASE(columns_by_name_and_position_errors) {
  TempDir dir;
  const fs::path file = dir.write("c.csv", "a,b,a\n1,2,3\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(file, {.label = "z"}); }),
                 {"typenet: " + file.string() + ": .label names the column 'z', which the header (line 1) lacks; its "
                  "columns are 'a', 'b', 'a'."});
  check_contains(csv_error([&] { (void)data::read_csv<float>(file, {.label = "a"}); }),
                 {"the header (line 1) names 'a' twice: columns 1 and 3; give .label by position."});
  check_contains(csv_error([&] { (void)data::read_csv<float>(file, {.label = 3}); }),
                 {".label is column 3, but the rows have 3 columns (0 to 2, or -1 to -3 from the end)."});
  check_contains(csv_error([&] { (void)data::read_csv<float>(file, {.label = -4}); }), {".label is column -4"});
  const fs::path no_header = dir.write("n.csv", "1,2\n");
  check_contains(csv_error([&] { (void)data::read_csv_regression<float>(no_header, {.target = 5}); }),
                 {".target is column 5, but the rows have 2 columns"});
  // Each reader's own column option only.
  check_contains(csv_error([&] { (void)data::read_csv<float>(file, {.target = 0}); }),
                 {"read_csv: .target is read_csv_regression's option; read_csv takes .label."});
  check_contains(csv_error([&] { (void)data::read_csv_regression<float>(file, {.label = 0}); }),
                 {"read_csv_regression: .label is read_csv's option (class labels); read_csv_regression takes .target."});
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(file, {.label = 0}); }),
                 {"read_csv_matrix reads every column."});
}

BOOST_AUTO_TEST_CASE(regression_targets) {
  TempDir dir;
  const fs::path file = dir.write("r.csv", "x1,price,x2\n1,10.5,2\n3,20.25,4\n");
  const auto r = data::read_csv_regression<double>(file, {.target = "price"});
  BOOST_TEST(r.x.rows() == 2u);
  BOOST_TEST(r.x.cols() == 2u);
  BOOST_TEST(r.targets.rows() == 2u);
  BOOST_TEST(r.targets.cols() == 1u);
  BOOST_TEST(r.targets(1, 0) == 20.25);
  BOOST_TEST(r.x(1, 1) == 4.0);
  BOOST_TEST(r.target_name == "price");
  BOOST_TEST(r.feature_names == (std::vector<std::string>{"x1", "x2"}), boost::test_tools::per_element());
  // Unset: the last column.
  BOOST_TEST(data::read_csv_regression<double>(file).targets(0, 0) == 2.0);
  check_contains(csv_error([&] { (void)data::read_csv_regression<double>(dir.write("t.csv", "a,b\n1,x\n")); }),
                 {"line 2, column 2 ('b'): 'x' is not a number."});
}

BOOST_AUTO_TEST_CASE(quotes_line_ends_bom_blank_lines_and_spaces) {
  TempDir dir;
  // All at once: a byte-order mark, CRLF, quoted numbers, a quoted label with
  // a separator, an escaped quote and a line break, spaces around cells,
  // empty lines, no final line end.
  const fs::path file = dir.write("d.csv",
                                  "\xEF\xBB\xBF\"x\",y , \"name\"\r\n"
                                  "\r\n"
                                  " \"1.5\" , 2 ,\"a, \"\"b\"\"\"\r\n"
                                  "3,4,\"two\r\nlines\"\r\n"
                                  "\n"
                                  "5 ,  6,plain");
  const auto t = data::read_csv<float>(file, {.label = "name"});
  BOOST_TEST(t.feature_names == (std::vector<std::string>{"x", "y"}), boost::test_tools::per_element());
  BOOST_TEST(t.data.x.rows() == 3u);
  BOOST_TEST(row_of(t.data.x, 0) == (std::vector<float>{1.5f, 2.0f}), boost::test_tools::per_element());
  BOOST_TEST(row_of(t.data.x, 2) == (std::vector<float>{5.0f, 6.0f}), boost::test_tools::per_element());
  BOOST_TEST(t.class_names == (std::vector<std::string>{"a, \"b\"", "plain", "two\r\nlines"}),
             boost::test_tools::per_element());
  BOOST_TEST(t.data.labels == (std::vector<std::int32_t>{0, 2, 1}), boost::test_tools::per_element());
  // Line numbers count every physical line: the bad cell below is on line 7.
  const fs::path later = dir.write("l.csv", "a,name\r\n1,\"x\r\ny\"\r\n\r\n2,z\r\n3,\"\r\n\r\n\"\r\nq,w\r\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(later); }), {"line 9, column 1 ('a'): 'q' is not a number."});
  const fs::path cr = dir.write("cr.csv", "a,b\r1,2\r");
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(cr); }),
                 {"line 1: a carriage return (CR) without a line feed; lines must end in LF or CRLF."});
  const fs::path unclosed = dir.write("u.csv", "a,b\n1,\"2\n3,4\n");
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(unclosed); }),
                 {"line 2, column 2: a quoted cell is not closed before the end of the file."});
  const fs::path after = dir.write("q.csv", "a,b\n1,\"2\"x\n");
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(after); }),
                 {"line 2, column 2: text after the closing quote ('x\\x0a'); a quote inside a quoted cell is written "
                  "twice (\"\")."});
}

BOOST_AUTO_TEST_CASE(skip_rows) {
  TempDir dir;
  const fs::path file = dir.write("s.csv", "# exported by a tool, \"unbalanced\n# second comment; line\na,b\n1,2\n3,4\n");
  const auto m = data::read_csv_matrix<double>(file, {.skip_rows = 2});
  BOOST_TEST(m.column_names == (std::vector<std::string>{"a", "b"}), boost::test_tools::per_element());
  BOOST_TEST(m.values.rows() == 2u);
  check_contains(csv_error([&] { (void)data::read_csv_matrix<double>(file, {.skip_rows = 9}); }),
                 {".skip_rows is 9, but the file has 5 lines."});
  check_contains(csv_error([&] { (void)data::read_csv_matrix<double>(file, {.skip_rows = 5}); }),
                 {"has no data: it is empty after the skipped rows."});
  const fs::path bad = dir.write("b.csv", "junk\njunk\n1,2\nx,3\n");
  check_contains(csv_error([&] { (void)data::read_csv_matrix<double>(bad, {.skip_rows = 2}); }),
                 {"line 4, column 1: 'x' is not a number."});
}

BOOST_AUTO_TEST_CASE(numbers_as_from_chars_reads_them) {
  TempDir dir;
  const fs::path file = dir.write("n.csv", "+1,.5,-0,1e-3,2E+2,1e-50,1e-40,0.1\n");
  const auto f = data::read_csv_matrix<float>(file);
  const auto d = data::read_csv_matrix<double>(file);
  const std::vector<float> expected_f = {1.0f, 0.5f, -0.0f, 1e-3f, 200.0f, 0.0f, 1e-40f, 0.1f};
  const std::vector<double> expected_d = {1.0, 0.5, -0.0, 1e-3, 200.0, 1e-50, 1e-40, 0.1};
  BOOST_TEST(row_of(f.values, 0) == expected_f, boost::test_tools::per_element());
  BOOST_TEST(std::signbit(f.values(0, 2)));
  for (std::size_t j = 0; j < expected_d.size(); ++j) BOOST_TEST(d.values(0, j) == expected_d[j]);
  // Beyond float and beyond long double: too small rounds to 0, too large is
  // an error.
  BOOST_TEST(data::read_csv_matrix<double>(dir.write("t.csv", "1e-5000,-1e-400\n")).values(0, 1) == 0.0);
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(dir.write("o.csv", "a,b\n1,1e39\n")); }),
                 {"line 2, column 2 ('b'): '1e39' is beyond float's range."});
  check_contains(csv_error([&] { (void)data::read_csv_matrix<double>(dir.write("o2.csv", "1,-1e400\n")); }),
                 {"line 1, column 2: '-1e400' is beyond double's range."});
  check_contains(csv_error([&] { (void)data::read_csv_matrix<double>(dir.write("o3.csv", "1e5000\n")); }),
                 {"'1e5000' is beyond double's range."});
  for (const char* bad : {"1e", "0x10", "1.2.3", "--1", "+-1", "1 2", "one", "5e", "nan"}) {
    const fs::path b = dir.write("b.csv", std::string("7,") + bad + "\n");
    BOOST_TEST_CONTEXT(bad) {
      check_contains(csv_error([&] { (void)data::read_csv_matrix<double>(b, {.header = data::CsvHeader::none}); }),
                     {"line 1, column 2"});
    }
  }
}

BOOST_AUTO_TEST_CASE(nan_and_infinity_refused_unless_asked_for) {
  TempDir dir;
  const fs::path file = dir.write("n.csv", "a,b,c,d\n1,nan,-inf,Infinity\n");
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(file); }),
                 {"typenet: " + file.string() + ": line 2, column 2 ('b'): 'nan' is not a finite number (set "
                  ".allow_non_finite to read NaN and infinities)."});
  const auto m = data::read_csv_matrix<float>(file, {.allow_non_finite = true});
  BOOST_TEST(std::isnan(m.values(0, 1)));
  BOOST_TEST(m.values(0, 2) == -std::numeric_limits<float>::infinity());
  BOOST_TEST(m.values(0, 3) == std::numeric_limits<float>::infinity());
  // Markers of missing values are not numbers, asked for or not.
  const fs::path na = dir.write("na.csv", "a,b\n1,NA\n");
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(na, {.allow_non_finite = true}); }),
                 {"line 2, column 2 ('b'): 'NA' is not a number."});
}

BOOST_AUTO_TEST_CASE(ragged_empty_and_non_numeric_cells_name_line_and_column) {
  TempDir dir;
  struct Case {
    std::string text, expected;
  };
  const std::vector<Case> cases = {
      {"a,b,c\n1,2,3\n4,5\n", "line 3 has 2 cells where the header (line 1) has 3."},
      {"a,b,c\n1,2,3,4\n", "line 2 has 4 cells where the header (line 1) has 3."},
      {"1,2,3\n4,5,6\n7,8,9,\n", "line 3 has 4 cells where the first row (line 1) has 3."},
      {"a,b,c\n1,,3\n", "line 2, column 2 ('b') is empty."},
      {"a,b,c\n1,2,\n", "line 2, column 3 ('c') is empty."},
      {"a,b,c\n1,2,\"\"\n", "line 2, column 3 ('c') is empty."},
      {"a,b,c\n1,abc,3\n", "line 2, column 2 ('b'): 'abc' is not a number."},
      {"a,b,c\n1,2.5x ,3\n", "line 2, column 2 ('b'): '2.5x' is not a number."},
      {"a,b,c\n1,\"2 5\",3\n", "line 2, column 2 ('b'): '2 5' is not a number."},
      {"a,b\n1,\x01\n", "line 2, column 2 ('b'): '\\x01' is not a number."},
  };
  for (const Case& c : cases) {
    const fs::path file = dir.write("r.csv", c.text);
    BOOST_TEST_CONTEXT(c.text) {
      check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(file); }), {"typenet: " + file.string() + ": " + c.expected});
    }
  }
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(dir.write("e.csv", "")); }), {": is empty."});
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(dir.write("b.csv", "\n\r\n\n")); }),
                 {": has no data: it is empty."});
  check_contains(csv_error([&] { (void)data::read_csv_matrix<float>(dir.path / "none.csv"); }),
                 {"none.csv: cannot open: No such file or directory."});
}

BOOST_AUTO_TEST_CASE(bad_rows_dropped_when_asked) {
  TempDir dir;
  const fs::path file = dir.write("d.csv",
                                  "a,b,label\n"
                                  "1,2,x\n"      // line 2: kept
                                  "3,,y\n"       // 3: empty cell
                                  "4,5\n"        // 4: too few
                                  "6,7,x,9\n"    // 5: too many
                                  "oops,8,y\n"   // 6: not a number
                                  "9,\"1\n0\",y\n"  // 7-8: not a number (quoted, with a line break)
                                  "10,11,\n"     // 9: empty label
                                  "13,x\"y,z\n"  // 10: not a number (a quote inside is no quoted cell)
                                  "12,13,y\n");  // 11: kept
  const auto t = data::read_csv<float>(file, {.label = "label", .drop_bad_rows = true});
  BOOST_TEST(t.dropped_lines == (std::vector<std::size_t>{3, 4, 5, 6, 7, 9, 10}), boost::test_tools::per_element());
  BOOST_TEST(t.data.x.rows() == 2u);
  BOOST_TEST(row_of(t.data.x, 1) == (std::vector<float>{12, 13}), boost::test_tools::per_element());
  BOOST_TEST(t.data.labels == (std::vector<std::int32_t>{0, 1}), boost::test_tools::per_element());
  // Structure is still an error; and so is a file of nothing but bad rows.
  check_contains(csv_error([&] {
                   (void)data::read_csv_matrix<float>(dir.write("u.csv", "a,b\n1,2\n\"3,4\n"), {.drop_bad_rows = true});
                 }),
                 {"line 3, column 1: a quoted cell is not closed before the end of the file."});
  check_contains(csv_error([&] {
                   (void)data::read_csv_matrix<float>(dir.write("a.csv", "a,b\n1,x\n,2\n"), {.drop_bad_rows = true});
                 }),
                 {"has no data rows after its header (line 1). (2 were dropped as bad.)"});
}

// Every cell is parsed in place: the allocations of a read are the same
// for 10 rows and for 10,000.
BOOST_AUTO_TEST_CASE(no_allocation_per_cell) {
  TempDir dir;
  auto table = [&](std::size_t rows) {
    std::string text = "a,b,c,d,label\n";
    for (std::size_t i = 0; i < rows; ++i)
      text += std::to_string(i) + ".25,-1e-3,\"7\",3.5," + (i % 3 ? "cat" : "dog") + "\n";
    return dir.write("t" + std::to_string(rows) + ".csv", text);
  };
  const fs::path small = table(10), large = table(10000);
  auto allocations_of = [](auto&& read) {
    const std::size_t before = allocations.load();
    read();
    return allocations.load() - before;
  };
  const std::size_t a = allocations_of([&] { (void)data::read_csv<float>(small, {.label = "label"}); });
  const std::size_t b = allocations_of([&] { (void)data::read_csv<float>(large, {.label = "label"}); });
  BOOST_TEST_MESSAGE("allocations: " << a << " for 10 rows, " << b << " for 10000");
  // (The label vectors grow once, reserved for the rows.)
  BOOST_TEST(a == b);
  const auto t = data::read_csv<float>(large, {.label = "label"});
  BOOST_TEST(t.data.x(9999, 0) == 9999.25f);
  BOOST_TEST(t.data.x(9999, 2) == 7.0f);
}

// Doubles parse exactly as strtod: the nearest double to the text.
BOOST_AUTO_TEST_CASE(values_are_correctly_rounded) {
  TempDir dir;
  Rng rng(11);
  std::string text;
  std::vector<std::string> cells;
  for (int i = 0; i < 2000; ++i) {
    char cell[64];
    const double v = std::ldexp(rng.uniform(-1.0, 1.0), static_cast<int>(rng.below(200)) - 100);
    std::snprintf(cell, sizeof cell, i % 2 ? "%.17g" : "%.6e", v);
    cells.push_back(cell);
    text += cell;
    text += i % 4 == 3 ? "\n" : ",";
  }
  const auto d = data::read_csv_matrix<double>(dir.write("r.csv", text));
  const auto f = data::read_csv_matrix<float>(dir.path / "r.csv");
  BOOST_TEST_REQUIRE(d.values.rows() * d.values.cols() == cells.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    BOOST_TEST(d.values.data()[i] == std::strtod(cells[i].c_str(), nullptr));
    BOOST_TEST(f.values.data()[i] == std::strtof(cells[i].c_str(), nullptr));
  }
}

// Every prefix of a table and thousands of corruptions: CsvError or a
// read, never a crash or another exception.
BOOST_AUTO_TEST_CASE(corrupted_files_raise_only_csv_errors) {
  TempDir dir;
  const std::string source = "\xEF\xBB\xBFx;\"y\";name\r\n1.5;-2e3;\"a;b\"\r\n\r\n3;4;c\r\n5;6;\"d\"\"e\"\r\n";
  std::size_t rejected = 0, reads = 0;
  auto attempt = [&](const std::string& bytes) {
    const fs::path file = dir.write("f.csv", bytes);
    const std::vector<data::CsvOptions> options = {
        {}, {.label = "name"}, {.header = data::CsvHeader::none, .drop_bad_rows = true},
        {.label_kind = data::CsvLabelKind::names, .header = data::CsvHeader::sklearn}, {.allow_non_finite = true}};
    for (const auto& o : options) {
      ++reads;
      try {
        (void)data::read_csv<float>(file, o);
      } catch (const data::CsvError& e) {
        ++rejected;
        BOOST_TEST(std::string(e.what()).starts_with("typenet: " + file.string() + ": "));
      }
    }
    try {
      ++reads;
      (void)data::read_csv_matrix<double>(file, {.drop_bad_rows = true});
    } catch (const data::CsvError&) {
      ++rejected;
    }
  };
  for (std::size_t n = 0; n < source.size(); ++n) attempt(source.substr(0, n));
  Rng rng(5);
  const std::string alphabet = ",;\t\"\r\n .e-+0123456789naxy";
  for (int k = 0; k < 2000; ++k) {
    std::string b = source;
    for (std::size_t f = 0, flips = 1 + rng.below(4); f < flips; ++f)
      b[rng.below(b.size())] = k % 2 ? alphabet[rng.below(alphabet.size())] : static_cast<char>(rng.below(256));
    attempt(b);
  }
  BOOST_TEST_MESSAGE("csv corruptions: " << rejected << " of " << reads << " reads rejected with a CsvError");
  BOOST_TEST(rejected > 0u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- csv: writing

BOOST_AUTO_TEST_SUITE(csv_writing)

// What write_csv writes, read_csv reads back exactly: the shortest text of
// each value.
BOOST_AUTO_TEST_CASE(values_round_trip_exactly) {
  TempDir dir;
  Rng rng(2);
  Matrix<double> d(50, 4);
  Matrix<float> f(50, 4);
  for (std::size_t i = 0; i < 200; ++i) {
    d.data()[i] = std::ldexp(rng.uniform(-1.0, 1.0), static_cast<int>(rng.below(600)) - 300);
    f.data()[i] = static_cast<float>(std::ldexp(rng.uniform(-1.0, 1.0), static_cast<int>(rng.below(200)) - 100));
  }
  d(0, 0) = std::numeric_limits<double>::denorm_min();
  f(0, 0) = -0.0f;
  data::write_csv(dir.path / "d.csv", d, {.column_names = {"a", "b", "c", "d"}});
  data::write_csv(dir.path / "f.csv", f.view(), {.separator = ';'});
  const auto d_back = data::read_csv_matrix<double>(dir.path / "d.csv");
  const auto f_back = data::read_csv_matrix<float>(dir.path / "f.csv");
  BOOST_TEST(d_back.column_names == (std::vector<std::string>{"a", "b", "c", "d"}), boost::test_tools::per_element());
  BOOST_TEST(std::vector<double>(d_back.values.data(), d_back.values.data() + 200) ==
                 std::vector<double>(d.data(), d.data() + 200),
             boost::test_tools::per_element());
  BOOST_TEST(std::vector<float>(f_back.values.data(), f_back.values.data() + 200) ==
                 std::vector<float>(f.data(), f.data() + 200),
             boost::test_tools::per_element());
  BOOST_TEST(std::signbit(f_back.values(0, 0)));
  BOOST_TEST(contents(dir.path / "f.csv").find(';') != std::string::npos);
  // NaN and infinities: written as nan and inf, read back when asked for.
  Matrix<float> special(1, 3);
  special(0, 0) = std::numeric_limits<float>::quiet_NaN();
  special(0, 1) = -std::numeric_limits<float>::infinity();
  special(0, 2) = 1.5f;
  data::write_csv(dir.path / "s.csv", special);
  BOOST_TEST(contents(dir.path / "s.csv") == "nan,-inf,1.5\n");
  const auto s_back = data::read_csv_matrix<float>(dir.path / "s.csv", {.allow_non_finite = true});
  BOOST_TEST(std::isnan(s_back.values(0, 0)));
  BOOST_TEST(s_back.values(0, 1) == -std::numeric_limits<float>::infinity());
}

BOOST_AUTO_TEST_CASE(a_labelled_table_round_trips) {
  TempDir dir;
  const fs::path file = dir.write("t.csv",
                                  "x,\"y, z\",kind\n"
                                  "1.5,2,\"a, \"\"b\"\"\"\n"
                                  "3,4, plain\n"
                                  "5,6,\" spaced \"\n");
  const auto t = data::read_csv<float>(file);
  data::write_csv(dir.path / "back.csv", t);
  BOOST_TEST(contents(dir.path / "back.csv") ==
             "x,\"y, z\",kind\n1.5,2,\"a, \"\"b\"\"\"\n3,4,plain\n5,6,\" spaced \"\n");
  const auto back = data::read_csv<float>(dir.path / "back.csv");
  BOOST_TEST(back.class_names == t.class_names, boost::test_tools::per_element());
  BOOST_TEST(back.data.labels == t.data.labels, boost::test_tools::per_element());
  BOOST_TEST(back.feature_names == t.feature_names, boost::test_tools::per_element());
  BOOST_TEST(back.label_name == "kind");
  // Integer labels without names or a header: ids, no header.
  const auto ids = data::read_csv<double>(dir.write("i.csv", "0.25,3\n-1,0\n"));
  data::write_csv(dir.path / "i_back.csv", ids);
  BOOST_TEST(contents(dir.path / "i_back.csv") == "0.25,3\n-1,0\n");
}

BOOST_AUTO_TEST_CASE(writing_errors) {
  TempDir dir;
  Matrix<float> x(2, 2);
  check_contains(csv_error([&] { data::write_csv(dir.path / "a.csv", x, {.column_names = {"only"}}); }),
                 {"typenet: " + (dir.path / "a.csv").string() + ": write_csv: 1 column names for 2 columns."});
  check_contains(csv_error([&] { data::write_csv(dir.path / "a.csv", x, {.separator = '.'}); }),
                 {"write_csv: .separator '.' cannot separate numbers"});
  data::LabelledTable<float> t;
  t.data = data::LabelledData<float>{Matrix<float>(2, 1), {0, 2}};
  t.class_names = {"no", "yes"};
  check_contains(csv_error([&] { data::write_csv(dir.path / "t.csv", t); }),
                 {"write_csv: the label 2 has no class name (the table names 2 classes)."});
  t.data.labels = {0};
  check_contains(csv_error([&] { data::write_csv(dir.path / "t.csv", t); }), {"write_csv: 2 rows but 1 labels."});
  BOOST_TEST(!fs::exists(dir.path / "a.csv"));
  BOOST_TEST(!fs::exists(dir.path / "t.csv"));
  // Atomic: a directory in the way stays, and no temporary file is left.
  fs::create_directory(dir.path / "d.csv");
  check_contains(csv_error([&] { data::write_csv(dir.path / "d.csv", x); }),
                 {"cannot save (the existing file is untouched): renaming "});
  BOOST_TEST(dir.entries() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- scikit-learn's tables

namespace {

// Debian's python3-sklearn ships them; without it these cases are skipped.
const fs::path sklearn_data = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

struct SklearnPresent {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result r(fs::exists(sklearn_data / "breast_cancer.csv"));
    r.message() << "scikit-learn's tables are not in " << sklearn_data.string()
                << " (Debian: apt-get install python3-sklearn)";
    return r;
  }
};

std::vector<std::size_t> class_counts(const std::vector<std::int32_t>& labels) {
  std::vector<std::size_t> counts;
  for (const std::int32_t l : labels) {
    if (static_cast<std::size_t>(l) >= counts.size()) counts.resize(static_cast<std::size_t>(l) + 1);
    ++counts[static_cast<std::size_t>(l)];
  }
  return counts;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sklearn_tables, *boost::unit_test::precondition(SklearnPresent{}))

// As sklearn.datasets.load_breast_cancer(), load_iris(), load_wine().
BOOST_AUTO_TEST_CASE(classification_tables) {
  struct Case {
    std::string file;
    std::size_t rows, features;
    std::vector<std::string> names;
    std::vector<std::size_t> counts;
    std::vector<float> last_row_start;
  };
  const std::vector<Case> cases = {
      {"breast_cancer.csv", 569, 30, {"malignant", "benign"}, {212, 357}, {7.76f, 24.54f, 47.92f}},
      {"iris.csv", 150, 4, {"setosa", "versicolor", "virginica"}, {50, 50, 50}, {5.9f, 3.0f, 5.1f}},
      {"wine_data.csv", 178, 13, {"class_0", "class_1", "class_2"}, {59, 71, 48}, {14.13f, 4.1f, 2.74f}},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.file) {
      for (const auto header : {data::CsvHeader::detect, data::CsvHeader::sklearn}) {
        const auto t = data::read_csv<float>(sklearn_data / c.file, {.header = header});
        BOOST_TEST(t.data.x.rows() == c.rows);
        BOOST_TEST(t.data.x.cols() == c.features);
        BOOST_TEST(t.class_names == c.names, boost::test_tools::per_element());
        BOOST_TEST(class_counts(t.data.labels) == c.counts, boost::test_tools::per_element());
        for (std::size_t j = 0; j < 3; ++j) BOOST_TEST(t.data.x(c.rows - 1, j) == c.last_row_start[j]);
        BOOST_TEST(t.feature_names.empty());
      }
    }
  }
}

// boston_house_prices.csv: the counts line, then a row of names.
BOOST_AUTO_TEST_CASE(a_regression_table_with_column_names) {
  const auto r = data::read_csv_regression<double>(sklearn_data / "boston_house_prices.csv", {.target = "MEDV"});
  BOOST_TEST(r.x.rows() == 506u);
  BOOST_TEST(r.x.cols() == 13u);
  BOOST_TEST(r.feature_names.front() == "CRIM");
  BOOST_TEST(r.feature_names.back() == "LSTAT");
  BOOST_TEST(r.x(0, 0) == 0.00632);
  BOOST_TEST(r.targets(0, 0) == 24.0);
  BOOST_TEST(r.targets(505, 0) == 11.9);
  BOOST_TEST(data::read_csv_regression<double>(sklearn_data / "boston_house_prices.csv").targets(505, 0) == 11.9);
}

BOOST_AUTO_TEST_SUITE_END()

// The counts line's checks, on tables written here.
BOOST_AUTO_TEST_CASE(sklearn_counts_line_errors) {
  TempDir dir;
  const fs::path fewer = dir.write("f.csv", "3,2,no,yes\n1,2,0\n3,4,1\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(fewer); }),
                 {"typenet: " + fewer.string() + ": its first line says 3 samples (scikit-learn's counts line), but 2 "
                  "data rows follow."});
  const fs::path unnamed = dir.write("u.csv", "2,2,no,yes\n1,2,0\n3,4,2\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(unnamed); }),
                 {"line 3, column 3: the label 2 has no name: the first line names 2 classes."});
  const fs::path not_counts = dir.write("n.csv", "a,b,c\n1,2,0\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(not_counts, {.header = data::CsvHeader::sklearn}); }),
                 {"line 1 is not scikit-learn's counts line (samples, features, class names...): it starts 'a', 'b'."});
  const fs::path width = dir.write("w.csv", "2,3,no,yes\n1,2,0\n3,4,1\n");
  check_contains(csv_error([&] { (void)data::read_csv<float>(width, {.header = data::CsvHeader::sklearn}); }),
                 {"line 1 says 3 features (scikit-learn's counts line), so rows of 4 cells with the label, but line 2 "
                  "has 3."});
  // Not a counts line by its shape (6 features, rows of 3): a plain table.
  const auto plain = data::read_csv<float>(dir.write("p.csv", "5,6,x\n1,2,y\n"));
  BOOST_TEST(plain.data.x.rows() == 2u);
  BOOST_TEST(plain.class_names == (std::vector<std::string>{"x", "y"}), boost::test_tools::per_element());
}
