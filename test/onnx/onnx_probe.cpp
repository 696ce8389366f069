// typenet's side of test/onnx/check_model.py and test/onnx/onnx_runtime.py:
//
//   onnx_probe DIR
//
// exports networks that between them have every layer and activation
// typenet has, trained a few steps (so that BatchNorm's running statistics
// move), as DIR/LABEL.onnx, in float, and in double those that ONNX
// Runtime's CPU kernels can run in double (it has no double Erf, so none
// with GELU); prints each one's input and typenet's evaluation output as JSON.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "typenet/io/onnx.hpp"
#include "typenet/typenet.hpp"
#include "every_layer_networks.hpp"

using namespace typenet;
namespace fs = std::filesystem;

namespace {

using every_layer::Deep;
using every_layer::Unbiased;
using Smooth = Sequential<Input<6>, Linear<9>, LayerNorm<>, SiLU, Linear<8>, BatchNorm<>, Softplus<2.0f, 10.0f>,
                          Linear<8>, Mish, Linear<7>, RMSNorm<>, Hardswish, Linear<5>, Softplus<1.0f, 100.0f>, Linear<3>>;
constexpr std::size_t rows = 17;

bool first = true;

template <class Net, class T>
void probe(const char* label, const fs::path& dir, std::uint64_t seed) {
  Model<Net, T> model(Init::torch_default, seed);
  Rng rng(seed + 1);
  Matrix<T> x(rows, Net::input_size);
  every_layer::move_off_initial_values(model, x, rng);
  // Typical inputs, and a few rows forty times larger (the activations'
  // saturated and overflowing ranges).
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = static_cast<T>((i % 6 == 5 ? 40 : 1) * rng.normal());
  export_onnx(dir / (std::string(label) + ".onnx"), model);
  const auto out = model.forward(x.view(), Mode::eval);
  std::printf("%s\n\"%s\": {\"network\": \"%s\", \"dtype\": \"%s\", \"rows\": %zu, \"cols\": %zu, \"outputs\": %zu, ",
              first ? "" : ",", label, Net::name().c_str(), sizeof(T) == 4 ? "float32" : "float64", rows,
              Net::input_size, Net::output_size);
  first = false;
  auto values = [](const char* key, const T* v, std::size_t n) {
    std::printf("\"%s\": [", key);
    for (std::size_t i = 0; i < n; ++i) std::printf("%s%.17g", i ? ", " : "", static_cast<double>(v[i]));
    std::printf("]");
  };
  values("x", x.data(), rows * Net::input_size);
  std::printf(", ");
  values("y", out.data, rows * Net::output_size);
  std::printf("}");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: onnx_probe DIR\n");
    return 2;
  }
  try {
    std::printf("{");
    probe<Deep, float>("deep_float", argv[1], 1);
    probe<Unbiased, float>("unbiased_float", argv[1], 2);
    probe<Smooth, float>("smooth_float", argv[1], 3);
    probe<Unbiased, double>("unbiased_double", argv[1], 2);
    probe<Smooth, double>("smooth_double", argv[1], 3);
    std::printf("\n}\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
