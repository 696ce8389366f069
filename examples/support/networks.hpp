// The examples' networks, in one header because two translation units need
// each type: the example itself, and gpu_steps.cu, which instantiates its
// GPU training steps with nvcc (--device cuda).
#pragma once

#include "typenet/topology/activations.hpp"
#include "typenet/topology/sequential.hpp"

namespace examples {
using namespace typenet;

namespace moons {
// micrograd's MLP: 2 inputs, two hidden layers of 16 ReLU units, one output.
using Net = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;
}  // namespace moons

namespace regression {
// The micrograd tutorials' 3-3-2-1 with a sigmoid on every layer.
using Net = Sequential<Input<3>, Linear<3>, Sigmoid, Linear<2>, Sigmoid, Linear<1>, Sigmoid>;
}  // namespace regression

namespace circles {
// 2-10-1: ReLU, then a sigmoid for the probability of the inner circle.
using Net = Sequential<Input<2>, Linear<10>, ReLU, Linear<1>, Sigmoid>;
}  // namespace circles

namespace mnist_mlp {
// PyTorch's MNIST MLP, 784-256-256-10, in three forms.
using Plain = Sequential<Input<784>, Linear<256>, ReLU, Linear<256>, ReLU, Linear<10>, Softmax>;
using WithDropout = Sequential<Input<784>, Linear<256>, ReLU, Dropout<0.2f>, Linear<256>, ReLU, Dropout<0.2f>,
                               Linear<10>, Softmax>;
using WithBatchNorm =
    Sequential<Input<784>, Linear<256>, BatchNorm<>, ReLU, Linear<256>, BatchNorm<>, ReLU, Linear<10>, Softmax>;
}  // namespace mnist_mlp

namespace mnist_deep {
// 784-150-150-150-10, a different activation on each hidden layer.
using Net = Sequential<Input<784>, Linear<150>, ReLU, Linear<150>, Tanh, Linear<150>, ELU<>, Linear<10>, Softmax>;
}  // namespace mnist_deep

}  // namespace examples
