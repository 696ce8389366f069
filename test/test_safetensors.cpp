// safetensors: the format's own examples byte for byte (the reference
// implementation's tests, huggingface/safetensors: safetensors/src/tensor.rs
// and bindings/python/tests/test_simple.py), written and read; every check
// the format requires, each refused with a message naming the problem;
// models saved and loaded under PyTorch's names and layouts, float and
// double, F16 and BF16 read; the Linear bias before BatchNorm folded into
// the running mean; name maps; every mismatch listed in one error before
// anything changes; and failed saves leaving the old file.
#define BOOST_TEST_MODULE safetensors
#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "typenet/io/safetensors.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void write_file(const fs::path& p, const Bytes& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

struct ScratchDirectory {
  fs::path path;
  ScratchDirectory() {
    std::string pattern = (fs::temp_directory_path() / "typenet-safetensors-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::size_t entry_count() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
  }
};

// The message of the SafetensorsError `f` throws (fails the test if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const SafetensorsError& e) {
    return e.what();
  }
  BOOST_FAIL("no SafetensorsError");
  return {};
}
std::string parse_error(std::string_view file) {
  return error_of([&] { (void)parse_safetensors("example.safetensors", bytes_of(file)); });
}
bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

using namespace std::string_literals;
using namespace std::string_view_literals;
// The reference implementation's tensor "test": I32 [2, 2], zeros.
constexpr auto test_i32 =
    "<\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"sv;
const std::string zeros16(16, '\0');

}  // namespace

// ------------------------------------------------------------ the format's own examples
BOOST_AUTO_TEST_SUITE(format_examples)

// tensor.rs test_serialization: "attn.0", F32 [1, 2, 3], 0..5.
BOOST_AUTO_TEST_CASE(writes_the_reference_serialization) {
  const Bytes expected = {64,  0,   0,   0,   0,   0,   0,   0,   123, 34,  97,  116, 116, 110, 46,  48,  34,  58,
                          123, 34,  100, 116, 121, 112, 101, 34,  58,  34,  70,  51,  50,  34,  44,  34,  115, 104,
                          97,  112, 101, 34,  58,  91,  49,  44,  50,  44,  51,  93,  44,  34,  100, 97,  116, 97,
                          95,  111, 102, 102, 115, 101, 116, 115, 34,  58,  91,  48,  44,  50,  52,  93,  125, 125,
                          0,   0,   0,   0,   0,   0,   128, 63,  0,   0,   0,   64,  0,   0,   64,  64,  0,   0,
                          128, 64,  0,   0,   160, 64};
  const std::vector<float> values{0, 1, 2, 3, 4, 5};
  const Bytes out = encode_safetensors({make_safetensor<float>("attn.0", {1, 2, 3}, std::span<const float>(values))});
  BOOST_TEST(out == expected, boost::test_tools::per_element());
  const SafetensorsFile f = parse_safetensors("attn.safetensors", out);
  BOOST_REQUIRE_EQUAL(f.tensors.size(), 1u);
  BOOST_TEST(tensor_values<float>(f, f.tensors[0]) == values, boost::test_tools::per_element());
}

// tensor.rs test_serialization_forced_alignement: the header padded with
// spaces so that the data starts at a multiple of 8.
BOOST_AUTO_TEST_CASE(pads_the_header_to_eight_bytes) {
  const Bytes expected = {72,  0,   0,   0,   0,   0,   0,   0,   123, 34,  97,  116, 116, 110, 48,  34,  58,  123,
                          34,  100, 116, 121, 112, 101, 34,  58,  34,  70,  51,  50,  34,  44,  34,  115, 104, 97,
                          112, 101, 34,  58,  91,  49,  44,  49,  44,  50,  44,  51,  93,  44,  34,  100, 97,  116,
                          97,  95,  111, 102, 102, 115, 101, 116, 115, 34,  58,  91,  48,  44,  50,  52,  93,  125,
                          125, 32,  32,  32,  32,  32,  32,  32,  0,   0,   0,   0,   0,   0,   128, 63,  0,   0,
                          0,   64,  0,   0,   64,  64,  0,   0,   128, 64,  0,   0,   160, 64};
  const std::vector<float> values{0, 1, 2, 3, 4, 5};
  const Bytes out =
      encode_safetensors({make_safetensor<float>("attn0", {1, 1, 2, 3}, std::span<const float>(values))});
  BOOST_TEST(out == expected, boost::test_tools::per_element());
}

