// Topology rule: a normalisation layer (here LayerNorm) comes after an activation
// expect: a normalisation layer comes after an activation
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, ReLU, LayerNorm<>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, LayerNorm<>, ReLU, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
