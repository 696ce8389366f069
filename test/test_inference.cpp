// InferenceModel: the folded network against the trained model in
// evaluation mode (every normalisation, every activation, Dropout), the
// real-time rules (no allocation after a thread's first call; none at all
// with a caller's workspace), one shared model serving many threads
// bitwise as one thread, and its errors.
#define BOOST_TEST_MODULE inference
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "count_allocations.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/io/safetensors.hpp"
#include "typenet/model/inference_model.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;

namespace {

// A trained model with non-trivial BatchNorm statistics: a few Adam steps
// on random data, then parameters shaken so that gamma and beta matter.
template <class Net, class T = float>
Model<Net, T> trained(std::uint64_t seed) {
  Model<Net, T> m(Init::torch_default, seed);
  Rng rng(seed + 1);
  Matrix<T> x(32, Net::input_size), t(32, Net::output_size);
  for (std::size_t i = 0; i < 32; ++i) {
    for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = static_cast<T>(rng.normal() * 2 + 0.5);
    for (std::size_t j = 0; j < Net::output_size; ++j) t(i, j) = static_cast<T>(rng.normal());
  }
  Adam<T> adam({.lr = 1e-2});
  for (int step = 0; step < 5; ++step) train_step(m, x.view(), t.view(), MeanSquaredError{}, adam);
  for (T& p : m.parameters()) p += static_cast<T>(0.05 * rng.normal());
  return m;
}

template <class T>
Matrix<T> random_input(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  Matrix<T> x(rows, cols);
  Rng rng(seed);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) x(i, j) = static_cast<T>(rng.normal() * 2 + 0.5);
  return x;
}

// Folded against unfolded, every batch size from 1 to 40 (the tile edges).
template <class Net>
void expect_folded_agrees() {
  BOOST_TEST_CONTEXT("network " << Net::name()) {
    auto model = trained<Net>(7);
    const InferenceModel<Net> served(model);
    double worst = 0;
    for (std::size_t rows = 1; rows <= 40; ++rows) {
      const auto x = random_input<float>(rows, Net::input_size, rows);
      Matrix<float> y(rows, Net::output_size);
      served.predict(x.view(), y.view());
      const auto reference = model.forward(x.view(), Mode::eval);
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < Net::output_size; ++j)
          worst = std::max(worst, std::abs(double(y(i, j)) - reference(i, j)) / std::max(1.0, std::abs(double(reference(i, j)))));
    }
    BOOST_TEST(worst < 1e-5);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_inference_network_is_derived_at_compile_time) {
  using Simple = Sequential<Input<784>, Linear<256>, BatchNorm<>, ReLU, Dropout<0.2f>, Linear<10>>;
  static_assert(std::is_same_v<inference_network_t<Simple>, Sequential<Input<784>, Linear<256>, ReLU, Linear<10>>>);
  // BatchNorm's Linear gains the bias BatchNorm cancelled; LayerNorm stays.
  using WithLayerNorm = Sequential<Input<4>, Linear<8>, LayerNorm<>, GELU, Dropout<0.5f>, Linear<2, false>, BatchNorm<>>;
  static_assert(std::is_same_v<inference_network_t<WithLayerNorm>,
                               Sequential<Input<4>, Linear<8>, LayerNorm<>, GELU, Linear<2, true>>>);
  BOOST_TEST(InferenceModel<Simple>::network::parameter_count == 784u * 256 + 256 + 256u * 10 + 10);
}

