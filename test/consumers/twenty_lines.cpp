#include <typenet/typenet.hpp>
using namespace typenet;

using Net = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;
static_assert(Net::parameter_count == 337);

int main() {
  auto data = data::make_moons<float>(100, 0.1, /*seed*/ 1);
  Matrix<float> y = data.label_column(-1.0f, 1.0f);       // labels -1 / +1
  Model<Net> model(Init::uniform, /*seed*/ 1337);          // one parameter buffer
  SGD<> sgd({.lr = 1.0});
  LinearLR schedule{1.0, 0.1, 100};                        // 1.0 - 0.9 k/100
  for (std::size_t k = 0; k < 50; ++k) {
    sgd.options.lr = schedule(k);
    float loss = train_step(model, data.x.view(), y.view(), Hinge{}, sgd);
    double acc = binary_accuracy(model.output(), y.view(), 0.0f);
    std::printf("step %zu loss %.4f, accuracy %.0f%%\n", k, loss, 100 * acc);
  }
}
