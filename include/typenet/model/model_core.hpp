// ModelCore<Net, T, Backend>: what a model of a network type is, whichever
// backend runs it. It owns the buffers (parameters, gradients, state, and the
// workspaces of WorkspaceLayout), the mode, the dropout stream and the
// synchronised-BatchNorm reducer; it wires each block's BlockBuffers and runs
// forward and backward block by block. The CPU's Model (model/model.hpp) and
// the GPU's KernelModel (cuda/kernel_model.hpp) are this core over a backend
// and the API their memory calls for (views on the CPU, device pointers on
// the GPU).
//
// A Backend provides:
//   Buffer<U>                     owning memory of n values: Buffer<U>(n), data(), size()
//   scratch_count<Net>()          the room backward needs for one block's W transposed
//   forward<B>(buffers, step, reducer), backward<B>(buffers, dy, dx, step, reducer, sink)
//                                 one block's kernels (the sink: see cpu/gradient_sink.hpp;
//                                 a backend may store the gradients itself instead)
//   softmax(logits, p, rows, cols), softmax_backward(p, g, rows, cols)
//   upload(dst, src, n), download(dst, src, n), check_device_memory(p, what)
//
// Workspaces are sized for the largest batch seen, and the two gradient
// ping-pong buffers for the largest batch trained on (evaluating in chunks
// of 1000 then holds no gradient buffers of that size): after the first
// batch of a given size, a step allocates nothing.
#pragma once

