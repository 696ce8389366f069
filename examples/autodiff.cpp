// micrograd's first example, at compile time: a neuron tanh(x1 w1 + x2 w2 + b)
// built from variables, its value, and every partial derivative. The
// expression's type is its graph; each partial derivative is another type,
// derived by the compiler and printed here as a formula.
#include <cstdio>

#include "typenet/expr/autodiff.hpp"

int main() {
  using namespace typenet::autodiff;
  auto [x1, x2, w1, w2, b] = variables<5>();
  auto neuron = tanh(x1 * w1 + x2 * w2 + b);

  const auto r = gradient(neuron, 2.0, 0.0, -3.0, 1.0, 6.8813735870195432);
  std::printf("o = %s\n", neuron.str().c_str());
  std::printf("do/dx1 = %s\n", typenet::expr::derivative<0>(neuron).str().c_str());
  std::printf("value %.4f\n", r.value);
  const char* names[] = {"x1", "x2", "w1", "w2", "b"};
  for (int i = 0; i < 5; ++i) std::printf("d/d%s = %.4f\n", names[i], r.partial[i]);
  std::printf("final value: %.4f\n", r.value);
  return 0;
}
