// libFuzzer target: the CSV readers on hostile bytes. The first byte picks
// the options (header mode, label kind, separator, dropping bad rows, NaN),
// the rest is served as the file (memfd: no disk) to read_csv,
// read_csv_regression and read_csv_matrix; the only acceptable outcome of bad
// input is a CsvError.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "typenet/data/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t pick = data[0];
  const int fd = memfd_create("csv", 0);
  if (fd < 0) return 0;
  for (std::size_t done = 1; done < size;) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
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
  close(fd);
  return 0;
}