#include "typenet/config.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/base/mode.hpp"
#include "typenet/cpu/batch_reducer.hpp"
#include "typenet/kernels/block_buffers.hpp"
#include "typenet/model/init.hpp"
#include "typenet/model/input_checks.hpp"
#include "typenet/model/workspace_layout.hpp"
#include "typenet/random/counter_hash.hpp"
#include "typenet/topology/sequential.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// What the CPU Model and the GPU's cuda::Model share: the buffers, the workspace layout, the mode, the dropout stream and the order of the blocks' kernels; Backend runs each kernel where its memory lives.
template <class Net, class T, class Backend>
class ModelCore {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "typenet: a model computes in float or double.");
  template <class U>
  using Buffer = typename Backend::template Buffer<U>;
  using layout = WorkspaceLayout<Net>;

 public:
  /// The checked network (topology/sequential.hpp).
  using network = Net;
  /// The scalar type it computes in (float or double).
  using scalar = T;
  static constexpr std::size_t input_size = Net::input_size;  ///< the width of one input sample
  static constexpr std::size_t output_size = Net::output_size;  ///< the width of one output sample
  static constexpr std::size_t parameter_count = Net::parameter_count;  ///< the number of trained parameters
  static constexpr std::size_t state_count = Net::state_count;  ///< the number of state values (BatchNorm's running statistics)
  static constexpr std::size_t block_count = Net::block_count;  ///< the number of fused blocks
  /// The B-th fused block (topology/block.hpp).
  template <std::size_t B>
  using block = typename Net::template block<B>;

  /// Synchronised BatchNorm: with a reducer, train-mode BatchNorm uses the
  /// statistics of all processes' batches together (cpu/batch_reducer.hpp;
  /// the reducer sums values in the backend's memory). nullptr (the
  /// default): this process's batch alone.
  void set_batch_statistics_reducer(cpu::BatchStatisticsReducer<T>* reducer) { reducer_ = reducer; }

  /// Called after backward has finished each block, last block first, with
  /// the block's range in the gradient buffer: a data-parallel trainer can
  /// start reducing those gradients while backward goes on.
  using GradientsReady = std::function<void(std::size_t offset, std::size_t count)>;
  /// See GradientsReady.
  void set_gradients_ready(GradientsReady callback) { gradients_ready_ = std::move(callback); }

  /// Whether a training step may update parameters inside backward (not when
  /// the gradients must first be combined across processes).
  bool fusable_step() const { return !reducer_ && !gradients_ready_; }

  /// Each train-mode forward draws a fresh dropout mask from (seed, step,
  /// block); backward regenerates the same one. Setting the step repeats a mask.
  void set_dropout_seed(std::uint64_t seed) { dropout_seed_ = seed; }
  /// The seed of the dropout stream.
  std::uint64_t dropout_seed() const { return dropout_seed_; }
  /// The step the next train-mode forward draws its dropout mask for.
  std::uint64_t dropout_step() const { return dropout_step_; }
  /// Sets the step of the next mask (a resumed run repeats the masks it would have drawn).
  void set_dropout_step(std::uint64_t step) { dropout_step_ = step; }

  /// The number of samples in the last forward.
  std::size_t batch_size() const { return batch_; }

  /// Reserves workspaces for training batches of up to `rows` samples. An
  /// evaluation-mode forward reserves only what forward needs.
  void reserve(std::size_t rows) {
    reserve_forward(rows);
    if (rows <= gradient_capacity_) return;
    grad_a_ = Buffer<T>(rows * layout::gradient_width);
    grad_b_ = Buffer<T>(rows * layout::gradient_width);
    if (scratch_.size() == 0) scratch_ = Buffer<T>(Backend::template scratch_count<Net>());
    gradient_capacity_ = rows;
  }

 protected:
  /// A model whose buffers live where the backend puts them (the derived class initialises them).
  explicit ModelCore(Backend backend)
      : backend_(std::move(backend)), params_(parameter_count), grads_(parameter_count), state_(state_count) {}

  /// Every value as its layer declares it (model/init.hpp), drawn on the host
  /// so that both backends start from the same numbers.
  void initialize(Init init, std::uint64_t seed) {
    std::vector<T> parameters(parameter_count), state(state_count);
    initialize_values<Net, T>(std::span<T>(parameters), std::span<T>(state), init, seed);
    backend_.upload(params_.data(), parameters.data(), parameter_count);
    if constexpr (state_count > 0) backend_.upload(state_.data(), state.data(), state_count);
    dropout_seed_ = seed ^ 0x6a09e667f3bcc908ull;
  }

  /// Runs the network on `rows` samples of `cols` features at x (the
  /// backend's memory, row stride `stride`). Returns the output (probabilities with a Softmax
  /// head), valid until the next forward.
  const T* run_forward(const T* x, std::size_t rows, std::size_t cols, std::size_t stride, Mode mode) {
    check_forward_input<Net>(x, rows, cols, stride, mode);
    backend_.check_device_memory(x, "the input");
    if (mode == Mode::train) reserve(rows);
    else reserve_forward(rows);
    batch_ = rows;
    mode_ = mode;
    if (mode == Mode::train) step_used_ = dropout_step_++;
    input_ = x;
    input_stride_ = stride;
    statistics_batch_ = rows;
    if constexpr (Net::batch_statistics)
      if (mode == Mode::train && reducer_) statistics_batch_ = reducer_->total_batch(rows);
    for_each_block<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      backend_.template forward<B>(buffers<B>(), step<B>(mode), reducer_);
    });
    if constexpr (Net::softmax_head) {
      backend_.softmax(logits_data(), probabilities_.data(), batch_, output_size);
      return probabilities_.data();
    } else {
      return logits_data();
    }
  }

  /// After a train-mode forward, from dLoss/dOutput (from_logits: dLoss/dLogits)
  /// in output_gradient(): each parameter gradient to the sink, last block
  /// first; with `input_gradient`, dLoss/dInput is kept too.
  template <class Sink>
  void run_backward(bool input_gradient, bool from_logits, const Sink& sink) {
    check_backward_ready(mode_, batch_);
    if constexpr (Net::softmax_head)
      if (!from_logits) backend_.softmax_backward(probabilities_.data(), grad_a_.data(), batch_, output_size);
    T* dy = grad_a_.data();
    T* other = grad_b_.data();
    for_each_block_reversed<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      const bool want_dx = B::index > 0 || input_gradient;
      backend_.template backward<B>(buffers<B>(), dy, want_dx ? other : nullptr, step<B>(Mode::train), reducer_,
                                    sink);
      if (gradients_ready_) gradients_ready_(B::parameter_offset, B::parameter_count);
      std::swap(dy, other);
    });
    input_gradient_ = input_gradient ? dy : nullptr;
  }

  /// Where a loss writes dLoss/dOutput or dLoss/dLogits: batch x output_size.
  T* output_gradient() {
    reserve(batch_);  // after an evaluation-mode forward of a larger batch than any trained on
    return grad_a_.data();
  }
  /// The last block's output of the last forward (before any Softmax head).
  const T* logits_data() const { return output_data<block_count - 1>(); }
  /// The network output of the last forward (probabilities with a Softmax head).
  const T* output_values() const {
    if constexpr (Net::softmax_head) return probabilities_.data();
    else return logits_data();
  }
  /// Block B's output in the last forward.
  template <std::size_t B>
  const T* output_data() const {
    return outputs_.data() + layout::template output_offset<B>() * capacity_;
  }
  /// dLoss/dInput of the last backward, if it was asked for (else null).
  const T* input_gradient_data() const { return input_gradient_; }
  /// The mode of the last forward.
  Mode last_mode() const { return mode_; }

  Backend backend_;  ///< runs the kernels and holds the memory
  /// The parameters, one buffer in the backend's memory.
  Buffer<T> params_, grads_, state_;
  /// @var grads_
  /// The gradients, laid out as the parameters.
  /// @var state_
  /// The state (BatchNorm's running statistics).

 private:
  void reserve_forward(std::size_t rows) {
    if (rows <= capacity_) return;
    outputs_ = Buffer<T>(rows * layout::outputs_per_sample);
    if constexpr (layout::saved_per_sample > 0) saved_ = Buffer<T>(rows * layout::saved_per_sample);
    if constexpr (layout::sample_statistics_per_sample > 0)
      sample_statistics_ = Buffer<T>(rows * layout::sample_statistics_per_sample);
    if constexpr (layout::feature_statistics_count > 0)
      if (feature_statistics_.size() == 0) feature_statistics_ = Buffer<T>(layout::feature_statistics_count);
    if constexpr (Net::softmax_head) probabilities_ = Buffer<T>(rows * output_size);
    capacity_ = rows;
  }

  /// Block B's memory in this step: the one place that knows the layout.
  template <class B>
  BlockBuffers<T> buffers() {
    BlockBuffers<T> a;
    a.params = params_.data();
    a.state = state_.data();
    a.grads = grads_.data();
    if constexpr (B::index == 0) {
      a.x = input_;
      a.ldx = input_stride_;
    } else {
      a.x = output_data<B::index - 1>();
      a.ldx = Net::template block<B::index - 1>::out;
    }
    a.y = outputs_.data() + layout::template output_offset<B::index>() * capacity_;
    if constexpr (B::keeps != Keeps::nothing)
      a.saved = saved_.data() + layout::template saved_offset<B::index>() * capacity_;
    if constexpr (B::batch_statistics)
      a.stats = NormStatistics<T>::at(feature_statistics_.data() + layout::template feature_statistics_offset<B::index>(),
                                      B::out);
    if constexpr (B::sample_statistics)
      a.stats = NormStatistics<T>::at(
          sample_statistics_.data() + layout::template sample_statistics_offset<B::index>() * capacity_, capacity_);
    a.scratch = scratch_.data();
    return a;
  }

  template <class B>
  BlockStep step(Mode mode) const {
    return {batch_, statistics_batch_, mode,
            dropout_key(dropout_seed_, step_used_, static_cast<std::uint32_t>(B::index))};
  }

  Buffer<T> outputs_, saved_, sample_statistics_, feature_statistics_, grad_a_, grad_b_, probabilities_, scratch_;
  std::size_t capacity_ = 0, gradient_capacity_ = 0, batch_ = 0, statistics_batch_ = 0, input_stride_ = input_size;
  Mode mode_ = Mode::eval;
  const T* input_ = nullptr;
  const T* input_gradient_ = nullptr;
  cpu::BatchStatisticsReducer<T>* reducer_ = nullptr;
  GradientsReady gradients_ready_;
  std::uint64_t dropout_seed_ = 0, dropout_step_ = 0, step_used_ = 0;
};

}  // namespace typenet
