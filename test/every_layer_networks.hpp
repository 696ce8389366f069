// Networks that together hold every layer and activation typenet has, for
// the tests that carry models out of typenet and back (PyTorch, ONNX). Each
// test adds a network of the smooth activations with its own Softplus.
#pragma once

#include "typenet/topology/sequential.hpp"

namespace every_layer {

using namespace typenet;

using Deep = Sequential<Input<5>, Linear<12>, BatchNorm<>, ReLU, Dropout<0.2f>, Linear<10>, LayerNorm<>, GELU, Linear<9>,
                        RMSNorm<>, Tanh, Linear<8>, LeakyReLU<0.1f>, Linear<8>, BatchNorm<1e-3f, 0.2f>, ELU<0.5f>,
                        Linear<7>, Sigmoid, Linear<6>, Identity, Linear<6, false>, LayerNorm<1e-4f, false>, Linear<4>,
                        Softmax>;
using Unbiased = Sequential<Input<4>, Linear<6, false>, BatchNorm<>, Tanh, Linear<5>, RMSNorm<1e-6f>, ELU<>, Linear<3>>;

}  // namespace every_layer
