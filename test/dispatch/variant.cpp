// The part of a program that uses typenet, compiled once per instruction set
// by test/meson.build (-march=x86-64-v2, -v3, -v4) into the namespace each
// copy's ISA names, as typenet/cpu/isa_dispatch.hpp describes. It trains
// micrograd's moons network with Adam and reports what test_dispatch.cpp
// compares between the copies.
#include <bit>
#include <cstring>

#include "dispatch/report.hpp"
#include "typenet/typenet.hpp"

namespace dispatch_test::TYPENET_ISA_NAMESPACE {

VariantReport train_moons() {
  using namespace typenet;
  using Net = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;
  const auto data = data::make_moons<float>(200, 0.1, 11);
  const Matrix<float> y = data.label_column(0.0f, 1.0f);
  Model<Net> model(Init::uniform, 11);

  VariantReport report{};
  report.compiled_isa = compiled_isa;
  report.register_bytes = simd::register_bytes;
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a over the bits
  for (const float p : model.parameters()) {
    hash ^= std::bit_cast<std::uint32_t>(p);
    hash *= 1099511628211ull;
  }
  report.initial_parameter_bits = hash;
  const auto initial = model.forward(MatrixView<const float>(data.x.data(), 8, 2));
  for (std::size_t i = 0; i < 8; ++i) report.initial_outputs[i] = initial(i, 0);

  Adam<float> adam({.lr = 0.01});
  for (int step = 0; step < 300; ++step) {
    const float loss = train_step(model, data.x.view(), y.view(), BinaryCrossEntropyWithLogits{}, adam);
    if (step == 0) report.first_loss = loss;
    report.last_loss = loss;
  }
  return report;
}

}  // namespace dispatch_test::TYPENET_ISA_NAMESPACE
