// A layer claims the activation slot without a formula.
// expect: declares kind = LayerKind::activation but has no formula
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
struct Formless {
  static constexpr LayerKind kind = LayerKind::activation;
  static std::string name() { return "Formless"; }
};
using Net = Sequential<Input<3>, Linear<4>, Formless, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, Tanh, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
