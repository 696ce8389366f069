// typenet's side of test/torch/interop.py: models through safetensors files
// in both directions, and Dropout's train and eval behaviour.
//
//   interop_probe networks        the networks' type names, as JSON
//   interop_probe export DIR      each network trained a little in typenet
//                                 (BatchNorm's running statistics move), saved
//                                 as DIR/LABEL.safetensors, with inputs
//                                 DIR/LABEL_input.safetensors; prints the
//                                 evaluation outputs
//   interop_probe import DIR      loads DIR/LABEL.safetensors (PyTorch's, from
//                                 typenet_torch.save) into each network and
//                                 prints its evaluation outputs on
//                                 DIR/LABEL_input.safetensors
//   interop_probe import_named DIR  loads DIR/named.safetensors through a name map
//   interop_probe dropout         Dropout<0.3>'s outputs and input gradients
//                                 on ones, three train-mode steps, and eval
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "typenet/io/safetensors.hpp"
#include "typenet/typenet.hpp"
#include "every_layer_networks.hpp"

using namespace typenet;
namespace fs = std::filesystem;

namespace {

// Every layer and activation typenet has, across three networks.
using every_layer::Deep;
using every_layer::Unbiased;
using Smooth = Sequential<Input<6>, Linear<9>, LayerNorm<>, SiLU, Linear<8>, BatchNorm<>, Softplus<2.0f, 10.0f>,
                          Linear<8>, Mish, Linear<7>, RMSNorm<>, Hardswish, Linear<5>, Softplus<>, Linear<3>>;
constexpr std::size_t batch = 13;

void print_values(const char* key, const float* v, std::size_t n) {
  std::printf("\"%s\": [", key);
  for (std::size_t i = 0; i < n; ++i) std::printf("%s%.17g", i ? ", " : "", static_cast<double>(v[i]));
  std::printf("]");
}

bool first = true;
void begin_entry(const char* label, const std::string& network) {
  std::printf("%s\n\"%s\": {\"network\": \"%s\"", first ? "" : ",", label, network.c_str());
  first = false;
}

template <class Net>
void export_one(const char* label, const fs::path& dir, std::uint64_t seed) {
  Model<Net, float> model(Init::torch_default, seed);
  Rng rng(seed + 1);
  Matrix<float> x(batch, Net::input_size);
  every_layer::move_off_initial_values(model, x, rng);
  save_safetensors(dir / (std::string(label) + ".safetensors"), model);
  for (std::size_t i = 0; i < batch; ++i)
    for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = static_cast<float>(rng.normal());
  write_safetensors(dir / (std::string(label) + "_input.safetensors"),
                    {make_safetensor<float>("x", {batch, Net::input_size},
                                            std::span<const float>(x.data(), batch * Net::input_size))});
  const auto out = model.forward(x.view(), Mode::eval);
  begin_entry(label, Net::name());
  std::printf(", ");
  print_values("y", out.data, batch * Net::output_size);
  std::printf("}");
}

template <class Net>
void import_one(const char* label, const fs::path& dir) {
  Model<Net, float> model(Init::torch_default, 99);
  load_safetensors(dir / (std::string(label) + ".safetensors"), model);
  const SafetensorsFile input = read_safetensors(dir / (std::string(label) + "_input.safetensors"));
  const SafetensorsTensor* t = input.find("x");
  if (!t || t->shape.size() != 2 || t->shape[1] != Net::input_size) throw std::runtime_error("bad input file");
  const std::vector<float> x = tensor_values<float>(input, *t);
  const std::size_t rows = static_cast<std::size_t>(t->shape[0]);
  const auto out = model.forward(MatrixView<const float>{x.data(), rows, Net::input_size}, Mode::eval);
  begin_entry(label, Net::name());
  std::printf(", ");
  print_values("y", out.data, rows * Net::output_size);
  std::printf("}");
}

// A module that is not an nn.Sequential, saved through a name map
// (typenet_torch.save(module, path, names=[...])).
void import_named(const fs::path& dir) {
  using Net = Sequential<Input<2>, Linear<3>, BatchNorm<>, ReLU, Linear<1>>;
  Model<Net, float> model(Init::torch_default, 99);
  load_safetensors(dir / "named.safetensors", model,
                   {.names = {.prefix = "net.", .modules = {"fc1", "bn1", "act", "fc2"}}});
  const SafetensorsFile input = read_safetensors(dir / "named_input.safetensors");
  const std::vector<float> x = tensor_values<float>(input, *input.find("x"));
  const auto out = model.forward(MatrixView<const float>{x.data(), x.size() / 2, 2}, Mode::eval);
  std::printf("{\"network\": \"%s\", ", Net::name().c_str());
  print_values("y", out.data, x.size() / 2);
  std::printf("}\n");
}

// Dropout<0.3> after an identity Linear: its output is the dropout of the
// input, its input gradient the mask (scaled) applied to the output's.
void dropout() {
  constexpr std::size_t width = 64, rows = 512;
  using Net = Sequential<Input<width>, Linear<width>, Dropout<0.3f>>;
  Model<Net, float> model(Init::torch_default, 5);
  std::fill(model.parameters().begin(), model.parameters().end(), 0.0f);
  for (std::size_t i = 0; i < width; ++i) model.weight<0>()(i, i) = 1.0f;
  Matrix<float> ones(rows, width);
  std::fill(ones.data(), ones.data() + rows * width, 1.0f);
  std::printf("{\"probability\": %.17g, \"rows\": %zu, \"width\": %zu, \"train\": [", static_cast<double>(0.3f), rows,
              width);
  for (int step = 0; step < 3; ++step) {
    const auto y = model.forward(ones.view(), Mode::train);
    std::printf("%s{", step ? ", " : "");
    print_values("y", y.data, rows * width);
    model.backward(ones.view(), true);
    std::printf(", ");
    print_values("input_gradient", model.input_gradient().data, rows * width);
    std::printf("}");
  }
  const auto y = model.forward(ones.view(), Mode::eval);
  std::printf("], ");
  print_values("eval", y.data, rows * width);
  std::printf("}\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "networks") {
      std::printf("{\"deep\": \"%s\", \"unbiased\": \"%s\", \"smooth\": \"%s\"}\n", Deep::name().c_str(),
                  Unbiased::name().c_str(), Smooth::name().c_str());
    } else if (command == "export" && argc == 3) {
      std::printf("{");
      export_one<Deep>("deep", argv[2], 1);
      export_one<Unbiased>("unbiased", argv[2], 2);
      export_one<Smooth>("smooth", argv[2], 3);
      std::printf("\n}\n");
    } else if (command == "import" && argc == 3) {
      std::printf("{");
      import_one<Deep>("deep", argv[2]);
      import_one<Unbiased>("unbiased", argv[2]);
      import_one<Smooth>("smooth", argv[2]);
      std::printf("\n}\n");
    } else if (command == "import_named" && argc == 3) {
      import_named(argv[2]);
    } else if (command == "dropout") {
      dropout();
    } else {
      std::fprintf(stderr, "usage: interop_probe networks | export DIR | import DIR | import_named DIR | dropout\n");
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
