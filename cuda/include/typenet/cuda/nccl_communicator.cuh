// NCCL as the communicator of KernelDataParallel (cuda/kernel_data_parallel.hpp):
// sums and broadcasts of device buffers between GPUs, one rank per GPU,
// bootstrapped over MPI (rank 0 makes NCCL's id, MPI broadcasts it), which
// also carries the host-side checks (the replicas' checksums).
//
//   distributed::MpiSession mpi(argc, argv);
//   distributed::MpiCommunicator world;
//   cuda::check(cudaSetDevice(local_rank % devices), "cudaSetDevice");   // one GPU per rank
//   cuda::Model<Net> gpu(cpu);
//   cuda::NcclCommunicator nccl(world, gpu.executor().stream());
//
// Every collective runs on the model's stream and is then waited for
// against MPI's deadline (world.timeout()): a rank that died or hangs makes
// the others abort the NCCL communicator and throw DistributedError, which
// distributed::stop_every_rank_on_exception turns into a stopped job, as on
// the CPU path.
#pragma once

#include "typenet/config.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <thread>
#include <type_traits>

#include "typenet/cuda/error.cuh"
#include "typenet/distributed/mpi_communicator.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// Sums over every rank's GPU with NCCL, MPI starting it (one rank per GPU).
class NcclCommunicator {
 public:
  /// Collective over `mpi`'s ranks; the calling thread's current CUDA device
  /// is this rank's GPU.
  NcclCommunicator(distributed::MpiCommunicator& mpi, cudaStream_t stream) : mpi_(mpi), stream_(stream) {
    ncclUniqueId id{};
    if (mpi_.rank() == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    mpi_.broadcast(reinterpret_cast<unsigned char*>(&id), sizeof id, 0, "the NCCL id broadcast");
    check_nccl(ncclCommInitRank(&comm_, mpi_.size(), id, mpi_.rank()), "ncclCommInitRank");
  }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;
  ~NcclCommunicator() {
    if (comm_) (void)ncclCommDestroy(comm_);
  }

  /// This rank's number.
  int rank() const { return mpi_.rank(); }
  /// The number of ranks.
  int size() const { return mpi_.size(); }

  /// values[0, n) (device memory) summed over the ranks, in place.
  template <class T>
  void sum(T* values, std::size_t n, const char* what) {
    check_nccl(ncclAllReduce(values, values, n, datatype<T>(), ncclSum, comm_, stream_), what);
    wait(what);
  }
  /// Rank root's values[0, n) (device memory) on every rank.
  template <class T>
  void broadcast(T* values, std::size_t n, int root, const char* what) {
    check_nccl(ncclBroadcast(values, values, n, datatype<T>(), root, comm_, stream_), what);
    wait(what);
  }
  /// Every rank's `value` (host), in rank order: over MPI.
  void gather(std::uint64_t value, std::span<std::uint64_t> out, const char* what) { mpi_.gather(value, out, what); }

 private:
  template <class T>
  static ncclDataType_t datatype() {
    if constexpr (std::is_same_v<T, float>) return ncclFloat32;
    else if constexpr (std::is_same_v<T, double>) return ncclFloat64;
    else static_assert(sizeof(T) == 0, "typenet: NcclCommunicator sums float and double.");
  }

  /// Polls the stream until the collective is done, NCCL reports an error,
  /// or MPI's deadline passes (then the communicator is aborted, so that no
  /// kernel keeps waiting for a peer that will not come).
  void wait(const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + mpi_.timeout();
    for (int polls = 0;; ++polls) {
      const cudaError_t done = cudaStreamQuery(stream_);
      if (done == cudaSuccess) return;
      if (done != cudaErrorNotReady) check(done, std::string("waiting for ") + what);
      ncclResult_t async = ncclSuccess;
      check_nccl(ncclCommGetAsyncError(comm_, &async), what);
      check_nccl(async, what);
      if (std::chrono::steady_clock::now() > deadline) {
        (void)ncclCommAbort(comm_);
        comm_ = nullptr;
        throw distributed::DistributedError("typenet: rank " + std::to_string(rank()) + " of " +
                                            std::to_string(size()) + ": " + what +
                                            " did not finish before the deadline (another rank failed or hangs)");
      }
      if (polls > 1000) std::this_thread::yield();
    }
  }
  void check_nccl(ncclResult_t r, const std::string& what) const {
    if (r != ncclSuccess && r != ncclInProgress)
      throw distributed::DistributedError("typenet: rank " + std::to_string(mpi_.rank()) + ": " + what +
                                          " failed: " + ncclGetErrorString(r));
  }

  distributed::MpiCommunicator& mpi_;
  cudaStream_t stream_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace typenet::cuda
