// What each compiled copy of test/dispatch/variant.cpp reports, in types that
// mean the same in every copy (typenet::Isa is outside the ISA namespace).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "typenet/cpu/isa_dispatch.hpp"

namespace dispatch_test {

struct VariantReport {
  typenet::Isa compiled_isa;  // typenet::compiled_isa in that copy
  std::size_t register_bytes;  // the width its kernels were built for
  std::uint64_t initial_parameter_bits;  // a hash of the initial parameters' bits
  std::array<float, 8> initial_outputs;  // the untrained network on 8 points
  float first_loss;  // training loss of the first and the last step
  float last_loss;
};

}  // namespace dispatch_test
