// libFuzzer target: the .npy reader on hostile bytes. The input is served as
// a file (memfd: no disk) and read as float, as double and as labels; the
// only acceptable outcome of bad input is an NpyError.
#include <cstdint>
#include <string>

#include "memory_file.hpp"
#include "typenet/data/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const MemoryFile file("npy", data, size);
  if (!file.ok()) return 0;
  const std::string path = file.path();
  try {
    (void)typenet::data::read_npy<float>(path);
  } catch (const typenet::data::NpyError&) {
  }
  try {
    (void)typenet::data::read_npy<double>(path);
  } catch (const typenet::data::NpyError&) {
  }
  try {
    (void)typenet::data::read_npy_labels(path);
  } catch (const typenet::data::NpyError&) {
  }
  return 0;
}
