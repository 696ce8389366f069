// Training over an executor (see cuda/kernel_model.hpp): the losses, the
// optimizer's state and step, and a trainer that runs a whole training step.
// cuda/model.cuh names them over the CUDA executor (cuda::Losses,
// cuda::OptimizerState, cuda::Trainer); over HostExecutor the CPU-only tests
// train with the very same code.
//
//   cuda::Model<Net> gpu(cpu);
//   Adam<> adam({.lr = 1e-3});
//   cuda::Trainer<Net, float, Adam<>> trainer(gpu, adam);
//   float loss = trainer.step(x, rows, labels, SoftmaxCrossEntropy{});  // device x and labels
//
// Every value is read back on the host once per loss (it waits for the
// executor). Buffers grow with the largest batch and are then reused.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "typenet/cuda/kernel_model.hpp"
#include "typenet/cuda/training_kernels.hpp"
#include "typenet/train/losses.hpp"
#include "typenet/train/optimizers.hpp"

namespace typenet::cuda {

// The losses of train/losses.hpp on an executor's memory: each returns the
// batch's loss and writes dLoss/dOutput (dLoss/dLogits) into grad.
template <class T, class Executor>
class KernelLosses {
  template <class U>
  using Buffer = typename Executor::template Buffer<U>;

 public:
  explicit KernelLosses(Executor& executor) : executor_(executor) {}

  // An elementwise loss over rows x cols outputs and targets.
  template <class E, Reduction R>
  T operator()(const ElementwiseLoss<E, R>&, const T* out, const T* target, T* grad, std::size_t rows,
               std::size_t cols) {
    check_batch(rows, cols);
    using Gradient = expression_type<decltype(ElementwiseLoss<E, R>::gradient_expression)>;
    const double n = static_cast<double>(rows * cols);
    const T scale = R == Reduction::mean ? T(1) / static_cast<T>(rows * cols) : T(1);
    executor_.run(ElementwiseLossRows<T, E, Gradient>{out, target, grad, row_value_.data(), scale, rows, cols});
    const LossResult r = sum(rows, false);
    return static_cast<T>(R == Reduction::mean ? r.total / n : r.total);
  }

  // Softmax cross-entropy from logits and labels in [0, cols): the mean
  // over rows. A label outside is an error with the CPU's sentence.
  T operator()(const SoftmaxCrossEntropy&, const T* logits, const std::int32_t* labels, T* grad, std::size_t rows,
               std::size_t cols) {
    check_batch(rows, cols);
    executor_.run(
        SoftmaxCrossEntropyRows<T>{logits, labels, grad, row_value_.data(), row_bad_.data(), rows, cols});
    const LossResult r = sum(rows, true);
    if (r.bad_row != ~std::uint64_t{0}) {
      std::int32_t label = 0;
      executor_.download(&label, labels + r.bad_row, 1);
      throw std::invalid_argument("typenet: softmax cross-entropy: label " + std::to_string(label) + " of sample " +
                                  std::to_string(r.bad_row) + " is outside [0, " + std::to_string(cols) +
                                  "), the network's output width.");
    }
    return static_cast<T>(r.total / static_cast<double>(rows));
  }

 private:
  void check_batch(std::size_t rows, std::size_t cols) {
    if (rows == 0 || cols == 0) throw std::invalid_argument("typenet: a loss of an empty batch (0 outputs).");
    if (rows <= capacity_) return;
    const std::size_t chunks = (rows + loss_rows_per_chunk - 1) / loss_rows_per_chunk;
    row_value_ = Buffer<double>(rows);
    row_bad_ = Buffer<std::int32_t>(rows);
    chunk_value_ = Buffer<double>(chunks);
    chunk_bad_ = Buffer<std::uint64_t>(chunks);
    capacity_ = rows;
  }
  LossResult sum(std::size_t rows, bool labels) {
    const SumInChunks chunks{row_value_.data(), labels ? row_bad_.data() : nullptr, chunk_value_.data(),
                             chunk_bad_.data(), rows};
    executor_.run(chunks);
    executor_.run(FinishSum{chunk_value_.data(), chunk_bad_.data(), result_.data(), chunks.threads()});
    LossResult r;
    executor_.download(&r, result_.data(), 1);
    return r;
  }

  Executor& executor_;
  Buffer<double> row_value_, chunk_value_;
  Buffer<std::int32_t> row_bad_;
  Buffer<std::uint64_t> chunk_bad_;
  Buffer<LossResult> result_{1};
  std::size_t capacity_ = 0;
};

namespace optimizer_detail {
// The scalar type of an optimizer and how many state buffers it keeps.
template <class O>
struct traits;
template <class T>
struct traits<SGD<T>> {
  using value_type = T;
  static constexpr int buffers = 1;  // momentum (unused without momentum)
};
template <class T, bool Decoupled>
struct traits<BasicAdam<T, Decoupled>> {
  using value_type = T;
  static constexpr int buffers = 2;  // first and second moments
};
}  // namespace optimizer_detail

// An optimizer's state in an executor's memory and its step as one kernel
// over the whole parameter buffer. The options and step count stay in the
// (host) optimizer object, which may change between steps.
template <class Optimizer, class Executor>
class KernelOptimizerState {
  using T = typename optimizer_detail::traits<Optimizer>::value_type;
  static constexpr int buffers = optimizer_detail::traits<Optimizer>::buffers;

 public:
  explicit KernelOptimizerState(Executor& executor) : executor_(executor) {}

