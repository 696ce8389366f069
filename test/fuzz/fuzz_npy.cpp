// libFuzzer target: the .npy reader on hostile bytes. The input is served as
// a file (memfd: no disk) and read as float, as double and as labels; the
// only acceptable outcome of bad input is an NpyError.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "typenet/data/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = memfd_create("npy", 0);
  if (fd < 0) return 0;
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
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
  close(fd);
  return 0;
}
