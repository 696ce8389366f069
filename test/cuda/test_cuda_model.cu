// cuda::Model and cuda::Trainer on a GPU against the CPU Model: every fused
// block combination's forward (train and eval), running statistics and
// backward; a full training run on moons and an epoch on an MNIST-shaped
// slice; parameters through a checkpoint from the GPU to the CPU and back.
// Part of the test_cuda executable (main in test_cuda_elementwise.cu), which
// skips without a GPU.
//
// Tolerances, relative to max(1, |value|): the kernels are those
// test_kernel_model runs on the host, where they agree with the CPU to
// 1e-12 (double) and 2e-5 (float) and train with a drift below 1e-7 (moons,
// 100 SGD steps) or none (one MNIST-shaped epoch). On a GPU the
// transcendental functions differ too (CUDA's expf, tanhf, erff: a few ulp),
// so the float bounds here are 1e-4 for outputs and gradients and for the
// training runs' losses and parameters. The training runs use SGD with
// momentum: Adam's step lr m / sqrt(v) is about lr for a gradient of any
// size near zero, so rounding-level differences there could move a
// parameter by lr each step; its update is checked on its own
// (test_cuda_optimizers.cu).
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "typenet/cuda/device_buffer.cuh"
#include "typenet/cuda/model.cuh"
#include "typenet/data/generators.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/random/rng.hpp"
#include "typenet/train/train_step.hpp"

using namespace typenet;

namespace {

template <class T>
constexpr double tolerance = std::is_same_v<T, double> ? 1e-12 : 1e-4;

template <class T>
std::vector<T> to_host(const T* device, std::size_t n, cuda::CudaExecutor& executor) {
  std::vector<T> v(n);
  executor.download(v.data(), device, n);
  return v;
}

template <class T>
cuda::DeviceBuffer<T> to_device(const T* host, std::size_t n) {
  cuda::DeviceBuffer<T> d(n);
  d.copy_from_host(host, n);
  cuda::check(cudaStreamSynchronize(nullptr), "cudaStreamSynchronize");
  return d;
}

template <class T>
void expect_close(const std::vector<T>& gpu, const T* cpu, const char* what, double bound = tolerance<T>) {
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < gpu.size(); ++i) {
    const double e = std::abs(double(gpu[i]) - double(cpu[i])) / std::max(1.0, std::abs(double(cpu[i])));
    if (e > worst) worst = e, at = i;
  }
  BOOST_TEST_MESSAGE(what << ": worst relative difference " << worst << " at " << at);
  BOOST_CHECK_MESSAGE(worst <= bound, what << ": " << worst << " > " << bound << " at " << at << " of " << gpu.size());
}

template <class Net, class T>
void expect_same_as_cpu(std::size_t batch) {
  BOOST_TEST_MESSAGE("network " << Net::name() << ", batch " << batch);
  Model<Net, T> cpu(Init::torch_default, 5);
  Rng rng(6);
  for (T& p : cpu.parameters()) p += static_cast<T>(0.1 * rng.normal());
  cuda::Model<Net, T> gpu(cpu);
  auto& ex = gpu.executor();
  Matrix<T> x(batch, Net::input_size), g(batch, Net::output_size);
  for (int step = 0; step < 2; ++step) {
    for (std::size_t i = 0; i < batch; ++i) {
      for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = static_cast<T>(rng.normal());
      for (std::size_t j = 0; j < Net::output_size; ++j) g(i, j) = static_cast<T>(rng.normal());
    }
    const auto dx = to_device(x.data(), batch * Net::input_size);
    const auto y_cpu = cpu.forward(x.view(), Mode::train);
    expect_close(to_host(gpu.forward(dx.data(), batch, Mode::train), batch * Net::output_size, ex), y_cpu.data,
                 "train-mode output");
    cpu.backward(g.view(), true);
    ex.upload(gpu.output_gradient_buffer(), g.data(), batch * Net::output_size);
    gpu.backward(true);
    expect_close(to_host(gpu.gradients(), Net::parameter_count, ex), cpu.gradients().data(), "parameter gradients");
    expect_close(to_host(gpu.input_gradient(), batch * Net::input_size, ex), cpu.input_gradient().data,
                 "input gradient");
    if constexpr (Net::state_count > 0)
      expect_close(to_host(gpu.state(), Net::state_count, ex), cpu.state().data(), "running statistics");
  }
  const auto dx = to_device(x.data(), batch * Net::input_size);
  const auto y_cpu = cpu.forward(x.view(), Mode::eval);
  expect_close(to_host(gpu.forward(dx.data(), batch, Mode::eval), batch * Net::output_size, ex), y_cpu.data,
               "eval-mode output");
}

