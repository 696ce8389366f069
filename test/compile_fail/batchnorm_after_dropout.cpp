// Topology rule: BatchNorm comes after Dropout
// expect: BatchNorm comes after Dropout
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, Dropout<0.1f>, BatchNorm<>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>, Dropout<0.1f>, Linear<1>>;
#endif
static_assert(Net::parameter_count > 0);
