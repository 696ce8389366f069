// ONNX export of a model's evaluation-mode network:
//
//   export_onnx("net.onnx", model);   // opset 17, input "input" [batch, N], output "output"
//
// The graph is the inference network (model/inference_network.hpp):
// BatchNorm folded into the Linear before it, Dropout gone. Each block is
//   Gemm (x W + b, W as typenet keeps it, in x out), or MatMul without a bias;
//   a normalisation over each sample's features: LayerNormalization when it
//     is centred (LayerNorm), else its formula, x / sqrt(ReduceMean(x^2) + eps)
//     (RMSNorm), then its scale and shift;
//   the activation's formula (topology/activations.hpp), operator by
//     operator: every activation, new ones included, exports by its
//     expression alone; ONNX operators it has no node for here are refused
//     at compile time, naming the function;
// and a Softmax head is Softmax over the last axis. The batch dimension is
// symbolic ("batch"). The file is written atomically (base/atomic_file.hpp);
// the writer is protobuf_writer.hpp (docs/architecture.md says why not
// libprotobuf). docs/interop.md: what is checked, with ONNX's checker and
// ONNX Runtime.
#pragma once

#include "typenet/config.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "typenet/base/atomic_file.hpp"
#include "typenet/base/file_error.hpp"
#include "typenet/expr/nodes.hpp"
#include "typenet/io/protobuf_writer.hpp"
#include "typenet/model/inference_network.hpp"
#include "typenet/topology/sequential.hpp"
#include "typenet/version.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <class Net, class T>
class Model;

// A failed export; what() is "typenet: <path>: <problem>".
class OnnxError : public FileError {
 public:
  using FileError::FileError;
};

namespace onnx_detail {

using protobuf::Message;

// The parts of onnx.proto (ONNX 1.12) written here: field numbers and enums.
namespace field {
inline constexpr std::uint32_t model_ir_version = 1, model_producer_name = 2, model_producer_version = 3,
                               model_doc_string = 6, model_graph = 7, model_opset_import = 8,
                               model_metadata_props = 14;
inline constexpr std::uint32_t opset_domain = 1, opset_version = 2;
inline constexpr std::uint32_t graph_node = 1, graph_name = 2, graph_initializer = 5, graph_input = 11,
                               graph_output = 12;
inline constexpr std::uint32_t node_input = 1, node_output = 2, node_name = 3, node_op_type = 4, node_attribute = 5;
inline constexpr std::uint32_t attribute_name = 1, attribute_f = 2, attribute_i = 3, attribute_ints = 8,
                               attribute_type = 20;
inline constexpr std::uint32_t tensor_dims = 1, tensor_data_type = 2, tensor_name = 8, tensor_raw_data = 9;
inline constexpr std::uint32_t value_info_name = 1, value_info_type = 2;
inline constexpr std::uint32_t type_tensor_type = 1, tensor_type_elem_type = 1, tensor_type_shape = 2;
inline constexpr std::uint32_t shape_dim = 1, dimension_value = 1, dimension_param = 2;
inline constexpr std::uint32_t entry_key = 1, entry_value = 2;
}  // namespace field
inline constexpr std::uint64_t attribute_float = 1, attribute_int = 2, attribute_int_list = 7;
inline constexpr std::uint64_t data_float = 1, data_double = 11;
// ONNX 1.12: IR version 8, operator set 17 (LayerNormalization's first).
inline constexpr std::int64_t ir_version = 8, opset = 17;

inline Message attribute(const char* name, float f) {
  return Message().bytes(field::attribute_name, name).float32(field::attribute_f, f).varint(field::attribute_type,
                                                                                          attribute_float);
}
inline Message attribute(const char* name, std::int64_t i) {
  return Message().bytes(field::attribute_name, name).int64(field::attribute_i, i).varint(field::attribute_type,
                                                                                         attribute_int);
}
inline Message attribute(const char* name, std::span<const std::int64_t> ints) {
  Message m;
  m.bytes(field::attribute_name, name);
  for (std::int64_t i : ints) m.int64(field::attribute_ints, i);
  return m.varint(field::attribute_type, attribute_int_list);
}

// A tensor of the model's values (or a boolean-free constant), raw little-endian.
template <class T>
Message tensor(const std::string& name, std::span<const std::int64_t> dims, std::span<const T> values) {
  Message m;
  for (std::int64_t d : dims) m.int64(field::tensor_dims, d);
  m.varint(field::tensor_data_type, sizeof(T) == 4 ? data_float : data_double);
  m.bytes(field::tensor_name, name);
  std::string raw(values.size() * sizeof(T), '\0');
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Bits bits = std::bit_cast<Bits>(values[i]);
    for (std::size_t b = 0; b < sizeof(T); ++b) raw[i * sizeof(T) + b] = static_cast<char>(bits >> (8 * b));
  }
  return m.bytes(field::tensor_raw_data, raw);
}

