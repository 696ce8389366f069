// ONNX export: the protobuf writer against the wire format's own examples
// (protobuf.dev, "Encoding"), and an exported model read back field by field
// with the small decoder below: its header, operator set, interface with a
// symbolic batch, nodes in order, initializers (BatchNorm folded, as
// fold_parameters folds it) and metadata; double models; a failed export
// leaving the old file. ONNX's checker and ONNX Runtime read the exports in
// test/onnx/.
#define BOOST_TEST_MODULE onnx
#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "typenet/io/onnx.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
namespace fs = std::filesystem;

namespace {

std::vector<unsigned char> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// A message's fields as the wire format has them: number, then a varint, a
// fixed32 or a length-delimited payload.
struct Field {
  std::uint32_t number = 0;
  std::uint32_t wire = 0;
  std::uint64_t varint = 0;
  std::string payload;  // length-delimited and fixed32 (its four bytes)
};
std::vector<Field> decode(const std::string& m) {
  std::vector<Field> out;
  std::size_t at = 0;
  auto varint = [&] {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (at >= m.size()) throw std::runtime_error("truncated varint");
      const auto b = static_cast<unsigned char>(m[at++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < m.size()) {
    const std::uint64_t key = varint();
    Field f;
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.wire = static_cast<std::uint32_t>(key & 7);
    if (f.wire == 0) {
      f.varint = varint();
    } else if (f.wire == 2) {
      const std::size_t n = varint();
      f.payload = m.substr(at, n);
      at += n;
    } else if (f.wire == 5) {
      f.payload = m.substr(at, 4);
      at += 4;
    } else {
      throw std::runtime_error("unexpected wire type");
    }
    out.push_back(std::move(f));
  }
  return out;
}
std::vector<Field> fields(const std::string& m, std::uint32_t number) {
  std::vector<Field> out;
  for (Field& f : decode(m))
    if (f.number == number) out.push_back(std::move(f));
  return out;
}
std::string text(const std::string& m, std::uint32_t number) {
  const auto f = fields(m, number);
  return f.empty() ? std::string() : f[0].payload;
}
std::uint64_t integer(const std::string& m, std::uint32_t number) {
  const auto f = fields(m, number);
  return f.empty() ? ~std::uint64_t{0} : f[0].varint;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct ScratchDirectory {
  fs::path path;
  ScratchDirectory() {
    std::string pattern = (fs::temp_directory_path() / "typenet-onnx-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

// The graph of an exported file, and its parts by name.
struct Exported {
  std::string model, graph;
  std::vector<std::string> ops;
  std::map<std::string, std::string> initializers;  // name -> TensorProto
  explicit Exported(const fs::path& file) : model(read_file(file)), graph(text(model, 7)) {
    for (const Field& n : fields(graph, 1)) ops.push_back(text(n.payload, 4));
    for (const Field& t : fields(graph, 5)) initializers[text(t.payload, 8)] = t.payload;
  }
  std::vector<std::int64_t> dims(const std::string& name) const {
    std::vector<std::int64_t> d;
    for (const Field& f : fields(initializers.at(name), 1)) d.push_back(static_cast<std::int64_t>(f.varint));
    return d;
  }
  template <class T>
  std::vector<T> values(const std::string& name) const {
    const std::string raw = text(initializers.at(name), 9);
    std::vector<T> v(raw.size() / sizeof(T));
    std::memcpy(v.data(), raw.data(), raw.size());
    return v;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(wire_format)

BOOST_AUTO_TEST_CASE(the_encoding_guides_examples) {
  using protobuf::Message;
  // message Test1 { int32 a = 1; }, a = 150.
  BOOST_TEST(bytes_of(Message().varint(1, 150).encoded()) == (std::vector<unsigned char>{0x08, 0x96, 0x01}),
             boost::test_tools::per_element());
  // message Test2 { string b = 2; }, b = "testing".
  BOOST_TEST(bytes_of(Message().bytes(2, "testing").encoded()) ==
                 (std::vector<unsigned char>{0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67}),
             boost::test_tools::per_element());
  // message Test3 { Test1 c = 3; }, c.a = 150.
  BOOST_TEST(bytes_of(Message().message(3, Message().varint(1, 150)).encoded()) ==
                 (std::vector<unsigned char>{0x1a, 0x03, 0x08, 0x96, 0x01}),
             boost::test_tools::per_element());
  // int64 -2: its two's complement, ten bytes.
  BOOST_TEST(bytes_of(Message().int64(1, -2).encoded()) ==
                 (std::vector<unsigned char>{0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),
             boost::test_tools::per_element());
  // float 1.0 in field 2: wire type 5, little-endian.
  BOOST_TEST(bytes_of(Message().float32(2, 1.0f).encoded()) ==
                 (std::vector<unsigned char>{0x15, 0x00, 0x00, 0x80, 0x3f}),
             boost::test_tools::per_element());
  // Field 20 (AttributeProto.type): a two-byte key.
  BOOST_TEST(bytes_of(Message().varint(20, 7).encoded()) == (std::vector<unsigned char>{0xa0, 0x01, 0x07}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(export_)

using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>, ReLU, Dropout<0.5f>, Linear<2>, LayerNorm<>, Tanh,
                       Linear<2, false>, RMSNorm<>, Softmax>;

BOOST_AUTO_TEST_CASE(the_model_field_by_field) {
  ScratchDirectory dir;
  Model<Net, float> m(Init::torch_default, 3);
  Rng rng(4);
  for (float& p : m.parameters()) p += static_cast<float>(0.2 * rng.normal());
  for (float& s : m.state()) s = static_cast<float>(0.5 + rng.uniform(0.0, 1.0));
  export_onnx(dir.path / "net.onnx", m);
  const Exported e(dir.path / "net.onnx");

  BOOST_TEST(integer(e.model, 1) == 8u);  // IR version
  BOOST_TEST(text(e.model, 2) == "typenet");
  BOOST_TEST(text(e.model, 3) == std::string(version));
  const auto opset = fields(e.model, 8);
  BOOST_REQUIRE_EQUAL(opset.size(), 1u);
  BOOST_TEST(text(opset[0].payload, 1).empty());  // the default domain
  BOOST_TEST(integer(opset[0].payload, 2) == 17u);
  std::map<std::string, std::string> metadata;
  for (const Field& f : fields(e.model, 14)) metadata[text(f.payload, 1)] = text(f.payload, 2);
  BOOST_TEST(metadata.at("typenet_network") == Net::name());

  const std::vector<std::string> expected{"Gemm", "Relu", "Gemm",       "LayerNormalization",
                                          "Tanh", "MatMul", "Mul",      "ReduceMean",
                                          "Add",  "Sqrt",   "Div",      "Mul",
                                          "Softmax", "Identity"};
  BOOST_TEST(e.ops == expected, boost::test_tools::per_element());

  // The interface: input [batch, 3] and output [batch, 2], float.
  for (const auto& [number, name, width] : {std::tuple{11u, "input", 3u}, std::tuple{12u, "output", 2u}}) {
    const auto v = fields(e.graph, number);
    BOOST_REQUIRE_EQUAL(v.size(), 1u);
    BOOST_TEST(text(v[0].payload, 1) == name);
    const std::string tensor_type = text(text(v[0].payload, 2), 1);
    BOOST_TEST(integer(tensor_type, 1) == 1u);  // FLOAT
    const auto dims = fields(text(tensor_type, 2), 1);
    BOOST_REQUIRE_EQUAL(dims.size(), 2u);
    BOOST_TEST(text(dims[0].payload, 2) == "batch");
    BOOST_TEST(integer(dims[1].payload, 1) == width);
  }

  // Initializers named by module; the first Linear carries BatchNorm, folded.
  using Inference = inference_network_t<Net>;
  std::vector<float> folded(Inference::parameter_count);
  fold_parameters<Net, float>(m.parameters(), m.state(), std::span<float>(folded));
  using F0 = Inference::block<0>;
  BOOST_TEST(e.dims("0.weight") == (std::vector<std::int64_t>{3, 4}), boost::test_tools::per_element());
  BOOST_TEST(e.values<float>("0.weight") ==
                 std::vector<float>(folded.begin() + F0::weight_offset, folded.begin() + F0::weight_offset + 12),
             boost::test_tools::per_element());
  BOOST_TEST(e.values<float>("0.bias") ==
                 std::vector<float>(folded.begin() + F0::bias_offset, folded.begin() + F0::bias_offset + 4),
             boost::test_tools::per_element());
  BOOST_TEST(e.dims("4.weight") == (std::vector<std::int64_t>{4, 2}), boost::test_tools::per_element());
  BOOST_TEST(e.dims("7.weight") == (std::vector<std::int64_t>{2, 2}), boost::test_tools::per_element());
  for (const char* name : {"4.bias", "5.weight", "5.bias", "8.weight"})
    BOOST_TEST(e.dims(name) == (std::vector<std::int64_t>{2}), boost::test_tools::per_element());
  BOOST_TEST(e.values<float>("5.weight") == std::vector<float>(m.gamma<1>().begin(), m.gamma<1>().end()),
             boost::test_tools::per_element());
  BOOST_TEST(!e.initializers.contains("7.bias"));
  // RMSNorm's epsilon: float's machine epsilon, a scalar.
  BOOST_TEST(e.dims("c0").empty());
  BOOST_TEST(e.values<float>("c0") == std::vector<float>{std::numeric_limits<float>::epsilon()},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(double_models_keep_the_formulas) {
  ScratchDirectory dir;
  using Elu = Sequential<Input<2>, Linear<3>, ELU<0.5f>, Linear<1>>;
  export_onnx(dir.path / "f.onnx", Model<Elu, float>(Init::torch_default, 1));
  export_onnx(dir.path / "d.onnx", Model<Elu, double>(Init::torch_default, 1));
  BOOST_TEST(Exported(dir.path / "f.onnx").ops == (std::vector<std::string>{"Gemm", "Elu", "Gemm", "Identity"}),
             boost::test_tools::per_element());
  const Exported d(dir.path / "d.onnx");
  BOOST_TEST(d.ops == (std::vector<std::string>{"Gemm", "Greater", "Exp", "Sub", "Mul", "Where", "Gemm", "Identity"}),
             boost::test_tools::per_element());
  BOOST_TEST(integer(d.initializers.at("0.weight"), 2) == 11u);  // data_type DOUBLE
}

BOOST_AUTO_TEST_CASE(a_failed_export_leaves_the_old_file) {
  using save_testing::SaveFault;
  using save_testing::SaveStage;
  ScratchDirectory dir;
  const fs::path target = dir.path / "net.onnx";
  Model<Net, float> a(Init::torch_default, 1), b(Init::torch_default, 2);
  export_onnx(target, a);
  const std::string old = read_file(target);
  save_testing::save_fault = SaveFault{SaveStage::write, 50, ENOSPC};
  std::string message;
  try {
    export_onnx(target, b);
  } catch (const OnnxError& e) {
    message = e.what();
  }
  save_testing::save_fault.reset();
  BOOST_TEST(message.find("typenet: " + target.string() + ": cannot save (the existing file is untouched)") == 0u,
             message);
  BOOST_TEST(read_file(target) == old);
  BOOST_TEST(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
