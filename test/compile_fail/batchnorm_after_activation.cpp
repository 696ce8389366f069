// Topology rule: BatchNorm comes after an activation
// expect: BatchNorm comes after an activation
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, ReLU, BatchNorm<>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>, ReLU, Linear<1>>;
#endif
static_assert(Net::parameter_count > 0);