// tensor.rs test_empty: no tensors, with and without metadata.
BOOST_AUTO_TEST_CASE(writes_the_reference_empty_files) {
  const Bytes empty = {8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32};
  BOOST_TEST(encode_safetensors({}) == empty, boost::test_tools::per_element());
  const Bytes with_metadata = {40,  0,   0,   0,   0,   0,   0,   0,   123, 34,  95,  95,  109, 101, 116, 97,
                               100, 97,  116, 97,  95,  95,  34,  58,  123, 34,  102, 114, 97,  109, 101, 119,
                               111, 114, 107, 34,  58,  34,  112, 116, 34,  125, 125, 32,  32,  32,  32,  32};
  BOOST_TEST(encode_safetensors({}, {{"framework", "pt"}}) == with_metadata, boost::test_tools::per_element());
  BOOST_TEST(parse_safetensors("empty", with_metadata).metadata.at("framework") == "pt");
}

// test_simple.py test_deserialization and tensor.rs test_deserialization.
BOOST_AUTO_TEST_CASE(reads_the_reference_file) {
  const SafetensorsFile f = parse_safetensors("test", bytes_of(std::string(test_i32) + zeros16));
  BOOST_REQUIRE_EQUAL(f.tensors.size(), 1u);
  const SafetensorsTensor& t = f.tensors[0];
  BOOST_TEST(t.name == "test");
  BOOST_TEST((t.dtype == SafetensorsDtype::I32));
  BOOST_TEST(t.shape == (std::vector<std::uint64_t>{2, 2}), boost::test_tools::per_element());
  BOOST_TEST(f.data(t).size() == 16u);
  BOOST_TEST(tensor_values<std::int32_t>(f, t) == (std::vector<std::int32_t>{0, 0, 0, 0}),
             boost::test_tools::per_element());
  BOOST_TEST(f.metadata.empty());
  // test_simple.py test_serialization: the same file written from values, then
  // with [1, 1] = 1; the header padded to 64 bytes, as the reference writer
  // now pads it (its Python test's bytes predate the padding).
  std::vector<std::int32_t> values{0, 0, 0, 0};
  const std::string padded = "@" + std::string(test_i32.substr(1)) + "    " + zeros16;
  BOOST_TEST(encode_safetensors({make_safetensor<std::int32_t>("test", {2, 2}, std::span<const std::int32_t>(values))}) ==
                 bytes_of(padded),
             boost::test_tools::per_element());
  values[3] = 1;
  std::string with_one = padded;
  with_one[with_one.size() - 4] = '\x01';
  BOOST_TEST(encode_safetensors({make_safetensor<std::int32_t>("test", {2, 2}, std::span<const std::int32_t>(values))}) ==
                 bytes_of(with_one),
             boost::test_tools::per_element());
}

// test_simple.py: metadata before the tensor, the header padded with spaces.
BOOST_AUTO_TEST_CASE(reads_the_reference_metadata) {
  const std::string file =
      "f\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\":{\"framework\":\"pt\"},\"test1\":{\"dtype\":\"I32\",\"shape\":"
      "[2,2],\"data_offsets\":[0,16]}}       "s +
      zeros16;
  const SafetensorsFile f = parse_safetensors("test", bytes_of(file));
  BOOST_TEST(f.metadata.at("framework") == "pt");
  BOOST_REQUIRE_EQUAL(f.tensors.size(), 1u);
  BOOST_TEST(f.tensors[0].name == "test1");
}

// tensor.rs: a scalar (shape []), a zero-sized tensor, JSON whitespace after the object.
BOOST_AUTO_TEST_CASE(reads_scalars_empty_tensors_and_padding) {
  const SafetensorsFile scalar = parse_safetensors(
      "scalar", bytes_of("8\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,"
                         "4]}}\x00\x00\x00\x00"sv));
  BOOST_TEST(scalar.tensors.at(0).shape.empty());
  BOOST_TEST(scalar.tensors.at(0).element_count() == 1u);
  const SafetensorsFile empty = parse_safetensors(
      "empty", bytes_of("<\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":"
                        "[0, 0]}}"sv));
  BOOST_TEST(empty.tensors.at(0).element_count() == 0u);
  BOOST_TEST(parse_safetensors("padded", bytes_of("\x06\x00\x00\x00\x00\x00\x00\x00{}\x0D\x20\x09\x0A"sv)).tensors.empty());
}

