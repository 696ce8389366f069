// Optimizer steps on the GPU against the CPU's: SGD (plain, momentum,
// Nesterov, weight decay), Adam, AdamW, RMSprop (plain, centered, momentum,
// weight decay) and Adagrad over a buffer whose length is no multiple of
// anything, five steps with new gradients each. Both sides run the same
// update functor (optim/*.hpp) with explicit fused multiply-adds only (GCC
// in ISO C++ mode does not contract a*b+c, and the CUDA tests build with
// --fmad=false). SGD's parameters must agree bit for bit. The others' may
// not: with AVX-512 the CPU takes their denominators' reciprocal from the
// hardware's estimates refined by Newton steps
// (simd::inverse_of_scaled_sqrt), the GPU divides exactly, so each step may
// differ by a few ulps of the step, and p's rounding by one ulp of p. Part of
// the test_cuda executable (its main is in test_cuda_elementwise.cu), which
// skips without a GPU.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "typenet/cuda/device_buffer.cuh"
#include "typenet/cuda/model.cuh"
#include "typenet/random/rng.hpp"

using namespace typenet;

namespace {

constexpr std::size_t n = 10007;
constexpr int steps = 5;

std::vector<float> random_values(std::uint64_t seed, double scale) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.normal(0.0, scale));
  return v;
}

// step_ulps: how many float ulps of `lr` (the largest step) each step may
// differ by (0: bit for bit).
template <class Optimizer>
void expect_gpu_step_equals_cpu(Optimizer cpu, Optimizer gpu, const char* name, double step_ulps = 0,
                                double lr = 0) {
  std::vector<float> cpu_params = random_values(1, 1.0);
  cuda::CudaExecutor executor;  // every copy and kernel on its stream, in order
  cuda::DeviceBuffer<float> params(n), grads(n);
  executor.upload(params.data(), cpu_params.data(), n);
  cuda::OptimizerState<Optimizer> state(executor);
  for (int s = 0; s < steps; ++s) {
    const std::vector<float> g = random_values(100 + static_cast<std::uint64_t>(s), 0.1);
    cpu.step(std::span<float>(cpu_params), std::span<const float>(g));
    executor.upload(grads.data(), g.data(), n);
    state.step(gpu, params.data(), grads.data(), n);
  }
  std::vector<float> gpu_params(n);
  executor.download(gpu_params.data(), params.data(), n);
  std::size_t differ = 0;
  constexpr double float_ulp = 1.1920929e-7;  // relative
  for (std::size_t i = 0; i < n; ++i) {
    const double allowed =
        step_ulps == 0 ? 0.0 : steps * (float_ulp * std::abs(cpu_params[i]) + step_ulps * float_ulp * lr);
    differ += std::abs(double(gpu_params[i]) - double(cpu_params[i])) > allowed;
  }
  BOOST_CHECK_MESSAGE(differ == 0, name << ": " << differ << " of " << n << " parameters differ after " << steps
                                        << " steps (beyond the allowed ulps)");
}

}  // namespace

BOOST_AUTO_TEST_CASE(sgd_steps_on_the_gpu_are_the_cpus) {
  expect_gpu_step_equals_cpu(SGD<float>({.lr = 0.1}), SGD<float>({.lr = 0.1}), "SGD");
  const SGDOptions momentum{.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 1e-3};
  expect_gpu_step_equals_cpu(SGD<float>(momentum), SGD<float>(momentum), "SGD with momentum");
  const SGDOptions nesterov{.lr = 0.05, .momentum = 0.9, .nesterov = true};
  expect_gpu_step_equals_cpu(SGD<float>(nesterov), SGD<float>(nesterov), "SGD with Nesterov momentum");
}

BOOST_AUTO_TEST_CASE(adam_steps_on_the_gpu_agree_with_the_cpus_to_a_few_ulps) {
  const AdamOptions o{.lr = 1e-3, .weight_decay = 1e-2};
  expect_gpu_step_equals_cpu(Adam<float>(o), Adam<float>(o), "Adam", 4, o.lr);
  expect_gpu_step_equals_cpu(AdamW<float>(o), AdamW<float>(o), "AdamW", 4, o.lr);
}

// The largest step: RMSprop's first, lr g / sqrt((1 - alpha) g^2) = lr / sqrt(1 - alpha)
// (centered: lr / sqrt(alpha (1 - alpha))), summed by momentum up to 1 / (1 - momentum)
// times; Adagrad's, at most lr.
BOOST_AUTO_TEST_CASE(rmsprop_and_adagrad_steps_on_the_gpu_agree_with_the_cpus_to_a_few_ulps) {
  const RMSpropOptions plain{.lr = 1e-3}, centered{.lr = 1e-3, .centered = true},
      momentum{.lr = 1e-3, .weight_decay = 1e-2, .momentum = 0.9, .centered = true};
  const double largest = 1 / std::sqrt(0.99 * 0.01);  // (>= 1 / sqrt(1 - alpha))
  expect_gpu_step_equals_cpu(RMSprop<float>(plain), RMSprop<float>(plain), "RMSprop", 4, plain.lr * largest);
  expect_gpu_step_equals_cpu(RMSprop<float>(centered), RMSprop<float>(centered), "RMSprop, centered", 4,
                             centered.lr * largest);
  expect_gpu_step_equals_cpu(RMSprop<float>(momentum), RMSprop<float>(momentum),
                             "RMSprop, centered, momentum, weight decay", 4,
                             momentum.lr * largest / (1 - momentum.momentum));
  const AdagradOptions adagrad{.lr = 0.05, .lr_decay = 0.1, .weight_decay = 1e-3, .initial_accumulator_value = 0.1};
  expect_gpu_step_equals_cpu(Adagrad<float>(adagrad), Adagrad<float>(adagrad), "Adagrad", 4, adagrad.lr);
}
