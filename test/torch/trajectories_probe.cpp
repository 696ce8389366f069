// typenet's side of test/torch/trajectories.py: 200 training steps of every
// optimizer on four small networks (plain, BatchNorm, LayerNorm, RMSNorm),
// in float and in double, from initial values saved as safetensors. The
// learning rates keep each trajectory well-conditioned in float: PyTorch
// started from values a rounding away stays within 1e-5 of itself (the
// comparison checks that premise; with Adam at 0.01 it does not).
//
//   trajectories_probe DIR
//
// writes DIR/data.safetensors (x [64, 4], y [64, 3], double: step k trains
// on rows 16 (k mod 4) to 16 (k mod 4) + 15), DIR/NET_DTYPE_initial.safetensors
// for each network and scalar type, and DIR/CASE_final.safetensors after the
// 200 steps of each case; prints each case's loss at every step as JSON.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "typenet/io/safetensors.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t rows = 64, batch = 16, steps = 200, inputs = 4, outputs = 3;

using Plain = Sequential<Input<inputs>, Linear<16>, Tanh, Linear<12>, GELU, Linear<outputs>>;
using BatchNormed = Sequential<Input<inputs>, Linear<16>, BatchNorm<>, Tanh, Linear<12>, BatchNorm<>, GELU, Linear<outputs>>;
using LayerNormed = Sequential<Input<inputs>, Linear<16>, LayerNorm<>, Tanh, Linear<12>, LayerNorm<>, GELU, Linear<outputs>>;
using RMSNormed = Sequential<Input<inputs>, Linear<16>, RMSNorm<>, Tanh, Linear<12>, RMSNorm<>, GELU, Linear<outputs>>;

struct Data {
  std::vector<double> x, y;
};

Data make_data() {
  Data d{std::vector<double>(rows * inputs), std::vector<double>(rows * outputs)};
  Rng rng(2024);
  for (std::size_t i = 0; i < rows; ++i) {
    double* x = &d.x[i * inputs];
    for (std::size_t j = 0; j < inputs; ++j) x[j] = rng.normal();
    d.y[i * outputs + 0] = std::sin(x[0]) + 0.5 * x[1] + 0.1 * rng.normal();
    d.y[i * outputs + 1] = x[2] * x[3] + 0.1 * rng.normal();
    d.y[i * outputs + 2] = std::tanh(x[0] - x[3]) + 0.1 * rng.normal();
  }
  return d;
}

bool first_case = true;

template <class Net, class T, class Optimizer>
void run(const fs::path& dir, const Data& data, const std::string& net, const char* optimizer_name,
         const std::string& case_name, const std::string& torch_options, Optimizer optimizer) {
  const std::string dtype = sizeof(T) == 4 ? "float32" : "float64";
  Model<Net, T> model(Init::torch_default, 1);
  load_safetensors(dir / (net + "_" + dtype + "_initial.safetensors"), model);
  const std::vector<T> x(data.x.begin(), data.x.end()), y(data.y.begin(), data.y.end());
  std::printf("%s\n{\"network\": \"%s\", \"dtype\": \"%s\", \"optimizer\": \"%s\", \"case\": \"%s\", \"options\": {%s}, "
              "\"losses\": [",
              first_case ? "" : ",", net.c_str(), dtype.c_str(), optimizer_name, case_name.c_str(),
              torch_options.c_str());
  first_case = false;
  for (std::size_t k = 0; k < steps; ++k) {
    const std::size_t first = batch * (k % (rows / batch));
    const MatrixView<const T> xb{x.data() + first * inputs, batch, inputs}, yb{y.data() + first * outputs, batch, outputs};
    const T loss = train_step(model, xb, yb, MeanSquaredError{}, optimizer);
    std::printf("%s%.17g", k ? ", " : "", static_cast<double>(loss));
  }
  std::printf("]}");
  save_safetensors(dir / (net + "_" + dtype + "_" + case_name + "_final.safetensors"), model);
}

template <class Net, class T>
void run_all(const fs::path& dir, const Data& data, const std::string& net) {
  const std::string dtype = sizeof(T) == 4 ? "float32" : "float64";
  save_safetensors(dir / (net + "_" + dtype + "_initial.safetensors"), Model<Net, T>(Init::torch_default, 7));
  run<Net, T>(dir, data, net, "SGD", "sgd", "\"lr\": 0.05", SGD<T>({.lr = 0.05}));
  run<Net, T>(dir, data, net, "SGD", "sgd_momentum", "\"lr\": 0.01, \"momentum\": 0.9",
              SGD<T>({.lr = 0.01, .momentum = 0.9}));
  run<Net, T>(dir, data, net, "SGD", "sgd_nesterov", "\"lr\": 0.01, \"momentum\": 0.9, \"nesterov\": true",
              SGD<T>({.lr = 0.01, .momentum = 0.9, .nesterov = true}));
  run<Net, T>(dir, data, net, "SGD", "sgd_weight_decay", "\"lr\": 0.05, \"weight_decay\": 0.01",
              SGD<T>({.lr = 0.05, .weight_decay = 0.01}));
  run<Net, T>(dir, data, net, "Adam", "adam", "\"lr\": 0.003", Adam<T>({.lr = 0.003}));
  run<Net, T>(dir, data, net, "AdamW", "adamw", "\"lr\": 0.003, \"weight_decay\": 0.1",
              AdamW<T>({.lr = 0.003, .weight_decay = 0.1}));
  run<Net, T>(dir, data, net, "RMSprop", "rmsprop", "\"lr\": 0.001", RMSprop<T>({.lr = 0.001}));
  run<Net, T>(dir, data, net, "Adagrad", "adagrad", "\"lr\": 0.02", Adagrad<T>({.lr = 0.02}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: trajectories_probe DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  try {
    const Data data = make_data();
    write_safetensors(dir / "data.safetensors",
                      {make_safetensor<double>("x", {rows, inputs}, std::span<const double>(data.x)),
                       make_safetensor<double>("y", {rows, outputs}, std::span<const double>(data.y))});
    std::printf("{\"steps\": %zu, \"batch\": %zu, \"cases\": [", steps, batch);
    run_all<Plain, double>(dir, data, "plain");
    run_all<Plain, float>(dir, data, "plain");
    run_all<BatchNormed, double>(dir, data, "batchnorm");
    run_all<BatchNormed, float>(dir, data, "batchnorm");
    run_all<LayerNormed, double>(dir, data, "layernorm");
    run_all<LayerNormed, float>(dir, data, "layernorm");
    run_all<RMSNormed, double>(dir, data, "rmsnorm");
    run_all<RMSNormed, float>(dir, data, "rmsnorm");
    std::printf("\n]}\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
