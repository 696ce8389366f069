// One training step: forward in train mode, the loss and its gradient,
// backward, optimizer update. Losses that read logits (softmax cross-entropy)
// are fused: their gradient with respect to the logits goes straight into
// backward, past any Softmax head.
#pragma once

#include <span>

#include "typenet/model/model.hpp"

namespace typenet {

// Forward (train mode), loss and backward; returns the loss. The gradients
// are in model.gradients() afterwards.
template <class Net, class T, class Loss, class Target>
T loss_and_gradient(Model<Net, T>& model, std::type_identity_t<MatrixView<const T>> x, const Target& target, const Loss& loss) {
  model.forward(x, Mode::train);
  if constexpr (Loss::takes_logits) {
    const T value = loss(model.logits(), target, model.output_gradient_buffer());
    model.backward_from_logits();
    return value;
  } else {
    const T value = loss(model.output(), target, model.output_gradient_buffer());
    model.backward(model.output_gradient_buffer());
    return value;
  }
}

// An optimizer whose per-parameter update backward can apply directly.
template <class Optimizer, class T>
concept FusableOptimizer = requires(Optimizer& o, std::span<T> p) { o.prepare(p); };

// Forward, loss, backward and update. With a fusable optimizer (SGD, Adam,
// AdamW) each parameter is updated as soon as its gradient is computed,
// bitwise as optimizer.step() would; model.gradients() is then not written.
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
