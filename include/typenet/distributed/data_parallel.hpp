// Data-parallel training over MPI. Every rank holds a replica of the model
// and trains on its shard of each global batch; before every optimizer step
// the gradients are averaged over the ranks, so the replicas stay identical
// and together compute what one process computes on the whole batch.
//
//   distributed::MpiSession mpi(argc, argv);
//   distributed::MpiCommunicator comm;
//   Model<Net> model(Init::torch_default, seed);
//   distributed::DataParallel trainer(model, comm);
//   data::BatchLoader<float> loader(x, labels, {.batch_size = 64, .seed = seed,   // the global batch
//       .shard = std::size_t(comm.rank()), .shards = std::size_t(comm.size())});
//   for (auto batch : loader.epoch(e))
//     trainer.step(batch.x, batch.labels, batch.global_size, SoftmaxCrossEntropy{}, adam);
//
// A step: forward and backward on this rank's rows; each block's gradients
// go into an MPI_Iallreduce as soon as backward has produced them
// (gradient_allreduce.hpp); the step waits for them and for the sum of the
// loss, then runs the optimizer over the averaged gradient. Every rank runs
// the same optimizer on the same numbers, so the optimizer state needs no
// communication either.
//
// BatchNorm: by default each rank normalises with its own rows' statistics
// (as PyTorch's DistributedDataParallel), and keeps its own running
// statistics. With synchronise_batchnorm, the statistics are those of the
// whole global batch (mpi_batch_reducer.hpp): N ranks with B/N rows compute
// what one process with B rows computes, running statistics included.
//
// Dropout: rank r draws its masks from dropout_seed mixed with r, so rows of
// different ranks get independent masks (the mask of an element depends on
// its row within the rank's batch; the same seed everywhere would give row i
// of every rank the same mask). The masks are therefore not those of one
// process on the whole batch.
#pragma once

#include "typenet/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "typenet/distributed/gradient_allreduce.hpp"
#include "typenet/distributed/mpi_batch_reducer.hpp"
#include "typenet/distributed/mpi_communicator.hpp"
#include "typenet/distributed/replica_check.hpp"
#include "typenet/io/crc32c.hpp"
#include "typenet/model/model.hpp"
#include "typenet/random/rng.hpp"
#include "typenet/train/train_step.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::distributed {

/// The options of DataParallel.
struct DataParallelOptions {
  /// Gradient buckets start their allreduce once they hold this many bytes
  /// (see gradient_allreduce.hpp; docs/distributed.md has the measurements).
  std::size_t bucket_bytes = std::size_t{256} << 10;
  // Every this many steps, compare a checksum of the parameters across
  // ranks and throw DistributedError if any replica differs (0: never).
  // One CRC-32C pass over the parameters and one tiny allgather.
#ifdef NDEBUG
  std::size_t verify_every = 0;
#else
  std::size_t verify_every = 100;  ///< every this many steps, compare the replicas' parameters (0: never)
#endif
  bool synchronise_batchnorm = false;  ///< BatchNorm with the statistics of the global batch
  std::uint64_t dropout_seed = 0;  ///< the seed of every rank's dropout stream (the same on all ranks)
};

/// Data-parallel training over MPI: each rank a share of the global batch, the gradients summed bucket by bucket while backward runs, then the same step on every rank.
template <class Net, class T>
class DataParallel {
 public:
  /// Collective. Rank 0's parameters and BatchNorm statistics are copied to
  /// every rank, so the replicas start identical whatever each was seeded with.
  DataParallel(Model<Net, T>& model, MpiCommunicator& comm, DataParallelOptions options = {})
      : model_(model),
        comm_(comm),
        options_(options),
        reducer_(comm),
        allreduce_(comm, model.gradients(), options.bucket_bytes),
        checksums_(static_cast<std::size_t>(comm.size())) {
    comm_.set_step(0);
    comm_.broadcast(model_.parameters().data(), model_.parameters().size(), 0, "the initial parameter broadcast");
    comm_.broadcast(model_.state().data(), model_.state().size(), 0, "the initial BatchNorm statistics broadcast");
    std::uint64_t mix = options_.dropout_seed ^ (static_cast<std::uint64_t>(comm_.rank()) << 32);
    model_.set_dropout_seed(splitmix64(mix));
    model_.set_gradients_ready([this](std::size_t offset, std::size_t count) { allreduce_.block_ready(offset, count); });
    if (options_.synchronise_batchnorm) model_.set_batch_statistics_reducer(&reducer_);
  }
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;
  /// Leaves the model as it found it: plain train_step works on it again.
  ~DataParallel() {
    model_.set_gradients_ready(nullptr);
    model_.set_batch_statistics_reducer(nullptr);
  }

