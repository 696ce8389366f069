// micrograd's two-moons classifier in typenet: 100 samples, noise 0.1,
// labels -1/+1, MLP 2-16-16-1 (ReLU, linear output), max-margin loss, SGD
// with learning rate 1.0 - 0.9 k/100.
#include <cstdio>

#include "typenet/typenet.hpp"

using namespace typenet;

using Net = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;

int main() {
  const auto data = data::make_moons<float>(100, 0.1, 1);
  const Matrix<float> y = data.label_column(-1.0f, 1.0f);
  Model<Net> model(Init::uniform, 1337);
  std::printf("%s: %zu parameters\n", Net::name().c_str(), Net::parameter_count);

  SGD<> sgd({.lr = 1.0});
  const LinearLR schedule{1.0, 0.1, 100};
  double acc = 0;
  for (std::size_t k = 0; k < 50; ++k) {
    sgd.options.lr = schedule(k);
    const float loss = train_step(model, data.x.view(), y.view(), Hinge{}, sgd);
    acc = binary_accuracy(model.output(), y.view(), 0.0f);
    std::printf("step %zu loss %.6f, accuracy %.0f%%\n", k, static_cast<double>(loss), 100 * acc);
  }
  std::printf("final accuracy: %.2f%%\n", 100 * acc);
  return acc >= 0.98 ? 0 : 1;
}
