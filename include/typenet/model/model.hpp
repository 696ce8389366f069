// Model<Net, T>: a network on the CPU. The model core (model/model_core.hpp)
// over the CPU backend (cpu/backend.hpp), with the API of host memory:
// matrix views in and out, spans of the buffers, per-block views.
//
// One contiguous parameter buffer (every block's values in plan order, as
// its layers declare them) and one gradient buffer of the same layout:
// optimizers update all of it in one pass and checkpoints write it in one
// piece. BatchNorm running statistics live in a separate state buffer (they
// are not learned).
#pragma once

#include "typenet/config.hpp"

// First: the topology's sentences are then reported with the shortest chain
// of includes (see topology/topology_rules.inc).
#include "typenet/topology/sequential.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "typenet/base/matrix.hpp"
#include "typenet/base/mode.hpp"
#include "typenet/cpu/backend.hpp"
#include "typenet/cpu/gradient_sink.hpp"
#include "typenet/model/init.hpp"
#include "typenet/model/model_core.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <class Net, class T = float>
class Model : public ModelCore<checked_network_t<Net>, T, cpu::Backend<T>> {
  static constexpr TopologyError topology_error = topology_error_of<Net>;
#include "typenet/topology/topology_rules.inc"
  using Core = ModelCore<checked_network_t<Net>, T, cpu::Backend<T>>;
  using Checked = checked_network_t<Net>;

 public:
  using Core::block_count;
  using Core::input_size;
  using Core::output_size;
  using Core::parameter_count;
  using Core::state_count;
  /// The B-th block of the checked network (topology/block.hpp).
  template <std::size_t B>
  using block = typename Checked::template block<B>;

  /// A model whose parameters are drawn by `init` from `seed` (the same seed gives the same numbers).
  explicit Model(Init init = Init::torch_default, std::uint64_t seed = 0) : Core(cpu::Backend<T>{}) {
    initialize(init, seed);
  }

  /// Re-draws every value: Linear's by `init`, normalisations' gamma = 1,
  /// beta = 0, running mean 0 and variance 1 (as PyTorch).
  void initialize(Init init, std::uint64_t seed) { Core::initialize(init, seed); }

  // ------------------------------------------------------------ buffers
  /// Every parameter, block after block, as the blocks declare them.
  std::span<T> parameters() { return this->params_.span(); }
  /// Every parameter, block after block, as the blocks declare them.
  std::span<const T> parameters() const { return this->params_.span(); }
  /// dLoss/dParameters of the last backward, laid out as parameters().
  std::span<T> gradients() { return this->grads_.span(); }
  /// dLoss/dParameters of the last backward, laid out as parameters().
  std::span<const T> gradients() const { return this->grads_.span(); }
  /// The state that is not trained: BatchNorm's running mean and variance.
  std::span<T> state() { return this->state_.span(); }
  /// The state that is not trained: BatchNorm's running mean and variance.
  std::span<const T> state() const { return this->state_.span(); }

  /// Block B's weights, in x out (row-major; y = x W + b).
  template <std::size_t B>
  MatrixView<T> weight() {
    return {this->params_.data() + block<B>::weight_offset, block<B>::in, block<B>::out};
  }
  /// Block B's bias (a compile error where the block has none).
  template <std::size_t B>
  std::span<T> bias() {
    static_assert(block<B>::has_bias, "typenet: this block has no bias (Linear<N, false>, or BatchNorm follows).");
    return {this->params_.data() + block<B>::bias_offset, block<B>::out};
  }
  /// A normalisation's scale (gamma) and shift (beta).
  template <std::size_t B>
  std::span<T> gamma() {
    static_assert(block<B>::has_scale, "typenet: this block has no normalisation with a scale (gamma).");
    return {this->params_.data() + block<B>::scale_offset, block<B>::out};
  }
  /// See gamma().
  template <std::size_t B>
  std::span<T> beta() {
    static_assert(block<B>::has_shift, "typenet: this block has no normalisation with a shift (beta).");
    return {this->params_.data() + block<B>::shift_offset, block<B>::out};
  }
  /// Block B's BatchNorm running mean (a compile error without BatchNorm).
  template <std::size_t B>
  std::span<T> running_mean() {
    static_assert(block<B>::batch_statistics, "typenet: this block has no BatchNorm.");
    return {this->state_.data() + block<B>::running_mean_offset, block<B>::out};
  }
  /// Block B's BatchNorm running variance (a compile error without BatchNorm).
  template <std::size_t B>
  std::span<T> running_var() {
    static_assert(block<B>::batch_statistics, "typenet: this block has no BatchNorm.");
    return {this->state_.data() + block<B>::running_var_offset, block<B>::out};
  }

