// Topology rule: a normalisation layer (here RMSNorm) comes after Dropout
// expect: a normalisation layer comes after Dropout
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, Dropout<0.1f>, RMSNorm<>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, RMSNorm<>, Dropout<0.1f>, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
