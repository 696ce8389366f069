// Topology rule: the first layer of a Sequential must be Input<N>
// expect: the first layer of a Sequential must be Input<N>
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Linear<4>, ReLU, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, ReLU, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
