// The CSV reader's speed: data::read_csv_matrix on one numeric file, timed
// by the benchmarks' rule (bench/harness.hpp: warm-up reads, then the median
// and minimum of timed reads). bench/compare_csv.py runs it beside pandas'
// read_csv on the same file.
//
//   bench_csv --write FILE [--rows N] [--cols N] [--seed N]   writes the table
//   bench_csv --read FILE [--type float|double] [--reps N] [--warmup N]
//
// The table: a header (c0, c1, ...), then rows of standard normal values
// drawn with typenet's Rng (the same file on every machine), each written as
// the shortest text that reads back as its float ("-0.31525946").
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "harness.hpp"
#include "typenet/data/csv.hpp"
#include "typenet/random/rng.hpp"

namespace {

constexpr const char* usage =
    "bench_csv --write FILE [--rows N] [--cols N] [--seed N]\n"
    "bench_csv --read FILE [--type float|double] [--reps N] [--warmup N]\n"
    "Writes the benchmark's numeric table, or reads it with data::read_csv_matrix and prints the median and\n"
    "minimum seconds per read as JSON.";

void write_table(const std::string& file, long rows, long cols, std::uint64_t seed) {
  typenet::Rng rng(seed);
  std::string text;
  for (long j = 0; j < cols; ++j) text += (j ? ",c" : "c") + std::to_string(j);
  text += '\n';
  std::ofstream out(file, std::ios::binary);
  char cell[32];
  for (long i = 0; i < rows; ++i) {
    for (long j = 0; j < cols; ++j) {
      const auto r = std::to_chars(cell, cell + sizeof cell, static_cast<float>(rng.normal()));
      text.append(cell, r.ptr);
      text += j + 1 < cols ? ',' : '\n';
    }
    if (text.size() > (1u << 20)) {
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      text.clear();
    }
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + file);
}

template <class T>
void read_table(const std::string& file, const bench::Plan& plan) {
  std::size_t rows = 0, cols = 0;
  const bench::Timing t = bench::measure(plan, [&] {
    const auto table = typenet::data::read_csv_matrix<T>(file);
    rows = table.values.rows();
    cols = table.values.cols();
    bench::result_sink = bench::result_sink + static_cast<double>(table.values(rows - 1, cols - 1));
  });
  std::printf("{\"file\": %s, \"type\": \"%s\", \"rows\": %zu, \"cols\": %zu, \"reps\": %d, \"median_seconds\": %.6f, "
              "\"min_seconds\": %.6f}\n",
              bench::json_string(file).c_str(), sizeof(T) == 4 ? "float" : "double", rows, cols, plan.reps,
              t.median_seconds, t.min_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string write, read, type = "float";
    long rows = 200000, cols = 30, seed = 1;
    bench::Plan plan{1, 5, 1};
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      auto value = [&]() -> const char* {
        if (i + 1 >= argc) throw std::invalid_argument(std::string(a) + " needs a value");
        return argv[++i];
      };
      if (a == "--write") write = value();
      else if (a == "--read") read = value();
      else if (a == "--type") type = value();
      else if (a == "--rows") rows = bench::parse_count(a, value(), 1);
      else if (a == "--cols") cols = bench::parse_count(a, value(), 1);
      else if (a == "--seed") seed = bench::parse_count(a, value(), 0);
      else if (a == "--reps") plan.reps = bench::parse_count(a, value(), 1);
      else if (a == "--warmup") plan.warmup = bench::parse_count(a, value(), 0);
      else if (a == "--help" || a == "-h") {
        std::puts(usage);
        return 0;
      } else throw std::invalid_argument("unknown argument '" + std::string(a) + "' (try --help)");
    }
    if (write.empty() == read.empty()) throw std::invalid_argument("give --write FILE or --read FILE (try --help)");
    if (type != "float" && type != "double") throw std::invalid_argument("--type is float or double");
    if (!write.empty()) write_table(write, rows, cols, static_cast<std::uint64_t>(seed));
    else if (type == "float") read_table<float>(read, plan);
    else read_table<double>(read, plan);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_csv: %s\n", e.what());
    return 1;
  }
}
