// Learning-rate schedules: the rate for step k (counting from 0).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// The same learning rate at every step.
struct ConstantLR {
  double lr;  ///< the learning rate
  /// The learning rate at step k.
  double operator()(std::size_t) const { return lr; }
};

/// lr * gamma^floor(k / step_size)                      (torch StepLR)
struct StepLR {
  double lr;  ///< the initial learning rate
  std::size_t step_size;  ///< steps between decays
  double gamma = 0.1;  ///< the decay factor
  /// The learning rate at step k: lr gamma^floor(k / step_size).
  double operator()(std::size_t k) const {
    return lr * std::pow(gamma, static_cast<double>(k / std::max<std::size_t>(step_size, 1)));
  }
};

/// lr * gamma^k                                          (torch ExponentialLR)
/// torch multiplies the previous rate by gamma at each step; this takes the
/// power at once (torch's closed form), which agrees to an ulp or so per step.
struct ExponentialLR {
  double lr;  ///< the initial learning rate
  double gamma;  ///< the decay per step
  /// The learning rate at step k: lr gamma^k.
  double operator()(std::size_t k) const { return lr * std::pow(gamma, static_cast<double>(k)); }
};

/// From `start` to `end` in `steps` steps, then `end`.
/// micrograd's 1.0 - 0.9 k / 100 is LinearLR{1.0, 0.1, 100}.
struct LinearLR {
  ///@{
  /// The rates at step 0 and from step `steps` on.
  double start, end;
  ///@}
  std::size_t steps;  ///< the steps of the ramp
  /// The learning rate at step k: start + (end - start) min(k, steps) / steps.
  double operator()(std::size_t k) const {
    const double f = steps == 0 ? 1.0 : std::min(1.0, static_cast<double>(k) / static_cast<double>(steps));
    return start + (end - start) * f;
  }
};

/// min + (lr - min) (1 + cos(pi k / steps)) / 2          (torch CosineAnnealingLR)
struct CosineLR {
  double lr;  ///< the initial learning rate
  std::size_t steps;  ///< the steps of the half cosine
  double min_lr = 0.0;  ///< the rate at the end
  /// The learning rate at step k: min_lr + (lr - min_lr) (1 + cos(pi min(k, steps) / steps)) / 2.
  double operator()(std::size_t k) const {
    const double f = steps == 0 ? 1.0 : std::min(1.0, static_cast<double>(k) / static_cast<double>(steps));
    return min_lr + (lr - min_lr) * (1 + std::cos(std::numbers::pi * f)) / 2;
  }
};

}  // namespace typenet
