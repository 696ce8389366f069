// How expressions print themselves (str()): derivatives printed in tests,
// messages and docs read as formulas.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::expr {

/// Joins pieces with append: GCC 12 reports a false -Wrestrict on chains of
/// std::string operator+ at -O3.
inline std::string join(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (auto p : parts) s.append(p.data(), p.size());
  return s;
}

/// "0.500000" -> "0.5": trailing zeros of std::to_string dropped.
inline std::string number_to_string(double v) {
  std::string s = std::to_string(v);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

}  // namespace typenet::expr
