// Numerical health of training: stop with a sentence when the loss, an
// activation or a parameter stops being finite, and clip the gradient norm.
#pragma once

#include "typenet/config.hpp"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "typenet/model/model.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

struct NumericsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace numerics_detail {
template <class T>
bool all_finite(const T* p, std::size_t n) {
  bool ok = true;
  for (std::size_t i = 0; i < n; ++i) ok &= std::isfinite(p[i]);
  return ok;
}
}  // namespace numerics_detail

/// After a training step: throws NumericsError if `loss` is not finite, or a
/// parameter is not, naming the step and the first block at fault (the first
/// whose forward output holds a NaN or an infinity, else the first whose
/// parameters do). A
/// non-finite gradient shows up here as non-finite parameters after the
/// update. The parameter scan is one read of the buffer, done every
/// `scan_every` steps (0: only when the loss is bad).
template <class Net, class T>
void check_finite(const Model<Net, T>& model, std::size_t step, T loss, std::size_t scan_every = 1) {
  const bool bad_loss = !std::isfinite(loss);
  if (!bad_loss && (scan_every == 0 || step % scan_every != 0)) return;
  // Where the forward pass first went wrong, else which parameters did.
  std::string culprit;
  if (bad_loss)
    for_each_block<Net>([&](auto b) {
      using B = typename decltype(b)::type;
      const auto y = model.template block_output<B::index>();
      if (culprit.empty() && !numerics_detail::all_finite(y.data, y.rows * y.cols))
        culprit = "block " + std::to_string(B::index) + " (" + B::name() + "): its output holds NaN or infinite values";
    });
  for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    if (culprit.empty() &&
        !numerics_detail::all_finite(model.parameters().data() + B::parameter_offset, B::parameter_count))
      culprit = "block " + std::to_string(B::index) + " (" + B::name() + "): its parameters hold NaN or infinite values";
  });
  if (!bad_loss && culprit.empty()) return;
  std::string what = "typenet: training diverged at step " + std::to_string(step) + ": ";
  what += bad_loss ? "the loss is " + std::string(std::isnan(loss) ? "NaN" : "infinite") : "the loss is finite";
  what += culprit.empty() ? "" : "; first at fault: " + culprit;
  throw NumericsError(what + ". Try a smaller learning rate, or gradient clipping.");
}

/// Scales the gradients so that their global L2 norm is at most max_norm
/// (torch.nn.utils.clip_grad_norm_: factor max_norm / (norm + 1e-6) when the
/// norm exceeds it). Returns the norm before clipping. The sum runs in double,
/// in buffer order: the same on any number of threads.
template <class Net, class T>
double clip_gradient_norm(Model<Net, T>& model, double max_norm) {
  if (!(max_norm > 0)) throw std::invalid_argument("typenet: clip_gradient_norm: max_norm must be > 0.");
  double sum = 0;
  for (T g : model.gradients()) sum += static_cast<double>(g) * static_cast<double>(g);
  const double norm = std::sqrt(sum);
  if (norm > max_norm) {
    const T factor = static_cast<T>(max_norm / (norm + 1e-6));
    for (T& g : model.gradients()) g *= factor;
  }
  return norm;
}

}  // namespace typenet
