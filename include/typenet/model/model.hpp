// Model<Net, T>: the parameters, gradients and workspaces of a network type,
// and its forward and backward passes on the CPU.
//
// One contiguous parameter buffer (every block's W, b, gamma, beta, in plan
// order) and one gradient buffer of the same layout: optimizers update all of
// it in one pass and checkpoints write it in one piece. BatchNorm running
// statistics live in a separate state buffer (they are not learned).
// Workspaces are sized for the largest batch seen and reused: after the
// first batch of a given size, a step allocates nothing.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "typenet/cpu/block_backward.hpp"
#include "typenet/cpu/block_forward.hpp"
#include "typenet/model/input_checks.hpp"
#include "typenet/base/matrix.hpp"
#include "typenet/base/mode.hpp"
#include "typenet/model/workspace_layout.hpp"
#include "typenet/random/counter_hash.hpp"
#include "typenet/topology/sequential.hpp"
#include "typenet/train/init.hpp"

namespace typenet {

template <class Net, class T = float>
class Model {
  static_assert(Net::valid, "typenet: Model<Net> needs a valid network type (see the first error above).");
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "typenet: Model<Net, T> computes in float or double.");

 public:
  using network = Net;
  using scalar = T;
  static constexpr std::size_t input_size = Net::input_size;
  static constexpr std::size_t output_size = Net::output_size;
  static constexpr std::size_t parameter_count = Net::parameter_count;
  static constexpr std::size_t state_count = Net::state_count;
  static constexpr std::size_t block_count = Net::block_count;

  explicit Model(Init init = Init::torch_default, std::uint64_t seed = 0)
      : params_(parameter_count), grads_(parameter_count), state_(state_count) {
    initialize(init, seed);
  }

