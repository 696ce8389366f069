// A network trained in PyTorch, evaluated by typenet: examples/from_pytorch.py
// trains nn.Sequential(Linear(2, 16), BatchNorm1d(16), ReLU, Linear(16, 16),
// Tanh, Linear(16, 2)) on two moons and saves it as safetensors with its test
// set; this program loads both into the matching type and reports the same
// test accuracy, with scikit-learn's classification report.
//
//   /usr/bin/python3 examples/from_pytorch.py --out out
//   ./build/examples/from_pytorch --model out/moons.safetensors --data out/moons_test.safetensors
//
// PyTorch's nn.Linear before BatchNorm1d has a bias, which typenet's
// Linear<16> there does not keep: loading folds it into the running mean
// (docs/interop.md).
#include <cstdio>
#include <string>
#include <vector>

#include "support/example_main.hpp"
#include "typenet/io/safetensors.hpp"
#include "typenet/train/classification_report.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
using Net = Sequential<Input<2>, Linear<16>, BatchNorm<>, ReLU, Linear<16>, Tanh, Linear<2>>;

int main(int argc, char** argv) {
  std::string model_path = "out/moons.safetensors", data_path = "out/moons_test.safetensors";
  examples::CommandLine cli("from_pytorch",
                            "Evaluates the two-moons network examples/from_pytorch.py trained in PyTorch.");
  cli.text("--model", model_path, "the network, as typenet_torch.save wrote it", "FILE")
      .text("--data", data_path, "the test set: x [n, 2] and label [n]", "FILE");
  return examples::run_example("from_pytorch", cli, argc, argv, [&] {
    if (!std::filesystem::exists(model_path) || !std::filesystem::exists(data_path))
      throw std::runtime_error(model_path + " or " + data_path +
                               " does not exist; write them first: /usr/bin/python3 examples/from_pytorch.py --out "
                               "DIR (needs PyTorch: apt-get install python3-torch)");
    Model<Net> model;
    load_safetensors(model_path, model);
    std::printf("loaded %s into %s (%zu parameters)\n", model_path.c_str(), Net::name().c_str(), Net::parameter_count);

    const SafetensorsFile data = read_safetensors(data_path);
    const SafetensorsTensor* x = data.find("x");
    const SafetensorsTensor* label = data.find("label");
    if (!x || !label || x->shape.size() != 2 || x->shape[1] != 2 || label->shape.size() != 1 ||
        label->shape[0] != x->shape[0])
      throw SafetensorsError(data_path, "expected x [n, 2] and label [n]");
    const std::vector<float> points = tensor_values<float>(data, *x);
    const std::vector<std::int32_t> labels = tensor_values<std::int32_t>(data, *label);
    const std::size_t n = labels.size();

    const auto logits = model.forward(MatrixView<const float>{points.data(), n, 2}, Mode::eval);
    std::vector<std::int32_t> predicted(n);
    for (std::size_t i = 0; i < n; ++i) predicted[i] = logits(i, 1) > logits(i, 0) ? 1 : 0;
    const auto cm = confusion_matrix(labels, predicted);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) correct += predicted[i] == labels[i] ? 1 : 0;
    const double accuracy = static_cast<double>(correct) / static_cast<double>(n);
    std::printf("\n%s\nconfusion matrix (rows: true class, columns: predicted)\n%s\n",
                classification_report(cm).c_str(), format_confusion_matrix(cm).c_str());
    std::printf("%zu of %zu correct\nfinal test accuracy: %.2f%%\n", correct, n, 100 * accuracy);
    return 0;
  });
}
