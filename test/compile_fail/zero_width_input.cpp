// Topology rule: a layer width is zero
// expect: a layer width is zero
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<0>, Linear<4>>;
#else
using Net = Sequential<Input<1>, Linear<4>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