// A graph input or output: [batch, width] of the model's type.
template <class T>
Message value_info(const char* name, std::size_t width) {
  const Message shape = Message()
                            .message(field::shape_dim, Message().bytes(field::dimension_param, "batch"))
                            .message(field::shape_dim, Message().int64(field::dimension_value,
                                                                       static_cast<std::int64_t>(width)));
  const Message tensor_type =
      Message().varint(field::tensor_type_elem_type, sizeof(T) == 4 ? data_float : data_double).message(
          field::tensor_type_shape, shape);
  return Message().bytes(field::value_info_name, name).message(field::value_info_type,
                                                               Message().message(field::type_tensor_type, tensor_type));
}

// The graph as it is built: nodes in order, initializers, scalar constants
// shared by value.
template <class T>
class Graph {
 public:
  // Appends a node; returns the name of its (one) output: `output`, or a
  // fresh name.
  std::string node(const char* op, std::initializer_list<std::string> inputs, std::vector<Message> attributes = {},
                   std::string output = {}) {
    const std::string out = output.empty() ? "v" + std::to_string(nodes_.size()) : std::move(output);
    Message m;
    for (const std::string& in : inputs) m.bytes(field::node_input, in);
    m.bytes(field::node_output, out);
    m.bytes(field::node_name, std::string(op) + "_" + std::to_string(nodes_.size()));
    m.bytes(field::node_op_type, op);
    for (const Message& a : attributes) m.message(field::node_attribute, a);
    nodes_.push_back(std::move(m));
    return out;
  }
  std::string initializer(const std::string& name, std::span<const std::int64_t> dims, std::span<const T> values) {
    initializers_.push_back(tensor<T>(name, dims, values));
    return name;
  }
  // A scalar of the model's type (broadcast by the operators that read it).
  std::string constant(double v) {
    const auto found = constants_.find(v);
    if (found != constants_.end()) return found->second;
    const T value = static_cast<T>(v);
    const std::string name = "c" + std::to_string(constants_.size());
    initializer(name, {}, std::span<const T>(&value, 1));
    constants_.emplace(v, name);
    return name;
  }

  Message finish(const std::string& input, std::size_t in, const std::string& output, std::size_t out) {
    Message g;
    for (const Message& n : nodes_) g.message(field::graph_node, n);
    g.bytes(field::graph_name, "typenet");
    for (const Message& t : initializers_) g.message(field::graph_initializer, t);
    g.message(field::graph_input, value_info<T>(input.c_str(), in));
    g.message(field::graph_output, value_info<T>(output.c_str(), out));
    return g;
  }

 private:
  std::vector<Message> nodes_, initializers_;
  std::map<double, std::string> constants_;
};

// ------------------------------------------------------------ activations, from their formula
template <class F>
constexpr const char* unary_operator() {
  using namespace expr;
  if constexpr (std::is_same_v<F, ExpFunction>) return "Exp";
  else if constexpr (std::is_same_v<F, LogFunction>) return "Log";
  else if constexpr (std::is_same_v<F, TanhFunction>) return "Tanh";
  else if constexpr (std::is_same_v<F, SigmoidFunction>) return "Sigmoid";
  else if constexpr (std::is_same_v<F, ErfFunction>) return "Erf";
  else if constexpr (std::is_same_v<F, SqrtFunction>) return "Sqrt";
  else return nullptr;  // composed below, or refused
}

