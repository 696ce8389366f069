// Topology rule: an activation comes before any Linear layer
// expect: an activation comes before any Linear layer
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, ReLU, Linear<4>>;
#else
using Net = Sequential<Input<3>, Linear<4>, ReLU>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
