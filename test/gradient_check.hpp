// Central finite differences in double, for any network type: the reference
// every analytic gradient in typenet is checked against.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>
#include <vector>

#include "typenet/typenet.hpp"

namespace typenet::testing {

struct GradientErrors {
  double parameters = 0;  // max |analytic - numeric| / max(1, |numeric|)
  double input = 0;
  std::size_t checked = 0;
};

inline double relative_error(double analytic, double numeric) {
  return std::abs(analytic - numeric) / std::max(1.0, std::abs(numeric));
}

// How the check drives a model: the CPU Model here; other models (the GPU
// kernels run on the host) overload these in their own namespace.
template <class Net>
std::span<double> parameters_of(Model<Net, double>& model) {
  return model.parameters();
}
template <class Net>
const double* forward_values(Model<Net, double>& model, MatrixView<const double> x, Mode mode) {
  return model.forward(x, mode).data;
}
// backward from dLoss/dOutput = weight; returns (dLoss/dParameters, dLoss/dInput).
template <class Net>
std::pair<const double*, const double*> backward_values(Model<Net, double>& model, MatrixView<const double> weight) {
  model.backward(weight, true);
  return {model.gradients().data(), model.input_gradient().data};
}

// L = sum_ij output_ij * weight_ij with random weights: its gradient with
// respect to the output is `weight`, so backward(weight) must give dL/dtheta.
// Dropout's mask is pinned (same step for every forward).
template <class Net, class M = Model<Net, double>>
GradientErrors check_network_gradients(Mode mode, std::size_t batch, std::uint64_t seed, Init init = Init::torch_default) {
  M model(init, seed);
  Rng rng(seed + 1);
  // Random BatchNorm affine parameters, so gamma and beta matter.
  const std::span<double> params = parameters_of(model);
  for (double& p : params) p += 0.1 * rng.normal();
  Matrix<double> x(batch, Net::input_size);
  for (std::size_t i = 0; i < batch; ++i)
    for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = rng.normal();
  Matrix<double> weight(batch, Net::output_size);
  for (std::size_t i = 0; i < batch; ++i)
    for (std::size_t j = 0; j < Net::output_size; ++j) weight(i, j) = rng.normal();

  auto loss = [&] {
    model.set_dropout_step(7);
    const double* y = forward_values(model, x.view(), mode);
    double s = 0;
    for (std::size_t i = 0; i < batch; ++i)
      for (std::size_t j = 0; j < Net::output_size; ++j) s += y[i * Net::output_size + j] * weight(i, j);
    return s;
  };
  loss();
  const auto [gradients, dx] = backward_values(model, weight.view());
  const std::vector<double> analytic(gradients, gradients + Net::parameter_count);
  const std::vector<double> analytic_x(dx, dx + batch * Net::input_size);

  GradientErrors e;
  const double h = 1e-6;
  auto numeric = [&](double& v) {
    const double old = v;
    v = old + h;
    const double up = loss();
    v = old - h;
    const double down = loss();
    v = old;
    return (up - down) / (2 * h);
  };
  for (std::size_t i = 0; i < params.size(); ++i) {
    e.parameters = std::max(e.parameters, relative_error(analytic[i], numeric(params[i])));
    ++e.checked;
  }
  for (std::size_t i = 0; i < batch; ++i)
    for (std::size_t j = 0; j < Net::input_size; ++j) {
      e.input = std::max(e.input, relative_error(analytic_x[i * Net::input_size + j], numeric(x(i, j))));
      ++e.checked;
    }
  return e;
}

}  // namespace typenet::testing
