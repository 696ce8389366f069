// One training step: forward in train mode, the loss and its gradient,
// backward, optimizer update. Losses that read logits (softmax cross-entropy)
// are fused: their gradient with respect to the logits goes straight into
// backward, past any Softmax head.
#pragma once

#include "typenet/config.hpp"

#include <span>

#include "typenet/model/model.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// Forward (train mode), loss and backward; returns the loss. The gradients
/// are in model.gradients() afterwards.
///
/// `gradient_scale` multiplies dLoss/dOutput before backward. Data-parallel
/// training passes this process's share of the global batch (its rows / all
/// rows), which turns the mean over its own rows into its part of the mean
/// over the global batch, row by row, before synchronised BatchNorm's
/// backward sums anything across processes; scaling the parameter gradients
/// afterwards instead would be wrong there whenever the shares differ.
template <class Net, class T, class Loss, class Target>
T loss_and_gradient(Model<Net, T>& model, std::type_identity_t<MatrixView<const T>> x, const Target& target,
                    const Loss& loss, std::type_identity_t<T> gradient_scale = T(1)) {
  model.forward(x, Mode::train);
  const MatrixView<T> d_output = model.output_gradient_buffer();
  const T value = Loss::takes_logits ? loss(model.logits(), target, d_output) : loss(model.output(), target, d_output);
  if (gradient_scale != T(1))
    for (std::size_t i = 0; i < d_output.rows; ++i)
      for (std::size_t j = 0; j < d_output.cols; ++j) d_output(i, j) *= gradient_scale;
  if constexpr (Loss::takes_logits) model.backward_from_logits();
  else model.backward(d_output);
  return value;
}

/// An optimizer whose per-parameter update backward can apply directly.
template <class Optimizer, class T>
concept FusableOptimizer = requires(Optimizer& o, std::span<T> p) { o.prepare(p); };

/// Forward, loss, backward and update. With a fusable optimizer (SGD, Adam,
/// AdamW) each parameter is updated as soon as its gradient is computed,
/// bitwise as optimizer.step() would; model.gradients() is then not written.
template <class Net, class T, class Loss, class Target, class Optimizer>
T train_step(Model<Net, T>& model, std::type_identity_t<MatrixView<const T>> x, const Target& target, const Loss& loss,
             Optimizer& optimizer) {
  if constexpr (FusableOptimizer<Optimizer, T>) {
    if (!model.fusable_step()) {
      const T value = loss_and_gradient(model, x, target, loss);
      optimizer.step(model);
      return value;
    }
    model.forward(x, Mode::train);
    const T value = Loss::takes_logits ? loss(model.logits(), target, model.output_gradient_buffer())
                                       : loss(model.output(), target, model.output_gradient_buffer());
    model.backward_and_update(optimizer.prepare(model.parameters()), Loss::takes_logits);
    return value;
  } else {
    const T value = loss_and_gradient(model, x, target, loss);
    optimizer.step(model);
    return value;
  }
}

}  // namespace typenet