  /// The pool the kernels may use above their work threshold; nullptr runs
  /// everything on the calling thread. Results do not depend on it.
  void set_thread_pool(cpu::ThreadPool* pool) { this->backend_.pool = pool; }
  /// The pool the kernels use, or nullptr.
  cpu::ThreadPool* thread_pool() const { return this->backend_.pool; }

  // ------------------------------------------------------------ forward
  /// Runs the network on a batch (rows = samples). Returns the output: the
  /// last block's values, or probabilities when the network ends in Softmax.
  /// The view stays valid until the next forward.
  MatrixView<const T> forward(MatrixView<const T> x, Mode mode = Mode::eval) {
    return {this->run_forward(x.data, x.rows, x.cols, x.stride, mode), x.rows, output_size};
  }

  /// The last block's output before any Softmax head (the logits).
  MatrixView<const T> logits() const { return {this->logits_data(), this->batch_size(), output_size}; }
  /// The network output of the last forward (probabilities with a Softmax head).
  MatrixView<const T> output() const { return {this->output_values(), this->batch_size(), output_size}; }

  /// Block B's output in the last forward (its activations after dropout).
  template <std::size_t B>
  MatrixView<const T> block_output() const {
    return {this->template output_data<B>(), this->batch_size(), block<B>::out};
  }

  // ------------------------------------------------------------ backward
  /// After a train-mode forward: writes dLoss/dParameters into gradients()
  /// (overwriting, not accumulating). `grad_output` is dLoss/dOutput for the
  /// output forward returned (probabilities with a Softmax head). With
  /// `input_gradient`, dLoss/dInput is kept too (input_gradient()).
  void backward(MatrixView<const T> grad_output, bool input_gradient = false) {
    check_backward(grad_output);
    T* dy = this->output_gradient();
    if (grad_output.data != dy)
      for (std::size_t i = 0; i < grad_output.rows; ++i)
        std::copy_n(grad_output.row(i), output_size, dy + i * output_size);
    this->run_backward(input_gradient, false, cpu::StoreGradient<T>{this->grads_.data()});
  }

  /// Where a loss may write its gradient (batch x output_size) without a copy:
  /// dLoss/dOutput for backward(output_gradient_buffer()), or dLoss/dLogits
  /// for backward_from_logits().
  MatrixView<T> output_gradient_buffer() { return {this->output_gradient(), this->batch_size(), output_size}; }

  /// Backward from dLoss/dLogits in output_gradient_buffer(): the fused
  /// softmax cross-entropy skips the softmax Jacobian altogether.
  void backward_from_logits(bool input_gradient = false) {
    check_backward(output_gradient_buffer());
    this->run_backward(input_gradient, true, cpu::StoreGradient<T>{this->grads_.data()});
  }

  /// A fused training step's backward: each parameter's gradient goes straight
  /// into `update` (an optimizer's per-parameter update, see
  /// train/optimizers.hpp) instead of the gradient buffer, which is then left
  /// as it was. `from_logits` as in backward_from_logits.
  template <class Update>
  void backward_and_update(const Update& update, bool from_logits) {
    check_backward(output_gradient_buffer());
    if (!this->fusable_step())
      throw std::logic_error(
          "typenet: a fused training step cannot be used with synchronised BatchNorm or a gradients-ready "
          "callback: the gradients must be complete before the update (use loss_and_gradient, then the "
          "optimizer's step).");
    this->run_backward(false, from_logits, update);
  }

  /// dLoss/dInput of the last backward that asked for it.
  MatrixView<const T> input_gradient() const {
    if (!this->input_gradient_data())
      throw std::logic_error("typenet: call backward(grad, true) to get the input gradient.");
    return {this->input_gradient_data(), this->batch_size(), input_size};
  }

 private:
  void check_backward(MatrixView<const T> g) const {
    check_backward_ready(this->last_mode(), this->batch_size());
    if (g.rows != this->batch_size() || g.cols != output_size)
      throw std::invalid_argument(std::string("typenet: backward: the output gradient is ") +
                                  std::to_string(g.rows) + " x " + std::to_string(g.cols) + ", the output is " +
                                  std::to_string(this->batch_size()) + " x " + std::to_string(output_size) + ".");
  }
};

}  // namespace typenet
