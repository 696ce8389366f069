// LayerNorm's epsilon must be positive.
// expect: a normalisation layer's epsilon must be positive
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, LayerNorm<0.0f>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, LayerNorm<1e-6f, false>, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
