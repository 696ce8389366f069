// One binary, the best kernels (typenet/cpu/isa_dispatch.hpp): this file is
// compiled for x86-64-v2 and linked with three copies of variant.cpp, built
// for x86-64-v2, -v3 and -v4. It checks that the copy for the best ISA the
// CPU runs is chosen (the CPU's flags read from /proc/cpuinfo, or, under
// qemu's emulated CPUs, from TYPENET_TEST_EXPECTED_ISA), that each copy runs
// the kernels of its ISA and trains as the others do, and that TYPENET_ISA
// overrides the choice with a clear error for what cannot be run.
#define BOOST_TEST_MODULE dispatch
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "dispatch/report.hpp"

namespace dispatch_test::isa_sse { VariantReport train_moons(); }
namespace dispatch_test::isa_avx2 { VariantReport train_moons(); }
namespace dispatch_test::isa_avx512 { VariantReport train_moons(); }

namespace {

using typenet::Isa;
using Variant = typenet::IsaVariant<dispatch_test::VariantReport()>;

static_assert(typenet::compiled_isa == Isa::sse, "test_dispatch.cpp is built for the x86-64-v2 baseline");

typenet::IsaVariant<dispatch_test::VariantReport()> select(const char* variable = "TYPENET_ISA") {
  return typenet::select_isa_variant<dispatch_test::VariantReport()>(
      {{Isa::avx512, dispatch_test::isa_avx512::train_moons},
       {Isa::avx2, dispatch_test::isa_avx2::train_moons},
       {Isa::sse, dispatch_test::isa_sse::train_moons}},
      variable);
}

// The best of the three this CPU runs, from the kernel's list of its flags:
// an account independent of the compiler's CPUID check that the library uses.
Isa expected_isa() {
  if (const char* e = std::getenv("TYPENET_TEST_EXPECTED_ISA")) {
    const auto isa = typenet::isa_from_name(e);
    if (!isa) throw std::runtime_error(std::string("TYPENET_TEST_EXPECTED_ISA=") + e + " names no ISA");
    return *isa;
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string w; words >> w;) flags.insert(w);
    auto has = [&](std::initializer_list<const char*> names) {
      for (const char* n : names)
        if (!flags.count(n)) return false;
      return true;
    };
    const bool v3 = has({"avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm"});
    if (v3 && has({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})) return Isa::avx512;
    if (v3) return Isa::avx2;
    return Isa::sse;
  }
  throw std::runtime_error("/proc/cpuinfo has no flags line");
}

std::string name(Isa isa) { return std::string(typenet::isa_name(isa)); }

std::size_t register_bytes_of(Isa isa) { return isa == Isa::avx512 ? 64 : isa == Isa::avx2 ? 32 : 16; }

struct NoOverride {
  NoOverride() { unsetenv("TYPENET_ISA"); }
  ~NoOverride() { unsetenv("TYPENET_ISA"); }
};

