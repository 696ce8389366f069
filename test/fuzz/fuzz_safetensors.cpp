// libFuzzer target: the safetensors reader (typenet/io/safetensors_format.hpp)
// on hostile bytes.
//
// The first input byte picks a mode. Even: the rest is a file as is. Odd:
// the header's size field is first set to the length of the JSON object that
// starts at byte 8 (braces counted outside strings), so that mutations which
// grow or shrink the header reach the JSON and the checks behind it. A file
// that parses has every tensor's values read, and is written again and
// re-read: the writer's output must parse to the same tensors. The only
// acceptable outcome of bad input is a SafetensorsError; anything else (another
// exception, a crash, a sanitizer report, a failed round trip) is a finding.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "typenet/io/safetensors_format.hpp"

using namespace typenet;

namespace {

// Where the JSON object starting at bytes[8] ends, or 0 if it does not.
std::size_t object_length(const std::vector<unsigned char>& bytes) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 8; i < bytes.size(); ++i) {
    const unsigned char c = bytes[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i - 8 + 1;
    }
  }
  return 0;
}

void read_every_value(const SafetensorsFile& f) {
  for (const SafetensorsTensor& t : f.tensors) {
    try {
      if (t.dtype == SafetensorsDtype::F16 || t.dtype == SafetensorsDtype::BF16 || t.dtype == SafetensorsDtype::F32 ||
          t.dtype == SafetensorsDtype::F64)
        (void)tensor_values<double>(f, t);
      else
        (void)tensor_values<std::int64_t>(f, t);
    } catch (const SafetensorsError&) {
      // a dtype without values of that kind, or a U64 beyond int64
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<unsigned char> bytes(data + 1, data + size);
  if ((data[0] & 1) && bytes.size() >= 8)
    if (const std::size_t n = object_length(bytes))
      for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(n >> (8 * i));
  SafetensorsFile f;
  try {
    f = parse_safetensors("fuzz.safetensors", bytes);
  } catch (const SafetensorsError&) {
    return 0;  // the expected outcome for bad input
  }
  read_every_value(f);
  std::vector<SafetensorsTensorData> again;
  for (const SafetensorsTensor& t : f.tensors) {
    const auto d = f.data(t);
    again.push_back({t.name, t.dtype, t.shape, std::vector<unsigned char>(d.begin(), d.end())});
  }
  const SafetensorsFile g = parse_safetensors("fuzz-again.safetensors", encode_safetensors(again, f.metadata));
  if (g.tensors.size() != f.tensors.size() || g.metadata != f.metadata) std::abort();
  for (const SafetensorsTensor& t : g.tensors) {
    const SafetensorsTensor* u = f.find(t.name);
    if (!u || u->dtype != t.dtype || u->shape != t.shape) std::abort();
    const auto a = f.data(*u), b = g.data(t);
    if (!std::equal(a.begin(), a.end(), b.begin(), b.end())) std::abort();
  }
  return 0;
}
