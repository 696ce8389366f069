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

#include "typenet/config.hpp"

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

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// The losses of train/losses.hpp on an executor's memory: each returns the
/// batch's loss and writes dLoss/dOutput (dLoss/dLogits) into grad.
template <class T, class Executor>
class KernelLosses {
  template <class U>
  using Buffer = typename Executor::template Buffer<U>;

 public:
  /// Losses whose kernels the executor runs; it must outlive them.
  explicit KernelLosses(Executor& executor) : executor_(executor) {}

  /// An elementwise loss over rows x cols outputs and targets.
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

  /// Softmax cross-entropy from logits and labels in [0, cols): the mean
  /// over rows. A label outside is an error with the CPU's sentence.
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

/// An optimizer's state in an executor's memory and its step as one kernel
/// over the whole parameter buffer, everything from the optimizer's
/// declaration (optim/declaration.hpp): the buffers the options use, sized
/// and started as the CPU's prepare() does. The options, counters and flags
/// stay in the (host) optimizer object, whose begin_step() each step reads
/// and advances, and whose options may change between steps.
template <class Optimizer, class Executor>
class KernelOptimizerState {
  using Declaration = typename Optimizer::declaration;
  using T = typename Optimizer::value_type;
  static constexpr std::size_t buffers = Declaration::buffers.size();
  using Buffer = typename Executor::template Buffer<T>;

 public:
  /// An empty state for the executor (allocated when the optimizer's is taken or a step needs it).
  explicit KernelOptimizerState(Executor& executor) : executor_(executor) {}

  /// params -= the optimizer's step for grads (n values). The buffers in use
  /// are allocated, at their declared initial values, on the first step and
  /// whenever they do not fit n, which restarts the optimizer as on the CPU;
  /// buffers out of use are released.
  void step(Optimizer& optimizer, T* params, const T* grads, std::size_t n) {
    if (n == 0) return;
    if (!optim::state_fits<Declaration>(optimizer.options, [&](std::size_t k) { return state_[k].size(); }, n)) {
      std::array<Buffer, buffers> fresh;
      for (std::size_t k = 0; k < buffers; ++k) {
        if (!optim::uses_buffer<Declaration>(optimizer.options, k)) continue;
        fresh[k] = Buffer(n);
        const std::vector<T> initial(n, static_cast<T>(optim::initial_value<Declaration>(optimizer.options, k)));
        executor_.upload(fresh[k].data(), initial.data(), n);
      }
      state_ = std::move(fresh);
      optimizer.restart();
    }
    std::array<T*, buffers> state{};
    for (std::size_t k = 0; k < buffers; ++k) {
      if (!optim::uses_buffer<Declaration>(optimizer.options, k)) state_[k] = Buffer();
      state[k] = state_[k].size() == 0 ? nullptr : state_[k].data();
    }
    using Update = typename Optimizer::Update;
    using Scalars = typename Optimizer::Scalars;
    executor_.run(OptimizerUpdate<Update, Scalars, T, buffers>{params, state, grads, optimizer.begin_step(), n});
  }

  /// State buffer k, in the declaration's order (null when not allocated).
  const T* buffer(std::size_t k) const { return state_.at(k).size() == 0 ? nullptr : state_[k].data(); }
  /// The number of values of buffer k.
  std::size_t size(std::size_t k) const { return state_.at(k).size(); }

  /// The buffers into the host optimizer, which already keeps the options,
  /// counters and flags: a checkpoint saved with it resumes exactly, on
  /// either backend.
  void copy_to(Optimizer& optimizer) const {
    typename Optimizer::State host;
    host.counters = optimizer.state().counters;
    host.flags = optimizer.state().flags;
    for (std::size_t k = 0; k < buffers; ++k) {
      const std::size_t n = state_[k].size();
      if (n == 0) continue;
      host.buffers[k].resize(n);
      executor_.download(host.buffers[k].data(), state_[k].data(), n);
    }
    optimizer.restore(std::move(host));
  }
  /// The host optimizer's buffers (from a checkpoint) onto the executor, for
  /// n parameters; an optimizer without state for n leaves it to the first step.
  void copy_from(const Optimizer& optimizer, std::size_t n) {
    const auto& host = optimizer.state().buffers;
    if (!optim::state_fits<Declaration>(optimizer.options, [&](std::size_t k) { return host[k].size(); }, n)) return;
    for (std::size_t k = 0; k < buffers; ++k) {
      if (!optim::uses_buffer<Declaration>(optimizer.options, k)) {
        state_[k] = Buffer();
        continue;
      }
      state_[k] = Buffer(n);
      if (n > 0) executor_.upload(state_[k].data(), host[k].data(), n);
    }
  }

 private:
  Executor& executor_;
  std::array<Buffer, buffers> state_;
};

/// One training step at a time: forward in train mode, the loss with its
/// gradient written straight into the model's output-gradient buffer
/// (softmax cross-entropy from the logits, fused as on the CPU), backward,
/// and the optimizer's step. Returns the batch's loss.
template <class Net, class T, class Optimizer, class Executor>
class KernelTrainer {
 public:
  /// Takes over the optimizer's state when it has one for this network (a
  /// checkpoint's, or a CPU run's), so training resumes exactly.
  KernelTrainer(KernelModel<Net, T, Executor>& model, Optimizer& optimizer)
      : model_(model), optimizer_(optimizer), losses_(model.executor()), state_(model.executor()) {
    state_.copy_from(optimizer, Net::parameter_count);
  }

  /// One step on `rows` samples at x. The targets are what the loss reads:
  /// rows x output_size values for an elementwise loss, `rows` labels in
  /// [0, output_size) for softmax cross-entropy (from the logits, fused).
  /// `gradient_scale` multiplies dLoss/dOutput before backward (a
  /// data-parallel rank's share of the global batch, as loss_and_gradient on
  /// the CPU).
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

  /// Called with the gradient buffer after backward and before the update
  /// (a data-parallel trainer sums the gradients across ranks there).
  using BeforeUpdate = std::function<void(T* gradients, std::size_t count)>;
  /// Sets what runs just before each update, on the summed gradients (a data-parallel trainer sums them there).
  void set_before_update(BeforeUpdate f) { before_update_ = std::move(f); }

  /// The optimizer's state in the executor's memory.
  const KernelOptimizerState<Optimizer, Executor>& optimizer_state() const { return state_; }
  /// The optimizer's state into the host optimizer object (before saving a
  /// checkpoint with it, or continuing on the CPU).
  void copy_optimizer_state_to_host() const { state_.copy_to(optimizer_); }

 private:
  KernelModel<Net, T, Executor>& model_;
  Optimizer& optimizer_;
  KernelLosses<T, Executor> losses_;
  KernelOptimizerState<Optimizer, Executor> state_;
  BeforeUpdate before_update_;
};

}  // namespace typenet::cuda
