// The examples' training steps on the device --device names: on the CPU,
// typenet::train_step on the model; with --device cuda, on the GPU
// (support/gpu_steps.hpp), the model receiving the trained parameters at
// finish(). The loop around it is the same for both.
#pragma once

#include <cmath>
#include <memory>
#include <span>
#include <string>

#include "support/gpu_steps.hpp"
#include "typenet/train/numerics.hpp"
#include "typenet/train/train_step.hpp"

namespace examples {

template <class Net, class Loss, class Optimizer>
class TrainingSteps {
 public:
  using Targets = typename gpu::Steps<Net, Loss, Optimizer>::Targets;

  TrainingSteps(const std::string& device, typenet::Model<Net>& model, Optimizer& optimizer)
      : model_(model), optimizer_(optimizer) {
    if (device == "cuda") {
      gpu::require_gpu();
      // (Without the CUDA build nothing here names Steps' members, which
      // exist only then: the branches that would are discarded.)
      if constexpr (gpu::built) gpu_ = Owned(new Gpu(model, optimizer), [](Gpu* p) { delete p; });
    }
  }

  // One step on the batch; returns its loss.
  float step(typenet::MatrixView<const float> x, Targets targets) {
    if constexpr (gpu::built)
      if (gpu_) {
        model_current_ = false;
        return gpu_->step(x, targets);
      }
    return typenet::train_step(model_, x, targets, Loss{}, optimizer_);
  }
  // Stops training when `loss` is not finite, or (every `scan_every`
  // steps) a parameter is not, saying where (typenet::check_finite; from the
  // GPU, the parameters are fetched first).
  void check_finite(std::size_t step_number, float loss, std::size_t scan_every = 0) {
    const bool scan = scan_every != 0 && step_number % scan_every == 0;
    if (!std::isfinite(loss) || scan) fetch();
    typenet::check_finite(model_, step_number, loss, scan_every);
  }
  // The current parameters (fetched from the GPU with --device cuda).
  std::span<const float> parameters() {
    fetch();
    return model_.parameters();
  }
  // The last batch's output.
  typenet::MatrixView<const float> output() const {
    if constexpr (gpu::built)
      if (gpu_) return gpu_->output();
    return model_.output();
  }
  // Brings the trained parameters (and the optimizer's state) to the model
  // and the optimizer: evaluation and checkpoints run there.
  void sync_model() { fetch(); }

 private:
  using Gpu = gpu::Steps<Net, Loss, Optimizer>;
  using Owned = std::unique_ptr<Gpu, void (*)(Gpu*)>;

  // The GPU's parameters into the model, once per step however often asked
  // (nothing on the CPU).
  void fetch() {
    if constexpr (gpu::built)
      if (gpu_ && !model_current_) {
        gpu_->copy_to(model_);
        model_current_ = true;
      }
  }

  typenet::Model<Net>& model_;
  Optimizer& optimizer_;
  Owned gpu_{nullptr, nullptr};
  bool model_current_ = true;  // the model holds the GPU's latest parameters
};

}  // namespace examples