template <class E>
struct ExpressionWriter;

// Writes expression `e` of x (the value named `x`) as nodes; returns the
// name of its value.
template <class T, class E>
std::string write_expression(Graph<T>& g, const E& e, const std::string& x) {
  return ExpressionWriter<E>::write(g, e, x);
}

template <int I>
struct ExpressionWriter<expr::Var<I>> {
  static_assert(I == 0, "typenet: export_onnx: an activation is a function of one variable, Var<0>.");
  template <class T>
  static std::string write(Graph<T>&, const expr::Var<I>&, const std::string& x) {
    return x;
  }
};
template <double V>
struct ExpressionWriter<expr::Lit<V>> {
  template <class T>
  static std::string write(Graph<T>& g, const expr::Lit<V>&, const std::string&) {
    return g.constant(V);
  }
};
template <>
struct ExpressionWriter<expr::Const> {
  template <class T>
  static std::string write(Graph<T>& g, const expr::Const& c, const std::string&) {
    return g.constant(c.value);
  }
};

#define TYPENET_ONNX_BINARY(Node, Op)                                                    \
  template <class A, class B>                                                            \
  struct ExpressionWriter<expr::Node<A, B>> {                                            \
    template <class T>                                                                   \
    static std::string write(Graph<T>& g, const expr::Node<A, B>& e, const std::string& x) { \
      const std::string a = write_expression(g, e.a, x);                                 \
      const std::string b = write_expression(g, e.b, x);                                 \
      return g.node(Op, {a, b});                                                         \
    }                                                                                    \
  };
TYPENET_ONNX_BINARY(Add, "Add")
TYPENET_ONNX_BINARY(Sub, "Sub")
TYPENET_ONNX_BINARY(Mul, "Mul")
TYPENET_ONNX_BINARY(Div, "Div")
#undef TYPENET_ONNX_BINARY

template <class A>
struct ExpressionWriter<expr::Neg<A>> {
  template <class T>
  static std::string write(Graph<T>& g, const expr::Neg<A>& e, const std::string& x) {
    return g.node("Neg", {write_expression(g, e.arg, x)});
  }
};

// a^N as typenet evaluates it: a * a * ... (N - 1 products).
template <int N, class A>
struct ExpressionWriter<expr::Pow<N, A>> {
  template <class T>
  static std::string write(Graph<T>& g, const expr::Pow<N, A>& e, const std::string& x) {
    const std::string a = write_expression(g, e.arg, x);
    std::string r = a;
    for (int i = 1; i < N; ++i) r = g.node("Mul", {r, a});
    return r;
  }
};

template <class F, class A>
struct ExpressionWriter<expr::Unary<F, A>> {
  template <class T>
  static std::string write(Graph<T>& g, const expr::Unary<F, A>& e, const std::string& x) {
    const std::string a = write_expression(g, e.arg, x);
    if constexpr (unary_operator<F>() != nullptr) {
      return g.node(unary_operator<F>(), {a});
    } else if constexpr (std::is_same_v<F, expr::Log1pFunction>) {
      // ONNX has no log1p: log(1 + a), which loses a below float's epsilon
      // (an absolute error below 6e-8 in float, 1.1e-16 in double).
      return g.node("Log", {g.node("Add", {g.constant(1.0), a})});
    } else if constexpr (std::is_same_v<F, expr::SoftplusFunction>) {
      // As typenet computes it, max(a, 0) + log(1 + e^-|a|): finite for
      // every finite a (ONNX's Softplus, log(e^a + 1), overflows above 88
      // in float); log(1 + t) as log1p above.
      const std::string t = g.node("Exp", {g.node("Neg", {g.node("Abs", {a})})});
      return g.node("Add", {g.node("Relu", {a}), g.node("Log", {g.node("Add", {g.constant(1.0), t})})});
    } else {
      static_assert(sizeof(F) == 0,
                    "typenet: export_onnx: this activation's formula uses a function that has no ONNX "
                    "operators here yet; add it to onnx_detail's ExpressionWriter (io/onnx.hpp).");
      return {};
    }
  }
};