  // Re-draws every parameter; BatchNorm gets gamma = 1, beta = 0 and running
  // statistics mean 0, variance 1 (as PyTorch).
  void initialize(Init init, std::uint64_t seed) {
    Rng rng(seed);
    for_each_block<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      std::span<T> bias = B::has_bias ? std::span<T>(params_.data() + B::bias_offset, B::out) : std::span<T>();
      initialize_linear<T>(std::span<T>(params_.data() + B::weight_offset, B::in * B::out), bias, B::in, B::out,
                           init, rng);
      if constexpr (B::has_batchnorm) {
        std::fill_n(params_.data() + B::gamma_offset, B::out, T(1));
        std::fill_n(params_.data() + B::beta_offset, B::out, T(0));
        std::fill_n(state_.data() + B::running_mean_offset, B::out, T(0));
        std::fill_n(state_.data() + B::running_var_offset, B::out, T(1));
      }
    });
    dropout_seed_ = seed ^ 0x6a09e667f3bcc908ull;
  }

  // ------------------------------------------------------------ buffers
  std::span<T> parameters() { return params_.span(); }
  std::span<const T> parameters() const { return params_.span(); }
  std::span<T> gradients() { return grads_.span(); }
  std::span<const T> gradients() const { return grads_.span(); }
  std::span<T> state() { return state_.span(); }
  std::span<const T> state() const { return state_.span(); }

  template <std::size_t B>
  using block = typename Net::template block<B>;

  // Block B's weights, in x out (row-major; y = x W + b).
  template <std::size_t B>
  MatrixView<T> weight() {
    return {params_.data() + block<B>::weight_offset, block<B>::in, block<B>::out};
  }
  template <std::size_t B>
  std::span<T> bias() {
    static_assert(block<B>::has_bias, "typenet: this block has no bias (Linear<N, false>, or BatchNorm follows).");
    return {params_.data() + block<B>::bias_offset, block<B>::out};
  }
  template <std::size_t B>
  std::span<T> gamma() {
    static_assert(block<B>::has_batchnorm, "typenet: this block has no BatchNorm.");
    return {params_.data() + block<B>::gamma_offset, block<B>::out};
  }
  template <std::size_t B>
  std::span<T> beta() {
    static_assert(block<B>::has_batchnorm, "typenet: this block has no BatchNorm.");
    return {params_.data() + block<B>::beta_offset, block<B>::out};
  }
  template <std::size_t B>
  std::span<T> running_mean() {
    static_assert(block<B>::has_batchnorm, "typenet: this block has no BatchNorm.");
    return {state_.data() + block<B>::running_mean_offset, block<B>::out};
  }
  template <std::size_t B>
  std::span<T> running_var() {
    static_assert(block<B>::has_batchnorm, "typenet: this block has no BatchNorm.");
    return {state_.data() + block<B>::running_var_offset, block<B>::out};
  }

  // ------------------------------------------------------------ threads, dropout
  // The pool the kernels may use above their work threshold; nullptr runs
  // everything on the calling thread. Results do not depend on it.
  void set_thread_pool(cpu::ThreadPool* pool) { pool_ = pool; }
  cpu::ThreadPool* thread_pool() const { return pool_; }

  // Synchronised BatchNorm: with a reducer, train-mode BatchNorm uses the
  // statistics of all processes' batches together (see cpu/batch_reducer.hpp).
  // nullptr (the default): this process's batch alone.
  void set_batch_statistics_reducer(cpu::BatchStatisticsReducer<T>* reducer) { reducer_ = reducer; }

  // Called after backward has finished each block, last block first, with
  // the block's range in the gradient buffer: a data-parallel trainer can
  // start reducing those gradients while backward goes on.
  using GradientsReady = std::function<void(std::size_t offset, std::size_t count)>;
  void set_gradients_ready(GradientsReady callback) { gradients_ready_ = std::move(callback); }

  // Whether train_step may update parameters inside backward (not when the
  // gradients must first be combined across processes).
  bool fusable_step() const { return !reducer_ && !gradients_ready_; }

  // Each train-mode forward draws a fresh dropout mask from (seed, step,
  // block); backward regenerates the same one. Setting the step repeats a mask.
  void set_dropout_seed(std::uint64_t seed) { dropout_seed_ = seed; }
  std::uint64_t dropout_seed() const { return dropout_seed_; }
  std::uint64_t dropout_step() const { return dropout_step_; }
  void set_dropout_step(std::uint64_t step) { dropout_step_ = step; }

  // ------------------------------------------------------------ forward
  // Runs the network on a batch (rows = samples). Returns the output: the
  // last block's values, or probabilities when the network ends in Softmax.
  // The view stays valid until the next forward.
  MatrixView<const T> forward(MatrixView<const T> x, Mode mode = Mode::eval) {
    check_input(x, mode);
    if (mode == Mode::train) reserve(x.rows);
    else reserve_forward(x.rows);
    batch_ = x.rows;
    mode_ = mode;
    if (mode == Mode::train) step_used_ = dropout_step_++;
    input_ = x;
    for_each_block<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      cpu::block_forward<B, T>(params_.data(), state_.data(), io<B>(), step_info<B>(mode));
    });
    if constexpr (Net::softmax_head) {
      softmax_rows(logits(), probabilities_.data());
      return {probabilities_.data(), batch_, output_size};
    } else {
      return logits();
    }
  }

  // The last block's output before any Softmax head (the logits).
  MatrixView<const T> logits() const {
    return {outputs_.data() + output_offset<block_count - 1>(), batch_, output_size};
  }
  // The network output of the last forward (probabilities with a Softmax head).
  MatrixView<const T> output() const {
    if constexpr (Net::softmax_head) return {probabilities_.data(), batch_, output_size};
    else return logits();
  }
  std::size_t batch_size() const { return batch_; }

  // Block B's output in the last forward (its activations after dropout).
  template <std::size_t B>
  MatrixView<const T> block_output() const {
    return {outputs_.data() + output_offset<B>(), batch_, block<B>::out};
  }

  // ------------------------------------------------------------ backward
  // After a train-mode forward: writes dLoss/dParameters into gradients()
  // (overwriting, not accumulating). `grad_output` is dLoss/dOutput for the
  // output forward returned (probabilities with a Softmax head). With
  // `input_gradient`, dLoss/dInput is kept too (input_gradient()).
  void backward(MatrixView<const T> grad_output, bool input_gradient = false) {
    check_backward(grad_output);
    T* dy = grad_a_.data();
    if (grad_output.data != dy)
      for (std::size_t i = 0; i < batch_; ++i) std::copy_n(grad_output.row(i), output_size, dy + i * output_size);
    if constexpr (Net::softmax_head) softmax_backward_rows(dy);
    backward_blocks(input_gradient, cpu::StoreGradient<T>{grads_.data()});
  }

  // Where a loss may write its gradient (batch x output_size) without a copy:
  // dLoss/dOutput for backward(output_gradient_buffer()), or dLoss/dLogits
  // for backward_from_logits().
  MatrixView<T> output_gradient_buffer() {
    reserve(batch_);  // after an evaluation-mode forward of a larger batch than any trained on
    return {grad_a_.data(), batch_, output_size};
  }

  // Backward from dLoss/dLogits in output_gradient_buffer(): the fused
  // softmax cross-entropy skips the softmax Jacobian altogether.
  void backward_from_logits(bool input_gradient = false) {
    check_backward(output_gradient_buffer());
    backward_blocks(input_gradient, cpu::StoreGradient<T>{grads_.data()});
  }

  // A fused training step's backward: each parameter's gradient goes straight
  // into `update` (an optimizer's per-parameter update, see
  // train/optimizers.hpp) instead of the gradient buffer, which is then left
  // as it was. `from_logits` as in backward_from_logits.
  template <class Update>
  void backward_and_update(const Update& update, bool from_logits) {
    check_backward(output_gradient_buffer());
    if (reducer_ || gradients_ready_)
      throw std::logic_error(
          "typenet: a fused training step cannot be used with synchronised BatchNorm or a gradients-ready "
          "callback: the gradients must be complete before the update (use loss_and_gradient, then the "
          "optimizer's step).");
    if constexpr (Net::softmax_head) {
      if (!from_logits) softmax_backward_rows(grad_a_.data());
    }
    backward_blocks(false, update);
  }

  // dLoss/dInput of the last backward that asked for it.
  MatrixView<const T> input_gradient() const {
    if (!input_gradient_) throw std::logic_error("typenet: call backward(grad, true) to get the input gradient.");
    return {input_gradient_, batch_, input_size};
  }

  // Reserves workspaces for training batches of up to `rows` samples. An
  // evaluation-mode forward reserves only what forward needs, so evaluating
  // in large chunks does not also hold gradient buffers of that size.
  void reserve(std::size_t rows) {
    reserve_forward(rows);
    if (rows <= gradient_capacity_) return;
    grad_a_.resize(rows * layout::gradient_width);
    grad_b_.resize(rows * layout::gradient_width);
    if (scratch_.size() == 0) scratch_.resize(scratch_count);
    gradient_capacity_ = rows;
  }

 private:
  void reserve_forward(std::size_t rows) {
    if (rows <= capacity_) return;
    outputs_.resize(rows * outputs_per_sample);
    saved_.resize(rows * saved_per_sample);
    stats_.resize(stats_count);
    if constexpr (Net::softmax_head) probabilities_.resize(rows * output_size);
    capacity_ = rows;
  }

  using layout = WorkspaceLayout<Net>;
  static constexpr std::size_t outputs_per_sample = layout::outputs_per_sample;
  static constexpr std::size_t saved_per_sample = layout::saved_per_sample;
  static constexpr std::size_t stats_count = layout::stats_count;
  // Backward's room for one block's W transposed (rows rounded up to vectors).
  static constexpr std::size_t scratch_count = [] {
    std::size_t n = 0;
    for_each_block<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      constexpr std::size_t W = static_cast<std::size_t>(simd::lanes<T>);
      n = std::max(n, (B::in + W - 1) / W * W * B::out);
    });
    return n;
  }();

  template <std::size_t B>
  std::size_t output_offset() const {
    return layout::template output_offset<B>() * capacity_;
  }

  template <class B>
  cpu::StepInfo step_info(Mode mode) const {
    cpu::StepInfo s{batch_, mode, dropout_key(dropout_seed_, step_used_, static_cast<std::uint32_t>(B::index)), pool_};
    if constexpr (std::is_same_v<T, float>) s.reducer_float = reducer_;
    else s.reducer_double = reducer_;
    return s;
  }

  template <class B>
  cpu::BlockIo<T> io() {
    cpu::BlockIo<T> r;
    if constexpr (B::index == 0) {
      r.x = input_.data;
      r.ldx = input_.stride;
    } else {
      r.x = outputs_.data() + output_offset<B::index - 1>();
      r.ldx = Net::template block<B::index - 1>::out;
    }
    r.y = outputs_.data() + output_offset<B::index>();
    r.scratch = scratch_.data();
    if constexpr (B::keeps_preactivation || B::keeps_normalized)
      r.saved = saved_.data() + layout::template saved_offset<B::index>() * capacity_;
    if constexpr (B::has_batchnorm) {
      r.mean = stats_.data() + layout::template stats_offset<B::index>();
      r.inv_std = r.mean + B::out;
      r.sum_a = r.inv_std + B::out;
      r.sum_b = r.sum_a + B::out;
    }
    return r;
  }

  void check_input(MatrixView<const T> x, Mode mode) const {
    check_forward_input<Net>(x.data, x.rows, x.cols, x.stride, mode);
  }

  template <class Sink>
  void backward_blocks(bool input_gradient, const Sink& sink) {
    T* dy = grad_a_.data();
    T* other = grad_b_.data();
    for_each_block_reversed<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      const bool want_dx = B::index > 0 || input_gradient;
      cpu::block_backward<B, T>(params_.data(), io<B>(), dy, want_dx ? other : nullptr, step_info<B>(Mode::train),
                                sink);
      if (gradients_ready_) gradients_ready_(B::weight_offset, B::parameter_count);
      std::swap(dy, other);
    });
    input_gradient_ = input_gradient ? dy : nullptr;
  }

  void check_backward(MatrixView<const T> g) const {
    check_backward_ready(mode_, batch_);
    if (g.rows != batch_ || g.cols != output_size)
      throw std::invalid_argument(std::string("typenet: backward: the output gradient is ") +
                                  std::to_string(g.rows) + " x " + std::to_string(g.cols) + ", the output is " +
                                  std::to_string(batch_) + " x " + std::to_string(output_size) + ".");
  }

  // p = softmax(l) per row, stable: exp(l - max l) / sum.
  void softmax_rows(MatrixView<const T> l, T* p) const {
    for (std::size_t i = 0; i < l.rows; ++i) {
      const T* row = l.row(i);
      const T m = *std::max_element(row, row + output_size);
      T sum = 0;
      for (std::size_t j = 0; j < output_size; ++j) sum += (p[i * output_size + j] = std::exp(row[j] - m));
      for (std::size_t j = 0; j < output_size; ++j) p[i * output_size + j] /= sum;
    }
  }
  // dl = p * (dp - sum_j dp_j p_j), in place.
  void softmax_backward_rows(T* g) const {
    for (std::size_t i = 0; i < batch_; ++i) {
      const T* p = probabilities_.data() + i * output_size;
      T* gi = g + i * output_size;
      T dot = 0;
      for (std::size_t j = 0; j < output_size; ++j) dot += gi[j] * p[j];
      for (std::size_t j = 0; j < output_size; ++j) gi[j] = p[j] * (gi[j] - dot);
    }
  }

  AlignedBuffer<T> params_, grads_, state_;
  AlignedBuffer<T> outputs_, saved_, stats_, grad_a_, grad_b_, probabilities_, scratch_;
  std::size_t capacity_ = 0, gradient_capacity_ = 0, batch_ = 0;
  Mode mode_ = Mode::eval;
  MatrixView<const T> input_;
  const T* input_gradient_ = nullptr;
  cpu::ThreadPool* pool_ = nullptr;
  cpu::BatchStatisticsReducer<T>* reducer_ = nullptr;
  GradientsReady gradients_ready_;
  std::uint64_t dropout_seed_ = 0, dropout_step_ = 0, step_used_ = 0;
};

}  // namespace typenet
