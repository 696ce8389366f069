// Layer parameter: Softplus's Beta is 0 (its formula divides by Beta)
// expect: typenet: Softplus<Beta, Threshold>: Beta must be finite and not 0
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
using Net = Sequential<Input<3>, Linear<4>, Softplus<0.0f>, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, Softplus<-2.0f>, Linear<1>>;
#endif
static_assert(Net::parameter_count > 0);  // (true: the layer is reported, not the network)
