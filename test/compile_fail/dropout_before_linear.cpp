// Topology rule: Dropout comes before any Linear layer
// expect: Dropout comes before any Linear layer
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Dropout<0.5f>, Linear<4>>;
#else
using Net = Sequential<Input<3>, Linear<4>, Dropout<0.5f>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
