// What the suites that run the GPU's kernels on the host share: the GPU's
// model over HostExecutor, how the finite-difference check drives it, and
// the comparison of its results with the CPU Model's.
// Tolerances: double 1e-12 of max(1, |value|) (both backends are exact to
// rounding; they round differently: the GPU kernels fuse their multiply-adds
// and evaluate the elementwise functions on scalars, the CPU's vectors use
// polynomials), float 2e-5, likewise.
#pragma once

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>

#include "gradient_check.hpp"
#include "typenet/cuda/kernel_model.hpp"

namespace typenet {

template <class Net, class T>
using HostKernelModel = cuda::KernelModel<Net, T, cuda::HostExecutor>;

// How the gradient check drives a KernelModel (found by argument-dependent lookup).
namespace cuda {
template <class Net>
std::span<double> parameters_of(HostKernelModel<Net, double>& model) {
  return {model.parameters(), Net::parameter_count};
}
template <class Net>
const double* forward_values(HostKernelModel<Net, double>& model, MatrixView<const double> x, Mode mode) {
  return model.forward(x.data, x.rows, mode, x.stride);
}
template <class Net>
std::pair<const double*, const double*> backward_values(HostKernelModel<Net, double>& model,
                                                        MatrixView<const double> weight) {
  double* g = model.output_gradient_buffer();
  for (std::size_t i = 0; i < weight.rows; ++i)
    for (std::size_t j = 0; j < weight.cols; ++j) g[i * weight.cols + j] = weight(i, j);
  model.backward(true);
  return {model.gradients(), model.input_gradient()};
}
}  // namespace cuda

namespace testing {

template <class T>
constexpr double kernel_tolerance = std::is_same_v<T, double> ? 1e-12 : 2e-5;

template <class T>
void expect_close(const T* gpu, const T* cpu, std::size_t n, const char* what) {
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = std::abs(static_cast<double>(gpu[i]) - cpu[i]) / std::max(1.0, std::abs(static_cast<double>(cpu[i])));
    if (e > worst) worst = e, at = i;
  }
  BOOST_TEST_INFO(what << ": worst at " << at << " of " << n);
  BOOST_TEST(worst <= kernel_tolerance<T>);
}

// Two training steps' forward and backward, then an evaluation, on both
// backends from the same parameters; every output, gradient and statistic
// compared.
template <class Net, class T>
void expect_same_as_cpu(std::size_t batch, std::uint64_t seed = 5, double input_scale = 1) {
  BOOST_TEST_CONTEXT("network " << Net::name() << ", batch " << batch) {
    Model<Net, T> cpu(Init::torch_default, seed);
    Rng rng(seed + 1);
    for (T& p : cpu.parameters()) p += static_cast<T>(0.1 * rng.normal());
    HostKernelModel<Net, T> gpu(cpu);
    Matrix<T> x(batch, Net::input_size), g(batch, Net::output_size);
    for (int step = 0; step < 2; ++step) {
      for (std::size_t i = 0; i < batch; ++i) {
        for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = static_cast<T>(input_scale * rng.normal());
        for (std::size_t j = 0; j < Net::output_size; ++j) g(i, j) = static_cast<T>(rng.normal());
      }
      const auto y_cpu = cpu.forward(x.view(), Mode::train);
      const T* y_gpu = gpu.forward(x.data(), batch, Mode::train);
      expect_close(y_gpu, y_cpu.data, batch * Net::output_size, "train-mode output");
      cpu.backward(g.view(), true);
      std::copy_n(g.data(), batch * Net::output_size, gpu.output_gradient_buffer());
      gpu.backward(true);
      expect_close(gpu.gradients(), cpu.gradients().data(), Net::parameter_count, "parameter gradients");
      expect_close(gpu.input_gradient(), cpu.input_gradient().data, batch * Net::input_size, "input gradient");
      if constexpr (Net::state_count > 0)
        expect_close(gpu.state(), cpu.state().data(), Net::state_count, "running statistics");
    }
    const auto y_cpu = cpu.forward(x.view(), Mode::eval);
    expect_close(gpu.forward(x.data(), batch, Mode::eval), y_cpu.data, batch * Net::output_size, "eval-mode output");
    // Back to the CPU: the same parameters, statistics and dropout stream.
    Model<Net, T> back(Init::torch_default, seed + 9);
    gpu.copy_to(back);
    BOOST_TEST(std::equal(back.parameters().begin(), back.parameters().end(), cpu.parameters().begin()));
    BOOST_TEST(std::equal(back.state().begin(), back.state().end(), gpu.state()));  // the GPU's own statistics
    BOOST_TEST(back.dropout_step() == cpu.dropout_step());
    BOOST_TEST(back.dropout_seed() == cpu.dropout_seed());
  }
}

}  // namespace testing
}  // namespace typenet
