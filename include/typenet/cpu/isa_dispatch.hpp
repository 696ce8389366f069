// One binary, the best kernels: picking a copy of the program's typenet code
// compiled for AVX-512, AVX2 or 128-bit vectors at run time.
//
// typenet's kernels are chosen at compile time from the translation unit's
// -march flags, and its namespace is named after them (config.hpp). A
// program shipped as one binary for many CPUs compiles the source file that
// uses typenet once per instruction set, each copy with its own -march flag
// and its entry points in the namespace TYPENET_ISA_NAMESPACE, and picks one
// copy when it starts:
//
//   // classify.cpp, compiled three times: -march=x86-64-v2, -v3 and -v4
//   namespace app::TYPENET_ISA_NAMESPACE {
//   void classify(const float* x, std::size_t rows, int* labels) { ... }
//   }
//
//   // main.cpp, compiled for the baseline, -march=x86-64-v2
//   namespace app::isa_sse { void classify(const float*, std::size_t, int*); }
//   namespace app::isa_avx2 { void classify(const float*, std::size_t, int*); }
//   namespace app::isa_avx512 { void classify(const float*, std::size_t, int*); }
//   const auto classify = typenet::select_isa_variant<void(const float*, std::size_t, int*)>({
//       {typenet::Isa::avx512, app::isa_avx512::classify},
//       {typenet::Isa::avx2, app::isa_avx2::classify},
//       {typenet::Isa::sse, app::isa_sse::classify}});
//   classify.function(x, rows, labels);
//
// Link the copies lowest ISA first. The standard library's and the
// program's own inline functions outside typenet's namespace are compiled
// into every copy under one symbol; the linker keeps the first definition it
// sees, so with the lowest copy first every such call that is not inlined
// runs code any of the CPUs can run. (test/dispatch/ checks both in its own
// link map; docs/performance.md has the compile-time and size costs.)
#pragma once

#include "typenet/config.hpp"

#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace typenet {

// Outside the ISA namespace on purpose: every copy of a program, whatever it
// was compiled for, names instruction sets with this one type.
/// The instruction sets typenet's CPU kernels are written for: portable
/// 128-bit vector code, SSE (x86-64-v2), AVX without AVX2, AVX2 with FMA
/// (x86-64-v3), AVX-512 (x86-64-v4), NEON (aarch64).
enum class Isa { portable, sse, avx, avx2, avx512, neon };

}  // namespace typenet

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// The instruction set this translation unit's kernels are compiled for.
inline constexpr Isa compiled_isa = Isa::TYPENET_ISA_ID;

/// The ISA's name, as TYPENET_ISA spells it: "sse", "avx2", "avx512"...
constexpr std::string_view isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::portable: return "portable";
    case Isa::sse: return "sse";
    case Isa::avx: return "avx";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::neon: return "neon";
  }
  return "?";
}

/// The flag that builds a copy for the ISA: the x86-64 micro-architecture
/// levels, which cpu_supports tests whole.
constexpr std::string_view isa_build_flag(Isa isa) noexcept {
  switch (isa) {
    case Isa::sse: return "-march=x86-64-v2";
    case Isa::avx: return "-mavx";
    case Isa::avx2: return "-march=x86-64-v3";
    case Isa::avx512: return "-march=x86-64-v4";
    case Isa::portable:
    case Isa::neon: return "(the target's default)";
  }
  return "?";
}

/// Every Isa, in the enumeration's order.
inline constexpr Isa all_isas[] = {Isa::portable, Isa::sse, Isa::avx, Isa::avx2, Isa::avx512, Isa::neon};

/// The Isa that isa_name gives `name`, or none.
constexpr std::optional<Isa> isa_from_name(std::string_view name) noexcept {
  for (const Isa isa : all_isas)
    if (isa_name(isa) == name) return isa;
  return std::nullopt;
}

/// Within one CPU family a higher rank runs everything a lower one does.
constexpr int isa_rank(Isa isa) noexcept {
  switch (isa) {
    case Isa::portable: return 0;
    case Isa::sse:
    case Isa::neon: return 1;
    case Isa::avx: return 2;
    case Isa::avx2: return 3;
    case Isa::avx512: return 4;
  }
  return 0;
}

