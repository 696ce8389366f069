// Topology rule: Softmax comes before any Linear layer
// expect: Softmax comes before any Linear layer
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Softmax>;
#else
using Net = Sequential<Input<3>, Linear<3>, Softmax>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
