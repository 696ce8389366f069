// The GPU's optimizer state and step (cuda/kernel_training.hpp), run on the
// host: KernelOptimizerState and KernelTrainer over HostExecutor against the
// CPU optimizers, for every optimizer and its variants. On the host the
// per-thread kernel runs the CPU's own Update functor on one-lane vectors,
// so every comparison here is bit for bit (test/cuda/test_cuda_optimizers.cu
// compares on a GPU, where the reciprocal square roots may round apart).
#define BOOST_TEST_MODULE kernel_optimizers
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "typenet/cuda/kernel_model.hpp"
#include "typenet/cuda/kernel_training.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;

namespace {

constexpr std::size_t n = 1003;  // no multiple of a vector

template <class O>
using HostState = cuda::KernelOptimizerState<O, cuda::HostExecutor>;

std::vector<float> random_values(Rng& rng, double scale) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.normal(0.0, scale));
  return v;
}

// The whole state of an optimizer, buffers first, as comparable values.
template <class O>
std::vector<double> state_of(const O& o) {
  std::vector<double> out;
  for (const auto& b : o.state().buffers) {
    out.push_back(static_cast<double>(b.size()));
    out.insert(out.end(), b.span().begin(), b.span().end());
  }
  for (const std::size_t c : o.state().counters) out.push_back(static_cast<double>(c));
  for (const bool f : o.state().flags) out.push_back(f);
  return out;
}

// Every optimizer, in the variants whose state differs.
template <class F>
void for_each_optimizer(F&& f) {
  f("SGD", SGD<>({.lr = 0.1}));
  f("SGD, momentum, dampening, weight decay",
    SGD<>({.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 1e-3}));
  f("SGD, Nesterov", SGD<>({.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true}));
  f("Adam", Adam<>({.lr = 1e-3, .weight_decay = 1e-2}));
  f("AdamW", AdamW<>({.lr = 1e-3, .weight_decay = 1e-2}));
  f("RMSprop", RMSprop<>({.lr = 1e-3}));
  f("RMSprop, weight decay", RMSprop<>({.lr = 1e-3, .weight_decay = 1e-2}));
  f("RMSprop, centered", RMSprop<>({.lr = 1e-3, .centered = true}));
  f("RMSprop, momentum", RMSprop<>({.lr = 1e-3, .momentum = 0.9}));
  f("RMSprop, centered, momentum, weight decay",
    RMSprop<>({.lr = 1e-3, .alpha = 0.9, .weight_decay = 1e-2, .momentum = 0.5, .centered = true}));
  f("Adagrad", Adagrad<>({.lr = 0.05}));
  f("Adagrad, decay, weight decay, initial accumulator",
    Adagrad<>({.lr = 0.05, .lr_decay = 0.1, .weight_decay = 1e-3, .initial_accumulator_value = 0.1}));
}

}  // namespace

// Five steps with new gradients each: parameters and every state buffer the
// same bits; copy_to then hands the host optimizer the CPU's very state.
BOOST_AUTO_TEST_CASE(the_kernel_step_is_the_cpus_bit_for_bit) {
  for_each_optimizer([](const char* name, auto fresh) {
    using O = decltype(fresh);
    Rng rng(1);
    std::vector<float> cpu_p = random_values(rng, 1.0), gpu_p = cpu_p;
    O cpu = fresh, gpu = fresh;
    cuda::HostExecutor executor;
    HostState<O> state(executor);
    for (int s = 0; s < 5; ++s) {
      const std::vector<float> g = random_values(rng, 0.1);
      cpu.step(std::span<float>(cpu_p), std::span<const float>(g));
      state.step(gpu, gpu_p.data(), g.data(), n);
    }
    BOOST_TEST_INFO(name);
    BOOST_TEST(cpu_p == gpu_p);
    for (std::size_t k = 0; k < cpu.state().buffers.size(); ++k) {
      const auto expected = cpu.state().buffers[k].span();
      BOOST_TEST_INFO(name << ", buffer " << k);
      BOOST_TEST(state.size(k) == expected.size());
      if (state.size(k) == expected.size() && !expected.empty())
        BOOST_TEST(std::equal(expected.begin(), expected.end(), state.buffer(k)));
    }
    state.copy_to(gpu);
    BOOST_TEST_INFO(name);
    BOOST_TEST(state_of(gpu) == state_of(cpu));
  });
}