std::string error_of(const char* value, std::initializer_list<Variant> variants) {
  setenv("TYPENET_ISA", value, 1);
  try {
    typenet::select_isa_variant<dispatch_test::VariantReport()>(variants);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(dispatch, NoOverride)

BOOST_AUTO_TEST_CASE(the_best_variant_this_cpu_runs_is_chosen_and_runs_its_own_kernels) {
  const Isa expected = expected_isa();
  const auto chosen = select();
  BOOST_TEST(name(chosen.isa) == name(expected));
  const auto report = chosen.function();
  BOOST_TEST(name(report.compiled_isa) == name(expected));
  BOOST_TEST(report.register_bytes == register_bytes_of(expected));
  BOOST_TEST(typenet::cpu_supports(expected));
  for (const Isa higher : {Isa::avx2, Isa::avx512})
    if (typenet::isa_rank(higher) > typenet::isa_rank(expected)) BOOST_TEST(!typenet::cpu_supports(higher));
}

// Every copy this CPU runs starts from bitwise the same parameters (the
// initialisation is integer hashing and scalar arithmetic, which -march does
// not change: no contraction into fused multiply-adds in ISO C++ mode), gives
// the same untrained outputs to the rounding of vector widths and fused
// multiply-adds, and trains: 300 Adam steps on the moons cut the loss by 4x
// or more in each copy.
BOOST_AUTO_TEST_CASE(every_variant_this_cpu_runs_trains_alike) {
  const auto reference = dispatch_test::isa_sse::train_moons();
  BOOST_TEST(reference.register_bytes == 16u);
  BOOST_TEST(reference.last_loss < reference.first_loss / 4);
  const std::pair<Isa, dispatch_test::VariantReport (*)()> others[] = {
      {Isa::avx2, dispatch_test::isa_avx2::train_moons}, {Isa::avx512, dispatch_test::isa_avx512::train_moons}};
  for (const auto& [isa, train] : others) {
    if (!typenet::cpu_supports(isa)) continue;
    BOOST_TEST_CONTEXT("variant " << name(isa)) {
      const auto r = train();
      BOOST_TEST(name(r.compiled_isa) == name(isa));
      BOOST_TEST(r.register_bytes == register_bytes_of(isa));
      BOOST_TEST(r.initial_parameter_bits == reference.initial_parameter_bits);
      for (std::size_t i = 0; i < r.initial_outputs.size(); ++i)
        BOOST_TEST(std::abs(r.initial_outputs[i] - reference.initial_outputs[i]) <=
                   1e-6f * (1 + std::abs(reference.initial_outputs[i])));
      BOOST_TEST(std::abs(r.first_loss - reference.first_loss) <= 1e-6f * reference.first_loss);
      BOOST_TEST(r.last_loss < r.first_loss / 4);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_override_chooses_a_lower_variant) {
  setenv("TYPENET_ISA", "sse", 1);
  const auto chosen = select();
  BOOST_TEST(name(chosen.isa) == "sse");
  BOOST_TEST(chosen.function().register_bytes == 16u);
  // An empty value, or no variable at all, is no override.
  setenv("TYPENET_ISA", "", 1);
  BOOST_TEST(name(select().isa) == name(expected_isa()));
  setenv("TYPENET_ISA", "sse", 1);
  BOOST_TEST(name(select(nullptr).isa) == name(expected_isa()));
}

BOOST_AUTO_TEST_CASE(what_cannot_be_run_is_a_clear_error) {
  const std::initializer_list<Variant> built = {{Isa::avx512, dispatch_test::isa_avx512::train_moons},
                                                {Isa::sse, dispatch_test::isa_sse::train_moons}};
  BOOST_TEST(error_of("avx3", built) ==
             "TYPENET_ISA=avx3 names no instruction set; typenet knows portable, sse, avx, avx2, avx512 and neon.");
  BOOST_TEST(error_of("avx2", built) == "TYPENET_ISA=avx2: this program has no avx2 variant; it was built with "
                                        "avx512, sse.");
  if (!typenet::cpu_supports(Isa::avx512)) {
    BOOST_TEST(error_of("avx512", built) == "TYPENET_ISA=avx512: this CPU cannot run code built with "
                                            "-march=x86-64-v4.");
    unsetenv("TYPENET_ISA");
    try {
      typenet::select_isa_variant<dispatch_test::VariantReport()>(
          {{Isa::avx512, dispatch_test::isa_avx512::train_moons}});
      BOOST_FAIL("an AVX-512 variant alone was chosen on a CPU without AVX-512");
    } catch (const std::runtime_error& e) {
      BOOST_TEST(std::string(e.what()) == "none of this program's variants (avx512) runs on this CPU.");
    }
  }
}

BOOST_AUTO_TEST_CASE(names_and_ranks) {
  for (const Isa isa : typenet::all_isas) BOOST_TEST((typenet::isa_from_name(typenet::isa_name(isa)) == isa));
  BOOST_TEST(!typenet::isa_from_name("AVX2").has_value());
  BOOST_TEST(typenet::cpu_supports(Isa::sse));  // the baseline this file runs on
  BOOST_TEST(typenet::cpu_supports(Isa::portable));
  BOOST_TEST(!typenet::cpu_supports(Isa::neon));
}

BOOST_AUTO_TEST_SUITE_END()