using Scalars = boost::mpl::list<float, double>;

}  // namespace

BOOST_AUTO_TEST_SUITE(cuda_model)

BOOST_AUTO_TEST_CASE_TEMPLATE(activations_and_biases, T, Scalars) {
  expect_same_as_cpu<Sequential<Input<7>, Linear<33>, ReLU, Linear<17, false>, LeakyReLU<0.1f>, Linear<16>, Tanh,
                                Linear<9>, Sigmoid, Linear<8>, ELU<>, Linear<6>, GELU, Linear<3>>,
                     T>(37);
}
BOOST_AUTO_TEST_CASE_TEMPLATE(batchnorm_dropout_softmax, T, Scalars) {
  expect_same_as_cpu<Sequential<Input<37>, Linear<67>, BatchNorm<>, ReLU, Dropout<0.2f>, Linear<17>, GELU,
                                Dropout<0.5f>, Linear<5>, Softmax>,
                     T>(21);
}
BOOST_AUTO_TEST_CASE_TEMPLATE(mnist_mlp, T, Scalars) {
  expect_same_as_cpu<Sequential<Input<784>, Linear<256>, BatchNorm<>, ReLU, Linear<256>, ReLU, Linear<10>>, T>(64);
}
BOOST_AUTO_TEST_CASE_TEMPLATE(single_output, T, Scalars) {
  expect_same_as_cpu<Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>, T>(100);
}

// micrograd's moons run: 100 full-batch steps of hinge loss and SGD with
// weight decay on both backends; every step's loss and the final parameters.
BOOST_AUTO_TEST_CASE(training_moons) {
  using Net = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;
  const auto data = data::make_moons<float>(100, 0.1, 3);
  const Matrix<float> y = data.label_column(-1.0f, 1.0f);
  Model<Net> cpu(Init::uniform, 3);
  cuda::Model<Net> gpu(cpu);
  SGD<> cpu_sgd({.lr = 0.1, .weight_decay = 2e-4}), gpu_sgd = cpu_sgd;
  cuda::Trainer<Net, float, SGD<>> trainer(gpu, gpu_sgd);
  const auto dx = to_device(data.x.data(), 200), dy = to_device(y.data(), 100);
  double worst_loss = 0;
  for (int s = 0; s < 100; ++s) {
    const float l_cpu = train_step(cpu, data.x.view(), y.view(), Hinge{}, cpu_sgd);
    const float l_gpu = trainer.step(dx.data(), 100, dy.data(), Hinge{});
    worst_loss = std::max(worst_loss, std::abs(double(l_gpu) - l_cpu) / std::max(1.0, std::abs(double(l_cpu))));
  }
  BOOST_TEST_MESSAGE("moons: worst loss difference " << worst_loss);
  BOOST_CHECK(worst_loss <= 1e-4);
  expect_close(to_host(gpu.parameters(), Net::parameter_count, gpu.executor()), cpu.parameters().data(),
               "moons parameters after 100 steps");
}

// One epoch over 1,024 MNIST-shaped samples (synthetic: the suite needs no
// download), batch 64, BatchNorm and dropout, softmax cross-entropy, SGD
// with Nesterov momentum.
BOOST_AUTO_TEST_CASE(training_mnist_shaped_epoch) {
  using Net = Sequential<Input<784>, Linear<256>, BatchNorm<>, ReLU, Dropout<0.2f>, Linear<256>, ReLU, Linear<10>>;
  constexpr std::size_t samples = 1024, batch = 64;
  Rng rng(4);
  Matrix<float> x(samples, 784);
  std::vector<std::int32_t> labels(samples);
  for (std::size_t i = 0; i < samples; ++i) {
    labels[i] = static_cast<std::int32_t>(rng.uniform() * 10);
    for (std::size_t j = 0; j < 784; ++j)
      x(i, j) = static_cast<float>(rng.uniform() * (j % 10 == static_cast<std::size_t>(labels[i]) ? 1.0 : 0.3));
  }
  Model<Net> cpu(Init::torch_default, 8);
  cuda::Model<Net> gpu(cpu);
  SGD<> cpu_sgd({.lr = 0.05, .momentum = 0.9, .nesterov = true}), gpu_sgd = cpu_sgd;
  cuda::Trainer<Net, float, SGD<>> trainer(gpu, gpu_sgd);
  const auto dx = to_device(x.data(), samples * 784);
  const auto dlabels = to_device(labels.data(), samples);
  double worst_loss = 0;
  for (std::size_t r0 = 0; r0 < samples; r0 += batch) {
    const MatrixView<const float> xb{x.data() + r0 * 784, batch, 784};
    const float l_cpu = train_step(cpu, xb, std::span<const std::int32_t>(labels.data() + r0, batch),
                                   SoftmaxCrossEntropy{}, cpu_sgd);
    const float l_gpu = trainer.step(dx.data() + r0 * 784, batch, dlabels.data() + r0, SoftmaxCrossEntropy{});
    worst_loss = std::max(worst_loss, std::abs(double(l_gpu) - l_cpu) / std::max(1.0, std::abs(double(l_cpu))));
  }
  BOOST_TEST_MESSAGE("MNIST-shaped epoch: worst loss difference " << worst_loss);
  BOOST_CHECK(worst_loss <= 1e-4);
  expect_close(to_host(gpu.parameters(), Net::parameter_count, gpu.executor()), cpu.parameters().data(),
               "MNIST-shaped parameters after one epoch");
  expect_close(to_host(gpu.state(), Net::state_count, gpu.executor()), cpu.state().data(),
               "MNIST-shaped running statistics after one epoch");
}

