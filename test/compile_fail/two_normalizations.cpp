// Topology rule: two normalisation layers follow the same Linear (BatchNorm, then LayerNorm)
// expect: two normalisation layers follow the same Linear
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>, LayerNorm<>, ReLU, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>, ReLU, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
