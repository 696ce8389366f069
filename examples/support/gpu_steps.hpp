// --device cuda for the examples: training steps on the GPU behind a class
// the host compiler can see. The CUDA backend's headers need nvcc, so the
// definitions live in gpu_steps.cu, instantiated there for the examples'
// networks (a build with nvcc compiles it and defines TYPENET_EXAMPLES_CUDA).
//
// Each step uploads the CPU-made batch (the same loader, the same order as
// on the CPU), trains on it on the GPU and downloads the batch's output, so
// the example's bookkeeping (accuracy, curves) is unchanged; evaluation runs
// on the CPU model after copy_to().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "typenet/model/model.hpp"
#include "typenet/train/losses.hpp"

namespace examples::gpu {

template <class Net, class Loss, class Optimizer>
class Steps {
 public:
  using Targets = std::conditional_t<Loss::takes_logits, std::span<const std::int32_t>,
                                     typenet::MatrixView<const float>>;

  // The GPU model starts from `initial`'s parameters; `optimizer` keeps its
  // options and step count on the host (an example may change its learning
  // rate between steps), its moments live on the GPU.
  Steps(const typenet::Model<Net>& initial, Optimizer& optimizer);
  ~Steps();
  Steps(const Steps&) = delete;
  Steps& operator=(const Steps&) = delete;

  // One training step on this batch; returns its loss.
  float step(typenet::MatrixView<const float> x, Targets targets);
  // The batch's output in that step (probabilities with a Softmax head).
  typenet::MatrixView<const float> output() const;
  // Parameters, BatchNorm statistics and the dropout stream into `model`,
  // and the optimizer's state (moments) into the optimizer given at
  // construction: a checkpoint saved from the two resumes exactly.
  void copy_to(typenet::Model<Net>& model) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Whether this build compiled gpu_steps.cu (Steps' members exist only then).
#ifdef TYPENET_EXAMPLES_CUDA
inline constexpr bool built = true;
#else
inline constexpr bool built = false;
#endif

// Why --device cuda cannot run here, "" when it can.
#ifdef TYPENET_EXAMPLES_CUDA
std::string no_gpu_reason();  // in gpu_steps.cu: no usable device, and why
#else
inline std::string no_gpu_reason() {
  return "this build has no CUDA backend (meson found no nvcc); install the CUDA toolkit, put nvcc on PATH and run "
         "meson setup --reconfigure build";
}
#endif

// Stops with that reason, before anything is loaded or trained.
inline void require_gpu() {
  if (const std::string why = no_gpu_reason(); !why.empty()) throw std::runtime_error("--device cuda: " + why);
}

}  // namespace examples::gpu
