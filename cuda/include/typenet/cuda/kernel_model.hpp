// KernelModel<Net, T, Executor>: a network's parameters, gradients and
// workspaces in an executor's memory, and its forward and backward passes as
// the block kernels of cuda/block_kernels.hpp.
//
// cuda::Model (cuda/model.cuh) is KernelModel over CudaExecutor: device
// memory, kernels launched on the model's stream. Over HostExecutor the same
// class runs every kernel one thread after another on the host: the CPU-only
// tests check the GPU model's layout and orchestration with it.
//
// An Executor provides Buffer<U> (owning memory of n values: data(), size()),
// run(kernel), upload(dst, src, n) and download(dst, src, n) (complete on
// return), and check_device_memory(p, what) (throws when the kernels cannot
// read p).
//
// The buffers have the CPU Model's layout (WorkspaceLayout, the plan's
// parameter offsets), so parameters, state and checkpoints move between the
// two with copy_from and copy_to. Workspaces are allocated for the largest
// batch seen, once: a training step of a batch no larger allocates nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "typenet/cpu/batch_reducer.hpp"
#include "typenet/cuda/block_kernels.hpp"
#include "typenet/model/input_checks.hpp"
#include "typenet/base/mode.hpp"
#include "typenet/model/model.hpp"
#include "typenet/model/workspace_layout.hpp"
#include "typenet/random/counter_hash.hpp"

namespace typenet::cuda {

template <class Net, class T, class Executor>
class KernelModel {
  static_assert(Net::valid, "typenet: a model needs a valid network type (see the first error above).");
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "typenet: a model computes in float or double.");
  template <class U>
  using Buffer = typename Executor::template Buffer<U>;
  using layout = WorkspaceLayout<Net>;

 public:
  using network = Net;
  using scalar = T;
  static constexpr std::size_t input_size = Net::input_size;
  static constexpr std::size_t output_size = Net::output_size;
  static constexpr std::size_t parameter_count = Net::parameter_count;
  static constexpr std::size_t state_count = Net::state_count;

  // The parameters of a CPU model initialised with (init, seed): both
  // backends start from the same numbers.
  explicit KernelModel(Init init = Init::torch_default, std::uint64_t seed = 0, Executor executor = Executor())
      : executor_(std::move(executor)), params_(parameter_count), grads_(parameter_count), state_(state_count) {
    copy_from(typenet::Model<Net, T>(init, seed));
  }
  explicit KernelModel(const typenet::Model<Net, T>& cpu, Executor executor = Executor())
      : executor_(std::move(executor)), params_(parameter_count), grads_(parameter_count), state_(state_count) {
    copy_from(cpu);
  }

  // Parameters, BatchNorm statistics and the dropout stream, from and to a
  // CPU model (which reads and writes checkpoints).
  void copy_from(const typenet::Model<Net, T>& cpu) {
    executor_.upload(params_.data(), cpu.parameters().data(), parameter_count);
    if constexpr (state_count > 0) executor_.upload(state_.data(), cpu.state().data(), state_count);
    dropout_seed_ = cpu.dropout_seed();
    dropout_step_ = cpu.dropout_step();
  }
  void copy_to(typenet::Model<Net, T>& cpu) const {
    executor_.download(cpu.parameters().data(), params_.data(), parameter_count);
    if constexpr (state_count > 0) executor_.download(cpu.state().data(), state_.data(), state_count);
    cpu.set_dropout_seed(dropout_seed_);
    cpu.set_dropout_step(dropout_step_);
  }

  // The buffers, in the executor's memory (device pointers for cuda::Model).
  T* parameters() { return params_.data(); }
  const T* parameters() const { return params_.data(); }
  T* gradients() { return grads_.data(); }
  const T* gradients() const { return grads_.data(); }
  T* state() { return state_.data(); }
  Executor& executor() { return executor_; }