// tensor.rs's refusals, each with its reason.
BOOST_AUTO_TEST_CASE(refuses_what_the_reference_refuses) {
  std::string e = parse_error("");
  BOOST_TEST(contains(e, "typenet: example.safetensors: too short for a safetensors file: 0 bytes"), e);
  e = parse_error("<\x00\x00\x00\x00\x00\x00\x00"sv);
  BOOST_TEST(contains(e, "the header's size field says 60 bytes, but the file has only 0 after it"), e);
  e = parse_error("<\x00\x00\x00\x00\xff\xff\xff{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"s +
                  zeros16);
  BOOST_TEST(contains(e, "the format allows at most 100000000 (100 MB)"), e);
  e = parse_error("\x01\x00\x00\x00\x00\x00\x00\x00\xff"sv);
  BOOST_TEST(contains(e, "does not start with '{'"), e);
  e = parse_error("\x01\x00\x00\x00\x00\x00\x00\x00{"sv);
  BOOST_TEST(contains(e, "the header is not well-formed JSON"), e);
  // The data must end where the file ends: bytes after it, or too few.
  e = parse_error(std::string(test_i32) + zeros16 + "extra_bogus_data_for_polyglot_file");
  BOOST_TEST(contains(e, "34 more bytes follow (the data must end where the file ends)"), e);
  e = parse_error(std::string(test_i32) + zeros16.substr(2));
  BOOST_TEST(contains(e, "tensor 'test': data_offsets [0, 16] reach past the end of the file (its data section has 14 bytes)"),
             e);
  // Size against shape and dtype.
  e = parse_error("<\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0, 4]}}"sv);
  BOOST_TEST(contains(e, "tensor 'test': data_offsets [0, 4] hold 4 bytes, but I32 [2, 2] takes 16"), e);
  // Overflow of the element count, and of the byte count.
  e = parse_error("O\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,18446744073709551614],"
                  "\"data_offsets\":[0,16]}}"s +
                  zeros16);
  BOOST_TEST(contains(e, "has more bytes than 2^64"), e);
  e = parse_error("N\x00\x00\x00\x00\x00\x00\x00{\"test\":{\"dtype\":\"I32\",\"shape\":[2,9223372036854775807],"
                  "\"data_offsets\":[0,16]}}"s +
                  zeros16);
  BOOST_TEST(contains(e, "has more bytes than 2^64"), e);
}

// tensor.rs test_json_attack: ten tensors all claiming bytes [0, 16].
BOOST_AUTO_TEST_CASE(refuses_overlapping_tensors) {
  std::string header = "{";
  for (int i = 0; i < 10; ++i)
    header += (i ? "," : "") + ("\"weight_" + std::to_string(i)) +
              "\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";
  header += "}";
  Bytes file(8);
  for (int i = 0; i < 8; ++i) file[static_cast<std::size_t>(i)] = static_cast<unsigned char>(header.size() >> (8 * i));
  file.insert(file.end(), header.begin(), header.end());
  file.insert(file.end(), 16, 0);
  const std::string e = error_of([&] { (void)parse_safetensors("attack", file); });
  BOOST_TEST(contains(e, "overlap the tensor before it, which ends at 16"), e);
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------ the format's other rules
BOOST_AUTO_TEST_SUITE(format_rules)

Bytes with_header(const std::string& header, std::size_t data_bytes) {
  Bytes file(8);
  for (int i = 0; i < 8; ++i) file[static_cast<std::size_t>(i)] = static_cast<unsigned char>(header.size() >> (8 * i));
  file.insert(file.end(), header.begin(), header.end());
  file.insert(file.end(), data_bytes, 0);
  return file;
}
std::string header_error(const std::string& header, std::size_t data_bytes) {
  return error_of([&] { (void)parse_safetensors("rules.safetensors", with_header(header, data_bytes)); });
}

BOOST_AUTO_TEST_CASE(each_rule_has_its_sentence) {
  auto e = header_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
  BOOST_TEST(contains(e, "tensor 'a': data_offsets [4, 8] leave a gap after byte 0 (the offsets must be contiguous from 0)"),
             e);
  e = header_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                   8);
  BOOST_TEST(contains(e, "the header names 'a' twice"), e);
  e = header_error(R"({"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}})", 4);
  BOOST_TEST(contains(e, "tensor 'a': unknown dtype 'F31'"), e);
  e = header_error(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4);
  BOOST_TEST(contains(e, "tensor 'a': the shape [-1] holds a non-integer or negative size"), e);
  e = header_error(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4);
  BOOST_TEST(contains(e, "holds a non-integer or negative size"), e);
  e = header_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4);
  BOOST_TEST(contains(e, "data_offsets [4, 0] end before they begin"), e);
  e = header_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4);
  BOOST_TEST(contains(e, "data_offsets is not a pair of non-negative integers"), e);
  e = header_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}})", 4);
  BOOST_TEST(contains(e, "tensor 'a': unknown field 'extra'"), e);
  e = header_error(R"({"a":[1]})", 0);
  BOOST_TEST(contains(e, "tensor 'a': its entry is not a JSON object"), e);
  e = header_error(R"({"__metadata__":{"k":1}})", 0);
  BOOST_TEST(contains(e, "__metadata__ 'k' is 1; its values must be strings"), e);
  e = header_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})", 4);
  BOOST_TEST(contains(e, "not well-formed JSON"), e);
  e = header_error(" {}", 0);
  BOOST_TEST(contains(e, "does not start with '{'"), e);
  e = header_error("{\"\xff\":1}", 0);
  BOOST_TEST(contains(e, "not well-formed JSON"), e);  // ill-formed UTF-8
}

