// libFuzzer target: the IDX reader (MNIST's format, plain or gzip) on
// hostile bytes. The input is served as a file (memfd: no disk), read both
// as images and as labels; the only acceptable outcome of bad input is an
// IdxError.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "typenet/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = memfd_create("idx", 0);
  if (fd < 0) return 0;
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    (void)typenet::data::read_idx_images(path);
  } catch (const typenet::data::IdxError&) {
  }
  try {
    (void)typenet::data::read_idx_labels(path);
  } catch (const typenet::data::IdxError&) {
  }
  close(fd);
  return 0;
}
