// libFuzzer target: the CSV readers on hostile bytes. The first byte picks
// the options (header mode, label kind, separator, dropping bad rows, NaN),
// the rest is served as the file (memfd: no disk) to read_csv,
// read_csv_regression and read_csv_matrix; the only acceptable outcome of bad
// input is a CsvError.
#include <cstdint>
#include <string>

#include "memory_file.hpp"
#include "typenet/data/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t pick = data[0];
  const MemoryFile file("csv", data + 1, size - 1);
  if (!file.ok()) return 0;
  const std::string path = file.path();
  using namespace typenet::data;
  CsvOptions o;
  o.header = static_cast<CsvHeader>(pick & 3);
  o.label_kind = static_cast<CsvLabelKind>((pick >> 2) % 3);
  o.drop_bad_rows = pick & 16;
  o.allow_non_finite = pick & 32;
  o.separator = "\0,;\t"[pick >> 6];
  try {
    (void)read_csv<float>(path, o);
  } catch (const CsvError&) {
  }
  try {
    CsvOptions first = o;
    first.label = 0;
    (void)read_csv<double>(path, first);
  } catch (const CsvError&) {
  }
  try {
    (void)read_csv_regression<float>(path, o);
  } catch (const CsvError&) {
  }
  try {
    o.skip_rows = pick & 1;
    (void)read_csv_matrix<double>(path, o);
  } catch (const CsvError&) {
  }
  return 0;
}
