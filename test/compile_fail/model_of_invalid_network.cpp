// Topology rule, seen through Model: the first error is still the sentence.
// expect: BatchNorm comes after an activation
#include "typenet/model/model.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, ReLU, BatchNorm<>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>, ReLU, Linear<1>>;
#endif
int main() {
  Model<Net> model;
  return static_cast<int>(model.parameters().size());
}
