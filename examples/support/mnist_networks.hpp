// The MNIST example's networks (PyTorch's 784-256-256-10 MLP in three
// forms), in a header of their own because two translation units need the
// types: the example (support/mnist_mlp.hpp), and gpu_steps.cu, which
// instantiates their GPU training steps with nvcc.
#pragma once

#include "typenet/topology/activations.hpp"
#include "typenet/topology/sequential.hpp"

namespace examples::mnist_mlp {
using namespace typenet;

using Plain = Sequential<Input<784>, Linear<256>, ReLU, Linear<256>, ReLU, Linear<10>, Softmax>;
using WithDropout = Sequential<Input<784>, Linear<256>, ReLU, Dropout<0.2f>, Linear<256>, ReLU, Dropout<0.2f>,
                               Linear<10>, Softmax>;
using WithBatchNorm =
    Sequential<Input<784>, Linear<256>, BatchNorm<>, ReLU, Linear<256>, BatchNorm<>, ReLU, Linear<10>, Softmax>;
}  // namespace examples::mnist_mlp
