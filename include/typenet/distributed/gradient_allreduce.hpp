// Averages the model's gradient buffer over all ranks while backward is
// still running.
//
// The model reports each block's gradients as soon as backward has written
// them, last block first (Model::set_gradients_ready); consecutive blocks
// are adjacent in the buffer, so the reported ranges grow one contiguous
// bucket from the end of the buffer towards its start. Once a bucket holds
// at least `bucket_bytes`, its MPI_Iallreduce starts and backward goes on
// with the earlier blocks; what is left when backward ends goes in a last
// bucket. finish() then waits for all of them, so the optimizer sees the
// averaged gradient. bucket_bytes = 0 starts one allreduce per block (the
// most overlap, the most messages); a bucket larger than the buffer gives a
// single allreduce after backward (no overlap).
//
// The allreduce sums: each rank's backward must already have weighted its
// rows by its share of the global batch (loss_and_gradient's
// gradient_scale), so that the sum is the mean over the global batch.
#pragma once

#include "typenet/config.hpp"

#include <chrono>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "typenet/distributed/mpi_communicator.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::distributed {

/// Sums a gradient buffer over every rank in buckets of about bucket_bytes, each started as soon as backward has finished it.
template <class T>
class GradientAllreduce {
 public:
  /// A reducer of these gradients over comm (which must outlive it).
  GradientAllreduce(MpiCommunicator& comm, std::span<T> gradients, std::size_t bucket_bytes)
      : comm_(comm), gradients_(gradients), bucket_bytes_(bucket_bytes) {
    requests_.reserve(64);  // more than the blocks of any network here: no allocation in a step
  }

  /// A new step: backward is about to report the blocks.
  void start_step() {
    if (in_step_)
      throw std::logic_error(
          "typenet: GradientAllreduce: the previous step did not finish (an exception left its allreduces in "
          "flight), so this rank is out of step with the others; stop every rank.");
    in_step_ = true;
    reported_begin_ = bucket_begin_ = bucket_end_ = gradients_.size();
  }

  /// Gradients [offset, offset + count) are final (the model's callback).
  void block_ready(std::size_t offset, std::size_t count) {
    if (offset + count != reported_begin_)
      throw std::logic_error("typenet: GradientAllreduce: block gradients [" + std::to_string(offset) + ", " +
                             std::to_string(offset + count) + ") were reported out of order (expected the range "
                             "ending at " + std::to_string(reported_begin_) + ").");
    reported_begin_ = offset;
    bucket_begin_ = offset;
    if ((bucket_end_ - bucket_begin_) * sizeof(T) >= bucket_bytes_) start_bucket();
    comm_.progress(requests_, what);
  }

  /// Starts the last bucket and a sum of `extra` values (the step's loss),
  /// then waits for everything. Afterwards the gradient buffer holds the
  /// global batch's mean gradient on every rank.
  void finish(std::span<double> extra) {
    if (reported_begin_ != 0)
      throw std::logic_error("typenet: GradientAllreduce: backward reported gradients from " +
                             std::to_string(reported_begin_) + " on, not the whole buffer (was the model's "
                             "gradients-ready callback replaced?).");
    const auto start = std::chrono::steady_clock::now();
    start_bucket();
    comm_.start_sum(extra.data(), extra.size(), requests_, what);
    comm_.wait(requests_, what);
    waited_ += std::chrono::steady_clock::now() - start;
    ++steps_;
    in_step_ = false;
  }

  /// Time spent in finish(), waiting for communication that backward did not
  /// hide, summed over steps.
  double waited_seconds() const { return waited_.count(); }
  /// The number of steps reduced.
  std::size_t steps() const { return steps_; }

 private:
  static constexpr const char* what = "the gradient allreduce";

  void start_bucket() {
    if (bucket_begin_ == bucket_end_) return;
    comm_.start_sum(gradients_.data() + bucket_begin_, bucket_end_ - bucket_begin_, requests_, what);
    bucket_end_ = bucket_begin_;
  }

  MpiCommunicator& comm_;
  std::span<T> gradients_;
  std::size_t bucket_bytes_;
  bool in_step_ = false;
  /// Backward has reported [reported_begin_, size); the bucket being filled
  /// is [bucket_begin_, bucket_end_); [bucket_end_, size) is being reduced.
  std::size_t reported_begin_ = 0, bucket_begin_ = 0, bucket_end_ = 0;
  std::vector<MPI_Request> requests_;
  std::chrono::duration<double> waited_{0};
  std::size_t steps_ = 0;
};

}  // namespace typenet::distributed
