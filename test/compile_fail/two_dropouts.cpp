// Topology rule: two Dropout layers follow the same Linear
// expect: two Dropout layers follow the same Linear
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, ReLU, Dropout<0.1f>, Dropout<0.2f>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, ReLU, Dropout<0.3f>, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