  /// One step on this rank's `x` (and `target`: labels or a target matrix,
  /// as the loss wants), which is part of a global batch of `global_rows`
  /// rows. Collective: every rank calls it, with the same global_rows and
  /// its own part. Returns the loss of the global batch (the mean over all
  /// ranks' rows), the same on every rank.
  template <class Target, class Loss, class Optimizer>
  T step(MatrixView<const T> x, const Target& target, std::size_t global_rows, const Loss& loss, Optimizer& optimizer) {
    if (x.rows == 0 || x.rows > global_rows)
      throw std::invalid_argument("typenet: DataParallel::step: " + std::to_string(x.rows) +
                                  " rows on this rank for a global batch of " + std::to_string(global_rows) + ".");
    const double share = static_cast<double>(x.rows) / static_cast<double>(global_rows);
    allreduce_.start_step();
    const T local_loss = loss_and_gradient(model_, x, target, loss, static_cast<T>(share));
    sums_[0] = static_cast<double>(local_loss) * share;
    sums_[1] = static_cast<double>(x.rows);
    allreduce_.finish(sums_);
    // Every rank sees the same sum; given the same global_rows (as the
    // contract says), every rank throws alike and none is left waiting.
    if (sums_[1] != static_cast<double>(global_rows))
      throw DistributedError("typenet: step " + std::to_string(step_) + ": the ranks' rows add up to " +
                             std::to_string(static_cast<std::uint64_t>(sums_[1])) + ", not the global batch of " +
                             std::to_string(global_rows) +
                             "; give every rank a loader with the same options and shard = rank, shards = ranks.");
    optimizer.step(model_);
    comm_.set_step(++step_);  // between steps, a failure belongs to the next one
    if (options_.verify_every != 0 && step_ % options_.verify_every == 0) verify_replicas();
    return static_cast<T>(sums_[0]);
  }

  /// Collective: throws DistributedError on every rank if any rank's
  /// parameters (and, with synchronised BatchNorm, running statistics)
  /// differ from another's by a single bit.
  void verify_replicas() {
    comm_.gather(replica_checksum(), checksums_, "the parameter checksum comparison");
    for (const std::uint64_t c : checksums_)
      if (c != checksums_[0]) throw DistributedError(replica_mismatch_message(step_, checksums_));
  }

  /// CRC-32C of this rank's parameters (and of its running statistics when
  /// they are synchronised; per-rank statistics differ by design).
  std::uint32_t replica_checksum() const {
    const auto p = std::span<const T>(model_.parameters());
    std::uint32_t crc = crc32c({reinterpret_cast<const unsigned char*>(p.data()), p.size_bytes()});
    if (options_.synchronise_batchnorm) {
      const auto s = std::span<const T>(model_.state());
      crc = crc32c_extend(crc, {reinterpret_cast<const unsigned char*>(s.data()), s.size_bytes()});
    }
    return crc;
  }

  /// The number of steps taken.
  std::uint64_t steps() const { return step_; }
  /// Time the steps spent waiting for gradient communication that backward
  /// did not hide, in total.
  double allreduce_wait_seconds() const { return allreduce_.waited_seconds(); }

 private:
  Model<Net, T>& model_;
  MpiCommunicator& comm_;
  DataParallelOptions options_;
  MpiBatchStatisticsReducer<T> reducer_;
  GradientAllreduce<T> allreduce_;
  std::vector<std::uint64_t> checksums_;
  double sums_[2] = {0, 0};  ///< the weighted loss and the rows, summed with the gradients
  std::uint64_t step_ = 0;
};

}  // namespace typenet::distributed
