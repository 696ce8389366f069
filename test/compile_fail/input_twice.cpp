// Topology rule: Input<N> may appear only once
// expect: Input<N> may appear only once
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, Input<4>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
