// A layer claims the normalisation slot without meeting its contract (no
// axis, no epsilon<T>(), ...).
// expect: does not meet the normalisation contract
#include "typenet/topology/sequential.hpp"

using namespace typenet;
#ifdef TYPENET_COMPILE_FAIL
struct HalfDeclared {
  static constexpr LayerKind kind = LayerKind::normalization;
  static constexpr bool centred = true;
  static std::string name() { return "HalfDeclared"; }
};
using Net = Sequential<Input<3>, Linear<4>, HalfDeclared, ReLU, Linear<1>>;
#else
using Net = Sequential<Input<3>, Linear<4>, LayerNorm<>, ReLU, Linear<1>>;
#endif
// (The check is true for an invalid network, so that the sentence is the only error.)
static_assert(Net::parameter_count > 0 || !Net::valid);