// A host optimizer's state (a checkpoint's, or a CPU run's) goes onto the
// executor and the kernel steps continue it exactly; one without state for
// these parameters leaves the first kernel step to start afresh.
BOOST_AUTO_TEST_CASE(copy_from_continues_the_cpus_state) {
  for_each_optimizer([](const char* name, auto fresh) {
    using O = decltype(fresh);
    Rng rng(2);
    std::vector<float> p = random_values(rng, 1.0);
    std::vector<std::vector<float>> g;
    for (int s = 0; s < 5; ++s) g.push_back(random_values(rng, 0.1));
    O whole = fresh, half = fresh;
    std::vector<float> whole_p = p, half_p = p;
    for (int s = 0; s < 5; ++s) whole.step(std::span<float>(whole_p), std::span<const float>(g[s]));
    for (int s = 0; s < 3; ++s) half.step(std::span<float>(half_p), std::span<const float>(g[s]));

    cuda::HostExecutor executor;
    HostState<O> state(executor);
    state.copy_from(half, n);
    for (int s = 3; s < 5; ++s) state.step(half, half_p.data(), g[s].data(), n);
    BOOST_TEST_INFO(name);
    BOOST_TEST(half_p == whole_p);
    state.copy_to(half);
    BOOST_TEST_INFO(name);
    BOOST_TEST(state_of(half) == state_of(whole));

    // State for another parameter count: ignored, so the kernel starts afresh.
    O other = fresh, reference = fresh;
    std::vector<float> short_p(17, 0.5f), short_g(17, 0.1f), other_p = p, reference_p = p;
    other.step(std::span<float>(short_p), std::span<const float>(short_g));
    HostState<O> afresh(executor);
    afresh.copy_from(other, n);
    afresh.step(other, other_p.data(), g[0].data(), n);
    reference.step(std::span<float>(reference_p), std::span<const float>(g[0]));
    BOOST_TEST_INFO(name);
    BOOST_TEST(other_p == reference_p);
  });
}

// Options that start or stop using a buffer between steps: the kernel state
// follows them as the CPU's does (RMSprop's momentum and centering, SGD's momentum).
BOOST_AUTO_TEST_CASE(changing_options_changes_the_kernel_state_as_the_cpus) {
  auto run = [](const char* name, auto cpu, auto change) {
    Rng rng(3);
    std::vector<float> cpu_p = random_values(rng, 1.0), gpu_p = cpu_p;
    auto gpu = cpu;
    cuda::HostExecutor executor;
    HostState<decltype(gpu)> state(executor);
    for (int s = 0; s < 6; ++s) {
      if (s == 2 || s == 4) {
        change(cpu, s);
        change(gpu, s);
      }
      const std::vector<float> g = random_values(rng, 0.1);
      cpu.step(std::span<float>(cpu_p), std::span<const float>(g));
      state.step(gpu, gpu_p.data(), g.data(), n);
    }
    state.copy_to(gpu);
    BOOST_TEST_INFO(name);
    BOOST_TEST(cpu_p == gpu_p);
    BOOST_TEST_INFO(name);
    BOOST_TEST(state_of(gpu) == state_of(cpu));
  };
  run("RMSprop, momentum on, then off", RMSprop<>({.lr = 1e-3}),
      [](auto& o, int s) { o.options.momentum = s == 2 ? 0.9 : 0.0; });
  run("RMSprop, centered on, then off", RMSprop<>({.lr = 1e-3}), [](auto& o, int s) { o.options.centered = s == 2; });
  run("SGD, momentum on, then off", SGD<>({.lr = 0.1}),
      [](auto& o, int s) { o.options.momentum = s == 2 ? 0.9 : 0.0; });
}

