// LayerNorm and RMSNorm: values against hand-computed numbers (PyTorch's
// definitions), gradients against central finite differences in double in
// every block shape, bitwise the same on any number of threads, the fused
// training step the same as gradient-then-step, checkpoints round trips,
// names and layout. (The comparison with PyTorch itself is
// test/torch/normalization.py; the GPU kernels are test_kernel_model's.)
#define BOOST_TEST_MODULE normalization
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <vector>

#include "gradient_check.hpp"
#include "typenet/io/checkpoint.hpp"

using namespace typenet;
using typenet::testing::check_network_gradients;

namespace {

template <class Net>
void expect_exact_gradients(Mode mode = Mode::train, std::size_t batch = 7) {
  const auto e = check_network_gradients<Net>(mode, batch, 42);
  BOOST_TEST_INFO("network " << Net::name());
  BOOST_TEST(e.checked > Net::parameter_count);
  BOOST_TEST(e.parameters < 1e-6);
  BOOST_TEST(e.input < 1e-6);
}

// Reference LayerNorm / RMSNorm of one row, in long double.
std::vector<double> layer_norm(const std::vector<double>& z, double eps, bool centred) {
  long double mean = 0, squares = 0;
  if (centred) {
    for (double v : z) mean += v;
    mean /= z.size();
  }
  for (double v : z) squares += (v - mean) * (v - mean);
  const long double inv = 1 / std::sqrt(squares / z.size() + eps);
  std::vector<double> out;
  for (double v : z) out.push_back(static_cast<double>((v - mean) * inv));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(layernorm_values_are_pytorchs) {
  // z = x (identity weights, no bias), LayerNorm with gamma, beta, then nothing.
  using Net = Sequential<Input<5>, Linear<5, false>, LayerNorm<>>;
  Model<Net, double> m;
  auto w = m.weight<0>();
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 5; ++j) w(i, j) = i == j ? 1.0 : 0.0;
  const std::vector<double> gamma{1, 2, 0.5, -1, 3}, beta{0, 0.1, -0.2, 0.3, 1};
  std::copy(gamma.begin(), gamma.end(), m.gamma<0>().begin());
  std::copy(beta.begin(), beta.end(), m.beta<0>().begin());
  const std::vector<double> x{1, 2, 3, 6, -4, 0.5, 0.5, 0.5, 0.5, 0.75};
  for (Mode mode : {Mode::train, Mode::eval}) {
    const auto y = m.forward(MatrixView<const double>(x.data(), 2, 5), mode);
    for (std::size_t i = 0; i < 2; ++i) {
      const auto ref = layer_norm({x.begin() + 5 * i, x.begin() + 5 * i + 5}, static_cast<double>(1e-5f), true);
      for (std::size_t j = 0; j < 5; ++j) BOOST_TEST(std::abs(y(i, j) - (gamma[j] * ref[j] + beta[j])) < 1e-12);
    }
  }
  BOOST_TEST(Net::state_count == 0u);  // no running statistics: train and eval agree
}

BOOST_AUTO_TEST_CASE(rmsnorm_values_are_pytorchs) {
  using Net = Sequential<Input<4>, Linear<4, false>, RMSNorm<>>;
  Model<Net, double> m;
  auto w = m.weight<0>();
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) w(i, j) = i == j ? 1.0 : 0.0;
  const std::vector<double> gamma{1, -2, 0.5, 4};
  std::copy(gamma.begin(), gamma.end(), m.gamma<0>().begin());
  const std::vector<double> x{3, -1, 2, 0.25};
  const auto y = m.forward(MatrixView<const double>(x.data(), 1, 4), Mode::train);
  // eps = torch.finfo(float64).eps when none is given
  const auto ref = layer_norm(x, std::numeric_limits<double>::epsilon(), false);
  for (std::size_t j = 0; j < 4; ++j) BOOST_TEST(std::abs(y(0, j) - gamma[j] * ref[j]) < 1e-12);
  BOOST_TEST(RMSNorm<>::epsilon<float>() == std::numeric_limits<float>::epsilon());
  BOOST_TEST(RMSNorm<1e-6f>::epsilon<double>() == static_cast<double>(1e-6f));
  // A single sample trains: the statistics are the sample's own.
}

