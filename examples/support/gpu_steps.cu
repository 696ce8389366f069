// The definitions of examples::gpu::Steps (support/gpu_steps.hpp), compiled
// by nvcc and instantiated for the examples' networks (support/networks.hpp).
#include <cuda_runtime.h>

#include <algorithm>
#include <vector>

#include "support/gpu_steps.hpp"
#include "support/networks.hpp"
#include "typenet/cuda/device_buffer.cuh"
#include "typenet/cuda/error.cuh"
#include "typenet/cuda/model.cuh"

namespace examples::gpu {

std::string no_gpu_reason() {
  const std::string why = typenet::cuda::no_device_reason();
  return why.empty() ? why : "no usable GPU (" + why + ")";
}

// The rows of a host matrix view into dense device memory: one copy when
// the view is dense (the loaders' batches are), else one per row.
inline void upload_rows(typenet::cuda::CudaExecutor& executor, float* device, typenet::MatrixView<const float> m) {
  if (m.stride == m.cols) return executor.upload(device, m.data, m.rows * m.cols);
  for (std::size_t i = 0; i < m.rows; ++i) executor.upload(device + i * m.cols, m.row(i), m.cols);
}

template <class Net, class Loss, class Optimizer>
struct Steps<Net, Loss, Optimizer>::State {
  using Target = std::conditional_t<Loss::takes_logits, std::int32_t, float>;

  State(const typenet::Model<Net>& initial, Optimizer& optimizer) : model(initial), trainer(model, optimizer) {}
  // Room for a batch of `rows`, allocated when a larger batch than any
  // before arrives (once, in an epoch of equal batches).
  void reserve(std::size_t rows) {
    if (rows <= capacity) return;
    x = typenet::cuda::DeviceBuffer<float>(rows * Net::input_size);
    targets = typenet::cuda::DeviceBuffer<Target>(rows * (Loss::takes_logits ? 1 : Net::output_size));
    capacity = rows;
  }

  typenet::cuda::Model<Net> model;
  typenet::cuda::Trainer<Net, float, Optimizer> trainer;
  typenet::cuda::DeviceBuffer<float> x;
  typenet::cuda::DeviceBuffer<Target> targets;
  std::size_t capacity = 0;
  std::vector<float> output;
  std::size_t rows = 0;
};

template <class Net, class Loss, class Optimizer>
Steps<Net, Loss, Optimizer>::Steps(const typenet::Model<Net>& initial, Optimizer& optimizer) {
  require_gpu();
  state_ = std::make_unique<State>(initial, optimizer);
}

template <class Net, class Loss, class Optimizer>
Steps<Net, Loss, Optimizer>::~Steps() = default;

template <class Net, class Loss, class Optimizer>
float Steps<Net, Loss, Optimizer>::step(typenet::MatrixView<const float> x, Targets targets) {
  State& s = *state_;
  const std::size_t rows = x.rows;
  s.reserve(rows);
  auto& executor = s.model.executor();
  upload_rows(executor, s.x.data(), x);
  float loss = 0;
  if constexpr (Loss::takes_logits) {
    if (targets.size() != rows)
      throw std::invalid_argument("--device cuda: " + std::to_string(targets.size()) + " labels for " +
                                  std::to_string(rows) + " samples");
    executor.upload(s.targets.data(), targets.data(), rows);
    loss = s.trainer.step(s.x.data(), rows, s.targets.data(), Loss{});
  } else {
    if (targets.rows != rows || targets.cols != Net::output_size)
      throw std::invalid_argument("--device cuda: the targets' shape does not match the batch's output");
    upload_rows(executor, s.targets.data(), targets);
    loss = s.trainer.step(s.x.data(), rows, s.targets.data(), Loss{});
  }
  // The output of this step's forward (before the update), as the CPU's
  // model.output() after train_step.
  s.output.resize(rows * Net::output_size);
  executor.download(s.output.data(), s.model.output(), rows * Net::output_size);
  s.rows = rows;
  return loss;
}

template <class Net, class Loss, class Optimizer>
typenet::MatrixView<const float> Steps<Net, Loss, Optimizer>::output() const {
  return {state_->output.data(), state_->rows, Net::output_size};
}

template <class Net, class Loss, class Optimizer>
void Steps<Net, Loss, Optimizer>::copy_to(typenet::Model<Net>& model) const {
  state_->model.copy_to(model);
  state_->trainer.copy_optimizer_state_to_host();
}

template class Steps<moons::Net, typenet::Hinge, typenet::SGD<>>;
template class Steps<regression::Net, typenet::SumSquaredError, typenet::SGD<>>;
template class Steps<circles::Net, typenet::BinaryCrossEntropy, typenet::SGD<>>;
template class Steps<mnist_deep::Net, typenet::SoftmaxCrossEntropy, typenet::SGD<>>;
template class Steps<mnist_mlp::Plain, typenet::SoftmaxCrossEntropy, typenet::Adam<>>;
template class Steps<mnist_mlp::WithDropout, typenet::SoftmaxCrossEntropy, typenet::Adam<>>;
template class Steps<mnist_mlp::WithBatchNorm, typenet::SoftmaxCrossEntropy, typenet::Adam<>>;

}  // namespace examples::gpu
