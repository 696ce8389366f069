// KernelModel<Net, T, Executor>: a network's parameters, gradients and
// workspaces in an executor's memory, and its forward and backward passes as
// the block kernels of cuda/block_kernels.hpp: the model core
// (model/model_core.hpp) over the kernel backend below.
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
// The buffers have the CPU Model's layout (the core's), so parameters, state
// and checkpoints move between the two with copy_from and copy_to.
#pragma once

#include "typenet/config.hpp"

// First: the topology's sentences are then reported with the shortest chain
// of includes (see topology/topology_rules.inc).
#include "typenet/topology/sequential.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "typenet/base/mode.hpp"
#include "typenet/cpu/batch_reducer.hpp"
#include "typenet/cuda/block_kernels.hpp"
#include "typenet/model/init.hpp"
#include "typenet/model/model_core.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {
template <class Net, class T>
class Model;  // the CPU model, which copy_from and copy_to read and write
}

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// The model core's backend over an executor: every block's kernels in
/// order (block_forward, block_backward), BatchNorm's sums reduced between
/// them with synchronised BatchNorm.
template <class T, class Executor>
struct KernelBackend {
  /// The executor's buffer of U values.
  template <class U>
  using Buffer = typename Executor::template Buffer<U>;

  Executor executor;  ///< runs the kernels and owns the memory

  /// TransposeWeights writes W^T whole.
  template <class Net>
  static constexpr std::size_t scratch_count() {
    std::size_t n = 0;
    for_each_block<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      n = std::max(n, B::in * B::out);
    });
    return n;
  }

  /// Runs block Block's forward kernels (the reducer: synchronised BatchNorm's sums).
  template <class B>
  void forward(const BlockBuffers<T>& a, const BlockStep& step, cpu::BatchStatisticsReducer<T>* reducer) {
    block_forward<B, T>(a, step, runner(), reduction(reducer));
  }
  /// The kernels store each gradient in a.grads: no sink.
  template <class B, class Sink>
  void backward(const BlockBuffers<T>& a, T* dy, T* dx, const BlockStep& step,
                cpu::BatchStatisticsReducer<T>* reducer, const Sink&) {
    block_backward<B, T>(a, step, dy, dx, a.scratch, runner(), reduction(reducer));
  }
  /// The softmax of each row of logits into p.
  void softmax(const T* logits, T* p, std::size_t rows, std::size_t cols) {
    executor.run(SoftmaxRows<T>{logits, p, rows, cols});
  }
  /// The gradient through the softmax, row by row, in place in g.
  void softmax_backward(const T* p, T* g, std::size_t rows, std::size_t cols) {
    executor.run(SoftmaxBackwardRows<T>{p, g, rows, cols});
  }
  /// Copies n values from the host into the executor's memory.
  void upload(T* dst, const T* src, std::size_t n) const { executor.upload(dst, src, n); }
  /// Copies n values from the executor's memory to the host.
  void download(T* dst, const T* src, std::size_t n) const { executor.download(dst, src, n); }
  /// Throws, naming `what`, unless p is in the executor's memory.
  void check_device_memory(const void* p, const char* what) const { executor.check_device_memory(p, what); }

 private:
  auto runner() {
    return [this](const auto& kernel) { executor.run(kernel); };
  }
  static auto reduction(cpu::BatchStatisticsReducer<T>* reducer) {
    return [reducer](T* values, std::size_t n) {
      if (reducer) reducer->sum(values, n);
    };
  }
};

/// Kernels store gradients themselves; the core's sink argument is unused.
struct KernelStoresGradients {};

/// The network's model with its kernels run by Executor: on a GPU (cuda::Model, CudaExecutor) or one thread after another on the host (HostExecutor, the tests).
template <class Net, class T, class Executor>
class KernelModel : public ModelCore<checked_network_t<Net>, T, KernelBackend<T, Executor>> {
  static constexpr TopologyError topology_error = topology_error_of<Net>;
#include "typenet/topology/topology_rules.inc"
  using Checked = checked_network_t<Net>;
  using Core = ModelCore<Checked, T, KernelBackend<T, Executor>>;

 public:
  using Core::input_size;
  using Core::output_size;
  using Core::parameter_count;
  using Core::state_count;

  /// The values a CPU model initialised with (init, seed) would have: both
  /// backends start from the same numbers.
  explicit KernelModel(Init init = Init::torch_default, std::uint64_t seed = 0, Executor executor = Executor())
      : Core(KernelBackend<T, Executor>{std::move(executor)}) {
    this->initialize(init, seed);
  }
  /// A copy of a CPU model: its parameters and state uploaded.
  explicit KernelModel(const typenet::Model<Net, T>& cpu, Executor executor = Executor())
      : Core(KernelBackend<T, Executor>{std::move(executor)}) {
    copy_from(cpu);
  }

