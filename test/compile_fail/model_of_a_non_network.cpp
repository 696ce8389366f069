// A model of something that is not a Sequential.
// expect: a model needs a network type: Sequential<Input<N>, layers...>
// max-lines: 10
#include "typenet/model/model.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = int;
#else
using Net = Sequential<Input<3>, Linear<1>>;
#endif
int main() {
  Model<Net> model;
  return static_cast<int>(model.parameters().size());
}