BOOST_AUTO_TEST_CASE(declarations_lay_out_the_buffers) {
  using Net = Sequential<Input<3>, Linear<4>, LayerNorm<>, ReLU, Linear<5>, RMSNorm<>, Linear<2>, LayerNorm<1e-3f, false>>;
  using B0 = Net::block<0>;
  using B1 = Net::block<1>;
  using B2 = Net::block<2>;
  // LayerNorm and RMSNorm keep the Linear's bias (only BatchNorm cancels it).
  BOOST_TEST(B0::has_bias);
  BOOST_TEST(B0::parameter_count == 3u * 4 + 4 + 2 * 4);
  BOOST_TEST(B0::scale_offset == 3u * 4 + 4);
  BOOST_TEST(B0::shift_offset == 3u * 4 + 8);
  BOOST_TEST(B1::parameter_count == 4u * 5 + 5 + 5);
  BOOST_TEST((B1::has_scale && !B1::has_shift));
  BOOST_TEST((!B2::has_scale && !B2::has_shift));
  BOOST_TEST(B2::parameter_count == 5u * 2 + 2);
  BOOST_TEST(Net::parameter_count == B0::parameter_count + B1::parameter_count + B2::parameter_count);
  BOOST_TEST(Net::state_count == 0u);
  BOOST_TEST(B0::sample_statistics);
  BOOST_TEST(!B0::batch_statistics);
  BOOST_TEST(!Net::batch_statistics);
  BOOST_TEST((B0::keeps == Keeps::normalized));
  // PyTorch's names: module index = layer position after Input.
  BOOST_TEST(std::string(B0::parameters[2].spec.torch_name) == "weight");
  BOOST_TEST(B1::layer == 4u);
  BOOST_TEST(Net::name() ==
             "Sequential<Input<3>,Linear<4>,LayerNorm,ReLU,Linear<5>,RMSNorm,Linear<2>,LayerNorm<0.001,false>>");
  BOOST_TEST((Sequential<Input<2>, Linear<2>, RMSNorm<1e-8f>>::name()) == "Sequential<Input<2>,Linear<2>,RMSNorm<1e-08>>");
  // gamma = 1, beta = 0 at initialisation, as PyTorch.
  Model<Net> m(Init::torch_default, 3);
  for (float g : m.gamma<0>()) BOOST_TEST(g == 1.0f);
  for (float b : m.beta<0>()) BOOST_TEST(b == 0.0f);
  for (float g : m.gamma<1>()) BOOST_TEST(g == 1.0f);
}

BOOST_AUTO_TEST_SUITE(finite_differences)
BOOST_AUTO_TEST_CASE(layernorm_in_each_block_shape) {
  expect_exact_gradients<Sequential<Input<5>, Linear<19>, LayerNorm<>, Linear<3>>>();
  expect_exact_gradients<Sequential<Input<5>, Linear<19>, LayerNorm<>, ReLU, Linear<3>>>();       // act' from y
  expect_exact_gradients<Sequential<Input<5>, Linear<19>, LayerNorm<>, GELU, Linear<3>>>();       // act' from u
  expect_exact_gradients<Sequential<Input<5>, Linear<19>, LayerNorm<>, Tanh, Dropout<0.4f>, Linear<3>>>();
  expect_exact_gradients<Sequential<Input<5>, Linear<19, false>, LayerNorm<1e-3f, false>, ELU<>, Linear<3>>>();
}
BOOST_AUTO_TEST_CASE(rmsnorm_in_each_block_shape) {
  expect_exact_gradients<Sequential<Input<5>, Linear<19>, RMSNorm<>, Linear<3>>>();
  expect_exact_gradients<Sequential<Input<5>, Linear<19>, RMSNorm<1e-3f>, Sigmoid, Linear<3>>>();
  expect_exact_gradients<Sequential<Input<5>, Linear<19>, RMSNorm<>, GELU, Dropout<0.25f>, Linear<3>>>();
}
// Widths that straddle the vector width and the column panels; several
// row tasks; a single sample (per-sample statistics need no batch).
BOOST_AUTO_TEST_CASE(tails_tasks_modes) {
  expect_exact_gradients<Sequential<Input<37>, Linear<67>, LayerNorm<>, ReLU, Linear<33>, RMSNorm<>, Linear<5>>>(
      Mode::train, 70);
  expect_exact_gradients<Sequential<Input<6>, Linear<9>, RMSNorm<>, Tanh, Linear<2>>>(Mode::train, 1);
}
BOOST_AUTO_TEST_CASE(with_batchnorm_and_softmax) {
  expect_exact_gradients<Sequential<Input<6>, Linear<20>, BatchNorm<>, ReLU, Linear<18>, LayerNorm<>, GELU,
                                    Linear<11>, RMSNorm<>, Linear<4>, Softmax>>();
}
BOOST_AUTO_TEST_SUITE_END()

