// export_header(path, model, "name"): a trained network as one self-contained
// C++17 header, for programs that must not depend on typenet or Boost
// (microcontrollers, plugins). It includes only the standard library:
//
//   #include "moons_net.hpp"
//   float y[moons_net::output_size];
//   moons_net::predict(x, y);              // one sample
//   moons_net::predict(x, rows, y);        // rows samples, one after another
//
// The network written is the inference network (model/inference_network.hpp:
// BatchNorm folded into its Linear, Dropout gone), its values as constexpr
// arrays, every activation as C++ from its formula (expr/cpp_code.hpp). The
// products accumulate in InferenceModel's order, with std::fma where the
// target has fused multiply-adds, so outputs agree with InferenceModel's to
// the rounding of the elementwise functions.
#pragma once

#include "typenet/config.hpp"

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "typenet/base/atomic_file.hpp"
#include "typenet/base/file_error.hpp"
#include "typenet/expr/cpp_code.hpp"
#include "typenet/model/inference_network.hpp"
#include "typenet/model/model.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace header_export_detail {

template <class T>
std::string number(T v) {
  char text[40];
  std::snprintf(text, sizeof text, std::is_same_v<T, float> ? "%.9gf" : "%.17g", static_cast<double>(v));
  return text;
}

template <class T>
void array(std::string& out, const std::string& name, const T* values, std::size_t n) {
  out += "inline constexpr T " + name + "[" + std::to_string(n) + "] = {";
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 8 == 0) out += "\n    ";
    out += number(values[i]);
    out += i + 1 < n ? ", " : "";
  }
  out += "};\n";
}

/// The C++ of block B: from `in` (B::in values) into `out` (B::out values).
template <class B, class T>
void block_code(std::string& out, const std::string& n) {
  using Norm = typename B::normalization;
  const std::string in = std::to_string(B::in), width = std::to_string(B::out);
  out += "  // block " + n + ": " + B::name() + "\n";
  out += "  for (std::size_t j = 0; j < " + width + "; ++j) out[j] = T(0);\n";
  out += "  for (std::size_t k = 0; k < " + in + "; ++k)\n";
  out += "    for (std::size_t j = 0; j < " + width + "; ++j) out[j] = multiply_add(in[k], w" + n + "[k * " + width +
         " + j], out[j]);\n";
  if constexpr (B::has_bias) out += "  for (std::size_t j = 0; j < " + width + "; ++j) out[j] += b" + n + "[j];\n";
  if constexpr (B::sample_statistics) {
    out += "  {\n    T mean = T(0), squares = T(0);\n";
    if constexpr (Norm::centred) {
      out += "    for (std::size_t j = 0; j < " + width + "; ++j) mean += out[j];\n";
      out += "    mean /= T(" + width + ");\n";
    }
    out += "    for (std::size_t j = 0; j < " + width + "; ++j) squares = multiply_add(out[j] - mean, out[j] - mean, squares);\n";
    out += "    const T inv = T(1) / std::sqrt(squares / T(" + width + ") + " + number(Norm::template epsilon<T>()) +
           ");\n";
    out += "    for (std::size_t j = 0; j < " + width + "; ++j) out[j] = (out[j] - mean) * inv";
    if constexpr (B::has_scale) out += " * g" + n + "[j]";
    if constexpr (B::has_shift) out += " + s" + n + "[j]";
    out += ";\n  }\n";
  }
  if constexpr (!std::is_same_v<typename B::activation, Identity>) {
    const std::string u = "u";
    out += "  for (std::size_t j = 0; j < " + width + "; ++j) {\n    const T u = out[j];\n    out[j] = " +
           expr::cpp_code(B::activation::expression, &u) + ";\n  }\n";
  }
}

}  // namespace header_export_detail

/// A header export that could not be written; what() is "typenet: <path>: <problem>".
class HeaderExportError : public FileError {
 public:
  using FileError::FileError;
};

