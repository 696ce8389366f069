// Counter-based randomness for dropout masks: the mask bit of element
// (row, column) in a given step is a pure function of (seed, step, block,
// index). Backward regenerates the mask instead of storing it, any thread
// computes any element, and the CUDA kernels draw the very same mask.
#pragma once

#include <cstdint>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// MurmurHash3's 32-bit finaliser: every input bit affects every output bit.
template <class U>
TYPENET_HD TYPENET_INLINE U mix32(U x) {
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x &= 0xffffffffu;  // keeps 64-bit lanes (double kernels) identical to 32-bit ones
  x ^= x >> 13;
  x *= 0xc2b2ae35u;
  x &= 0xffffffffu;
  x ^= x >> 16;
  return x;
}

/// One 32-bit key per (seed, step, block), so that masks differ between steps
/// and between layers.
TYPENET_HD inline std::uint32_t dropout_key(std::uint64_t seed, std::uint64_t step, std::uint32_t block) {
  std::uint64_t z = seed ^ (step * 0x9E3779B97F4A7C15ull) ^ (static_cast<std::uint64_t>(block) << 56);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<std::uint32_t>(z ^ (z >> 31));
}

/// The 32-bit random word of element `index` under `key`; an element is kept
/// when it is at least p * 2^32.
template <class U>
TYPENET_HD TYPENET_INLINE U dropout_bits(U key, U index) {
  return mix32<U>((mix32<U>(index ^ key) + key) & 0xffffffffu);
}

/// The 32-bit threshold below which a hash drops a value with probability p.
TYPENET_HD constexpr std::uint32_t dropout_threshold(float p) {
  return static_cast<std::uint32_t>(static_cast<double>(p) * 4294967296.0);
}

}  // namespace typenet