BOOST_AUTO_TEST_CASE(the_header_size_is_checked_before_the_file_is_read) {
  ScratchDirectory dir;
  // A size field of 2^40 in an 8-byte file: refused without allocating it.
  write_file(dir.path / "huge", Bytes{0, 0, 0, 0, 0, 1, 0, 0});
  const std::string e = error_of([&] { (void)read_safetensors(dir.path / "huge"); });
  BOOST_TEST(contains(e, "the header's size field says 1099511627776 bytes; the format allows at most"), e);
  BOOST_TEST(contains(error_of([&] { (void)read_safetensors(dir.path / "absent"); }), "absent: cannot open: No such file"));
  BOOST_TEST(contains(error_of([&] { (void)read_safetensors(dir.path); }), "not a regular file"));
}

BOOST_AUTO_TEST_CASE(reads_every_float_dtype_and_integers) {
  // F16: 1, -2, 0.5, 65504 (the largest), 2^-24 (the smallest subnormal), 1/3 rounded (0x3555).
  // BF16: 1, -2, 0.333984375 (0x3EAB).
  const Bytes f16 = {0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0xFF, 0x7B, 0x01, 0x00, 0x55, 0x35};
  const Bytes bf16 = {0x80, 0x3F, 0x00, 0xC0, 0xAB, 0x3E};
  const Bytes i8 = {0xFF, 0x80, 0x7F};
  const Bytes file = encode_safetensors({{"h", SafetensorsDtype::F16, {6}, f16},
                                         {"b", SafetensorsDtype::BF16, {3}, bf16},
                                         {"i", SafetensorsDtype::I8, {3}, i8}});
  const SafetensorsFile f = parse_safetensors("dtypes", file);
  BOOST_TEST(tensor_values<float>(f, *f.find("h")) ==
                 (std::vector<float>{1.0f, -2.0f, 0.5f, 65504.0f, std::ldexp(1.0f, -24), 0.333251953125f}),
             boost::test_tools::per_element());
  BOOST_TEST(tensor_values<double>(f, *f.find("b")) == (std::vector<double>{1.0, -2.0, 0.333984375}),
             boost::test_tools::per_element());
  BOOST_TEST(tensor_values<int>(f, *f.find("i")) == (std::vector<int>{-1, -128, 127}), boost::test_tools::per_element());
  BOOST_TEST(contains(error_of([&] { (void)tensor_values<unsigned>(f, *f.find("i")); }),
                      "tensor 'i' element 0 (-1) does not fit the integer type it is read as"));
  BOOST_TEST(contains(error_of([&] { (void)tensor_values<float>(f, *f.find("i")); }),
                      "tensor 'i' is I8; expected floating-point values"));
  // Infinity and NaN in half precision are read as such.
  const Bytes special = encode_safetensors({{"s", SafetensorsDtype::F16, {2}, {0x00, 0x7C, 0x01, 0xFE}}});
  const SafetensorsFile s = parse_safetensors("special", special);
  const auto v = tensor_values<float>(s, s.tensors[0]);
  BOOST_TEST(std::isinf(v[0]));
  BOOST_TEST(std::isnan(v[1]));
}

