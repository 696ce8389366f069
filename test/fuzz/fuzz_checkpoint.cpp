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
    // What load does next with a parsed file: decode the sections.
    if (p.info.scalar == CheckpointScalar::float32) {
      std::vector<float> params(p.parameters.size() / 4);
      decode_scalars<float>(p.parameters, params);
    } else {
      std::vector<double> params(p.parameters.size() / 8);
      decode_scalars<double>(p.parameters, params);
    }
  } catch (const CheckpointError&) {
    // the expected outcome for bad input
  }
  return 0;
}
