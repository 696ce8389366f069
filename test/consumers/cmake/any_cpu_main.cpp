// Built for the x86-64-v2 baseline: picks the copy of any_cpu_copy.cpp for the
// best ISA this CPU runs, and reports which, and the copy's accuracy.
#include <cstdio>
#include <typenet/cpu/isa_dispatch.hpp>

namespace consumer::isa_sse { double train_moons(); }
namespace consumer::isa_avx2 { double train_moons(); }
namespace consumer::isa_avx512 { double train_moons(); }

int main() {
  const auto train = typenet::select_isa_variant<double()>({{typenet::Isa::avx512, consumer::isa_avx512::train_moons},
                                                            {typenet::Isa::avx2, consumer::isa_avx2::train_moons},
                                                            {typenet::Isa::sse, consumer::isa_sse::train_moons}});
  const double accuracy = train.function();
  const auto name = typenet::isa_name(train.isa);
  std::printf("the %.*s copy: accuracy %.0f%%\n", static_cast<int>(name.size()), name.data(), 100 * accuracy);
}