BOOST_AUTO_TEST_SUITE(folded_agrees_with_the_trained_model)
BOOST_AUTO_TEST_CASE(batchnorm_and_each_activation) {
  expect_folded_agrees<Sequential<Input<9>, Linear<37>, BatchNorm<>, ReLU, Linear<20>, BatchNorm<1e-3f, 0.3f>, Tanh,
                                  Linear<5>>>();
  expect_folded_agrees<Sequential<Input<9>, Linear<37>, BatchNorm<>, LeakyReLU<0.1f>, Linear<20>, BatchNorm<>, Sigmoid,
                                  Linear<17>, BatchNorm<>, ELU<>, Linear<3>>>();
  expect_folded_agrees<Sequential<Input<9>, Linear<37>, BatchNorm<>, GELU, Linear<20>, BatchNorm<>, SiLU, Linear<17>,
                                  BatchNorm<>, Softplus<>, Linear<11>, BatchNorm<>, Mish, Linear<6>, BatchNorm<>,
                                  Hardswish, Linear<4>, Softmax>>();
}
BOOST_AUTO_TEST_CASE(layernorm_rmsnorm_dropout) {
  expect_folded_agrees<Sequential<Input<9>, Linear<67>, LayerNorm<>, ReLU, Dropout<0.3f>, Linear<33>, RMSNorm<>, GELU,
                                  Linear<8, false>, BatchNorm<>, Linear<5>, LayerNorm<1e-5f, false>, Linear<2>>>();
}
BOOST_AUTO_TEST_CASE(single_outputs_and_the_tutorial_networks) {
  expect_folded_agrees<Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>>();
  expect_folded_agrees<Sequential<Input<3>, Linear<3>, Sigmoid, Linear<2>, Sigmoid, Linear<1>, Sigmoid>>();
  expect_folded_agrees<Sequential<Input<2>, Linear<10>, BatchNorm<>, ReLU, Linear<1>, Sigmoid>>();
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(double_agrees_to_rounding) {
  using Net = Sequential<Input<5>, Linear<13>, BatchNorm<>, GELU, Linear<7>, LayerNorm<>, Linear<3>>;
  auto model = trained<Net, double>(3);
  const InferenceModel<Net, double> served(model);
  const auto x = random_input<double>(9, 5, 4);
  Matrix<double> y(9, 3);
  served.predict(x.view(), y.view());
  const auto reference = model.forward(x.view(), Mode::eval);
  for (std::size_t i = 0; i < 9; ++i)
    for (std::size_t j = 0; j < 3; ++j) BOOST_TEST(std::abs(y(i, j) - reference(i, j)) < 1e-12);
}

// After a thread's first call at a batch size, none at that size or below;
// with a caller's workspace, none at all.
BOOST_AUTO_TEST_CASE(predict_allocates_nothing_after_the_first_call) {
  using Net = Sequential<Input<784>, Linear<256>, BatchNorm<>, ReLU, Linear<256>, LayerNorm<>, ReLU, Linear<10>, Softmax>;
  const InferenceModel<Net> served(trained<Net>(1));
  const auto x = random_input<float>(64, 784, 2);
  Matrix<float> y(64, 10);
  served.predict(x.view(), y.view());
  const std::size_t before = allocations.load();
  for (std::size_t rows : {64u, 1u, 16u, 63u, 64u})
    served.predict(x.view().rows_view(0, rows), y.view().rows_view(0, rows));
  BOOST_TEST(allocations.load() == before);

  InferenceModel<Net>::Workspace workspace(64);
  const std::size_t with_workspace = allocations.load();
  for (std::size_t rows : {1u, 64u, 7u})
    served.predict(x.view().rows_view(0, rows), y.view().rows_view(0, rows), workspace);
  BOOST_TEST(allocations.load() == with_workspace);
}

// 16 threads x 10,000 predictions on one shared, immutable model: bitwise
// one thread's results (the concurrency test also runs under
// ThreadSanitizer in CI).
BOOST_AUTO_TEST_CASE(one_model_many_threads_bitwise_one_threads) {
  using Net = Sequential<Input<16>, Linear<32>, BatchNorm<>, Tanh, Linear<16>, LayerNorm<>, ReLU, Linear<4>, Softmax>;
  const InferenceModel<Net> served(trained<Net>(5));
  constexpr std::size_t threads = 16, calls = 10000;
  const auto x = random_input<float>(calls, 16, 9);
  Matrix<float> expected(calls, 4);
  for (std::size_t c = 0; c < calls; ++c)  // one thread, one sample per call
    served.predict(x.view().rows_view(c, 1), expected.view().rows_view(c, 1));
  std::vector<int> mismatches(threads, 0);
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      Matrix<float> y(1, 4);
      for (std::size_t k = 0; k < calls; ++k) {
        const std::size_t c = (k * 7919 + t * 104729) % calls;  // each thread its own order
        served.predict(x.view().rows_view(c, 1), y.view());
        for (std::size_t j = 0; j < 4; ++j) mismatches[t] += y(0, j) != expected(c, j);
      }
    });
  for (auto& p : pool) p.join();
  for (std::size_t t = 0; t < threads; ++t) BOOST_TEST(mismatches[t] == 0);
}

BOOST_AUTO_TEST_CASE(bad_calls_are_sentences) {
  using Net = Sequential<Input<3>, Linear<4>, ReLU, Linear<2>>;
  const InferenceModel<Net> served((Model<Net>()));
  auto says = [](const char* part) {
    return [part](const std::invalid_argument& e) { return std::string(e.what()).find(part) != std::string::npos; };
  };
  Matrix<float> x(5, 3), wide(5, 4), y(5, 2), tall(6, 2);
  BOOST_CHECK_EXCEPTION(served.predict(wide.view(), y.view()), std::invalid_argument, says("Input<3>"));
  BOOST_CHECK_EXCEPTION(served.predict(x.view(), tall.view()), std::invalid_argument, says("the output is 6 x 2"));
  InferenceModel<Net>::Workspace small(4);
  BOOST_CHECK_EXCEPTION(served.predict(x.view(), y.view(), small), std::invalid_argument, says("workspace holds 4"));
}

// Saved by `save`, loaded by `load` into an InferenceModel: the same outputs
// as the model's own; a file of another network is refused with Error.
template <class Error, class Save, class Load>
void check_served_from_file(const std::string& name, Save save, Load load) {
  using Net = Sequential<Input<6>, Linear<12>, BatchNorm<>, ReLU, Linear<3>>;
  const auto path = std::filesystem::temp_directory_path() / name;
  auto model = trained<Net>(2);
  save(path, model);
  const InferenceModel<Net> served(path, load);
  const auto x = random_input<float>(4, 6, 1);
  Matrix<float> a(4, 3), b(4, 3);
  served.predict(x.view(), a.view());
  InferenceModel<Net>(model).predict(x.view(), b.view());
  BOOST_TEST(std::equal(a.data(), a.data() + 12, b.data()));
  using Other = Sequential<Input<6>, Linear<12>, ReLU, Linear<3>>;
  BOOST_CHECK_THROW(InferenceModel<Other>(path, load), Error);
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(from_a_checkpoint) {
  check_served_from_file<CheckpointError>(
      "typenet_test_inference.tn", [](const auto& p, const auto& m) { save_checkpoint(p, m); },
      [](const auto& p, auto& m) { load_checkpoint(p, m); });
}

BOOST_AUTO_TEST_CASE(from_a_safetensors_file) {
  check_served_from_file<SafetensorsError>(
      "typenet_test_inference.safetensors", [](const auto& p, const auto& m) { save_safetensors(p, m); },
      [](const auto& p, auto& m) { load_safetensors(p, m); });
}
