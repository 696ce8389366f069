// InferenceModel<Net, T>: a trained network for serving. Built once from a
// Model (or a checkpoint), immutable after, and callable from any number of
// threads at once.
//
//   InferenceModel<Net> served(trained);                 // BatchNorm folded, Dropout gone
//   served.predict(x, y);                                // any thread, concurrently
//   InferenceModel<Net>::Workspace ws(64);               // or a caller-owned workspace:
//   served.predict(x, y, ws);                            // never allocates
//
// It runs inference_network_t<Net> (model/inference_network.hpp) with each
// block's weights packed for inference (cpu/inference_block.hpp), every
// call on the calling thread: concurrency comes from the callers.
//
// The real-time rules: predict takes no lock and makes no system call;
// with a caller-owned workspace of enough rows it never allocates; without
// one, each thread keeps a workspace of its own (thread_local), which
// allocates on the thread's first call at a batch size larger than any
// before and never again below it.
#pragma once

#include "typenet/config.hpp"

// First: the topology's sentences are then reported with the shortest chain
// of includes (see topology/topology_rules.inc).
#include "typenet/topology/sequential.hpp"

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/base/aligned_buffer.hpp"
#include "typenet/base/matrix.hpp"
#include "typenet/cpu/inference_block.hpp"
#include "typenet/kernels/softmax.hpp"
#include "typenet/model/inference_network.hpp"
#include "typenet/model/model.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// A trained network for serving: BatchNorm folded into its Linear, Dropout gone, weights packed per panel; predict is const and may be called from any number of threads at once.
template <class Net, class T = float>
class InferenceModel {
  static constexpr TopologyError topology_error = topology_error_of<Net>;
#include "typenet/topology/topology_rules.inc"
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "typenet: InferenceModel<Net, T> computes in float or double.");
  using Trained = checked_network_t<Net>;

 public:
  /// The network it runs: Net with BatchNorm folded and Dropout removed.
  using network = inference_network_t<Trained>;
  /// The scalar type it computes in (float or double).
  using scalar = T;
  static constexpr std::size_t input_size = network::input_size;  ///< the width of one input sample
  static constexpr std::size_t output_size = network::output_size;  ///< the width of one output sample

  /// Room for one call of up to `rows` samples: two blocks' outputs.
  class Workspace {
   public:
    Workspace() = default;
    /// Room for calls of up to `rows` samples.
    explicit Workspace(std::size_t rows) { reserve(rows); }
    /// Grows the room to `rows` samples (it never shrinks).
    void reserve(std::size_t rows) {
      if (rows <= rows_) return;
      values_ = AlignedBuffer<T>(2 * rows * row_width);
      rows_ = rows;
    }
    /// The most samples one call may pass.
    std::size_t rows() const { return rows_; }

   private:
    friend class InferenceModel;
    static constexpr std::size_t row_width = std::max<std::size_t>(network::max_width, 1);
    AlignedBuffer<T> values_;
    std::size_t rows_ = 0;
  };

  /// The inference network of a trained model, folded and packed from its parameters and BatchNorm statistics.
  explicit InferenceModel(const Model<Net, T>& trained) : parameters_(network::parameter_count) {
    fold_parameters<Trained, T>(trained.parameters(), trained.state(), parameters_.span());
    pack();
  }
  /// From a file of Net: loader(path, model) fills a model of Net, with
  /// every check its reader makes (load_checkpoint, io/checkpoint.hpp, or
  /// load_safetensors, io/safetensors.hpp).
  template <class Loader>
  InferenceModel(const std::filesystem::path& path, Loader&& loader)
      : InferenceModel(load_with(path, std::forward<Loader>(loader))) {}

  /// The folded parameters, in network's layout (the model's is Net's).
  std::span<const T> parameters() const { return parameters_.span(); }

  /// y = the network's output for every row of x (probabilities with a
  /// Softmax head). Any number of threads may call it at once.
  void predict(MatrixView<const T> x, MatrixView<T> y) const {
    thread_local Workspace workspace;
    workspace.reserve(x.rows);
    predict(x, y, workspace);
  }
  /// The same with the caller's workspace, which must hold x.rows rows: no
  /// allocation at all.
  void predict(MatrixView<const T> x, MatrixView<T> y, Workspace& workspace) const {
    check(x, y, workspace);
    T* buffers[2] = {workspace.values_.data(), workspace.values_.data() + x.rows * Workspace::row_width};
    const T* in = x.data;
    std::size_t ld_in = x.stride;
    for_each_block<network>([&](auto b) {
      using B = typename decltype(b)::type;
      const bool last = B::index + 1 == network::block_count;
      T* out = last ? y.data : buffers[B::index % 2];
      const std::size_t ld_out = last ? y.stride : B::out;
      cpu::inference_block<B, T>(parameters_.data(), packed_.data() + packed_offset<B::index>(), in, ld_in, out,
                                 ld_out, x.rows);
      in = out;
      ld_in = ld_out;
    });
    if constexpr (network::softmax_head)
      for (std::size_t i = 0; i < x.rows; ++i) softmax::probabilities(y.row(i), y.row(i), output_size);
  }

 private:
  template <class Loader>
  static Model<Net, T> load_with(const std::filesystem::path& path, Loader&& loader) {
    Model<Net, T> model;
    loader(path, model);
    return model;
  }

  template <std::size_t B>
  static constexpr std::size_t packed_offset() {
    std::size_t n = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((n += cpu::PackedWeights<typename network::template block<I>, T>::size), ...);
    }(std::make_index_sequence<B>{});
    return n;
  }

  void pack() {
    packed_ = AlignedBuffer<T>(packed_offset<network::block_count>());
    for_each_block<network>([&](auto b) {
      using B = typename decltype(b)::type;
      cpu::PackedWeights<B, T>::pack(parameters_.data() + B::weight_offset, packed_.data() + packed_offset<B::index>());
    });
  }

  static void check(MatrixView<const T> x, MatrixView<T> y, const Workspace& workspace) {
    if (x.cols != input_size)
      throw std::invalid_argument("typenet: predict: the input has " + std::to_string(x.cols) +
                                  " features per sample, but the network starts with Input<" +
                                  std::to_string(input_size) + ">.");
    if (y.rows != x.rows || y.cols != output_size)
      throw std::invalid_argument("typenet: predict: the output is " + std::to_string(y.rows) + " x " +
                                  std::to_string(y.cols) + ", the network gives " + std::to_string(x.rows) + " x " +
                                  std::to_string(output_size) + " for this input.");
    if (x.rows > workspace.rows())
      throw std::invalid_argument("typenet: predict: the workspace holds " + std::to_string(workspace.rows()) +
                                  " rows, the input has " + std::to_string(x.rows) +
                                  " (InferenceModel::Workspace(rows), or reserve).");
    if (x.rows > 0 && (!x.data || !y.data)) throw std::invalid_argument("typenet: predict: null input or output.");
    if (x.stride < x.cols || y.stride < y.cols)
      throw std::invalid_argument("typenet: predict: a row stride is smaller than its width.");
  }

  AlignedBuffer<T> parameters_, packed_;
};

}  // namespace typenet
