// Topology rule: Softmax over a single output is always 1
// expect: Softmax over a single output is always 1
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<1>, Softmax>;
#else
using Net = Sequential<Input<3>, Linear<1>, Sigmoid>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
