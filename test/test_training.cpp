// Training end to end: convergence on two moons, no allocation inside a
// step after the first batch, results independent of the thread count, and
// clear errors for misuse.
#define BOOST_TEST_MODULE training
#include <boost/test/unit_test.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <set>
#include <thread>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "typenet/typenet.hpp"

#include "count_allocations.hpp"

using namespace typenet;

using Moons = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;

BOOST_AUTO_TEST_CASE(moons_converges) {
  const auto d = data::make_moons<float>(100, 0.1, 7);
  const Matrix<float> y = d.label_column(-1.0f, 1.0f);
  Model<Moons> model(Init::uniform, 1);
  SGD<> sgd({.lr = 1.0});
  const LinearLR schedule{1.0, 0.1, 100};
  float first = 0, last = 0;
  for (std::size_t k = 0; k < 100; ++k) {
    sgd.options.lr = schedule(k);
    last = train_step(model, d.x.view(), y.view(), Hinge{}, sgd);
    if (k == 0) first = last;
  }
  const double acc = binary_accuracy(model.forward(d.x.view()), y.view(), 0.0f);
  BOOST_TEST_MESSAGE("moons: loss " << first << " -> " << last << ", accuracy " << acc);
  BOOST_TEST(last < first);
  BOOST_TEST(acc >= 0.97);
}

BOOST_AUTO_TEST_CASE(softmax_classifier_converges_on_blobs) {
  using Net = Sequential<Input<2>, Linear<32>, BatchNorm<>, GELU, Dropout<0.1f>, Linear<3>, Softmax>;
  const auto d = data::make_blobs<float>(300, 3, 2, 1.0, 3);
  Model<Net> model(Init::kaiming_uniform, 2);
  Adam<> adam({.lr = 0.01});
  for (int epoch = 0; epoch < 60; ++epoch)
    train_step(model, d.x.view(), std::span<const std::int32_t>(d.labels), SoftmaxCrossEntropy{}, adam);
  const double acc = accuracy(model.forward(d.x.view(), Mode::eval), std::span<const std::int32_t>(d.labels));
  BOOST_TEST(acc >= 0.95);
}

BOOST_AUTO_TEST_CASE(no_allocation_inside_a_training_step_after_the_first_batch) {
  using Net = Sequential<Input<20>, Linear<64>, BatchNorm<>, ReLU, Dropout<0.2f>, Linear<64>, Tanh, Linear<5>, Softmax>;
  Model<Net> model;
  cpu::ThreadPool pool(2);
  model.set_thread_pool(&pool);
  Matrix<float> x(128, 20);
  std::vector<std::int32_t> labels(128);
  for (std::size_t i = 0; i < 128; ++i) {
    labels[i] = static_cast<std::int32_t>(i % 5);
    for (std::size_t j = 0; j < 20; ++j) x(i, j) = static_cast<float>((i * 7 + j * 3) % 11) / 11.0f;
  }
  Adam<> adam;
  const std::span<const std::int32_t> l(labels);
  train_step(model, x.view(), l, SoftmaxCrossEntropy{}, adam);  // sizes the workspaces and Adam's state
  const std::size_t before = allocations.load();
  for (int s = 0; s < 5; ++s) {
    train_step(model, x.view(), l, SoftmaxCrossEntropy{}, adam);
    train_step(model, x.view().rows_view(0, 50), l.subspan(0, 50), SoftmaxCrossEntropy{}, adam);  // smaller batch
    model.forward(x.view(), Mode::eval);
  }
  BOOST_TEST(allocations.load() - before == 0u);
}

// Every output element is one task's work with a fixed order: one thread or
// two give the same bits.
BOOST_AUTO_TEST_CASE(results_do_not_depend_on_the_thread_count) {
  using Net = Sequential<Input<100>, Linear<200>, BatchNorm<>, ReLU, Dropout<0.3f>, Linear<64>, Sigmoid, Linear<10>>;
  Matrix<float> x(64, 100);
  std::vector<std::int32_t> labels(64);
  Rng rng(5);
  for (std::size_t i = 0; i < 64; ++i) {
    labels[i] = static_cast<std::int32_t>(rng.below(10));
    for (std::size_t j = 0; j < 100; ++j) x(i, j) = static_cast<float>(rng.normal());
  }
  auto train = [&](cpu::ThreadPool* pool) {
    Model<Net> model(Init::torch_default, 9);
    model.set_thread_pool(pool);
    Adam<> adam;
    std::vector<float> losses;
    for (int s = 0; s < 4; ++s)
      losses.push_back(train_step(model, x.view(), std::span<const std::int32_t>(labels), SoftmaxCrossEntropy{}, adam));
    std::vector<float> p(model.parameters().begin(), model.parameters().end());
    p.insert(p.end(), losses.begin(), losses.end());
    return p;
  };
  cpu::ThreadPool two(2), three(3);
  const auto single = train(nullptr);
  const auto pair = train(&two);
  const auto triple = train(&three);
  BOOST_TEST(std::memcmp(single.data(), pair.data(), single.size() * sizeof(float)) == 0);
  BOOST_TEST(std::memcmp(single.data(), triple.data(), single.size() * sizeof(float)) == 0);
}

