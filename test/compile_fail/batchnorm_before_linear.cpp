// Topology rule: BatchNorm comes before any Linear layer
// expect: BatchNorm comes before any Linear layer
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, BatchNorm<>, Linear<4>>;
#else
using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>>;
#endif
static_assert(Net::parameter_count > 0);
