// The GPU backend's kernels and model, run on the host: KernelModel over
// HostExecutor executes every CUDA block kernel (cuda/block_kernels.hpp) one
// thread after another, with the CUDA model's very layout and orchestration.
// This suite runs on every build, GPU or not:
//   - its gradients against central finite differences in double, for every
//     fused block combination (the same networks as test_gradients);
//   - its forward (train and eval), BatchNorm running statistics and
//     backward against the CPU Model, in double and float.
// Tolerances: double 1e-12 of max(1, |value|) (both backends are exact to
// rounding; they round differently: the GPU kernels fuse their multiply-adds,
// the CPU's scalar tails do not); float 2e-5, likewise.
#define BOOST_TEST_MODULE kernel_model
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <vector>

#include "kernel_model_check.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/cuda/kernel_model.hpp"
#include "typenet/cuda/kernel_training.hpp"

using namespace typenet;
using typenet::testing::expect_close;
using typenet::testing::expect_same_as_cpu;


namespace {

template <class Net>
void expect_exact_gradients(Mode mode = Mode::train, std::size_t batch = 7) {
  const auto e = testing::check_network_gradients<Net, HostKernelModel<Net, double>>(mode, batch, 42);
  BOOST_TEST_INFO("network " << Net::name());
  BOOST_TEST(e.checked > Net::parameter_count);
  BOOST_TEST(e.parameters < 1e-6);
  BOOST_TEST(e.input < 1e-6);
}

using Scalars = boost::mpl::list<float, double>;

}  // namespace