// The row passes split by rows and the panel passes by columns: any
// number of threads computes the same bits.
BOOST_AUTO_TEST_CASE(bitwise_the_same_on_any_number_of_threads) {
  using Net = Sequential<Input<64>, Linear<256>, LayerNorm<>, GELU, Dropout<0.1f>, Linear<128>, RMSNorm<>, ReLU,
                         Linear<10>>;
  Matrix<float> x(300, 64);
  std::vector<std::int32_t> labels(300);
  Rng rng(8);
  for (std::size_t i = 0; i < 300; ++i) {
    labels[i] = static_cast<std::int32_t>(rng.below(10));
    for (std::size_t j = 0; j < 64; ++j) x(i, j) = static_cast<float>(rng.normal());
  }
  auto train = [&](cpu::ThreadPool* pool) {
    Model<Net> m(Init::torch_default, 4);
    m.set_thread_pool(pool);
    Adam<> adam({.lr = 1e-3});
    for (int step = 0; step < 3; ++step)
      train_step(m, x.view(), std::span<const std::int32_t>(labels), SoftmaxCrossEntropy{}, adam);
    return std::vector<float>(m.parameters().begin(), m.parameters().end());
  };
  cpu::ThreadPool two(2), three(3);
  const auto one = train(nullptr);
  BOOST_TEST((train(&two) == one));
  BOOST_TEST((train(&three) == one));
}

// The fused step updates gamma and beta inside backward, after the row pass
// has read them: the same bits as the gradient, then the optimizer's step.
BOOST_AUTO_TEST_CASE(fused_step_equals_gradient_then_step) {
  using Net = Sequential<Input<12>, Linear<40>, LayerNorm<>, Tanh, Linear<24>, RMSNorm<>, GELU, Linear<3>>;
  Matrix<float> x(17, 12);
  std::vector<std::int32_t> labels(17);
  Rng rng(2);
  for (std::size_t i = 0; i < 17; ++i) {
    labels[i] = static_cast<std::int32_t>(rng.below(3));
    for (std::size_t j = 0; j < 12; ++j) x(i, j) = static_cast<float>(rng.normal());
  }
  Model<Net> fused(Init::torch_default, 6), separate(Init::torch_default, 6);
  AdamW<> a({.lr = 1e-2, .weight_decay = 0.01}), b({.lr = 1e-2, .weight_decay = 0.01});
  for (int step = 0; step < 4; ++step) {
    train_step(fused, x.view(), std::span<const std::int32_t>(labels), SoftmaxCrossEntropy{}, a);
    loss_and_gradient(separate, x.view(), std::span<const std::int32_t>(labels), SoftmaxCrossEntropy{});
    b.step(separate);
  }
  BOOST_TEST(std::equal(fused.parameters().begin(), fused.parameters().end(), separate.parameters().begin()));
}

BOOST_AUTO_TEST_CASE(checkpoints_round_trip) {
  using Net = Sequential<Input<7>, Linear<16>, LayerNorm<>, ReLU, Linear<8>, RMSNorm<1e-6f>, Linear<2>>;
  const auto path = std::filesystem::temp_directory_path() / "typenet_test_normalization.tn";
  Model<Net> a(Init::kaiming_uniform, 11);
  Rng rng(1);
  for (float& p : a.parameters()) p += static_cast<float>(0.1 * rng.normal());
  SGD<> sgd({.lr = 0.1, .momentum = 0.9});
  Matrix<float> x(5, 7), t(5, 2);
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 7; ++j) x(i, j) = static_cast<float>(rng.normal());
  train_step(a, x.view(), t.view(), MeanSquaredError{}, sgd);
  save_checkpoint(path, a, sgd);
  Model<Net> b(Init::uniform, 99);
  SGD<> sgd_b({.lr = 0.1, .momentum = 0.9});
  load_checkpoint(path, b, sgd_b);
  BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  train_step(a, x.view(), t.view(), MeanSquaredError{}, sgd);
  train_step(b, x.view(), t.view(), MeanSquaredError{}, sgd_b);
  BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  // Another normalisation is another network: refused with both names.
  using Other = Sequential<Input<7>, Linear<16>, LayerNorm<>, ReLU, Linear<8>, RMSNorm<>, Linear<2>>;
  Model<Other> c;
  try {
    load_checkpoint(path, c);
    BOOST_FAIL("expected an error");
  } catch (const CheckpointError& e) {
    BOOST_TEST(std::string(e.what()).find("RMSNorm<0.000001>") != std::string::npos);
  }
  std::filesystem::remove(path);
}