// Trained on the GPU, saved through the CPU model, loaded into a fresh GPU
// model: the same outputs, bit for bit.
BOOST_AUTO_TEST_CASE(checkpoint_from_gpu_to_gpu) {
  using Net = Sequential<Input<5>, Linear<12>, BatchNorm<>, Tanh, Linear<3>>;
  Model<Net> cpu(Init::torch_default, 2);
  cuda::Model<Net> trained(cpu);
  Rng rng(9);
  std::vector<float> x(40 * 5), t(40 * 3);
  for (float& v : x) v = static_cast<float>(rng.normal());
  for (float& v : t) v = static_cast<float>(rng.normal());
  const auto dx = to_device(x.data(), x.size()), dt = to_device(t.data(), t.size());
  SGD<> sgd({.lr = 0.05});
  cuda::Trainer<Net, float, SGD<>> trainer(trained, sgd);
  for (int s = 0; s < 5; ++s) trainer.step(dx.data(), 40, dt.data(), MeanSquaredError{});
  const auto expected = to_host(trained.forward(dx.data(), 40), 40 * 3, trained.executor());

  trained.copy_to(cpu);
  const auto path = std::filesystem::temp_directory_path() / "typenet_test_cuda_checkpoint.tn";
  save_checkpoint(path.string(), cpu);
  Model<Net> loaded(Init::torch_default, 77);
  load_checkpoint(path.string(), loaded);
  std::filesystem::remove(path);
  cuda::Model<Net> restored(loaded);
  const auto got = to_host(restored.forward(dx.data(), 40), 40 * 3, restored.executor());
  BOOST_CHECK(got == expected);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_with_a_sentence) {
  using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>, ReLU, Linear<2>>;
  cuda::Model<Net> gpu;
  auto says = [](const char* part) {
    return [part](const std::exception& e) { return std::string(e.what()).find(part) != std::string::npos; };
  };
  BOOST_CHECK_EXCEPTION(gpu.forward(nullptr, 2), std::invalid_argument, says("null"));
  const std::vector<float> on_the_host(6, 1.0f);
  BOOST_CHECK_EXCEPTION(gpu.forward(on_the_host.data(), 2), std::invalid_argument, says("the input: host memory"));
  cuda::DeviceBuffer<float> x(6);
  BOOST_CHECK_EXCEPTION(gpu.forward(x.data(), 1, Mode::train), std::invalid_argument, says("at least 2 samples"));
  BOOST_CHECK_EXCEPTION(gpu.backward(), std::logic_error, says("Mode::train first"));
  // Labels outside the output's width: the CPU's sentence, from the device.
  const std::vector<float> zeros(12, 0.0f);
  const auto inputs = to_device(zeros.data(), 12);
  const std::vector<std::int32_t> labels{0, 1, 2, 1};
  const auto d_labels = to_device(labels.data(), 4);
  SGD<> sgd({.lr = 0.1});
  cuda::Trainer<Net, float, SGD<>> trainer(gpu, sgd);
  BOOST_CHECK_EXCEPTION(trainer.step(inputs.data(), 4, d_labels.data(), SoftmaxCrossEntropy{}), std::invalid_argument,
                        says("label 2 of sample 2"));
  BOOST_CHECK_EXCEPTION(trainer.step(inputs.data(), 4, labels.data(), SoftmaxCrossEntropy{}), std::invalid_argument,
                        says("the labels: host memory"));
}

BOOST_AUTO_TEST_SUITE_END()