BOOST_AUTO_TEST_CASE(the_writer_refuses_inconsistent_tensors) {
  BOOST_CHECK_THROW(encode_safetensors({{"a", SafetensorsDtype::F32, {2}, Bytes(4)}}), std::invalid_argument);
  BOOST_CHECK_THROW(encode_safetensors({{"a", SafetensorsDtype::F32, {1}, Bytes(4)}, {"a", SafetensorsDtype::F32, {1}, Bytes(4)}}),
                    std::invalid_argument);
  BOOST_CHECK_THROW(encode_safetensors({{"__metadata__", SafetensorsDtype::F32, {1}, Bytes(4)}}), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

// ------------------------------------------------------------ models
BOOST_AUTO_TEST_SUITE(models)

using Mixed = Sequential<Input<3>, Linear<4>, BatchNorm<>, ReLU, Linear<5>, LayerNorm<>, Tanh, Dropout<0.25f>,
                         Linear<6>, RMSNorm<>, GELU, Linear<2, false>, Softmax>;

template <class Net, class T>
void perturb(Model<Net, T>& m, std::uint64_t seed) {
  Rng rng(seed);
  for (T& p : m.parameters()) p += static_cast<T>(0.3 * rng.normal());
  for (T& s : m.state()) s = static_cast<T>(0.5 + rng.uniform(0.0, 1.0));
}

template <class T>
void round_trip() {
  ScratchDirectory dir;
  Model<Mixed, T> a(Init::torch_default, 1);
  perturb(a, 2);
  a.set_dropout_step(37);
  save_safetensors(dir.path / "mixed.safetensors", a);
  Model<Mixed, T> b(Init::torch_default, 5);
  load_safetensors(dir.path / "mixed.safetensors", b);
  BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  BOOST_TEST(std::equal(a.state().begin(), a.state().end(), b.state().begin()));
  BOOST_TEST(b.dropout_step() == 37u);
  // Saving what was loaded gives the same bytes.
  save_safetensors(dir.path / "again.safetensors", b);
  BOOST_TEST(read_file(dir.path / "mixed.safetensors") == read_file(dir.path / "again.safetensors"));
  BOOST_TEST(dir.entry_count() == 2u);  // no temporary file left
}
BOOST_AUTO_TEST_CASE(round_trip_float) { round_trip<float>(); }
BOOST_AUTO_TEST_CASE(round_trip_double) { round_trip<double>(); }

BOOST_AUTO_TEST_CASE(names_and_layouts_are_pytorchs) {
  ScratchDirectory dir;
  Model<Mixed, float> m(Init::torch_default, 3);
  perturb(m, 4);
  m.set_dropout_step(12);
  save_safetensors(dir.path / "m.safetensors", m);
  const SafetensorsFile f = read_safetensors(dir.path / "m.safetensors");
  std::vector<std::string> names;
  for (const SafetensorsTensor& t : f.tensors) names.push_back(t.name + " " + std::string(to_string(t.dtype)) + " " +
                                                                shape_string(t.shape));
  // The reference writer's order: I64 first, then the F32 tensors by name.
  // (Dropout is module 6, so the Linear after it is 7.)
  const std::vector<std::string> expected{
      "1.num_batches_tracked I64 []", "0.bias F32 [4]",    "0.weight F32 [4, 3]", "1.bias F32 [4]",
      "1.running_mean F32 [4]",       "1.running_var F32 [4]", "1.weight F32 [4]", "10.weight F32 [2, 6]",
      "3.bias F32 [5]",               "3.weight F32 [5, 4]", "4.bias F32 [5]",     "4.weight F32 [5]",
      "7.bias F32 [6]",               "7.weight F32 [6, 5]", "8.weight F32 [6]"};
  BOOST_TEST(names == expected, boost::test_tools::per_element());
  BOOST_TEST(f.metadata.at("typenet_network") == Mixed::name());
  BOOST_TEST(f.metadata.at("typenet_version") == std::string(version));
  BOOST_TEST(f.metadata.at("format") == "pt");
  // Linear's weight transposed: torch's [out, in] element (j, i) is typenet's (i, j).
  const auto w = tensor_values<float>(f, *f.find("3.weight"));
  const MatrixView<float> ours = m.weight<1>();
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 5; ++j) BOOST_TEST(w[j * 4 + i] == ours(i, j));
  // The cancelled bias is zeros, the count is the model's step.
  for (float b : tensor_values<float>(f, *f.find("0.bias"))) BOOST_TEST(b == 0.0f);
  BOOST_TEST(tensor_values<std::int64_t>(f, *f.find("1.num_batches_tracked"))[0] == 12);
  const auto rm = tensor_values<float>(f, *f.find("1.running_mean"));
  for (std::size_t j = 0; j < 4; ++j) BOOST_TEST(rm[j] == m.running_mean<0>()[j]);
  const auto gamma = tensor_values<float>(f, *f.find("8.weight"));
  for (std::size_t j = 0; j < 6; ++j) BOOST_TEST(gamma[j] == m.gamma<2>()[j]);
}

BOOST_AUTO_TEST_CASE(saves_as_the_other_dtype) {
  ScratchDirectory dir;
  Model<Mixed, double> d(Init::torch_default, 7);
  save_safetensors(dir.path / "f32.safetensors", d, {.dtype = SafetensorsDtype::F32});
  const SafetensorsFile f = read_safetensors(dir.path / "f32.safetensors");
  BOOST_TEST((f.find("0.weight")->dtype == SafetensorsDtype::F32));
  Model<Mixed, float> m(Init::torch_default, 8);
  load_safetensors(dir.path / "f32.safetensors", m);
  for (std::size_t i = 0; i < m.parameters().size(); ++i)
    BOOST_TEST(m.parameters()[i] == static_cast<float>(d.parameters()[i]));
  // F64 into float rounds once; F32 into double is exact.
  save_safetensors(dir.path / "f64.safetensors", d);
  load_safetensors(dir.path / "f64.safetensors", m);
  for (std::size_t i = 0; i < m.parameters().size(); ++i)
    BOOST_TEST(m.parameters()[i] == static_cast<float>(d.parameters()[i]));
  BOOST_TEST(contains(error_of([&] { save_safetensors(dir.path / "x", d, {.dtype = SafetensorsDtype::F16}); }),
                      "cannot save as F16: typenet writes F32 or F64"));
}

// A PyTorch nn.Linear(3, 4) with a bias, then BatchNorm1d(4): the bias is
// folded into the running mean, and evaluation gives PyTorch's formula.
BOOST_AUTO_TEST_CASE(folds_the_bias_before_batchnorm) {
  using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>>;
  ScratchDirectory dir;
  const std::vector<float> w{0.5f, -1, 2, 0.25f, 1, 1, -0.5f, 0.75f, 0, 3, -2, 1};  // [4, 3]
  const std::vector<float> b{0.1f, -0.2f, 0.3f, 4.0f}, gamma{1, 2, 0.5f, -1}, beta{0, 0.1f, -0.3f, 2};
  const std::vector<float> mean{0.2f, 0.1f, -1, 3}, var{1, 0.5f, 2, 0.25f};
  const std::int64_t count = 9;
  auto tensor = [](const char* name, std::vector<std::uint64_t> shape, const std::vector<float>& v) {
    return make_safetensor<float>(name, std::move(shape), std::span<const float>(v));
  };
  write_safetensors(dir.path / "torch.safetensors",
                    {tensor("0.weight", {4, 3}, w), tensor("0.bias", {4}, b), tensor("1.weight", {4}, gamma),
                     tensor("1.bias", {4}, beta), tensor("1.running_mean", {4}, mean), tensor("1.running_var", {4}, var),
                     make_safetensor<std::int64_t>("1.num_batches_tracked", {}, std::span<const std::int64_t>(&count, 1))});
  Model<Net, float> m;
  load_safetensors(dir.path / "torch.safetensors", m);
  for (std::size_t j = 0; j < 4; ++j) BOOST_TEST(m.running_mean<0>()[j] == mean[j] - b[j]);
  BOOST_TEST(m.dropout_step() == 9u);
  Matrix<float> x(2, 3);
  const float xs[6] = {1, -2, 0.5f, 0.25f, 3, -1};
  std::copy(xs, xs + 6, x.data());
  const auto y = m.forward(x.view(), Mode::eval);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 4; ++j) {
      double z = b[j];
      for (std::size_t k = 0; k < 3; ++k) z += static_cast<double>(xs[i * 3 + k]) * w[j * 3 + k];
      const double expected = gamma[j] * (z - mean[j]) / std::sqrt(var[j] + 1e-5) + beta[j];
      BOOST_TEST(y(i, j) == expected, boost::test_tools::tolerance(1e-5));
    }
  // Without the bias (nn.Linear(3, 4, bias=False)) it loads as it is.
  write_safetensors(dir.path / "no-bias.safetensors",
                    {tensor("0.weight", {4, 3}, w), tensor("1.weight", {4}, gamma), tensor("1.bias", {4}, beta),
                     tensor("1.running_mean", {4}, mean), tensor("1.running_var", {4}, var),
                     make_safetensor<std::int64_t>("1.num_batches_tracked", {}, std::span<const std::int64_t>(&count, 1))});
  load_safetensors(dir.path / "no-bias.safetensors", m);
  for (std::size_t j = 0; j < 4; ++j) BOOST_TEST(m.running_mean<0>()[j] == mean[j]);
}

