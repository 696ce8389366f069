// Checkpoints of a data-parallel job: the replicas are identical, so rank 0
// alone writes the file (with save_checkpoint: atomically, as always); to
// load, rank 0 reads the file and broadcasts its bytes, and every rank
// restores the model and the optimizer from them, with every check a file
// gets. The file needs to exist on rank 0's machine only, and a checkpoint
// loads into any number of ranks, one process without MPI included (it is
// the ordinary format).
//
//   distributed::save_checkpoint(comm, "mnist.tn", model, adam);
//   distributed::load_checkpoint(comm, "mnist.tn", model, adam);
//
// Both are collective and return on every rank once rank 0 is done; when
// rank 0 fails (disk full, bad file) every rank throws CheckpointError with
// its message, so no rank trains on from a state the others lack.
//
// With per-rank BatchNorm statistics the file holds rank 0's running
// statistics, and after loading every rank has those.
#pragma once

#include "typenet/config.hpp"

#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "typenet/distributed/mpi_communicator.hpp"
#include "typenet/io/checkpoint.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::distributed {

namespace root_detail {

/// Runs `work` on rank 0 and gives every rank its bytes; if it throws, every
/// rank throws (rank 0 its own exception, the others a CheckpointError with
/// its message).
inline std::vector<unsigned char> from_rank_zero(MpiCommunicator& comm, const std::filesystem::path& path,
                                                 const std::function<std::vector<unsigned char>()>& work,
                                                 const char* what) {
  std::exception_ptr failure;
  std::vector<unsigned char> bytes;
  if (comm.rank() == 0) {
    try {
      bytes = work();
    } catch (const std::exception& e) {
      failure = std::current_exception();
      const std::string_view message = e.what();
      bytes.assign(message.begin(), message.end());
    }
  }
  std::uint64_t header[2] = {failure ? 1u : 0u, bytes.size()};  // failed?, payload size
  comm.broadcast(header, 2, 0, what);
  bytes.resize(static_cast<std::size_t>(header[1]));
  comm.broadcast(bytes.data(), bytes.size(), 0, what);
  if (failure) std::rethrow_exception(failure);
  if (header[0] != 0) {
    std::string message(bytes.begin(), bytes.end());
    // CheckpointError's messages start with "typenet: <path>: ", which it adds again.
    const std::string prefix = FileError::prefix(path);
    if (message.starts_with(prefix)) message.erase(0, prefix.size());
    throw CheckpointError(path, "on rank 0: " + message);
  }
  return bytes;
}

}  // namespace root_detail

/// Rank 0 writes `path` (the model, and the optimizer's state when given);
/// the other ranks wait for it to succeed or fail.
template <class Net, class T, class... Optimizer>
  requires(sizeof...(Optimizer) <= 1)
void save_checkpoint(MpiCommunicator& comm, const std::filesystem::path& path, const Model<Net, T>& model,
                     const Optimizer&... optimizer) {
  root_detail::from_rank_zero(
      comm, path,
      [&] {
        typenet::save_checkpoint(path, model, optimizer...);
        return std::vector<unsigned char>();
      },
      "the checkpoint save");
}

/// Every rank restores the model (and the optimizer) from rank 0's `path`.
template <class Net, class T, class... Optimizer>
  requires(sizeof...(Optimizer) <= 1)
void load_checkpoint(MpiCommunicator& comm, const std::filesystem::path& path, Model<Net, T>& model,
                     Optimizer&... optimizer) {
  const std::vector<unsigned char> bytes =
      root_detail::from_rank_zero(comm, path, [&] { return read_checkpoint_bytes(path); },
                                        "the checkpoint broadcast");
  load_checkpoint_bytes(path, bytes, model, optimizer...);
}

}  // namespace typenet::distributed
