// Where a model's per-step values live, for both backends: per sample,
// every block's output, then what each block keeps for backward besides it
// (Keeps: the pre-activation or x-hat), then the per-sample statistics of
// the LayerNorm and RMSNorm blocks; and, fixed in size, the per-feature
// statistics of the BatchNorm blocks. Statistics come in NormStatistics'
// four vectors (kernels/block_buffers.hpp), each of the block's width or
// of the batch's size.
//
// Per-sample offsets are in samples: block B's output starts at
// output_offset<B>() * capacity in a buffer of outputs_per_sample * capacity.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "typenet/kernels/block_buffers.hpp"
#include "typenet/topology/sequential.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// Where each block's values lie in the model's workspaces: outputs, what forward keeps, and normalisation statistics, per sample and per feature.
template <class Net>
struct WorkspaceLayout {
 private:
  enum class Part { output, saved, sample_statistics, feature_statistics };
  template <class B>
  static constexpr std::size_t size_of(Part part) {
    switch (part) {
      case Part::output: return B::out;
      case Part::saved: return B::keeps != Keeps::nothing ? B::out : 0;
      case Part::sample_statistics: return B::sample_statistics ? norm_statistics_vectors : 0;
      case Part::feature_statistics: return B::batch_statistics ? norm_statistics_vectors * B::out : 0;
    }
    return 0;
  }
  /// The sum of `part` over the blocks before Upto.
  template <std::size_t Upto>
  static constexpr std::size_t sum(Part part) {
    std::size_t n = 0;
    [&]<std::size_t... B>(std::index_sequence<B...>) {
      ((n += size_of<typename Net::template block<B>>(part)), ...);
    }(std::make_index_sequence<Upto>{});
    return n;
  }
  static constexpr std::size_t all = Net::block_count;

 public:
  static constexpr std::size_t outputs_per_sample = sum<all>(Part::output);  ///< output values per sample, all blocks together
  static constexpr std::size_t saved_per_sample = sum<all>(Part::saved);  ///< kept values per sample (pre-activations or x-hat), all blocks together
  static constexpr std::size_t sample_statistics_per_sample = sum<all>(Part::sample_statistics);  ///< per-sample normalisation statistics per sample (LayerNorm, RMSNorm)
  static constexpr std::size_t feature_statistics_count = sum<all>(Part::feature_statistics);  ///< per-feature normalisation statistics (BatchNorm), all blocks together

  /// Where block B's output starts within a sample's outputs.
  template <std::size_t B>
  static constexpr std::size_t output_offset() {
    return sum<B>(Part::output);
  }
  /// Where block B's kept values start within a sample's.
  template <std::size_t B>
  static constexpr std::size_t saved_offset() {
    return sum<B>(Part::saved);
  }
  /// Where block B's per-sample statistics start within a sample's.
  template <std::size_t B>
  static constexpr std::size_t sample_statistics_offset() {
    return sum<B>(Part::sample_statistics);
  }
  /// Where block B's per-feature statistics start.
  template <std::size_t B>
  static constexpr std::size_t feature_statistics_offset() {
    return sum<B>(Part::feature_statistics);
  }
  /// The widest block input or output: the room each of the two gradient
  /// buffers needs per sample.
  static constexpr std::size_t gradient_width = std::max(Net::max_width, Net::input_size);
};

}  // namespace typenet
