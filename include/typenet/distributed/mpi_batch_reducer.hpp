// Synchronised BatchNorm over MPI: the model's BatchStatisticsReducer whose
// sums run over every rank, so that N ranks with batches of B/N normalise
// with the statistics of the whole batch of B, as one process would.
//
//   MpiBatchStatisticsReducer<float> reducer(comm);
//   model.set_batch_statistics_reducer(&reducer);   // DataParallel does this
//                                                   // with synchronise_batchnorm
//
// A train-mode forward costs one allreduce of the batch size, then each
// BatchNorm block two in forward (the column sums, the squared deviations)
// and two in backward (the sums of dL/du and dL/du x-hat), out values each:
// latency, not bandwidth.
#pragma once

#include "typenet/config.hpp"

#include <cstddef>
#include <cstdint>

#include "typenet/cpu/batch_reducer.hpp"
#include "typenet/distributed/mpi_communicator.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::distributed {

/// Synchronised BatchNorm's sums over MPI.
template <class T>
class MpiBatchStatisticsReducer final : public cpu::BatchStatisticsReducer<T> {
 public:
  /// A reducer over comm, which must outlive it.
  explicit MpiBatchStatisticsReducer(MpiCommunicator& comm) : comm_(comm) {}

  void sum(T* values, std::size_t n) override { comm_.sum(values, n, "synchronised BatchNorm's statistics allreduce"); }

  /// Asked of every rank rather than assumed: the ranks' batches may differ
  /// by a sample (the last batch of an epoch split unevenly).
  std::size_t total_batch(std::size_t local_batch) override {
    std::uint64_t total = local_batch;
    comm_.sum(&total, 1, "synchronised BatchNorm's batch-size allreduce");
    return static_cast<std::size_t>(total);
  }

 private:
  MpiCommunicator& comm_;
};

}  // namespace typenet::distributed
