// What a data-parallel trainer says when its replicas have drifted apart:
// shared by the CPU's DataParallel (MPI) and the GPU's KernelDataParallel.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::distributed {

/// The error when replicas' parameter checksums differ: the step and each rank's checksum.
inline std::string replica_mismatch_message(std::uint64_t step, std::span<const std::uint64_t> checksums) {
  std::string m = "typenet: step " + std::to_string(step) + ": the replicas have drifted apart (parameter checksums by rank:";
  for (std::size_t r = 0; r < checksums.size(); ++r) {
    char text[32];
    std::snprintf(text, sizeof text, " %zu: %08llx", r, static_cast<unsigned long long>(checksums[r]));
    m += text;
  }
  return m + "); the ranks did not apply the same updates.";
}

}  // namespace typenet::distributed