  // params -= the optimizer's step for grads (n values). The state is
  // allocated, zeroed, on the first step and whenever n changes, which
  // restarts the optimizer as on the CPU.
  void step(Optimizer& optimizer, T* params, const T* grads, std::size_t n) {
    if (n == 0) return;
    if (state_[0].size() != n) {
      const std::vector<T> zeros(n, T(0));
      for (auto& b : state_) {
        b = typename Executor::template Buffer<T>(n);
        executor_.upload(b.data(), zeros.data(), n);
      }
      optimizer.restart();
      stepped_ = false;
    }
    std::array<T*, buffers> state;
    for (int k = 0; k < buffers; ++k) state[k] = state_[static_cast<std::size_t>(k)].data();
    using Update = typename Optimizer::Update;
    using Scalars = typename Optimizer::Scalars;
    executor_.run(OptimizerUpdate<Update, Scalars, T, buffers>{params, state, grads, optimizer.begin_step(), n});
    stepped_ = true;
  }

  // State buffer k (SGD: the momentum; Adam: the first and second moments).
  const T* buffer(int k) const { return state_.at(static_cast<std::size_t>(k)).data(); }
  std::size_t size() const { return state_[0].size(); }

  // The state into the host optimizer, which already keeps the options and
  // the step count: a checkpoint saved with it resumes exactly, on either
  // backend.
  void copy_to(Optimizer& optimizer) const {
    const std::size_t n = size();
    std::array<std::vector<T>, buffers> host;
    for (int k = 0; k < buffers; ++k) {
      host[k].resize(n);
      if (n > 0) executor_.download(host[k].data(), buffer(k), n);
    }
    if constexpr (buffers == 1) {  // SGD: the momentum, when it keeps one
      if (optimizer.options.momentum == 0) optimizer.restore({}, false);
      else optimizer.restore(host[0], stepped_);
    } else {  // Adam: both moments
      optimizer.restore(host[0], host[1], optimizer.steps());
    }
  }
  // The host optimizer's state (from a checkpoint) onto the executor, for
  // n parameters; an optimizer without state for n leaves it to the first step.
  void copy_from(const Optimizer& optimizer, std::size_t n) {
    std::array<std::span<const T>, buffers> host;
    if constexpr (buffers == 1) host = {optimizer.momentum_buffer()};
    else host = {optimizer.first_moment(), optimizer.second_moment()};
    if (host[0].size() != n) return;
    for (int k = 0; k < buffers; ++k) {
      state_[static_cast<std::size_t>(k)] = typename Executor::template Buffer<T>(n);
      executor_.upload(state_[static_cast<std::size_t>(k)].data(), host[k].data(), n);
    }
    if constexpr (buffers == 1) stepped_ = optimizer.started();
  }

 private:
  Executor& executor_;
  std::array<typename Executor::template Buffer<T>, buffers> state_;
  bool stepped_ = false;  // a step since the state was (re)allocated: SGD's momentum has started
};

// One training step at a time: forward in train mode, the loss with its
// gradient written straight into the model's output-gradient buffer
// (softmax cross-entropy from the logits, fused as on the CPU), backward,
// and the optimizer's step. Returns the batch's loss.
template <class Net, class T, class Optimizer, class Executor>
class KernelTrainer {
 public:
  // Takes over the optimizer's state when it has one for this network (a
  // checkpoint's, or a CPU run's), so training resumes exactly.
  KernelTrainer(KernelModel<Net, T, Executor>& model, Optimizer& optimizer)
      : model_(model), optimizer_(optimizer), losses_(model.executor()), state_(model.executor()) {
    state_.copy_from(optimizer, Net::parameter_count);
  }

  // One step on `rows` samples at x. The targets are what the loss reads:
  // rows x output_size values for an elementwise loss, `rows` labels in
  // [0, output_size) for softmax cross-entropy (from the logits, fused).
  // `gradient_scale` multiplies dLoss/dOutput before backward (a
  // data-parallel rank's share of the global batch, as loss_and_gradient on
  // the CPU).
  template <class Loss, class Target>
  T step(const T* x, std::size_t rows, const Target* targets, const Loss& loss, T gradient_scale = T(1)) {
    model_.executor().check_device_memory(targets, Loss::takes_logits ? "the labels" : "the targets");
    model_.forward(x, rows, Mode::train);
    const T* out = Loss::takes_logits ? model_.logits() : model_.output();
    const T value = losses_(loss, out, targets, model_.output_gradient_buffer(), rows, Net::output_size);
    if (gradient_scale != T(1))
      model_.executor().run(ScaleValues<T>{model_.output_gradient_buffer(), gradient_scale, rows * Net::output_size});
    if constexpr (Loss::takes_logits) model_.backward_from_logits();
    else model_.backward();
    if (before_update_) before_update_(model_.gradients(), Net::parameter_count);
    state_.step(optimizer_, model_.parameters(), model_.gradients(), Net::parameter_count);
    return value;
  }

  // Called with the gradient buffer after backward and before the update
  // (a data-parallel trainer sums the gradients across ranks there).
  using BeforeUpdate = std::function<void(T* gradients, std::size_t count)>;
  void set_before_update(BeforeUpdate f) { before_update_ = std::move(f); }

  const KernelOptimizerState<Optimizer, Executor>& optimizer_state() const { return state_; }
  // The optimizer's state into the host optimizer object (before saving a
  // checkpoint with it, or continuing on the CPU).
  void copy_optimizer_state_to_host() const { state_.copy_to(optimizer_); }

 private:
  KernelModel<Net, T, Executor>& model_;
  Optimizer& optimizer_;
  KernelLosses<T, Executor> losses_;
  KernelOptimizerState<Optimizer, Executor> state_;
  BeforeUpdate before_update_;
};

}  // namespace typenet::cuda