// KernelTrainer's update is the CPU optimizer's step on the same gradients:
// before each trainer step the parameters are copied, after it the CPU
// optimizer applies the kernel model's gradients to the copy.
BOOST_AUTO_TEST_CASE(the_trainers_update_is_the_cpu_step) {
  using Net = Sequential<Input<6>, Linear<12>, BatchNorm<>, Tanh, Dropout<0.25f>, Linear<3>>;
  Rng rng(5);
  Matrix<float> x(32, 6), t(32, 3);
  for (std::size_t i = 0; i < 32; ++i) {
    for (std::size_t j = 0; j < 6; ++j) x(i, j) = static_cast<float>(rng.normal());
    for (std::size_t j = 0; j < 3; ++j) t(i, j) = static_cast<float>(rng.normal());
  }
  for_each_optimizer([&](const char* name, auto fresh) {
    using O = decltype(fresh);
    cuda::KernelModel<Net, float, cuda::HostExecutor> model(Model<Net>(Init::torch_default, 3));
    O gpu = fresh, cpu = fresh;
    cuda::KernelTrainer<Net, float, O, cuda::HostExecutor> trainer(model, gpu);
    std::size_t differ = 0;
    for (int s = 0; s < 4; ++s) {
      std::vector<float> p(model.parameters(), model.parameters() + Net::parameter_count);
      trainer.step(x.data(), 32, t.data(), MeanSquaredError{});
      cpu.step(std::span<float>(p), std::span<const float>(model.gradients(), Net::parameter_count));
      for (std::size_t i = 0; i < Net::parameter_count; ++i) differ += p[i] != model.parameters()[i];
    }
    BOOST_TEST_INFO(name);
    BOOST_TEST(differ == 0u);
  });
}

// Trained on the kernels, saved through the CPU model and optimizer (a
// checkpoint file), resumed on the kernels: the uninterrupted run, bit for bit.
BOOST_AUTO_TEST_CASE(a_checkpoint_resumes_kernel_training_exactly) {
  using Net = Sequential<Input<6>, Linear<12>, BatchNorm<>, Tanh, Dropout<0.25f>, Linear<3>>;
  Rng rng(6);
  Matrix<float> x(32, 6), t(32, 3);
  for (std::size_t i = 0; i < 32; ++i) {
    for (std::size_t j = 0; j < 6; ++j) x(i, j) = static_cast<float>(rng.normal());
    for (std::size_t j = 0; j < 3; ++j) t(i, j) = static_cast<float>(rng.normal());
  }
  using KernelModel = cuda::KernelModel<Net, float, cuda::HostExecutor>;
  for_each_optimizer([&](const char* name, auto fresh) {
    using O = decltype(fresh);
    auto train = [&](KernelModel& m, O& o, int steps) {
      cuda::KernelTrainer<Net, float, O, cuda::HostExecutor> trainer(m, o);
      for (int s = 0; s < steps; ++s) trainer.step(x.data(), 32, t.data(), MeanSquaredError{});
      trainer.copy_optimizer_state_to_host();
    };
    const Model<Net> start(Init::torch_default, 3);
    KernelModel whole(start), first(start);
    O whole_optimizer = fresh, first_optimizer = fresh;
    train(whole, whole_optimizer, 5);
    train(first, first_optimizer, 3);
    Model<Net> saved(Init::torch_default, 3);
    first.copy_to(saved);
    const auto path = std::filesystem::temp_directory_path() / "typenet_test_kernel_optimizers.tn";
    save_checkpoint(path, saved, first_optimizer);
    Model<Net> loaded(Init::torch_default, 3);
    O loaded_optimizer = fresh;
    load_checkpoint(path, loaded, loaded_optimizer);
    std::filesystem::remove(path);
    KernelModel resumed(loaded);
    train(resumed, loaded_optimizer, 2);
    BOOST_TEST_INFO(name);
    BOOST_TEST(std::equal(whole.parameters(), whole.parameters() + Net::parameter_count, resumed.parameters()));
    BOOST_TEST_INFO(name);
    BOOST_TEST(state_of(loaded_optimizer) == state_of(whole_optimizer));
  });
}
