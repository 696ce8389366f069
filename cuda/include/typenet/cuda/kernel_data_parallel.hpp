// Data-parallel training of a KernelModel: every rank holds a replica and
// trains on its shard of each global batch; between backward and the update
// the gradients are summed over the ranks, so the replicas stay identical
// and together compute what one process computes on the whole batch.
//
// On GPUs it runs over cuda::CudaExecutor with cuda::NcclCommunicator
// (cuda/nccl_communicator.cuh): NCCL sums the device gradient buffer. The
// same class over HostExecutor with distributed::MpiCommunicator (host
// memory) is how the CPU-only tests check it, on 2 and 3 MPI ranks.
//
//   distributed::MpiSession mpi(argc, argv);
//   distributed::MpiCommunicator world;
//   cuda::NcclCommunicator nccl(world, gpu.executor().stream());
//   cuda::KernelDataParallel<Net, float, Adam<>, cuda::CudaExecutor, cuda::NcclCommunicator>
//       trainer(gpu, adam, nccl);
//   trainer.step(x_shard, rows, labels_shard, global_rows, SoftmaxCrossEntropy{});
//
// A Communicator provides rank(), size(), and, with a name for errors,
// sum(T* values, n, what) and broadcast(T* values, n, root, what) over the
// executor's memory, and gather(std::uint64_t value, span out, what) on the
// host (MpiCommunicator's interface).
//
// As the CPU's distributed::DataParallel: rank 0's parameters and running
// statistics are broadcast at the start; each rank scales dLoss/dOutput by
// its share of the global batch before backward; the loss of the global
// batch and the rows are summed alongside (a wrong total is an error on
// every rank); BatchNorm uses each rank's own rows, or with
// synchronise_batchnorm the whole global batch's statistics (the per-column
// sums summed across ranks between the kernels' passes); dropout masks come from a seed mixed with
// the rank; a CRC-32C of the parameters is compared across ranks every
// `verify_every` steps.
#pragma once

#include "typenet/config.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "typenet/cuda/kernel_training.hpp"
#include "typenet/distributed/replica_check.hpp"
#include "typenet/io/crc32c.hpp"
#include "typenet/random/rng.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// The options of KernelDataParallel.
struct KernelDataParallelOptions {
  /// Every this many steps, compare a checksum of the parameters across
  /// ranks and throw if any replica differs (0: never).
  std::size_t verify_every = 100;
  /// BatchNorm with the statistics of the whole global batch (N ranks with
  /// B/N rows then compute what one process with B rows computes), instead
  /// of each rank's own rows.
  bool synchronise_batchnorm = false;
  std::uint64_t dropout_seed = 0;  ///< the seed of every rank's dropout stream (the same on all ranks)
};

/// Synchronised BatchNorm's sums over a communicator: the per-column sums in
/// the executor's memory, the batch size on the host.
template <class T, class Communicator>
class CommunicatorBatchReducer final : public cpu::BatchStatisticsReducer<T> {
 public:
  /// A reducer over comm, which must outlive it.
  explicit CommunicatorBatchReducer(Communicator& comm)
      : comm_(comm), sizes_(static_cast<std::size_t>(comm.size())) {}
  void sum(T* values, std::size_t n) override { comm_.sum(values, n, "synchronised BatchNorm's statistics sum"); }
  std::size_t total_batch(std::size_t local_batch) override {
    comm_.gather(local_batch, sizes_, "synchronised BatchNorm's batch sizes");
    std::size_t total = 0;
    for (const std::uint64_t s : sizes_) total += static_cast<std::size_t>(s);
    return total;
  }

 private:
  Communicator& comm_;
  std::vector<std::uint64_t> sizes_;
};

