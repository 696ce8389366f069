// The moons example's network, in a header of its own because two
// translation units need the type: moons.cpp, and gpu_steps.cu, which
// instantiates its GPU training steps with nvcc.
#pragma once

#include "typenet/topology/sequential.hpp"

namespace examples::moons {
using namespace typenet;
// micrograd's MLP: 2 inputs, two hidden layers of 16 ReLU units, one output.
using Net = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;
}  // namespace examples::moons
