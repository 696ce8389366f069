// Prints typenet's forward and backward of networks with LayerNorm and
// RMSNorm, as JSON, for test/torch/normalization.py to compare with PyTorch.
// Every value is named as a torch.nn.Sequential of the same layers names it
// (module index: the layer's position after Input), in PyTorch's layout,
// from the layers' own declarations (topology/parameters.hpp).
#include <cstdio>
#include <string>
#include <vector>

#include "typenet/typenet.hpp"

using namespace typenet;

namespace {

template <class T>
void print_values(const char* key, const T* v, std::size_t n) {
  std::printf("\"%s\": [", key);
  for (std::size_t i = 0; i < n; ++i) std::printf("%s%.17g", i ? ", " : "", static_cast<double>(v[i]));
  std::printf("]");
}

// Each declared parameter of Net under its PyTorch name, in PyTorch's layout.
template <class Net, class T>
void print_named(const char* key, std::span<const T> buffer) {
  std::printf("\"%s\": {", key);
  bool first = true;
  for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    for (const BlockValue& v : B::parameters) {
      // Linear's values belong to its module; a normalisation's to the next.
      const bool linear = v.spec.role == ParameterRole::weight || v.spec.role == ParameterRole::bias;
      const std::size_t module = B::layer - 1 + (linear ? 0 : 1);
      const std::string name = std::to_string(module) + "." + v.spec.torch_name;
      std::vector<T> values(v.size);
      const std::size_t rows = extent_size(v.spec.rows, B::in, B::out), cols = extent_size(v.spec.cols, B::in, B::out);
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < cols; ++j)
          values[v.spec.torch_layout == TorchLayout::transposed ? j * rows + i : i * cols + j] =
              buffer[v.offset + i * cols + j];
      std::printf("%s\n    ", first ? "" : ",");
      print_values(name.c_str(), values.data(), values.size());
      first = false;
    }
  });
  std::printf("}");
}

template <class Net, class T>
void probe(const char* label, std::size_t batch, bool last) {
  Model<Net, T> model(Init::torch_default, 17);
  Rng rng(23);
  for (T& p : model.parameters()) p += static_cast<T>(0.2 * rng.normal());  // gamma, beta away from 1, 0
  Matrix<T> x(batch, Net::input_size), weight(batch, Net::output_size);
  for (std::size_t i = 0; i < batch; ++i) {
    for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = static_cast<T>(rng.normal());
    for (std::size_t j = 0; j < Net::output_size; ++j) weight(i, j) = static_cast<T>(rng.normal());
  }
  const auto y = model.forward(x.view(), Mode::train);
  std::vector<T> out(y.data, y.data + batch * Net::output_size);
  model.backward(weight.view(), true);  // L = sum y * weight
  std::printf("\"%s\": {\n  \"network\": \"%s\", \"batch\": %zu,\n  ", label, Net::name().c_str(), batch);
  print_named<Net, T>("parameters", std::span<const T>(model.parameters()));
  std::printf(",\n  ");
  print_values("x", x.data(), batch * Net::input_size);
  std::printf(",\n  ");
  print_values("weight", weight.data(), batch * Net::output_size);
  std::printf(",\n  ");
  print_values("y", out.data(), out.size());
  std::printf(",\n  ");
  print_named<Net, T>("gradients", std::span<const T>(model.gradients()));
  std::printf(",\n  ");
  print_values("input_gradient", model.input_gradient().data, batch * Net::input_size);
  std::printf("\n}%s\n", last ? "" : ",");
}

}  // namespace

int main() {
  using Mixed = Sequential<Input<6>, Linear<10>, LayerNorm<>, GELU, Linear<8>, RMSNorm<>, Tanh, Linear<7>,
                           LayerNorm<1e-3f, false>, ReLU, Linear<9>, RMSNorm<1e-5f>, Linear<3>>;
  // Wide enough for the vector tails and several row tasks.
  using Wide = Sequential<Input<20>, Linear<67>, LayerNorm<>, ELU<>, Linear<5>>;
  std::printf("{\n");
  probe<Mixed, double>("mixed_double", 9, false);
  probe<Mixed, float>("mixed_float", 9, false);
  probe<Wide, double>("wide_double", 70, false);
  probe<Wide, float>("wide_float", 70, true);
  std::printf("}\n");
}
