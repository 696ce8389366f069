// The benchmarks' common harness (bench/bench.cpp on the CPU,
// bench/bench_gpu.cu on the GPU): the timing rule, the command line and
// the JSON strings their reports use.
//
// Every workload is timed the same way: `warmup` untimed repetitions, then
// `reps` timed repetitions of `calls` calls each; a repetition's time divided
// by its calls is one sample, and the MEDIAN and the minimum of the samples
// are reported (machines are shared and noisy: the median is the figure,
// the minimum shows how much noise there was).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

struct Plan {
  int warmup = 1;  // untimed repetitions
  int reps = 5;    // timed repetitions
  long calls = 1;  // calls per repetition (amortises the clock for short calls)
};

struct Timing {
  double median_seconds = 0, min_seconds = 0;
};

// `call` must finish its work before it returns (a GPU workload waits for
// its stream), so that the clock measures the work.
template <class F>
Timing measure(const Plan& plan, F&& call) {
  for (int r = 0; r < plan.warmup; ++r)
    for (long c = 0; c < plan.calls; ++c) call();
  std::vector<double> per_call;
  per_call.reserve(static_cast<std::size_t>(plan.reps));
  for (int r = 0; r < plan.reps; ++r) {
    const auto start = Clock::now();
    for (long c = 0; c < plan.calls; ++c) call();
    const std::chrono::duration<double> elapsed = Clock::now() - start;
    per_call.push_back(elapsed.count() / static_cast<double>(plan.calls));
  }
  std::sort(per_call.begin(), per_call.end());
  const std::size_t n = per_call.size(), mid = n / 2;
  const double median = n % 2 == 1 ? per_call[mid] : (per_call[mid - 1] + per_call[mid]) / 2;
  return {median, per_call.front()};
}

// Results feed a sink the optimizer cannot see through, so no timed call is
// optimised away.
inline volatile double result_sink = 0;

struct Options {
  unsigned threads = 2;
  bool threads_given = false;  // --threads was on the command line (bench_onednn otherwise takes OpenMP's count)
  std::optional<int> reps, warmup;
  std::set<std::string> only;
  bool json = false, list = false;
  bool flush_subnormals = false;  // --flush-subnormals: MXCSR's FTZ and DAZ (bench.cpp applies it)
};

inline int parse_count(std::string_view flag, const char* text, int minimum) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < minimum || v > 1'000'000)
    throw std::invalid_argument(std::string(flag) + " takes a whole number >= " + std::to_string(minimum) +
                                ", not '" + text + "'");
  return static_cast<int>(v);
}

// The flags both benchmarks take; `usage` is printed for --help.
inline Options parse(int argc, char** argv, const char* usage) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--threads") {
      o.threads = static_cast<unsigned>(parse_count(a, value(), 1));
      o.threads_given = true;
    } else if (a == "--reps") o.reps = parse_count(a, value(), 1);
    else if (a == "--warmup") o.warmup = parse_count(a, value(), 0);
    else if (a == "--only") {
      std::string names = value();
      for (std::size_t start = 0; start <= names.size();) {
        const std::size_t comma = std::min(names.find(',', start), names.size());
        if (comma > start) o.only.insert(names.substr(start, comma - start));
        start = comma + 1;
      }
    } else if (a == "--json") o.json = true;
    else if (a == "--flush-subnormals") o.flush_subnormals = true;
    else if (a == "--list") o.list = true;
    else if (a == "--help" || a == "-h") {
      std::puts(usage);
      std::exit(0);
    } else throw std::invalid_argument("unknown argument '" + std::string(a) + "' (try --help)");
  }
  return o;
}

// --list prints the workloads' names (true: nothing else to do); a name
// given to --only that is not among them is an error.
template <class Workloads>
bool list_or_check_names(const Options& o, const Workloads& suite) {
  if (o.list) {
    for (const auto& w : suite) std::printf("%s\n", w.name.c_str());
    return true;
  }
  for (const std::string& name : o.only)
    if (std::none_of(suite.begin(), suite.end(), [&](const auto& w) { return w.name == name; }))
      throw std::invalid_argument("no workload named '" + name + "' (--list shows the names)");
  return false;
}

inline std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    out += c;
  }
  return out + "\"";
}

// The two outputs of a benchmark binary (bench, bench_onednn), for any
// result with a workload (name, per, flop_per_call, samples_per_call), a
// plan and a timing: one element of the JSON "results" array, and the
// plain-text line with its comment of rates.
template <class Result>
void print_result_json(const Result& r, bool first) {
  std::printf(
      "%s\n    {\"name\": %s, \"per\": %s, \"median_seconds\": %.9g, \"min_seconds\": %.9g, \"reps\": %d, "
      "\"warmup\": %d, \"calls_per_rep\": %ld, \"flop_per_call\": %.0f, \"samples_per_call\": %.0f}",
      first ? "" : ",", json_string(r.workload->name).c_str(), json_string(r.workload->per).c_str(),
      r.timing.median_seconds, r.timing.min_seconds, r.plan.reps, r.plan.warmup, r.plan.calls,
      r.workload->flop_per_call, r.workload->samples_per_call);
}

template <class Result>
void print_line(const Result& r) {
  const auto& w = *r.workload;
  std::printf("%s %.9g %.9g %d\n", w.name.c_str(), r.timing.median_seconds, r.timing.min_seconds, r.plan.reps);
  std::printf("#   per %s (median of %d x %ld calls):", w.per.c_str(), r.plan.reps, r.plan.calls);
  if (w.samples_per_call > 0) std::printf(" %.0f samples/s", w.samples_per_call / r.timing.median_seconds);
  if (w.flop_per_call > 0) std::printf(" %.1f GFLOP/s", w.flop_per_call / r.timing.median_seconds * 1e-9);
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace bench
