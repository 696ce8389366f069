// LayerNorm keeps no running statistics: asking for them is a sentence.
// expect: typenet: this block has no BatchNorm.
#include "typenet/model/model.hpp"

using namespace typenet;
using Net = Sequential<Input<3>, Linear<4>, LayerNorm<>, ReLU, Linear<1>>;
int main() {
  Model<Net> model;
#ifdef TYPENET_COMPILE_FAIL
  return static_cast<int>(model.running_mean<0>().size());
#else
  return static_cast<int>(model.gamma<0>().size() + model.beta<0>().size());
#endif
}
