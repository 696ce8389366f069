// Writes the exported headers of the tutorials' networks (moons, circles,
// regression, MNIST with and without BatchNorm) into a folder, with inputs
// and InferenceModel's outputs for them, for test/export/header_export.py
// to compile with no include path and compare.
#include <cstdio>
#include <filesystem>
#include <string>

#include "support/networks.hpp"
#include "typenet/io/header_export.hpp"
#include "typenet/model/inference_model.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;

namespace {

void write_matrix(const std::filesystem::path& path, const Matrix<float>& m) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path.string());
  std::fprintf(f, "%zu %zu\n", m.rows(), m.cols());
  for (std::size_t i = 0; i < m.rows(); ++i)
    for (std::size_t j = 0; j < m.cols(); ++j) std::fprintf(f, "%.9g\n", static_cast<double>(m(i, j)));
  std::fclose(f);
}

// A model with non-trivial BatchNorm statistics (a few training steps),
// its header, 50 inputs and InferenceModel's outputs for them.
template <class Net>
void write_case(const std::filesystem::path& folder, const std::string& name) {
  Model<Net> model(Init::torch_default, 11);
  Rng rng(12);
  Matrix<float> x(50, Net::input_size), t(50, Net::output_size);
  for (std::size_t i = 0; i < 50; ++i) {
    for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = static_cast<float>(rng.normal());
    for (std::size_t j = 0; j < Net::output_size; ++j) t(i, j) = static_cast<float>(rng.uniform(0, 1));
  }
  Adam<> adam({.lr = 1e-2});
  for (int step = 0; step < 3; ++step) train_step(model, x.view(), t.view(), MeanSquaredError{}, adam);
  export_header(folder / (name + ".hpp"), model, name);
  Matrix<float> y(50, Net::output_size);
  InferenceModel<Net>(model).predict(x.view(), y.view());
  write_matrix(folder / (name + "_x.txt"), x);
  write_matrix(folder / (name + "_y.txt"), y);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FOLDER\n", argv[0]);
    return 2;
  }
  const std::filesystem::path folder = argv[1];
  std::filesystem::create_directories(folder);
  write_case<examples::moons::Net>(folder, "moons_net");
  write_case<examples::circles::Net>(folder, "circles_net");
  write_case<examples::regression::Net>(folder, "regression_net");
  write_case<examples::mnist_mlp::Plain>(folder, "mnist_net");
  write_case<examples::mnist_mlp::WithBatchNorm>(folder, "mnist_batchnorm_net");
  std::printf("wrote 5 headers to %s\n", folder.c_str());
}