#if defined(__x86_64__)
// The pool's workers compute in the caller's floating-point mode, read when
// a job is posted (cpu/thread_pool.hpp): a pool created before the caller
// turns on flush-to-zero and denormals-are-zero runs every task with them,
// and the next job, posted in the default mode, without.
BOOST_AUTO_TEST_CASE(workers_take_the_callers_flush_to_zero_mode) {
  cpu::ThreadPool pool(3);
  const unsigned saved = _mm_getcsr();
  constexpr unsigned ftz_daz = 0x8040;  // FTZ (bit 15) and DAZ (bit 6)
  auto modes_of_tasks = [&] {
    std::vector<unsigned> modes(48);
    std::vector<std::thread::id> threads(48);
    pool.parallel_for(48, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        modes[i] = _mm_getcsr() & ftz_daz;
        threads[i] = std::this_thread::get_id();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // long enough for the workers to take some
      }
    });
    BOOST_REQUIRE(std::set<std::thread::id>(threads.begin(), threads.end()).size() > 1);
    return modes;
  };
  _mm_setcsr(saved | ftz_daz);
  const std::vector<unsigned> flushed = modes_of_tasks();
  _mm_setcsr(saved & ~ftz_daz);
  const std::vector<unsigned> plain = modes_of_tasks();
  _mm_setcsr(saved);
  for (std::size_t i = 0; i < flushed.size(); ++i) {
    BOOST_TEST_INFO("task " << i);
    BOOST_TEST(flushed[i] == ftz_daz);
    BOOST_TEST(plain[i] == 0u);
  }
}
#endif

BOOST_AUTO_TEST_CASE(float_and_double_agree) {
  using Net = Sequential<Input<8>, Linear<40>, GELU, Linear<30>, Tanh, Linear<20>, ELU<>, Linear<4>>;
  Model<Net, float> mf(Init::xavier_normal, 4);
  Model<Net, double> md(Init::xavier_normal, 4);
  Matrix<float> xf(9, 8);
  Matrix<double> xd(9, 8);
  Rng rng(1);
  for (std::size_t i = 0; i < 9; ++i)
    for (std::size_t j = 0; j < 8; ++j) xd(i, j) = xf(i, j) = static_cast<float>(rng.normal());
  const auto yf = mf.forward(xf.view());
  const auto yd = md.forward(xd.view());
  double worst = 0;
  for (std::size_t i = 0; i < 9; ++i)
    for (std::size_t j = 0; j < 4; ++j) worst = std::max(worst, std::abs(yf(i, j) - yd(i, j)));
  BOOST_TEST(worst < 1e-5);
}

BOOST_AUTO_TEST_CASE(dropout_masks_change_per_step_and_vanish_in_eval) {
  using Net = Sequential<Input<4>, Linear<64>, Dropout<0.5f>>;
  Model<Net> model;
  Matrix<float> x(3, 4);
  for (std::size_t j = 0; j < 4; ++j) x(0, j) = x(1, j) = x(2, j) = 1.0f;
  auto zeros = [&](Mode mode) {
    const auto y = model.forward(x.view(), mode);
    std::vector<bool> z;
    for (std::size_t j = 0; j < 64; ++j) z.push_back(y(0, j) == 0.0f);
    return z;
  };
  const auto a = zeros(Mode::train), b = zeros(Mode::train);
  BOOST_TEST((a != b));
  const auto e = zeros(Mode::eval);
  BOOST_TEST(std::count(e.begin(), e.end(), true) == 0);
  const std::size_t dropped = static_cast<std::size_t>(std::count(a.begin(), a.end(), true));
  BOOST_TEST(dropped > 16u);
  BOOST_TEST(dropped < 48u);
}

BOOST_AUTO_TEST_CASE(misuse_gives_clear_errors) {
  Model<Moons> model;
  Matrix<float> wrong(4, 3);
  try {
    model.forward(wrong.view());
    BOOST_FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) ==
               "typenet: the input has 3 features per sample, but the network starts with Input<2>.");
  }
  Matrix<float> x(4, 2), g(4, 1);
  BOOST_CHECK_THROW(model.backward(g.view()), std::logic_error);  // no train-mode forward yet
  model.forward(x.view(), Mode::train);
  Matrix<float> bad(4, 2);
  BOOST_CHECK_THROW(model.backward(bad.view()), std::invalid_argument);
  BOOST_CHECK_THROW(model.forward(Matrix<float>(0, 2).view()), std::invalid_argument);

  using Classifier = Sequential<Input<2>, Linear<3>>;
  Model<Classifier> c;
  const std::vector<std::int32_t> labels{0, 1, 3, 2};
  try {
    loss_and_gradient(c, x.view(), std::span<const std::int32_t>(labels), SoftmaxCrossEntropy{});
    BOOST_FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("label 3 of sample 2 is outside [0, 3)") != std::string::npos);
  }
}

