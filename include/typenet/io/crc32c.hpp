// CRC-32C (Castagnoli): the checksum of checkpoint files.
//
// CRC-32C rather than zlib's CRC-32: it detects more error patterns at this
// length (Castagnoli 1993; iSCSI, ext4, Btrfs chose it for that) and x86 has
// had an instruction for it since SSE4.2, so checking a large checkpoint costs
// far less than reading it. Without SSE4.2 a slicing-by-8 table does 8 bytes
// per step. Both give the same value: the reflected polynomial 0x82F63B78,
// initial value and final xor 0xFFFFFFFF (crc32c("123456789") == 0xE3069283).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace crc32c_detail {

inline constexpr std::uint32_t reflected_polynomial = 0x82F63B78u;

/// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC of
/// byte b followed by k zero bytes, so eight table lookups advance 8 bytes.
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t c = b;
    for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ ((c & 1u) ? reflected_polynomial : 0u);
    t[0][b] = c;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  return t;
}

inline constexpr auto tables = make_tables();

/// Little-endian 64-bit load from any address, whatever the host's byte order.
inline std::uint64_t load_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

/// `c` is the running register (already inverted).
inline std::uint32_t update_portable(std::uint32_t c, const unsigned char* p, std::size_t n) {
  for (; n >= 8; n -= 8, p += 8) {
    const std::uint64_t w = load_le64(p) ^ c;
    c = tables[7][w & 0xFF] ^ tables[6][(w >> 8) & 0xFF] ^ tables[5][(w >> 16) & 0xFF] ^
        tables[4][(w >> 24) & 0xFF] ^ tables[3][(w >> 32) & 0xFF] ^ tables[2][(w >> 40) & 0xFF] ^
        tables[1][(w >> 48) & 0xFF] ^ tables[0][w >> 56];
  }
  for (; n > 0; --n, ++p) c = (c >> 8) ^ tables[0][(c ^ *p) & 0xFFu];
  return c;
}

#if defined(__SSE4_2__)
inline std::uint32_t update_hardware(std::uint32_t c, const unsigned char* p, std::size_t n) {
  std::uint64_t c64 = c;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);  // x86 is little-endian: the instruction expects exactly these bytes
    c64 = _mm_crc32_u64(c64, w);
  }
  c = static_cast<std::uint32_t>(c64);
  for (; n > 0; --n, ++p) c = _mm_crc32_u8(c, *p);
  return c;
}
#endif

}  // namespace crc32c_detail

/// CRC-32C of `data` appended to a message whose CRC-32C is `crc`:
/// crc32c_extend(crc32c(a), b) == crc32c(a followed by b). Start from 0.
inline std::uint32_t crc32c_extend(std::uint32_t crc, std::span<const unsigned char> data) {
#if defined(__SSE4_2__)
  return ~crc32c_detail::update_hardware(~crc, data.data(), data.size());
#else
  return ~crc32c_detail::update_portable(~crc, data.data(), data.size());
#endif
}

/// The table-driven computation, whatever the compiler targets: the reference
/// the hardware path is tested against.
inline std::uint32_t crc32c_extend_portable(std::uint32_t crc, std::span<const unsigned char> data) {
  return ~crc32c_detail::update_portable(~crc, data.data(), data.size());
}

/// The CRC-32C of data.
inline std::uint32_t crc32c(std::span<const unsigned char> data) { return crc32c_extend(0, data); }

/// The CRC-32C of the bytes of text.
inline std::uint32_t crc32c(std::string_view text) {
  return crc32c(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(text.data()), text.size()));
}

}  // namespace typenet
