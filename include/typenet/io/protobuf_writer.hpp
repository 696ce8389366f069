// Protocol Buffers' wire format, the writing half: enough to write an ONNX
// model (io/onnx.hpp) without linking libprotobuf. A message is its fields'
// bytes in order: each field a key (field number << 3 | wire type) then a
// varint, four little-endian bytes, or a length and that many bytes (a
// string, bytes, or a nested message). Repeated fields are written one key
// per element, which every parser accepts, packed or not.
// (https://protobuf.dev/programming-guides/encoding/)
#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::protobuf {

enum class WireType : std::uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

/// A protobuf message being encoded: its fields, in the order they are appended.
class Message {
 public:
  /// int32, int64, uint64, bool and enum fields: a varint (a negative value
  /// as its 64-bit two's complement, ten bytes, as protobuf writes int64).
  Message& varint(std::uint32_t field, std::uint64_t value) {
    key(field, WireType::varint);
    append_varint(value);
    return *this;
  }
  /// An int64 field (a varint).
  Message& int64(std::uint32_t field, std::int64_t value) { return varint(field, static_cast<std::uint64_t>(value)); }
  /// float fields: four bytes, little-endian.
  Message& float32(std::uint32_t field, float value) {
    key(field, WireType::fixed32);
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<char>(bits >> (8 * i)));
    return *this;
  }
  /// string and bytes fields.
  Message& bytes(std::uint32_t field, std::string_view data) {
    key(field, WireType::length_delimited);
    append_varint(data.size());
    bytes_.append(data);
    return *this;
  }
  /// A bytes field from raw bytes.
  Message& bytes(std::uint32_t field, std::span<const unsigned char> data) {
    return bytes(field, std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  }
  /// A nested message field.
  Message& message(std::uint32_t field, const Message& m) { return bytes(field, m.bytes_); }

  /// The encoded message.
  const std::string& encoded() const { return bytes_; }

 private:
  void key(std::uint32_t field, WireType type) {
    append_varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint32_t>(type));
  }
  // Seven bits a byte, least significant first, the high bit set on all but the last.
  void append_varint(std::uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    bytes_.push_back(static_cast<char>(v));
  }

  std::string bytes_;
};

}  // namespace typenet::protobuf
