// Synchronised BatchNorm's one dependency: a way to sum per-feature batch
// statistics across processes. With a reducer set on the model, BatchNorm in
// train mode normalises with the statistics of the union of every process's
// batch, so N processes with batches of B/N compute what one process with a
// batch of B computes (distributed/ provides an MPI implementation).
#pragma once

#include <cstddef>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

/// Sums BatchNorm's statistics across processes (synchronised BatchNorm); the model calls it between the passes of a train-mode forward.
template <class T>
struct BatchStatisticsReducer {
  virtual ~BatchStatisticsReducer() = default;
  /// Replaces values[0, n) by their sums over all processes (every process
  /// calls this with the same n, in the same order).
  virtual void sum(T* values, std::size_t n) = 0;
  /// The number of samples in all processes' batches together.
  virtual std::size_t total_batch(std::size_t local_batch) = 0;
};

}  // namespace typenet::cpu
