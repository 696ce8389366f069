// Topology rule, seen through Model with the umbrella header (one more
// level of includes): still the one error, and short.
// expect: Softmax is not the last layer
// max-lines: 10
#include "typenet/typenet.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, Softmax, Linear<2>>;
#else
using Net = Sequential<Input<3>, Linear<4>, Linear<2>, Softmax>;
#endif
int main() {
  Model<Net> model(Init::uniform, 1);
  return static_cast<int>(model.parameters().size());
}
