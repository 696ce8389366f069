// bench/bench.cpp as one binary with three copies of its code, built for
// x86-64-v2, -v3 and -v4 (bench/meson.build), which runs the copy for the
// best ISA this CPU has, or the one TYPENET_ISA names
// (typenet/cpu/isa_dispatch.hpp). It takes bench's flags and prints bench's
// lines, so that a copy's figures set beside those of a build for its ISA
// alone show what picking at run time costs (docs/performance.md).
//
//   TYPENET_ISA=avx2 build/bench/bench_dispatch --only moons_step
#include <cstdio>
#include <exception>

#include "typenet/cpu/isa_dispatch.hpp"

namespace bench_copy::isa_sse { int main_of_this_copy(int argc, char** argv); }
namespace bench_copy::isa_avx2 { int main_of_this_copy(int argc, char** argv); }
namespace bench_copy::isa_avx512 { int main_of_this_copy(int argc, char** argv); }

int main(int argc, char** argv) {
  try {
    const auto copy = typenet::select_isa_variant<int(int, char**)>({{typenet::Isa::avx512, bench_copy::isa_avx512::main_of_this_copy},
                                                                      {typenet::Isa::avx2, bench_copy::isa_avx2::main_of_this_copy},
                                                                      {typenet::Isa::sse, bench_copy::isa_sse::main_of_this_copy}});
    const auto name = typenet::isa_name(copy.isa);
    std::fprintf(stderr, "bench_dispatch: running the %.*s copy\n", static_cast<int>(name.size()), name.data());
    return copy.function(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_dispatch: %s\n", e.what());
    return 2;
  }
}
