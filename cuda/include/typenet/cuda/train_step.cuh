// Training on the GPU, one step at a time: forward in train mode, the loss
// and its gradient written straight into the model's output-gradient buffer
// (softmax cross-entropy from the logits, fused as on the CPU), backward,
// and the optimizer's step over the whole parameter buffer as one kernel.
//
//   cuda::Model<Net> gpu(cpu);
//   Adam<> adam({.lr = 1e-3});
//   cuda::Trainer trainer(gpu, adam);
//   float loss = trainer.step(x, rows, labels, SoftmaxCrossEntropy{});  // device x, labels
//
// step() returns the batch's loss, so it waits for the stream each step.
#pragma once

#include <cstddef>
#include <cstdint>

#include "typenet/cuda/losses.cuh"
#include "typenet/cuda/model.cuh"
#include "typenet/cuda/optimizer_step.cuh"
#include "typenet/train/losses.hpp"

namespace typenet::cuda {

template <class Net, class T, class Optimizer>
class Trainer {
 public:
  // The optimizer's options and step count stay in `optimizer` (a CPU
  // object); its moments live on the device, in the trainer.
  Trainer(Model<Net, T>& model, Optimizer& optimizer) : model_(model), optimizer_(optimizer) {}

  // An elementwise loss; `target` is rows x output_size on the device.
  template <class E, Reduction R>
  T step(const T* x, std::size_t rows, const T* target, const ElementwiseLoss<E, R>& loss) {
    model_.forward(x, rows, Mode::train);
    const T value = cuda::loss(loss, model_.output(), target, model_.output_gradient_buffer(),
                               rows * Net::output_size, workspace_, stream());
    model_.backward();
    update();
    return value;
  }

  // Softmax cross-entropy; `labels` (rows, on the device) in [0, output_size).
  T step(const T* x, std::size_t rows, const std::int32_t* labels, const SoftmaxCrossEntropy& loss) {
    model_.forward(x, rows, Mode::train);
    const T value = cuda::loss(loss, model_.logits(), labels, model_.output_gradient_buffer(), rows,
                               Net::output_size, workspace_, stream());
    model_.backward_from_logits();
    update();
    return value;
  }

  const OptimizerState<Optimizer>& optimizer_state() const { return state_; }

 private:
  cudaStream_t stream() { return model_.executor().stream(); }
  void update() { state_.step(optimizer_, model_.parameters(), model_.gradients(), Net::parameter_count, stream()); }

  Model<Net, T>& model_;
  Optimizer& optimizer_;
  OptimizerState<Optimizer> state_;
  LossWorkspace workspace_;
};

template <class Net, class T, class Optimizer>
Trainer(KernelModel<Net, T, CudaExecutor>&, Optimizer&) -> Trainer<Net, T, Optimizer>;

}  // namespace typenet::cuda
