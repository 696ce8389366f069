// The examples' command-line parser: --name value and --flag options, each
// checked as it is read. A bad value is a UsageError whose message names the
// flag and what was expected; the examples print it with the usage text and
// exit with status 2.
#pragma once

#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace examples {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses all of `text` as a T, or throws UsageError naming `flag`.
template <class T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  std::from_chars_result r;
  if constexpr (std::is_floating_point_v<T>) {
    r = std::from_chars(text.data(), end, value, std::chars_format::general);
  } else {
    r = std::from_chars(text.data(), end, value);
  }
  const char* kind = std::is_floating_point_v<T> ? "a number" : "a whole number";
  if (text.empty() || r.ec == std::errc::invalid_argument || r.ptr != end)
    throw UsageError(std::string(flag) + " expects " + kind + ", got '" + std::string(text) + "'");
  if (r.ec == std::errc::result_out_of_range)
    throw UsageError(std::string(flag) + ": '" + std::string(text) + "' is out of range");
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) throw UsageError(std::string(flag) + " expects a finite number, got '" + std::string(text) + "'");
  }
  return value;
}

class CommandLine {
 public:
  CommandLine(std::string program, std::string description)
      : program_(std::move(program)), description_(std::move(description)) {}

  // --name N with lo <= N <= hi.
  template <class T>
  CommandLine& number(std::string name, T& target, std::string help, T lo = std::numeric_limits<T>::lowest(),
                      T hi = std::numeric_limits<T>::max()) {
    std::ostringstream def;
    def << target;
    add(name, "N", help + " (default " + def.str() + ")", [&target, name, lo, hi](std::string_view v) {
      const T x = parse_number<T>(name, v);
      if (x < lo || x > hi) {
        std::ostringstream m;
        m << name << " must be between " << lo << " and " << hi << ", got " << v;
        throw UsageError(m.str());
      }
      target = x;
    });
    return *this;
  }

  // --name TEXT (any text, e.g. a path).
  CommandLine& text(std::string name, std::string& target, std::string help, std::string metavar = "PATH") {
    add(name, metavar, help + (target.empty() ? "" : " (default " + target + ")"),
        [&target, name](std::string_view v) {
          if (v.empty()) throw UsageError(name + " expects a value");
          target = std::string(v);
        });
    return *this;
  }

  // --name one|of|these
  CommandLine& choice(std::string name, std::string& target, std::vector<std::string> choices, std::string help) {
    std::string alternatives;
    for (const auto& c : choices) alternatives += (alternatives.empty() ? "" : "|") + c;
    add(name, alternatives, help + " (default " + target + ")", [&target, name, choices, alternatives](std::string_view v) {
      for (const auto& c : choices)
        if (v == c) {
          target = c;
          return;
        }
      throw UsageError(name + " must be one of " + alternatives + ", got '" + std::string(v) + "'");
    });
    return *this;
  }

  // --name (no value).
  CommandLine& flag(std::string name, bool& target, std::string help) {
    options_.push_back({name, "", help, [&target](std::string_view) { target = true; }, false});
    return *this;
  }

  // Reads argv. Returns false when --help was asked (the usage is printed).
  bool parse(int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (arg == "--help" || arg == "-h") return false;
      std::string_view value;
      bool has_inline_value = false;
      if (const auto eq = arg.find('='); eq != std::string_view::npos && arg.starts_with("--")) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline_value = true;
      }
      const Option* o = find(arg);
      if (!o) throw UsageError("unknown option '" + std::string(arg) + "'");
      if (!o->takes_value) {
        if (has_inline_value) throw UsageError(std::string(arg) + " takes no value");
        o->apply({});
        continue;
      }
      if (!has_inline_value) {
        if (i + 1 >= argc) throw UsageError(std::string(arg) + " needs a value (" + o->metavar + ")");
        value = argv[++i];
      }
      o->apply(value);
    }
    return true;
  }

  std::string usage() const {
    std::string s = "usage: " + program_ + " [options]\n" + description_ + "\n\noptions:\n";
    for (const auto& o : options_) {
      std::string left = "  " + o.name + (o.takes_value ? " " + o.metavar : "");
      if (left.size() < 28) left.resize(28, ' ');
      else left += "\n" + std::string(28, ' ');
      s += left + o.help + "\n";
    }
    return s + "  --help                    this text\n";
  }

 private:
  struct Option {
    std::string name, metavar, help;
    std::function<void(std::string_view)> apply;
    bool takes_value = true;
  };
  void add(std::string name, std::string metavar, std::string help, std::function<void(std::string_view)> apply) {
    options_.push_back({std::move(name), std::move(metavar), std::move(help), std::move(apply), true});
  }
  const Option* find(std::string_view name) const {
    for (const auto& o : options_)
      if (o.name == name) return &o;
    return nullptr;
  }

  std::string program_, description_;
  std::vector<Option> options_;
};

}  // namespace examples