/// Writes the header (atomically: a failed export leaves an old file as it
/// was; HeaderExportError says why). `name` becomes its namespace: a C++
/// identifier.
template <class Net, class T>
void export_header(const std::filesystem::path& path, const Model<Net, T>& model, const std::string& name) {
  using namespace header_export_detail;
  using Inference = inference_network_t<Net>;
  const bool identifier =
      !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
  if (!identifier)
    throw std::invalid_argument("typenet: export_header: the name '" + name +
                                "' is not a C++ identifier (letters, digits and _, not starting with a digit).");
  std::vector<T> folded(Inference::parameter_count);
  fold_parameters<Net, T>(model.parameters(), model.state(), std::span<T>(folded));

  std::string out;
  out += "// " + name + ": a network exported by typenet, self-contained C++17 (the standard library only).\n";
  out += "// Trained as " + Net::name() + ";\n// runs " + Inference::name() +
         " (BatchNorm folded, Dropout removed).\n";
  out += "#pragma once\n\n#include <algorithm>\n#include <cmath>\n#include <cstddef>\n\nnamespace " + name + " {\n\n";
  out += std::string("using T = ") + (std::is_same_v<T, float> ? "float" : "double") + ";\n";
  out += "inline constexpr std::size_t input_size = " + std::to_string(Inference::input_size) + ";\n";
  out += "inline constexpr std::size_t output_size = " + std::to_string(Inference::output_size) + ";\n\n";
  out += "namespace detail {\n\n";
  out += "// a b + c, fused where the target fuses (as typenet's kernels do).\n";
  out += "inline T multiply_add(T a, T b, T c) {\n#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)\n";
  out += "  return std::fma(a, b, c);\n#else\n  return a * b + c;\n#endif\n}\n\n";
  for_each_block<Inference>([&](auto b) {
    using B = typename decltype(b)::type;
    const std::string n = std::to_string(B::index);
    array(out, "w" + n, folded.data() + B::weight_offset, B::in * B::out);
    if constexpr (B::has_bias) array(out, "b" + n, folded.data() + B::bias_offset, B::out);
    if constexpr (B::has_scale) array(out, "g" + n, folded.data() + B::scale_offset, B::out);
    if constexpr (B::has_shift) array(out, "s" + n, folded.data() + B::shift_offset, B::out);
  });
  for_each_block<Inference>([&](auto b) {
    using B = typename decltype(b)::type;
    out += "\ninline void block" + std::to_string(B::index) + "(const T* in, T* out) {\n";
    block_code<B, T>(out, std::to_string(B::index));
    out += "}\n";
  });
  out += "\n}  // namespace detail\n\n";
  out += "// y (output_size values) = the network of x (input_size values).\n";
  out += "inline void predict(const T* x, T* y) {\n";
  out += "  T a[" + std::to_string(Inference::max_width) + "], b[" + std::to_string(Inference::max_width) + "];\n";
  for_each_block<Inference>([&](auto b) {
    using B = typename decltype(b)::type;
    const bool first = B::index == 0, last = B::index + 1 == Inference::block_count;
    const std::string from = first ? "x" : (B::index % 2 == 1 ? "a" : "b");
    const std::string to = last ? "y" : (B::index % 2 == 0 ? "a" : "b");
    out += "  detail::block" + std::to_string(B::index) + "(" + from + ", " + to + ");\n";
  });
  if constexpr (Inference::softmax_head) {
    out += "  const T top = *std::max_element(y, y + output_size);\n  T sum = T(0);\n";
    out += "  for (std::size_t j = 0; j < output_size; ++j) sum += (y[j] = std::exp(y[j] - top));\n";
    out += "  for (std::size_t j = 0; j < output_size; ++j) y[j] /= sum;\n";
  }
  out += "}\n\n// rows samples, row after row (x: rows x input_size, y: rows x output_size).\n";
  out += "inline void predict(const T* x, std::size_t rows, T* y) {\n";
  out += "  for (std::size_t i = 0; i < rows; ++i) predict(x + i * input_size, y + i * output_size);\n}\n\n";
  out += "}  // namespace " + name + "\n";

  AtomicFile<HeaderExportError> file(path);
  file.write(out.data(), out.size());
  file.commit();
}

}  // namespace typenet