BOOST_AUTO_TEST_CASE(name_maps) {
  using Net = Sequential<Input<2>, Linear<3>, BatchNorm<>, ReLU, Linear<1>>;
  ScratchDirectory dir;
  Model<Net, float> a(Init::torch_default, 1);
  perturb(a, 3);
  const SafetensorsNames names{.prefix = "net.", .modules = {"fc1", "bn1", "act", "fc2"}};
  save_safetensors(dir.path / "named.safetensors", a, {.names = names});
  const SafetensorsFile f = read_safetensors(dir.path / "named.safetensors");
  for (const char* n : {"net.fc1.weight", "net.fc1.bias", "net.bn1.weight", "net.bn1.bias", "net.bn1.running_mean",
                        "net.bn1.running_var", "net.bn1.num_batches_tracked", "net.fc2.weight", "net.fc2.bias"})
    BOOST_TEST(f.find(n) != nullptr, n);
  BOOST_TEST(f.tensors.size() == 9u);
  Model<Net, float> b(Init::torch_default, 2);
  load_safetensors(dir.path / "named.safetensors", b, {.names = names});
  BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  BOOST_TEST(std::equal(a.state().begin(), a.state().end(), b.state().begin()));
  // Without the map every tensor is unexpected and every one of ours missing.
  const std::string e = error_of([&] { load_safetensors(dir.path / "named.safetensors", b); });
  BOOST_TEST(contains(e, "missing: 0.weight, 1.weight, 1.bias, 1.running_mean, 1.running_var, 1.num_batches_tracked, "
                         "3.weight, 3.bias"),
             e);
  BOOST_TEST(contains(e, "unexpected: net.bn1.num_batches_tracked (I64 []), net.bn1.bias (F32 [3])"), e);
  const std::string count = error_of([&] {
    load_safetensors(dir.path / "named.safetensors", b, {.names = {.modules = {"fc1", "bn1", "fc2"}}});
  });
  BOOST_TEST(contains(count, "the name map gives 3 module names; " + Net::name() + " has 4 layers after Input"), count);
  const std::string twice = error_of([&] {
    save_safetensors(dir.path / "x", a, {.names = {.modules = {"fc", "bn", "act", "fc"}}});
  });
  BOOST_TEST(contains(twice, "the name map gives two values the name 'fc.weight'"), twice);
}