// Formulas ONNX has an operator for, recognised by their shape (not by the
// layer that wrote them), so that runtimes see Relu rather than its parts:
//   max(a, 0)                      Relu
//   a > 0 ? a : s a                LeakyRelu(alpha = s)
//   a > 0 ? a : c (e^a - 1)        Elu(alpha = c)
// in float models; double ones keep the formulas, which runtimes have double
// kernels for (ONNX Runtime's CPU provider has no double Elu or LeakyRelu).
// (The shapes are matched with class parameters only, the constants read
// from them: GCC 12 fails on double parameters in partial specialisations.)
template <class B, class A>
struct ScaledBy : std::false_type {};  // B = s a, s a literal
template <class L, class A>
struct ScaledBy<expr::Mul<L, A>, A> : std::bool_constant<expr::is_lit<L>> {
  static constexpr double value = L::value;
};
template <class B, class A>
struct ExponentialTail : std::false_type {};  // B = c (e^a - 1), c a literal
template <class L, class A, class One>
struct ExponentialTail<expr::Mul<L, expr::Sub<expr::Unary<expr::ExpFunction, A>, One>>, A>
    : std::bool_constant<expr::is_lit<L> && std::is_same_v<One, expr::Lit<1.0>>> {
  static constexpr double value = L::value;
};
template <class A, class One>  // c = 1, which the expression's product dropped
struct ExponentialTail<expr::Sub<expr::Unary<expr::ExpFunction, A>, One>, A>
    : std::bool_constant<std::is_same_v<One, expr::Lit<1.0>>> {
  static constexpr double value = 1.0;
};

// c ? a : b with c = (p > q): Where(Greater(p, q), a, b), or one of the above.
template <class P, class Q, class A, class B>
struct ExpressionWriter<expr::Select<expr::Greater<P, Q>, A, B>> {
  template <class T>
  static std::string write(Graph<T>& g, const expr::Select<expr::Greater<P, Q>, A, B>& e, const std::string& x) {
    constexpr bool positive_part =
        std::is_same_v<T, float> && std::is_same_v<P, A> && std::is_same_v<Q, expr::Lit<0.0>>;
    if constexpr (positive_part && std::is_same_v<B, expr::Lit<0.0>>) {
      return g.node("Relu", {write_expression(g, e.a, x)});
    } else if constexpr (positive_part && ScaledBy<B, A>::value) {
      return g.node("LeakyRelu", {write_expression(g, e.a, x)},
                    {attribute("alpha", static_cast<float>(ScaledBy<B, A>::value))});
    } else if constexpr (positive_part && ExponentialTail<B, A>::value) {
      return g.node("Elu", {write_expression(g, e.a, x)},
                    {attribute("alpha", static_cast<float>(ExponentialTail<B, A>::value))});
    } else {
      const std::string p = write_expression(g, e.cond.a, x), q = write_expression(g, e.cond.b, x);
      const std::string c = g.node("Greater", {p, q});
      const std::string a = write_expression(g, e.a, x), b = write_expression(g, e.b, x);
      return g.node("Where", {c, a, b});
    }
  }
};

