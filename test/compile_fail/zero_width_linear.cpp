// Topology rule: a layer width is zero
// expect: a layer width is zero
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<0>, ReLU, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<2>, ReLU, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
