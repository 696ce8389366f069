// libFuzzer target: the IDX reader (MNIST's format, plain or gzip) on
// hostile bytes. The input is served as a file (memfd: no disk), read both
// as images and as labels; the only acceptable outcome of bad input is an
// IdxError.
#include <cstdint>
#include <string>

#include "memory_file.hpp"
#include "typenet/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const MemoryFile file("idx", data, size);
  if (!file.ok()) return 0;
  const std::string path = file.path();
  try {
    (void)typenet::data::read_idx_images(path);
  } catch (const typenet::data::IdxError&) {
  }
  try {
    (void)typenet::data::read_idx_labels(path);
  } catch (const typenet::data::IdxError&) {
  }
  return 0;
}
