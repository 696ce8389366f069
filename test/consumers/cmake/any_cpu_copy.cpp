// The README's network as one copy of several (docs/deployment.md, "One
// binary for many CPUs"): CMakeLists.txt compiles this file for x86-64-v2, -v3
// and -v4, and any_cpu_main.cpp runs the copy for the best ISA the CPU has.
#include <typenet/typenet.hpp>

namespace consumer::TYPENET_ISA_NAMESPACE {

double train_moons() {
  using namespace typenet;
  using Net = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;
  auto data = data::make_moons<float>(100, 0.1, /*seed*/ 1);
  Matrix<float> y = data.label_column(-1.0f, 1.0f);
  Model<Net> model(Init::uniform, /*seed*/ 1337);
  SGD<> sgd({.lr = 1.0});
  LinearLR schedule{1.0, 0.1, 100};
  for (std::size_t k = 0; k < 50; ++k) {
    sgd.options.lr = schedule(k);
    train_step(model, data.x.view(), y.view(), Hinge{}, sgd);
  }
  return binary_accuracy(model.forward(data.x.view()), y.view(), 0.0f);
}

}  // namespace consumer::TYPENET_ISA_NAMESPACE
