// Topology rule, seen through the GPU's model (over the host executor): the
// sentence is the one error, and short.
// expect: two activations follow the same Linear
// max-lines: 10
#include "typenet/cuda/kernel_model.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, ReLU, Tanh, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, ReLU, Linear<1>>;
#endif
int main() {
  cuda::KernelModel<Net, float, cuda::HostExecutor> model(Init::uniform, 1);
  return model.parameters() != nullptr;
}
