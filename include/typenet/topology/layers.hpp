// The layers a network type is written with. They carry only compile-time
// facts (widths, probabilities, constants); parameters live in the Model.
#pragma once

#include <cstddef>
#include <string>

namespace typenet {

enum class LayerKind { input, linear, batchnorm, dropout, activation, softmax };

// Formats a float template argument for topology signatures ("0.2").
inline std::string format_constant(double v) {
  std::string s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// The network's input: N features per sample.
template <std::size_t N>
struct Input {
  static constexpr LayerKind kind = LayerKind::input;
  static constexpr std::size_t width = N;
  static std::string name() { return "Input<" + std::to_string(N) + ">"; }
};

// y = x W + b, W of shape in x Out. With Bias = false (or when BatchNorm
// follows, which cancels any bias) there is no b.
template <std::size_t Out, bool Bias = true>
struct Linear {
  static constexpr LayerKind kind = LayerKind::linear;
  static constexpr std::size_t width = Out;
  static constexpr bool bias = Bias;
  static std::string name() { return "Linear<" + std::to_string(Out) + (Bias ? "" : ",false") + ">"; }
};

// Batch normalisation over the batch dimension, PyTorch's semantics: biased
// variance to normalise, unbiased variance in the running estimate,
// running = (1 - momentum) running + momentum batch; learnable gamma, beta.
template <float Eps = 1e-5f, float Momentum = 0.1f>
struct BatchNorm {
  static_assert(Eps > 0.0f, "typenet: BatchNorm epsilon must be positive.");
  static_assert(Momentum >= 0.0f && Momentum <= 1.0f, "typenet: BatchNorm momentum must be in [0, 1].");
  static constexpr LayerKind kind = LayerKind::batchnorm;
  static constexpr float eps = Eps;
  static constexpr float momentum = Momentum;
  static std::string name() {
    if (Eps == 1e-5f && Momentum == 0.1f) return "BatchNorm";
    return "BatchNorm<" + format_constant(Eps) + "," + format_constant(Momentum) + ">";
  }
};

// Inverted dropout: in training each value is zeroed with probability P and
// the survivors scaled by 1/(1-P); in evaluation it is the identity.
template <float P>
struct Dropout {
  static constexpr LayerKind kind = LayerKind::dropout;
  static constexpr float probability = P;
  static std::string name() { return "Dropout<" + format_constant(P) + ">"; }
};

// Softmax over each sample's outputs; only as the last layer. Evaluation
// returns probabilities; training with softmax_cross_entropy reads the
// logits before it (fused and numerically stable).
struct Softmax {
  static constexpr LayerKind kind = LayerKind::softmax;
  static std::string name() { return "Softmax"; }
};

}  // namespace typenet
