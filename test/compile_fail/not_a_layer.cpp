// Topology rule: every argument of Sequential must be a typenet layer
// expect: every argument of Sequential must be a typenet layer
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, int, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