  /// Parameters, BatchNorm statistics and the dropout stream, from and to a
  /// CPU model (which reads and writes checkpoints).
  void copy_from(const typenet::Model<Net, T>& cpu) {
    this->backend_.upload(this->params_.data(), cpu.parameters().data(), parameter_count);
    if constexpr (state_count > 0) this->backend_.upload(this->state_.data(), cpu.state().data(), state_count);
    this->set_dropout_seed(cpu.dropout_seed());
    this->set_dropout_step(cpu.dropout_step());
  }
  /// Copies the parameters and state back into a CPU model.
  void copy_to(typenet::Model<Net, T>& cpu) const {
    this->backend_.download(cpu.parameters().data(), this->params_.data(), parameter_count);
    if constexpr (state_count > 0) this->backend_.download(cpu.state().data(), this->state_.data(), state_count);
    cpu.set_dropout_seed(this->dropout_seed());
    cpu.set_dropout_step(this->dropout_step());
  }

  /// The buffers, in the executor's memory (device pointers for cuda::Model).
  T* parameters() { return this->params_.data(); }
  /// The parameters, in the executor's memory.
  const T* parameters() const { return this->params_.data(); }
  /// The gradients of the last backward, in the executor's memory.
  T* gradients() { return this->grads_.data(); }
  /// The gradients of the last backward, in the executor's memory.
  const T* gradients() const { return this->grads_.data(); }
  /// The state (BatchNorm's running statistics), in the executor's memory.
  T* state() { return this->state_.data(); }
  /// The executor that runs the kernels.
  Executor& executor() { return this->backend_.executor; }

  /// Runs the network on `rows` samples at x (executor memory, row stride
  /// `stride`, input_size features each). Returns the output (probabilities
  /// with a Softmax head), valid until the next forward.
  const T* forward(const T* x, std::size_t rows, Mode mode = Mode::eval, std::size_t stride = input_size) {
    return this->run_forward(x, rows, input_size, stride, mode);
  }

  /// The last block's output before any Softmax head (batch x output_size).
  const T* logits() const { return this->logits_data(); }
  /// The network output of the last forward, in the executor's memory.
  const T* output() const { return this->output_values(); }

  /// Where a loss writes dLoss/dOutput (or dLoss/dLogits for
  /// backward_from_logits): batch x output_size.
  T* output_gradient_buffer() { return this->output_gradient(); }

  /// After a train-mode forward: dLoss/dParameters into gradients()
  /// (overwritten), from dLoss/dOutput in output_gradient_buffer().
  void backward(bool input_gradient = false) { this->run_backward(input_gradient, false, KernelStoresGradients{}); }
  /// The same from dLoss/dLogits (the fused softmax cross-entropy).
  void backward_from_logits(bool input_gradient = false) {
    this->run_backward(input_gradient, true, KernelStoresGradients{});
  }
  /// dLoss/dInput (batch x input_size) of the last backward that asked for it.
  const T* input_gradient() const {
    if (!this->input_gradient_data()) throw std::logic_error("typenet: call backward(true) to get the input gradient.");
    return this->input_gradient_data();
  }
};

/// The reference executor: host memory, each kernel run one thread after
/// another. For tests (it is as slow as that sounds).
struct HostExecutor {
  /// U values in host memory.
  template <class U>
  struct Buffer {
    Buffer() = default;
    /// n values, zero.
    explicit Buffer(std::size_t n) : values(n) {}
    /// The values (nullptr when empty).
    U* data() { return values.empty() ? nullptr : values.data(); }
    /// The values (nullptr when empty).
    const U* data() const { return values.empty() ? nullptr : values.data(); }
    /// The number of values.
    std::size_t size() const { return values.size(); }
    std::vector<U> values;  ///< the values
  };
  /// Runs the kernel's threads one after another.
  template <class Kernel>
  void run(const Kernel& kernel) const {
    const std::size_t n = kernel.threads();
    for (std::size_t t = 0; t < n; ++t) kernel(t);
  }
  /// All memory is the host's here.
  void check_device_memory(const void*, const char*) const {}
  /// Copies n values (host to host).
  template <class U>
  void upload(U* dst, const U* src, std::size_t n) const {
    std::copy_n(src, n, dst);
  }
  /// Copies n values (host to host).
  template <class U>
  void download(U* dst, const U* src, std::size_t n) const {
    std::copy_n(src, n, dst);
  }
};

}  // namespace typenet::cuda
