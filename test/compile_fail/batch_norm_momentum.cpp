// BatchNorm's momentum must be in [0, 1].
// expect: BatchNorm's momentum must be in [0, 1]
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, BatchNorm<1e-5f, 1.5f>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, BatchNorm<1e-5f, 1.0f>, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
