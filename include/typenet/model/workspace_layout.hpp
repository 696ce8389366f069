// Where a model's per-step values live, shared by the CPU and the CUDA
// models: per sample, every block's output, then the values backward needs
// besides them (the pre-activation, or BatchNorm's x-hat) for the blocks
// that keep one; per BatchNorm block, four vectors of its width (the batch
// mean, 1/std, and two sums for synchronised backward).
//
// Offsets are per sample: block B's output starts at output_offset<B>() *
// capacity in a buffer of outputs_per_sample * capacity values.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>

#include "typenet/topology/sequential.hpp"

namespace typenet {

template <class Net>
struct WorkspaceLayout {
 private:
  enum class Part { output, saved, batchnorm };
  template <class B>
  static constexpr bool has(Part part) {
    switch (part) {
      case Part::output: return true;
      case Part::saved: return B::keeps_preactivation || B::keeps_normalized;
      case Part::batchnorm: return B::has_batchnorm;
    }
    return false;
  }
  // The sum of block widths over the blocks before Upto that have `part`.
  template <std::size_t Upto>
  static constexpr std::size_t sum_out(Part part) {
    std::size_t n = 0;
    [&]<std::size_t... B>(std::index_sequence<B...>) {
      ((n += has<typename Net::template block<B>>(part) ? Net::template block<B>::out : 0), ...);
    }(std::make_index_sequence<Upto>{});
    return n;
  }

 public:
  static constexpr std::size_t outputs_per_sample = sum_out<Net::block_count>(Part::output);
  static constexpr std::size_t saved_per_sample = sum_out<Net::block_count>(Part::saved);
  static constexpr std::size_t stats_count = 4 * sum_out<Net::block_count>(Part::batchnorm);

  template <std::size_t B>
  static constexpr std::size_t output_offset() {
    return sum_out<B>(Part::output);
  }
  template <std::size_t B>
  static constexpr std::size_t saved_offset() {
    return sum_out<B>(Part::saved);
  }
  // Block B's four BatchNorm vectors start here in the statistics buffer.
  template <std::size_t B>
  static constexpr std::size_t stats_offset() {
    return 4 * sum_out<B>(Part::batchnorm);
  }
  // The widest block input or output: the room each of the two gradient
  // buffers needs per sample.
  static constexpr std::size_t gradient_width = std::max(Net::max_width, Net::input_size);
};

}  // namespace typenet
