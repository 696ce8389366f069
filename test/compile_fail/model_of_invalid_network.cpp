// Topology rule, seen through Model: the sentence is the one error, and
// short: a program whose only use of the bad type is Model<Bad>.
// expect: a normalisation layer comes after an activation
// max-lines: 10
#include "typenet/model/model.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, ReLU, BatchNorm<>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>, ReLU, Linear<1>>;
#endif
int main() {
  Model<Net> model(Init::uniform, 1);
  return static_cast<int>(model.parameters().size() + model.forward(Matrix<float>(2, 3).view()).rows);
}