// ------------------------------------------------------------ the network
template <class Net, class T>
Message graph(std::span<const T> parameters, std::span<const T> state) {
  using Inference = inference_network_t<Net>;
  std::vector<T> folded(Inference::parameter_count);
  fold_parameters<Net, T>(parameters, state, std::span<T>(folded));
  Graph<T> g;
  std::string x = "input";
  const auto values = [&](std::size_t offset, std::size_t n) { return std::span<const T>(folded).subspan(offset, n); };
  for_each_block<Inference>([&](auto b) {
    using F = typename decltype(b)::type;
    using Original = typename Net::template block<F::index>;
    // Initializers named by the Linear's module in the trained network ("3.weight").
    const std::string module = std::to_string(Original::layer - 1);
    const std::int64_t in = static_cast<std::int64_t>(F::in), out = static_cast<std::int64_t>(F::out);
    const std::int64_t w_dims[2] = {in, out}, v_dims[1] = {out};
    const std::string w = g.initializer(module + ".weight", w_dims, values(F::weight_offset, F::in * F::out));
    if constexpr (F::has_bias) {
      const std::string bias = g.initializer(module + ".bias", v_dims, values(F::bias_offset, F::out));
      x = g.node("Gemm", {x, w, bias});
    } else {
      x = g.node("MatMul", {x, w});
    }
    if constexpr (F::sample_statistics) {
      using Norm = typename F::normalization;
      const std::string norm = std::to_string(Original::layer);
      const float eps = static_cast<float>(Norm::template epsilon<T>());
      if constexpr (Norm::centred) {
        std::string scale;
        if constexpr (F::has_scale) {
          scale = g.initializer(norm + ".weight", v_dims, values(F::scale_offset, F::out));
        } else {
          const std::vector<T> ones(F::out, T(1));
          scale = g.initializer(norm + ".ones", v_dims, std::span<const T>(ones));
        }
        // stash_type: the statistics in the model's type (ONNX's default is float).
        std::vector<Message> attributes{attribute("axis", std::int64_t{-1}), attribute("epsilon", eps),
                                        attribute("stash_type", static_cast<std::int64_t>(sizeof(T) == 4 ? data_float
                                                                                                        : data_double))};
        if constexpr (F::has_shift)
          x = g.node("LayerNormalization",
                     {x, scale, g.initializer(norm + ".bias", v_dims, values(F::shift_offset, F::out))},
                     std::move(attributes));
        else
          x = g.node("LayerNormalization", {x, scale}, std::move(attributes));
      } else {
        const std::int64_t last[1] = {-1};
        const std::string mean_square =
            g.node("ReduceMean", {g.node("Mul", {x, x})}, {attribute("axes", last), attribute("keepdims", std::int64_t{1})});
        x = g.node("Div", {x, g.node("Sqrt", {g.node("Add", {mean_square, g.constant(Norm::template epsilon<T>())})})});
        if constexpr (F::has_scale)
          x = g.node("Mul", {x, g.initializer(norm + ".weight", v_dims, values(F::scale_offset, F::out))});
        if constexpr (F::has_shift)
          x = g.node("Add", {x, g.initializer(norm + ".bias", v_dims, values(F::shift_offset, F::out))});
      }
    }
    x = write_expression(g, F::activation::expression, x);
  });
  if constexpr (Net::softmax_head) x = g.node("Softmax", {x}, {attribute("axis", std::int64_t{-1})});
  // The interface's names, whatever the last operator is.
  g.node("Identity", {x}, {}, "output");
  return g.finish("input", Net::input_size, "output", Net::output_size);
}

}  // namespace onnx_detail

/// Writes the model's evaluation-mode network as an ONNX model (opset 17,
/// IR version 8): input "input" and output "output", [batch, features], of the
/// model's scalar type (float, or double). Its metadata holds the network
/// type (typenet_network) and typenet's version. Throws OnnxError, naming the
/// file, when it cannot be written; an existing file is then untouched.
template <class Net, class T>
void export_onnx(const std::filesystem::path& path, const Model<Net, T>& model) {
  using namespace onnx_detail;
  using Checked = checked_network_t<Net>;
  Message m;
  m.int64(field::model_ir_version, ir_version);
  m.bytes(field::model_producer_name, "typenet");
  m.bytes(field::model_producer_version, version);
  m.bytes(field::model_doc_string, Net::name() + " in evaluation: BatchNorm folded into the Linear before it, "
                                                 "Dropout removed");
  m.message(field::model_graph, graph<Checked, T>(model.parameters(), model.state()));
  m.message(field::model_opset_import, Message().bytes(field::opset_domain, "").int64(field::opset_version, opset));
  m.message(field::model_metadata_props,
            Message().bytes(field::entry_key, "typenet_network").bytes(field::entry_value, Net::name()));
  m.message(field::model_metadata_props,
            Message().bytes(field::entry_key, "typenet_version").bytes(field::entry_value, version));
  const std::string& bytes = m.encoded();
  AtomicFile<OnnxError> file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace typenet
