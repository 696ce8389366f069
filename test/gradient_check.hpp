// Central finite differences in double, for any network type: the reference
// every analytic gradient in typenet is checked against.
#pragma once

#include <algorithm>
#include <cmath>
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

// L = sum_ij output_ij * weight_ij with random weights: its gradient with
// respect to the output is `weight`, so backward(weight) must give dL/dtheta.
// Dropout's mask is pinned (same step for every forward).
template <class Net>
GradientErrors check_network_gradients(Mode mode, std::size_t batch, std::uint64_t seed, Init init = Init::torch_default) {
  Model<Net, double> model(init, seed);
  Rng rng(seed + 1);
  // Random BatchNorm affine parameters, so gamma and beta matter.
  for (double& p : model.parameters()) p += 0.1 * rng.normal();
  Matrix<double> x(batch, Net::input_size);
  for (std::size_t i = 0; i < batch; ++i)
    for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = rng.normal();
  Matrix<double> weight(batch, Net::output_size);
  for (std::size_t i = 0; i < batch; ++i)
    for (std::size_t j = 0; j < Net::output_size; ++j) weight(i, j) = rng.normal();

  auto loss = [&] {
    model.set_dropout_step(7);
    auto y = model.forward(x.view(), mode);
    double s = 0;
    for (std::size_t i = 0; i < batch; ++i)
      for (std::size_t j = 0; j < Net::output_size; ++j) s += y(i, j) * weight(i, j);
    return s;
  };
  loss();
  model.backward(weight.view(), true);
  const std::vector<double> analytic(model.gradients().begin(), model.gradients().end());
  const auto dx = model.input_gradient();
  std::vector<double> analytic_x(batch * Net::input_size);
  for (std::size_t i = 0; i < batch; ++i)
    for (std::size_t j = 0; j < Net::input_size; ++j) analytic_x[i * Net::input_size + j] = dx(i, j);

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
  auto params = model.parameters();
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