BOOST_AUTO_TEST_SUITE(finite_differences)
BOOST_AUTO_TEST_CASE(linear_identity) { expect_exact_gradients<Sequential<Input<4>, Linear<9>, Linear<3>>>(); }
BOOST_AUTO_TEST_CASE(linear_without_bias) {
  expect_exact_gradients<Sequential<Input<4>, Linear<9, false>, Tanh, Linear<3, false>>>();
}
BOOST_AUTO_TEST_CASE(every_activation) {
  expect_exact_gradients<Sequential<Input<4>, Linear<9>, ReLU, Linear<8>, LeakyReLU<0.1f>, Linear<7>, Tanh,
                                    Linear<6>, Sigmoid, Linear<5>, ELU<0.7f>, Linear<4>, GELU, Linear<3>>>();
}
BOOST_AUTO_TEST_CASE(batchnorm_activation) {
  expect_exact_gradients<Sequential<Input<6>, Linear<20>, BatchNorm<>, ReLU, Linear<18>, BatchNorm<>, ELU<>,
                                    Linear<4>>>();
}
BOOST_AUTO_TEST_CASE(batchnorm_activation_dropout) {
  expect_exact_gradients<Sequential<Input<5>, Linear<24>, BatchNorm<>, Sigmoid, Dropout<0.3f>, Linear<3>>>();
}
BOOST_AUTO_TEST_CASE(activation_dropout) {
  expect_exact_gradients<Sequential<Input<5>, Linear<40>, GELU, Dropout<0.5f>, Linear<3>>>();
}
BOOST_AUTO_TEST_CASE(softmax_head) {
  expect_exact_gradients<Sequential<Input<3>, Linear<8>, Tanh, Linear<4>, Softmax>>();
}
BOOST_AUTO_TEST_CASE(single_outputs_and_ragged_row_tiles) {
  expect_exact_gradients<Sequential<Input<1>, Linear<7>, BatchNorm<>, Tanh, Linear<1>, Sigmoid, Linear<1>>>(
      Mode::train, 9);
}
BOOST_AUTO_TEST_CASE(per_sample_normalisations) {
  expect_exact_gradients<Sequential<Input<6>, Linear<20>, LayerNorm<>, GELU, Dropout<0.3f>, Linear<18>, RMSNorm<>,
                                    ReLU, Linear<9>, LayerNorm<1e-3f, false>, Tanh, Linear<3>>>();
  expect_exact_gradients<Sequential<Input<5>, Linear<7>, RMSNorm<1e-4f>, Linear<3>>>(Mode::train, 1);
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(against_the_cpu)
BOOST_AUTO_TEST_CASE_TEMPLATE(mnist_shaped, T, Scalars) {
  expect_same_as_cpu<Sequential<Input<784>, Linear<64>, ReLU, Linear<32>, ReLU, Linear<10>>, T>(33);
}
BOOST_AUTO_TEST_CASE_TEMPLATE(batchnorm_dropout_softmax, T, Scalars) {
  expect_same_as_cpu<Sequential<Input<37>, Linear<67>, BatchNorm<>, ReLU, Dropout<0.2f>, Linear<17>, GELU,
                                Dropout<0.5f>, Linear<5>, Softmax>,
                     T>(21);
}
BOOST_AUTO_TEST_CASE_TEMPLATE(layernorm_rmsnorm_batchnorm, T, Scalars) {
  expect_same_as_cpu<Sequential<Input<37>, Linear<67>, LayerNorm<>, ReLU, Dropout<0.2f>, Linear<33>, RMSNorm<>, GELU,
                                Linear<17>, BatchNorm<>, Tanh, Linear<9>, LayerNorm<1e-5f, false>, Linear<5>, Softmax>,
                     T>(21);
}
BOOST_AUTO_TEST_CASE_TEMPLATE(moons, T, Scalars) {
  expect_same_as_cpu<Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>, T>(100);
}
BOOST_AUTO_TEST_CASE_TEMPLATE(one_sample_eval, T, Scalars) {
  using Net = Sequential<Input<5>, Linear<8>, BatchNorm<>, Tanh, Linear<3>>;
  Model<Net, T> cpu(Init::torch_default, 3);
  HostKernelModel<Net, T> gpu(cpu);
  const std::vector<T> x{T(0.5), T(-1), T(2), T(0.25), T(-0.75)};
  const auto y = cpu.forward(MatrixView<const T>{x.data(), 1, 5}, Mode::eval);
  expect_close(gpu.forward(x.data(), 1, Mode::eval), y.data, 3, "batch-1 output");
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(bad_input_is_refused_with_a_sentence) {
  using Net = Sequential<Input<3>, Linear<4>, BatchNorm<>, ReLU, Linear<2>>;
  HostKernelModel<Net, float> gpu;
  const std::vector<float> x(6, 1.0f);
  auto says = [](const char* part) {
    return [part](const std::exception& e) { return std::string(e.what()).find(part) != std::string::npos; };
  };
  BOOST_CHECK_EXCEPTION(gpu.forward(x.data(), 0), std::invalid_argument, says("empty"));
  BOOST_CHECK_EXCEPTION(gpu.forward(x.data(), 2, Mode::eval, 2), std::invalid_argument, says("stride"));
  BOOST_CHECK_EXCEPTION(gpu.forward(nullptr, 2), std::invalid_argument, says("null"));
  BOOST_CHECK_EXCEPTION(gpu.forward(x.data(), 1, Mode::train), std::invalid_argument, says("at least 2 samples"));
  BOOST_CHECK_EXCEPTION(gpu.backward(), std::logic_error, says("Mode::train first"));
  gpu.forward(x.data(), 2, Mode::train);
  gpu.backward();
  BOOST_CHECK_EXCEPTION(gpu.input_gradient(), std::logic_error, says("backward(true)"));
}

// Training drift: the kernel model trained by KernelTrainer (the GPU's
// loss and optimizer kernels, run on the host) against the CPU Model's fused
// steps, from the same parameters on the same batches. The two differ only
// in rounding (fused multiply-adds, summation order), which training then
// carries along; the CUDA suite applies the same bounds on a GPU.
namespace {
template <class Net, class Loss, class Optimizer, class Targets>
std::pair<double, double> training_drift(const Matrix<float>& x, const Targets& targets, std::size_t batch,
                                         std::size_t steps, Optimizer cpu_optimizer, const Loss& loss) {
  Model<Net> cpu(Init::torch_default, 11);
  HostKernelModel<Net, float> gpu(cpu);
  Optimizer gpu_optimizer = cpu_optimizer;
  cuda::KernelTrainer<Net, float, Optimizer, cuda::HostExecutor> trainer(gpu, gpu_optimizer);
  double worst_loss = 0, worst_parameter = 0;
  for (std::size_t s = 0; s < steps; ++s) {
    const std::size_t r0 = s * batch % x.rows();
    const MatrixView<const float> xb{x.data() + r0 * Net::input_size, batch, Net::input_size};
    const auto tb = targets.rows_view(r0, batch);
    const float l_cpu = train_step(cpu, xb, tb, loss, cpu_optimizer);
    const float l_gpu = trainer.step(xb.data, batch, targets.data(r0), loss);
    worst_loss = std::max(worst_loss, std::abs(double(l_gpu) - l_cpu) / std::max(1.0, std::abs(double(l_cpu))));
  }
  for (std::size_t i = 0; i < Net::parameter_count; ++i)
    worst_parameter = std::max(worst_parameter, std::abs(double(gpu.parameters()[i]) - cpu.parameters()[i]) /
                                                    std::max(1.0, std::abs(double(cpu.parameters()[i]))));
  return {worst_loss, worst_parameter};
}

struct RowTargets {
  const Matrix<float>& m;
  MatrixView<const float> rows_view(std::size_t r0, std::size_t n) const {
    return {m.data() + r0 * m.cols(), n, m.cols()};
  }
  const float* data(std::size_t r0) const { return m.data() + r0 * m.cols(); }
};
struct LabelTargets {
  const std::vector<std::int32_t>& labels;
  std::span<const std::int32_t> rows_view(std::size_t r0, std::size_t n) const { return {labels.data() + r0, n}; }
  const std::int32_t* data(std::size_t r0) const { return labels.data() + r0; }
};
}  // namespace

BOOST_AUTO_TEST_CASE(training_drift_moons) {
  using Net = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;
  const auto data = data::make_moons<float>(100, 0.1, 3);
  const Matrix<float> y = data.label_column(-1.0f, 1.0f);
  const auto [loss, parameter] =
      training_drift<Net>(data.x, RowTargets{y}, 100, 100, SGD<>({.lr = 0.1, .weight_decay = 2e-4}), Hinge{});
  BOOST_TEST_MESSAGE("moons, 100 steps: loss drift " << loss << ", parameter drift " << parameter);
  BOOST_TEST(loss < 1e-4);
  BOOST_TEST(parameter < 1e-4);
}

BOOST_AUTO_TEST_CASE(training_drift_mnist_shaped) {
  using Net = Sequential<Input<784>, Linear<64>, BatchNorm<>, ReLU, Dropout<0.2f>, Linear<10>>;
  Rng rng(4);
  Matrix<float> x(512, 784);
  std::vector<std::int32_t> labels(512);
  for (std::size_t i = 0; i < 512; ++i) {
    labels[i] = static_cast<std::int32_t>(rng.uniform() * 10);
    for (std::size_t j = 0; j < 784; ++j)
      x(i, j) = static_cast<float>(rng.uniform() * (j % 10 == std::size_t(labels[i]) ? 1.0 : 0.3));
  }
  const auto [loss, parameter] =
      training_drift<Net>(x, LabelTargets{labels}, 64, 8, Adam<>({.lr = 1e-3}), SoftmaxCrossEntropy{});
  BOOST_TEST_MESSAGE("MNIST-shaped, one epoch of 8 steps: loss drift " << loss << ", parameter drift " << parameter);
  BOOST_TEST(loss < 1e-4);
  BOOST_TEST(parameter < 1e-4);
}

// The loss kernels against the CPU's losses: values to 1e-6 relative (both
// sum in double, in different orders), gradients as every float comparison here;
// more rows than one summation chunk.
BOOST_AUTO_TEST_CASE(loss_kernels_are_the_cpus) {
  constexpr std::size_t rows = 600, cols = 3;
  Rng rng(7);
  Matrix<float> out(rows, cols), target(rows, cols), cpu_grad(rows, cols), gpu_grad(rows, cols);
  cuda::HostExecutor executor;
  cuda::KernelLosses<float, cuda::HostExecutor> losses(executor);
  auto compare = [&](const char* name, float cpu, float gpu) {
    BOOST_TEST_INFO(name);
    BOOST_TEST(std::abs(gpu - cpu) <= 1e-6f * std::max(1.0f, std::abs(cpu)));
    expect_close(gpu_grad.data(), cpu_grad.data(), rows * cols, name);
  };
  auto fill = [&](auto make_out, auto make_target) {
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) out(i, j) = make_out(), target(i, j) = make_target();
  };
  auto normal = [&] { return static_cast<float>(rng.normal(0.0, 2.0)); };
  auto sign = [&] { return rng.uniform() < 0.5 ? -1.0f : 1.0f; };
  auto bit = [&] { return rng.uniform() < 0.5 ? 0.0f : 1.0f; };
  auto probability = [&] { return static_cast<float>(0.001 + 0.998 * rng.uniform()); };
  auto check = [&]<class L>(const char* name, L loss) {
    const float cpu = loss(out.view(), target.view(), cpu_grad.view());
    compare(name, cpu, losses(loss, out.data(), target.data(), gpu_grad.data(), rows, cols));
  };
  fill(normal, normal);
  check("mean squared error", MeanSquaredError{});
  check("sum of squared errors", SumSquaredError{});
  fill(normal, sign);
  check("hinge", Hinge{});
  fill(probability, bit);
  check("binary cross-entropy", BinaryCrossEntropy{});
  fill(normal, bit);
  check("binary cross-entropy with logits", BinaryCrossEntropyWithLogits{});

  Matrix<float> logits(rows, 10), cpu_g(rows, 10), gpu_g(rows, 10);
  std::vector<std::int32_t> labels(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    labels[i] = static_cast<std::int32_t>(rng.uniform() * 10);
    for (std::size_t j = 0; j < 10; ++j) logits(i, j) = static_cast<float>(rng.normal(0.0, 4.0));
  }
  const float cpu = SoftmaxCrossEntropy{}(logits.view(), std::span<const std::int32_t>(labels), cpu_g.view());
  const float gpu = losses(SoftmaxCrossEntropy{}, logits.data(), labels.data(), gpu_g.data(), rows, 10);
  BOOST_TEST(std::abs(gpu - cpu) <= 1e-6f * std::max(1.0f, std::abs(cpu)));
  expect_close(gpu_g.data(), cpu_g.data(), rows * 10, "softmax cross-entropy");
  labels[300] = 10;  // in the second summation chunk
  labels[500] = -1;
  BOOST_CHECK_EXCEPTION(losses(SoftmaxCrossEntropy{}, logits.data(), labels.data(), gpu_g.data(), rows, 10),
                        std::invalid_argument, [](const std::exception& e) {
                          return std::string(e.what()) ==
                                 "typenet: softmax cross-entropy: label 10 of sample 300 is outside [0, 10), the "
                                 "network's output width.";
                        });
}

// The optimizer kernel runs the CPU optimizer's own update: bit for bit,
// five steps of each, over a length that is no multiple of a vector.
BOOST_AUTO_TEST_CASE(optimizer_kernel_is_the_cpus_bit_for_bit) {
  constexpr std::size_t n = 1003;
  auto run = [&](auto cpu, auto gpu, const char* name) {
    Rng rng(1);
    std::vector<float> cpu_p(n), gpu_p(n), g(n);
    for (float& p : cpu_p) p = static_cast<float>(rng.normal());
    gpu_p = cpu_p;
    cuda::HostExecutor executor;
    cuda::KernelOptimizerState<decltype(gpu), cuda::HostExecutor> state(executor);
    for (int s = 0; s < 5; ++s) {
      for (float& v : g) v = static_cast<float>(rng.normal(0.0, 0.1));
      cpu.step(std::span<float>(cpu_p), std::span<const float>(g));
      state.step(gpu, gpu_p.data(), g.data(), n);
    }
    BOOST_TEST_INFO(name);
    BOOST_TEST(std::equal(cpu_p.begin(), cpu_p.end(), gpu_p.begin()));
  };
  const SGDOptions nesterov{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true};
  run(SGD<>(nesterov), SGD<>(nesterov), "SGD with Nesterov momentum");
  const AdamOptions adam{.lr = 1e-3, .weight_decay = 1e-2};
  run(Adam<>(adam), Adam<>(adam), "Adam");
  run(AdamW<>(adam), AdamW<>(adam), "AdamW");
}

// Training on the GPU's kernels, saved through the CPU model and optimizer
// (a checkpoint file), resumed on the GPU's kernels: exactly the
// uninterrupted run, bit for bit; resumed on the CPU: the same to rounding.
// For SGD with momentum and for Adam (their state must travel).
template <class Optimizer>
void expect_exact_resume(Optimizer fresh) {
  using Net = Sequential<Input<6>, Linear<12>, BatchNorm<>, Tanh, Dropout<0.25f>, Linear<3>>;
  Rng rng(5);
  Matrix<float> x(32, 6), t(32, 3);
  for (std::size_t i = 0; i < 32; ++i) {
    for (std::size_t j = 0; j < 6; ++j) x(i, j) = static_cast<float>(rng.normal());
    for (std::size_t j = 0; j < 3; ++j) t(i, j) = static_cast<float>(rng.normal());
  }
  auto train = [&](HostKernelModel<Net, float>& m, Optimizer& o, int steps) {
    cuda::KernelTrainer<Net, float, Optimizer, cuda::HostExecutor> trainer(m, o);
    for (int s = 0; s < steps; ++s) trainer.step(x.data(), 32, t.data(), MeanSquaredError{});
    trainer.copy_optimizer_state_to_host();
  };
  Model<Net> start(Init::torch_default, 3);
  HostKernelModel<Net, float> whole(start);
  Optimizer whole_optimizer = fresh;
  train(whole, whole_optimizer, 5);

  HostKernelModel<Net, float> first(start);
  Optimizer first_optimizer = fresh;
  train(first, first_optimizer, 3);
  Model<Net> saved_model;
  first.copy_to(saved_model);
  const auto path = std::filesystem::temp_directory_path() / "typenet_test_kernel_resume.tn";
  save_checkpoint(path.string(), saved_model, first_optimizer);
  // (The same seed as the run: a checkpoint keeps the dropout step, not the
  // dropout seed, which comes from the model's construction.)
  Model<Net> loaded_model(Init::torch_default, 3);
  Optimizer loaded_optimizer = fresh;
  load_checkpoint(path.string(), loaded_model, loaded_optimizer);
  std::filesystem::remove(path);

  Model<Net> cpu_resumed = loaded_model;  // on the CPU
  Optimizer cpu_optimizer = loaded_optimizer;
  for (int s = 0; s < 2; ++s) train_step(cpu_resumed, x.view(), t.view(), MeanSquaredError{}, cpu_optimizer);
  HostKernelModel<Net, float> resumed(loaded_model);  // on the GPU's kernels
  train(resumed, loaded_optimizer, 2);

  const std::span<const float> expected(whole.parameters(), Net::parameter_count);
  BOOST_TEST(std::equal(expected.begin(), expected.end(), resumed.parameters()));
  // (The CPU's kernels round differently from the GPU's: close, not equal.)
  expect_close(cpu_resumed.parameters().data(), expected.data(), Net::parameter_count, "resumed on the CPU");
}

BOOST_AUTO_TEST_CASE(checkpoint_resume_is_exact_across_backends_sgd) {
  expect_exact_resume(SGD<>({.lr = 0.05, .momentum = 0.9, .nesterov = true}));
}
BOOST_AUTO_TEST_CASE(checkpoint_resume_is_exact_across_backends_adam) { expect_exact_resume(Adam<>({.lr = 1e-2})); }
