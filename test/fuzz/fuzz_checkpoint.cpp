// libFuzzer target: the checkpoint loader's checks and parser on hostile bytes.
//
// The first input byte picks a mode. Even: the rest is a checkpoint file as
// is (exercises the frame, magic, sizes and checksums). Odd: the header's size
// field and both checksums are recomputed first, so that mutations reach the
// body parser behind the checksums. Either way, the only acceptable outcome of
// bad input is a CheckpointError; anything else (another exception, a crash,
// a sanitizer report) is a finding.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "typenet/io/checkpoint.hpp"

using namespace typenet;
using namespace typenet::checkpoint_detail;

namespace {
// What load does next with a parsed file: decode the sections, and restore
// the optimizer section into an optimizer of its kind.
template <class T, template <class> class... Optimizers>
void restore_like_load(const Parsed& p, optim::OptimizerList<Optimizers...>) {
  std::vector<T> params(p.parameters.size() / sizeof(T));
  decode_scalars<T>(p.parameters, params);
  const auto restore = [&]<class O>(O optimizer) {
    if (p.optimizer.kind == O::declaration::tag.id) restore_section("fuzz.tn", optimizer, p.optimizer);
  };
  (restore(Optimizers<T>()), ...);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<unsigned char> bytes(data + 1, data + size);
  if ((data[0] & 1) && bytes.size() >= header_size + trailer_size) {
    store_le(bytes.data() + file_size_offset, bytes.size(), 8);
    store_le(bytes.data() + header_crc_offset, crc32c({bytes.data(), header_crc_offset}), 4);
    const std::size_t body = bytes.size() - trailer_size;
    store_le(bytes.data() + body, crc32c({bytes.data(), body}), 4);
  }
  try {
    const Parsed p = parse("fuzz.tn", verified_bytes("fuzz.tn", bytes));
    if (p.info.scalar == CheckpointScalar::float32) restore_like_load<float>(p, all_optimizers{});
    else restore_like_load<double>(p, all_optimizers{});
  } catch (const CheckpointError&) {
    // the expected outcome for bad input
  }
  return 0;
}