/// Data-parallel training of a KernelModel: each rank a share of the batch, the gradients summed over the communicator (NCCL on GPUs, MPI in the host tests) before one step on every rank.
template <class Net, class T, class Optimizer, class Executor, class Communicator>
class KernelDataParallel {
 public:
  /// Collective. Takes over the optimizer's state when it has one (a
  /// checkpoint's), as KernelTrainer does.
  KernelDataParallel(KernelModel<Net, T, Executor>& model, Optimizer& optimizer, Communicator& comm,
                     KernelDataParallelOptions options = {})
      : model_(model),
        comm_(comm),
        options_(options),
        trainer_(model, optimizer),
        reducer_(comm),
        sums_(2),
        checksums_(static_cast<std::size_t>(comm.size())) {
    comm_.broadcast(model_.parameters(), Net::parameter_count, 0, "the initial parameter broadcast");
    if constexpr (Net::state_count > 0)
      comm_.broadcast(model_.state(), Net::state_count, 0, "the initial BatchNorm statistics broadcast");
    std::uint64_t mix = options_.dropout_seed ^ (static_cast<std::uint64_t>(comm_.rank()) << 32);
    model_.set_dropout_seed(splitmix64(mix));
    trainer_.set_before_update(
        [this](T* gradients, std::size_t n) { comm_.sum(gradients, n, "the gradient sum"); });
    if (options_.synchronise_batchnorm) model_.set_batch_statistics_reducer(&reducer_);
  }
  KernelDataParallel(const KernelDataParallel&) = delete;
  KernelDataParallel& operator=(const KernelDataParallel&) = delete;
  /// Leaves the model as it found it.
  ~KernelDataParallel() { model_.set_batch_statistics_reducer(nullptr); }

  /// One step on this rank's `rows` rows at x (and their targets: labels or
  /// a target matrix, as the loss wants), part of a global batch of
  /// `global_rows`. Collective. Returns the loss of the global batch, the
  /// same on every rank.
  template <class Target, class Loss>
  T step(const T* x, std::size_t rows, const Target* target, std::size_t global_rows, const Loss& loss) {
    if (rows == 0 || rows > global_rows)
      throw std::invalid_argument("typenet: KernelDataParallel::step: " + std::to_string(rows) +
                                  " rows on this rank for a global batch of " + std::to_string(global_rows) + ".");
    const double share = static_cast<double>(rows) / static_cast<double>(global_rows);
    const T local = trainer_.step(x, rows, target, loss, static_cast<T>(share));
    const std::array<double, 2> mine{static_cast<double>(local) * share, static_cast<double>(rows)};
    std::array<double, 2> total{};
    model_.executor().upload(sums_.data(), mine.data(), 2);
    comm_.sum(sums_.data(), 2, "the loss sum");
    model_.executor().download(total.data(), sums_.data(), 2);
    ++step_;
    // Every rank sees the same sum, so every rank throws alike.
    if (total[1] != static_cast<double>(global_rows))
      throw std::runtime_error("typenet: step " + std::to_string(step_) + ": the ranks' rows add up to " +
                               std::to_string(static_cast<std::uint64_t>(total[1])) + ", not the global batch of " +
                               std::to_string(global_rows) +
                               "; give every rank the same global batch and its own shard of it.");
    if (options_.verify_every != 0 && step_ % options_.verify_every == 0) verify_replicas();
    return static_cast<T>(total[0]);
  }

  /// Collective: throws on every rank if any rank's parameters (and, with
  /// synchronised BatchNorm, running statistics) differ from another's by a
  /// single bit.
  void verify_replicas() {
    std::vector<T> p(Net::parameter_count);
    model_.executor().download(p.data(), model_.parameters(), p.size());
    if (options_.synchronise_batchnorm && Net::state_count > 0) {
      p.resize(Net::parameter_count + Net::state_count);
      model_.executor().download(p.data() + Net::parameter_count, model_.state(), Net::state_count);
    }
    const std::uint32_t crc = crc32c({reinterpret_cast<const unsigned char*>(p.data()), p.size() * sizeof(T)});
    comm_.gather(crc, checksums_, "the parameter checksum comparison");
    for (const std::uint64_t c : checksums_)
      if (c != checksums_[0]) throw std::runtime_error(distributed::replica_mismatch_message(step_, checksums_));
  }

  /// The optimizer's state into the host optimizer (before a checkpoint).
  void copy_optimizer_state_to_host() const { trainer_.copy_optimizer_state_to_host(); }
  /// The number of steps taken.
  std::uint64_t steps() const { return step_; }

 private:
  KernelModel<Net, T, Executor>& model_;
  Communicator& comm_;
  KernelDataParallelOptions options_;
  KernelTrainer<Net, T, Optimizer, Executor> trainer_;
  CommunicatorBatchReducer<T, Communicator> reducer_;
  typename Executor::template Buffer<double> sums_;  ///< the weighted loss and the rows, summed over ranks
  std::vector<std::uint64_t> checksums_;
  std::uint64_t step_ = 0;
};

}  // namespace typenet::cuda