BOOST_AUTO_TEST_CASE(every_mismatch_in_one_error_and_nothing_changes) {
  using Net = Sequential<Input<2>, Linear<3>, LayerNorm<>, Tanh, Linear<1>>;
  ScratchDirectory dir;
  const std::vector<float> w(6, 0.5f), wrong(6, 0.25f), v3(3, 1.0f);
  const std::vector<std::int32_t> ints(3, 1);
  write_safetensors(dir.path / "bad.safetensors",
                    {make_safetensor<float>("0.weight", {2, 3}, std::span<const float>(wrong)),  // transposed
                     make_safetensor<std::int32_t>("0.bias", {3}, std::span<const std::int32_t>(ints)),
                     make_safetensor<float>("1.weight", {3}, std::span<const float>(v3)),
                     make_safetensor<float>("5.weight", {3}, std::span<const float>(v3))});
  Model<Net, float> m(Init::torch_default, 4);
  const std::vector<float> before(m.parameters().begin(), m.parameters().end());
  const std::string e = error_of([&] { load_safetensors(dir.path / "bad.safetensors", m); });
  BOOST_TEST(contains(e, "typenet: " + (dir.path / "bad.safetensors").string() + ": does not hold " + Net::name() + ":"), e);
  BOOST_TEST(contains(e, "\n  missing: 1.bias, 3.weight, 3.bias"), e);
  BOOST_TEST(contains(e, "\n  unexpected: 5.weight (F32 [3])"), e);
  BOOST_TEST(contains(e, "\n  0.weight (Linear<3>): the type expects shape [3, 2] (F32, F64, F16 or BF16), the file has "
                         "F32 [2, 3]"),
             e);
  BOOST_TEST(contains(e, "\n  0.bias (Linear<3>): the type expects shape [3] (F32, F64, F16 or BF16), the file has I32 [3]"),
             e);
  BOOST_TEST(std::equal(before.begin(), before.end(), m.parameters().begin()));

  // A value that is not finite, after all the shapes are right.
  Model<Net, float> good(Init::torch_default, 6);
  save_safetensors(dir.path / "good.safetensors", good);
  SafetensorsFile f = read_safetensors(dir.path / "good.safetensors");
  std::vector<SafetensorsTensorData> tensors;
  for (const SafetensorsTensor& t : f.tensors) {
    const auto d = f.data(t);
    tensors.push_back({t.name, t.dtype, t.shape, Bytes(d.begin(), d.end())});
    if (t.name == "3.bias") {
      const float nan = std::nanf("");
      std::memcpy(tensors.back().bytes.data(), &nan, 4);
    }
  }
  write_safetensors(dir.path / "nan.safetensors", tensors, f.metadata);
  const std::string n = error_of([&] { load_safetensors(dir.path / "nan.safetensors", m); });
  BOOST_TEST(contains(n, "3.bias element 0 is nan; a model's values must be finite"), n);
  BOOST_TEST(std::equal(before.begin(), before.end(), m.parameters().begin()));
  // A double beyond float's range, into a float model.
  Model<Net, double> big(Init::torch_default, 6);
  big.parameters()[0] = 1e300;
  save_safetensors(dir.path / "big.safetensors", big);
  const std::string r = error_of([&] { load_safetensors(dir.path / "big.safetensors", m, {.check_network = true}); });
  BOOST_TEST(contains(r, "0.weight element 0 is "), r);
  BOOST_TEST(contains(r, "beyond the model's scalar type"), r);
}