  // Synchronised BatchNorm: with a reducer, train-mode BatchNorm uses the
  // statistics of all processes' batches together; the reducer sums values
  // in the executor's memory (cpu/batch_reducer.hpp's interface). nullptr
  // (the default): this batch alone.
  void set_batch_statistics_reducer(cpu::BatchStatisticsReducer<T>* reducer) { reducer_ = reducer; }

  void set_dropout_seed(std::uint64_t seed) { dropout_seed_ = seed; }
  std::uint64_t dropout_step() const { return dropout_step_; }
  void set_dropout_step(std::uint64_t step) { dropout_step_ = step; }

  // Runs the network on `rows` samples at x (executor memory, row stride
  // `stride`, input_size features each). Returns the output (probabilities
  // with a Softmax head), valid until the next forward.
  const T* forward(const T* x, std::size_t rows, Mode mode = Mode::eval, std::size_t stride = input_size) {
    check_input(x, rows, stride, mode);
    if (mode == Mode::train) reserve(rows);
    else reserve_forward(rows);
    batch_ = rows;
    mode_ = mode;
    if (mode == Mode::train) step_used_ = dropout_step_++;
    input_ = x;
    input_stride_ = stride;
    statistics_batch_ = rows;
    if constexpr (Net::state_count > 0)
      if (mode == Mode::train && reducer_) statistics_batch_ = reducer_->total_batch(rows);
    for_each_block<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      block_forward<B, T>(args<B>(mode), runner(), reduction());
    });
    if constexpr (Net::softmax_head) {
      executor_.run(SoftmaxRows<T>{logits(), probabilities_.data(), batch_, output_size});
      return probabilities_.data();
    } else {
      return logits();
    }
  }

  // The last block's output before any Softmax head (batch x output_size).
  const T* logits() const { return outputs_.data() + output_offset<Net::block_count - 1>(); }
  const T* output() const {
    if constexpr (Net::softmax_head) return probabilities_.data();
    else return logits();
  }
  std::size_t batch_size() const { return batch_; }

  // Where a loss writes dLoss/dOutput (or dLoss/dLogits for
  // backward_from_logits): batch x output_size.
  T* output_gradient_buffer() {
    reserve(batch_);
    return grad_a_.data();
  }

  // After a train-mode forward: dLoss/dParameters into gradients()
  // (overwritten), from dLoss/dOutput in output_gradient_buffer().
  void backward(bool input_gradient = false) {
    check_backward();
    if constexpr (Net::softmax_head)
      executor_.run(SoftmaxBackwardRows<T>{probabilities_.data(), grad_a_.data(), batch_, output_size});
    backward_blocks(input_gradient);
  }
  // The same from dLoss/dLogits (the fused softmax cross-entropy).
  void backward_from_logits(bool input_gradient = false) {
    check_backward();
    backward_blocks(input_gradient);
  }
  // dLoss/dInput (batch x input_size) of the last backward that asked for it.
  const T* input_gradient() const {
    if (!input_gradient_) throw std::logic_error("typenet: call backward(true) to get the input gradient.");
    return input_gradient_;
  }

  void reserve(std::size_t rows) {
    reserve_forward(rows);
    if (rows <= gradient_capacity_) return;
    grad_a_ = Buffer<T>(rows * layout::gradient_width);
    grad_b_ = Buffer<T>(rows * layout::gradient_width);
    if (scratch_.size() == 0) scratch_ = Buffer<T>(scratch_count);
    gradient_capacity_ = rows;
  }

 private:
  static constexpr std::size_t scratch_count = [] {
    std::size_t n = 0;
    for_each_block<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      n = std::max(n, B::in * B::out);
    });
    return n;
  }();

  void reserve_forward(std::size_t rows) {
    if (rows <= capacity_) return;
    outputs_ = Buffer<T>(rows * layout::outputs_per_sample);
    if constexpr (layout::saved_per_sample > 0) saved_ = Buffer<T>(rows * layout::saved_per_sample);
    if constexpr (layout::stats_count > 0)
      if (stats_.size() == 0) stats_ = Buffer<T>(layout::stats_count);
    if constexpr (Net::softmax_head) probabilities_ = Buffer<T>(rows * output_size);
    capacity_ = rows;
  }

  template <std::size_t B>
  std::size_t output_offset() const {
    return layout::template output_offset<B>() * capacity_;
  }

  template <class B>
  BlockArgs<T> args(Mode mode) {
    BlockArgs<T> a;
    a.params = params_.data();
    a.state = state_.data();
    a.grads = grads_.data();
    if constexpr (B::index == 0) {
      a.x = input_;
      a.ldx = input_stride_;
    } else {
      a.x = outputs_.data() + output_offset<B::index - 1>();
      a.ldx = Net::template block<B::index - 1>::out;
    }
    a.y = outputs_.data() + output_offset<B::index>();
    if constexpr (B::keeps_preactivation || B::keeps_normalized)
      a.saved = saved_.data() + layout::template saved_offset<B::index>() * capacity_;
    if constexpr (B::has_batchnorm) {
      a.mean = stats_.data() + layout::template stats_offset<B::index>();
      a.inv_std = a.mean + B::out;
      a.sum_a = a.inv_std + B::out;
      a.sum_b = a.sum_a + B::out;
    }
    a.batch = batch_;
    a.statistics_batch = statistics_batch_;
    a.train = mode == Mode::train;
    a.dropout_key = dropout_key(dropout_seed_, step_used_, static_cast<std::uint32_t>(B::index));
    return a;
  }

  auto runner() {
    return [this](const auto& kernel) { executor_.run(kernel); };
  }
  auto reduction() {
    return [this](T* values, std::size_t n) {
      if (reducer_) reducer_->sum(values, n);
    };
  }

  void backward_blocks(bool input_gradient) {
    T* dy = grad_a_.data();
    T* other = grad_b_.data();
    for_each_block_reversed<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      const bool want_dx = B::index > 0 || input_gradient;
      block_backward<B, T>(args<B>(Mode::train), dy, want_dx ? other : nullptr, scratch_.data(), runner(),
                           reduction());
      std::swap(dy, other);
    });
    input_gradient_ = input_gradient ? dy : nullptr;
  }

  void check_input(const T* x, std::size_t rows, std::size_t stride, Mode mode) const {
    check_forward_input<Net>(x, rows, input_size, stride, mode);
    executor_.check_device_memory(x, "the input");
  }
  void check_backward() const { check_backward_ready(mode_, batch_); }

  Executor executor_;
  Buffer<T> params_, grads_, state_;
  Buffer<T> outputs_, saved_, stats_, grad_a_, grad_b_, probabilities_, scratch_;
  std::size_t capacity_ = 0, gradient_capacity_ = 0, batch_ = 0, statistics_batch_ = 0, input_stride_ = input_size;
  cpu::BatchStatisticsReducer<T>* reducer_ = nullptr;
  Mode mode_ = Mode::eval;
  const T* input_ = nullptr;
  const T* input_gradient_ = nullptr;
  std::uint64_t dropout_seed_ = 0, dropout_step_ = 0, step_used_ = 0;
};

// The reference executor: host memory, each kernel run one thread after
// another. For tests (it is as slow as that sounds).
struct HostExecutor {
  template <class U>
  struct Buffer {
    Buffer() = default;
    explicit Buffer(std::size_t n) : values(n) {}
    U* data() { return values.empty() ? nullptr : values.data(); }
    const U* data() const { return values.empty() ? nullptr : values.data(); }
    std::size_t size() const { return values.size(); }
    std::vector<U> values;
  };
  template <class Kernel>
  void run(const Kernel& kernel) const {
    const std::size_t n = kernel.threads();
    for (std::size_t t = 0; t < n; ++t) kernel(t);
  }
  // All memory is the host's here.
  void check_device_memory(const void*, const char*) const {}
  template <class U>
  void upload(U* dst, const U* src, std::size_t n) const {
    std::copy_n(src, n, dst);
  }
  template <class U>
  void download(U* dst, const U* src, std::size_t n) const {
    std::copy_n(src, n, dst);
  }
};

}  // namespace typenet::cuda
