// Topology rule: Softmax is not the last layer
// expect: Softmax is not the last layer
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, Softmax, Linear<2>>;
#else
using Net = Sequential<Input<3>, Linear<4>, ReLU, Linear<2>, Softmax>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