// A fused step (each parameter updated inside backward as soon as its
// gradient exists) computes the same bits as gradient, then optimizer.step().
BOOST_AUTO_TEST_CASE(fused_step_equals_gradient_then_step) {
  using Net = Sequential<Input<30>, Linear<70>, BatchNorm<>, GELU, Dropout<0.2f>, Linear<33>, ReLU, Linear<4>, Softmax>;
  Matrix<float> x(40, 30);
  std::vector<std::int32_t> labels(40);
  Rng rng(8);
  for (std::size_t i = 0; i < 40; ++i) {
    labels[i] = static_cast<std::int32_t>(rng.below(4));
    for (std::size_t j = 0; j < 30; ++j) x(i, j) = static_cast<float>(rng.normal());
  }
  const std::span<const std::int32_t> l(labels);
  auto compare = [&](auto make_optimizer) {
    Model<Net> fused(Init::torch_default, 3), separate(Init::torch_default, 3);
    auto o1 = make_optimizer();
    auto o2 = make_optimizer();
    for (int s = 0; s < 3; ++s) {
      const float a = train_step(fused, x.view(), l, SoftmaxCrossEntropy{}, o1);
      const float b = loss_and_gradient(separate, x.view(), l, SoftmaxCrossEntropy{});
      o2.step(separate);
      BOOST_TEST(a == b);
    }
    std::size_t first_difference = Net::parameter_count;
    for (std::size_t i = Net::parameter_count; i-- > 0;)
      if (fused.parameters()[i] != separate.parameters()[i]) first_difference = i;
    BOOST_TEST(first_difference == Net::parameter_count);
  };
  compare([] { return Adam<>({.lr = 0.01, .weight_decay = 0.01}); });
  compare([] { return AdamW<>({.lr = 0.01, .weight_decay = 0.1}); });
  compare([] { return SGD<>({.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true}); });
}

BOOST_AUTO_TEST_CASE(divergence_is_reported_with_step_and_block) {
  using Net = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, Tanh, Linear<1>>;
  Model<Net> model(Init::uniform, 1);
  const auto d = data::make_moons<float>(50, 0.1, 1);
  const Matrix<float> y = d.label_column(-1.0f, 1.0f);
  // Poison one weight of block 1, as an overflowing update would.
  model.weight<1>()(3, 4) = std::numeric_limits<float>::quiet_NaN();
  SGD<> sgd({.lr = 0.1});
  const float loss = train_step(model, d.x.view(), y.view(), MeanSquaredError{}, sgd);
  try {
    check_finite(model, 7, loss);
    BOOST_FAIL("expected a NumericsError");
  } catch (const NumericsError& e) {
    const std::string what = e.what();
    BOOST_TEST_INFO(what);
    BOOST_TEST(what.find("at step 7") != std::string::npos);
    BOOST_TEST(what.find("block 1 (Linear<16>, Tanh)") != std::string::npos);
  }
  Model<Net> healthy(Init::uniform, 1);
  const float ok = train_step(healthy, d.x.view(), y.view(), MeanSquaredError{}, sgd);
  BOOST_CHECK_NO_THROW(check_finite(healthy, 1, ok));
}

BOOST_AUTO_TEST_CASE(gradient_norm_clipping) {
  Model<Moons, double> model(Init::uniform, 2);
  const auto d = data::make_moons<double>(40, 0.1, 2);
  const Matrix<double> y = d.label_column(-1.0, 1.0);
  loss_and_gradient(model, d.x.view(), y.view(), MeanSquaredError{});
  double before = 0;
  for (double g : model.gradients()) before += g * g;
  before = std::sqrt(before);
  BOOST_TEST(clip_gradient_norm(model, 1e9) == before, boost::test_tools::tolerance(1e-12));
  const double norm = clip_gradient_norm(model, before / 4);
  BOOST_TEST(norm == before, boost::test_tools::tolerance(1e-12));
  double after = 0;
  for (double g : model.gradients()) after += g * g;
  BOOST_TEST(std::sqrt(after) == before / 4, boost::test_tools::tolerance(1e-6));
  BOOST_CHECK_THROW(clip_gradient_norm(model, 0.0), std::invalid_argument);
}

// The pool under churn: many jobs of varying size, each task exactly once,
// with more threads than cores so that workers are often late.
BOOST_AUTO_TEST_CASE(thread_pool_runs_every_task_exactly_once) {
  cpu::ThreadPool pool(3);
  std::vector<int> hits(70000);
  for (int rep = 0; rep < 5000; ++rep) {
    const std::size_t n = rep == 0 ? hits.size() : 1 + static_cast<std::size_t>(rep) % 37;
    std::fill(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(std::min(hits.size(), n + 1)), 0);
    pool.parallel_for(n, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) hits[i] += 1;
    });
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < std::min(hits.size(), n + 1); ++i) wrong += hits[i] != (i < n ? 1 : 0);
    BOOST_TEST_REQUIRE(wrong == 0u);
  }
}