/// Whether the ISA is one of x86's.
constexpr bool is_x86_isa(Isa isa) noexcept {
  return isa == Isa::sse || isa == Isa::avx || isa == Isa::avx2 || isa == Isa::avx512;
}

/// Whether this CPU (and its operating system, which must save the wider
/// registers) runs code built with isa_build_flag(isa). The compiler's
/// run-time library asks CPUID and XGETBV once; this is cheap after that.
inline bool cpu_supports(Isa isa) noexcept {
  if (isa == Isa::portable) return true;
  if (isa == compiled_isa) return true;  // this very code is running
#if defined(__x86_64__) || defined(__i386__)
  if (!is_x86_isa(isa)) return false;
  if (is_x86_isa(compiled_isa) && isa_rank(isa) <= isa_rank(compiled_isa)) return true;
  __builtin_cpu_init();
  // GCC 12 and clang 19 test whole levels; older compilers know the level's
  // defining features (a CPU with these and without the level's minor ones,
  // MOVBE, LZCNT, F16C, is not known to exist).
#if (defined(__clang__) && __clang_major__ >= 19) || (!defined(__clang__) && __GNUC__ >= 12)
  switch (isa) {
    case Isa::sse: return __builtin_cpu_supports("x86-64-v2");
    case Isa::avx: return __builtin_cpu_supports("avx");
    case Isa::avx2: return __builtin_cpu_supports("x86-64-v3");
    case Isa::avx512: return __builtin_cpu_supports("x86-64-v4");
    default: return false;
  }
#else
  const bool level2 = __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt");
  const bool level3 = level2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                      __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
  switch (isa) {
    case Isa::sse: return level2;
    case Isa::avx: return __builtin_cpu_supports("avx");
    case Isa::avx2: return level3;
    case Isa::avx512:
      return level3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512cd");
    default: return false;
  }
#endif
#else
  return false;  // NEON is every aarch64 CPU's baseline: compiled_isa above
#endif
}

/// One copy of a function, and the ISA it was compiled for.
template <class Function>
struct IsaVariant {
  Isa isa;  ///< what the copy was compiled for
  Function* function;  ///< the copy
};

namespace isa_dispatch_detail {

template <class Function>
std::string list_of(std::initializer_list<IsaVariant<Function>> variants) {
  std::string names;
  for (const auto& v : variants) names += (names.empty() ? "" : ", ") + std::string(isa_name(v.isa));
  return names;
}

}  // namespace isa_dispatch_detail

/// The variant for the best instruction set this CPU runs, or the one that
/// the environment variable `override_variable` names (for testing a lower
/// ISA on a better machine, or for ruling one out; nullptr: no override).
/// Throws std::runtime_error, which names the variable, the value and the
/// choices, for an unknown name, a variant the program was not built with,
/// one this CPU cannot run, and when no variant runs here at all.
template <class Function>
IsaVariant<Function> select_isa_variant(std::initializer_list<IsaVariant<Function>> variants,
                                        const char* override_variable = "TYPENET_ISA") {
  using isa_dispatch_detail::list_of;
  const char* wanted = override_variable != nullptr ? std::getenv(override_variable) : nullptr;
  if (wanted != nullptr && *wanted != '\0') {
    const std::string said = std::string(override_variable) + "=" + wanted;
    const std::optional<Isa> isa = isa_from_name(wanted);
    if (!isa)
      throw std::runtime_error(said + " names no instruction set; typenet knows portable, sse, avx, avx2, " +
                               "avx512 and neon.");
    for (const auto& v : variants) {
      if (v.isa != *isa) continue;
      if (!cpu_supports(*isa))
        throw std::runtime_error(said + ": this CPU cannot run code built with " +
                                 std::string(isa_build_flag(*isa)) + ".");
      return v;
    }
    throw std::runtime_error(said + ": this program has no " + std::string(isa_name(*isa)) +
                             " variant; it was built with " + list_of(variants) + ".");
  }
  const IsaVariant<Function>* best = nullptr;
  for (const auto& v : variants)
    if (cpu_supports(v.isa) && (best == nullptr || isa_rank(v.isa) > isa_rank(best->isa))) best = &v;
  if (best == nullptr)
    throw std::runtime_error("none of this program's variants (" + list_of(variants) + ") runs on this CPU.");
  return *best;
}

}  // namespace typenet::inline TYPENET_ISA_NAMESPACE