BOOST_AUTO_TEST_CASE(the_network_in_the_metadata_must_be_this_one) {
  using Relu = Sequential<Input<2>, Linear<3>, ReLU, Linear<1>>;
  using Tanh_ = Sequential<Input<2>, Linear<3>, Tanh, Linear<1>>;
  ScratchDirectory dir;
  Model<Relu, float> a(Init::torch_default, 1);
  save_safetensors(dir.path / "relu.safetensors", a);
  Model<Tanh_, float> b(Init::torch_default, 2);
  const std::string e = error_of([&] { load_safetensors(dir.path / "relu.safetensors", b); });
  BOOST_TEST(contains(e, "saved for " + Relu::name() + ", this network is " + Tanh_::name()), e);
  load_safetensors(dir.path / "relu.safetensors", b, {.check_network = false});
  BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
}

BOOST_AUTO_TEST_CASE(a_negative_batch_count_is_refused) {
  using Net = Sequential<Input<2>, Linear<3>, BatchNorm<>>;
  ScratchDirectory dir;
  Model<Net, float> m;
  save_safetensors(dir.path / "m.safetensors", m);
  SafetensorsFile f = read_safetensors(dir.path / "m.safetensors");
  std::vector<SafetensorsTensorData> tensors;
  for (const SafetensorsTensor& t : f.tensors) {
    const auto d = f.data(t);
    tensors.push_back({t.name, t.dtype, t.shape, Bytes(d.begin(), d.end())});
    if (t.dtype == SafetensorsDtype::I64) tensors.back().bytes.assign(8, 0xFF);
  }
  write_safetensors(dir.path / "negative.safetensors", tensors, f.metadata);
  BOOST_TEST(contains(error_of([&] { load_safetensors(dir.path / "negative.safetensors", m); }),
                      "1.num_batches_tracked is -1; a count cannot be negative"));
}

BOOST_AUTO_TEST_CASE(a_failed_save_leaves_the_old_file) {
  using save_testing::SaveFault;
  using save_testing::SaveStage;
  ScratchDirectory dir;
  Model<Mixed, float> a(Init::torch_default, 1), b(Init::torch_default, 2);
  const fs::path target = dir.path / "m.safetensors";
  save_safetensors(target, a);
  const Bytes old = read_file(target);
  for (SaveStage stage : {SaveStage::write, SaveStage::fsync, SaveStage::rename}) {
    save_testing::save_fault = SaveFault{stage, 100, ENOSPC};
    const std::string e = error_of([&] { save_safetensors(target, b); });
    save_testing::save_fault.reset();
    BOOST_TEST(contains(e, "typenet: " + target.string() + ": cannot save (the existing file is untouched)"), e);
    BOOST_TEST(read_file(target) == old);
    BOOST_TEST(dir.entry_count() == 1u);
  }
}


BOOST_AUTO_TEST_SUITE_END()
