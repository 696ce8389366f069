// Every gradient in typenet against central finite differences in double:
// each activation, each loss, Linear (with and without bias), BatchNorm in
// train mode, dropout with a fixed mask, every fused block combination in
// multi-block networks, a Softmax head; for the input and every parameter.
#define BOOST_TEST_MODULE gradients
#include <boost/test/unit_test.hpp>

#include "gradient_check.hpp"

using namespace typenet;
using typenet::testing::check_network_gradients;

namespace {
constexpr double tolerance = 1e-6;

template <class Net>
void expect_exact_gradients(Mode mode = Mode::train, std::size_t batch = 7) {
  const auto e = check_network_gradients<Net>(mode, batch, 42);
  BOOST_TEST_INFO("network " << Net::name());
  BOOST_TEST(e.checked > Net::parameter_count);
  BOOST_TEST(e.parameters < tolerance);
  BOOST_TEST(e.input < tolerance);
}
}  // namespace

// Linear + each activation, in a two-block network so that the activation's
// derivative feeds a parameter gradient and the input gradient.
BOOST_AUTO_TEST_CASE(linear_identity) { expect_exact_gradients<Sequential<Input<4>, Linear<9>, Linear<3>>>(); }
BOOST_AUTO_TEST_CASE(linear_without_bias) {
  expect_exact_gradients<Sequential<Input<4>, Linear<9, false>, Tanh, Linear<3, false>>>();
}
BOOST_AUTO_TEST_CASE(activation_relu) { expect_exact_gradients<Sequential<Input<4>, Linear<9>, ReLU, Linear<3>>>(); }
BOOST_AUTO_TEST_CASE(activation_leaky_relu) {
  expect_exact_gradients<Sequential<Input<4>, Linear<9>, LeakyReLU<0.1f>, Linear<3>>>();
}
BOOST_AUTO_TEST_CASE(activation_tanh) { expect_exact_gradients<Sequential<Input<4>, Linear<9>, Tanh, Linear<3>>>(); }
BOOST_AUTO_TEST_CASE(activation_sigmoid) { expect_exact_gradients<Sequential<Input<4>, Linear<9>, Sigmoid, Linear<3>>>(); }
BOOST_AUTO_TEST_CASE(activation_elu) { expect_exact_gradients<Sequential<Input<4>, Linear<9>, ELU<0.7f>, Linear<3>>>(); }
BOOST_AUTO_TEST_CASE(activation_gelu) { expect_exact_gradients<Sequential<Input<4>, Linear<9>, GELU, Linear<3>>>(); }
BOOST_AUTO_TEST_CASE(identity_layer) { expect_exact_gradients<Sequential<Input<4>, Linear<9>, Identity, Linear<3>>>(); }

// Widths that straddle the SIMD width and the column panels (tails everywhere).
BOOST_AUTO_TEST_CASE(odd_widths) {
  expect_exact_gradients<Sequential<Input<37>, Linear<67>, ReLU, Linear<17>, Sigmoid, Linear<5>>>(Mode::train, 13);
}

BOOST_AUTO_TEST_CASE(batchnorm_train_mode) {
  expect_exact_gradients<Sequential<Input<5>, Linear<19>, BatchNorm<>, Linear<3>>>();
}
BOOST_AUTO_TEST_CASE(dropout_fixed_mask) {
  expect_exact_gradients<Sequential<Input<5>, Linear<40>, Dropout<0.5f>, Linear<3>>>();
}

// Every fused block combination, in multi-block networks.
BOOST_AUTO_TEST_CASE(block_linear_activation) {
  expect_exact_gradients<Sequential<Input<6>, Linear<20>, GELU, Linear<18>, Tanh, Linear<4>>>();
}
BOOST_AUTO_TEST_CASE(block_linear_batchnorm_activation) {
  expect_exact_gradients<Sequential<Input<6>, Linear<20>, BatchNorm<>, ReLU, Linear<18>, BatchNorm<>, ELU<>,
                                    Linear<4>>>();
}
BOOST_AUTO_TEST_CASE(block_linear_batchnorm_activation_dropout) {
  expect_exact_gradients<Sequential<Input<6>, Linear<20>, BatchNorm<>, Sigmoid, Dropout<0.3f>, Linear<18>,
                                    BatchNorm<>, GELU, Dropout<0.2f>, Linear<4>>>();
}
BOOST_AUTO_TEST_CASE(block_linear_activation_dropout) {
  expect_exact_gradients<Sequential<Input<6>, Linear<33>, Tanh, Dropout<0.4f>, Linear<18>, LeakyReLU<>,
                                    Dropout<0.1f>, Linear<4>>>();
}
BOOST_AUTO_TEST_CASE(softmax_head) {
  expect_exact_gradients<Sequential<Input<6>, Linear<20>, ReLU, Linear<5>, Softmax>>();
}
BOOST_AUTO_TEST_CASE(large_batch_many_row_tiles) {
  expect_exact_gradients<Sequential<Input<3>, Linear<24>, BatchNorm<>, Tanh, Dropout<0.25f>, Linear<2>>>(Mode::train,
                                                                                                          61);
}

// Blocks with one output column take their own kernels (cpu/single_output.hpp):
// last and hidden, with and without bias, every kind of activation's saved
// value, dropout, inputs spanning several chunks with a tail, batches that
// are not a multiple of the vector width; BatchNorm keeps the panel kernels.
BOOST_AUTO_TEST_CASE(single_output_blocks) {
  expect_exact_gradients<Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>>(Mode::train, 37);
  expect_exact_gradients<Sequential<Input<5>, Linear<1>, Tanh, Linear<1, false>, Sigmoid>>(Mode::train, 19);
  expect_exact_gradients<Sequential<Input<150>, Linear<1>, ELU<>, Linear<3>>>(Mode::train, 9);
  expect_exact_gradients<Sequential<Input<7>, Linear<1>, GELU, Dropout<0.3f>, Linear<4>>>(Mode::train, 23);
  expect_exact_gradients<Sequential<Input<7>, Linear<1>, BatchNorm<>, LeakyReLU<>, Linear<2>>>(Mode::train, 11);
}

// ---------------------------------------------------------------- losses
namespace {
template <class Loss>
void expect_loss_gradient(const Loss& loss, const Matrix<double>& out, const Matrix<double>& target) {
  Matrix<double> grad(out.rows(), out.cols());
  loss(out.view(), target.view(), grad.view());
  Matrix<double> probe = out;
  double worst = 0;
  for (std::size_t i = 0; i < out.rows(); ++i)
    for (std::size_t j = 0; j < out.cols(); ++j) {
      const double h = 1e-6, old = probe(i, j);
      probe(i, j) = old + h;
      const double up = loss(probe.view(), target.view());
      probe(i, j) = old - h;
      const double down = loss(probe.view(), target.view());
      probe(i, j) = old;
      worst = std::max(worst, typenet::testing::relative_error(grad(i, j), (up - down) / (2 * h)));
    }
  BOOST_TEST(worst < tolerance);
}

Matrix<double> random_matrix(std::size_t r, std::size_t c, std::uint64_t seed, double lo, double hi) {
  Rng rng(seed);
  Matrix<double> m(r, c);
  for (std::size_t i = 0; i < r; ++i)
    for (std::size_t j = 0; j < c; ++j) m(i, j) = rng.uniform(lo, hi);
  return m;
}
}  // namespace

BOOST_AUTO_TEST_CASE(loss_mean_squared_error) {
  expect_loss_gradient(MeanSquaredError{}, random_matrix(6, 3, 1, -2, 2), random_matrix(6, 3, 2, -2, 2));
}
BOOST_AUTO_TEST_CASE(loss_sum_squared_error) {
  expect_loss_gradient(SumSquaredError{}, random_matrix(6, 3, 1, -2, 2), random_matrix(6, 3, 2, -2, 2));
}
BOOST_AUTO_TEST_CASE(loss_hinge) {
  Matrix<double> t = random_matrix(20, 1, 3, -1, 1);
  for (std::size_t i = 0; i < t.rows(); ++i) t(i, 0) = t(i, 0) > 0 ? 1 : -1;
  expect_loss_gradient(Hinge{}, random_matrix(20, 1, 4, -3, 3), t);
}
BOOST_AUTO_TEST_CASE(loss_binary_cross_entropy) {
  expect_loss_gradient(BinaryCrossEntropy{}, random_matrix(8, 2, 5, 0.02, 0.98), random_matrix(8, 2, 6, 0, 1));
}
BOOST_AUTO_TEST_CASE(loss_binary_cross_entropy_with_logits) {
  expect_loss_gradient(BinaryCrossEntropyWithLogits{}, random_matrix(8, 2, 7, -30, 30), random_matrix(8, 2, 8, 0, 1));
}
BOOST_AUTO_TEST_CASE(loss_softmax_cross_entropy) {
  const Matrix<double> logits = random_matrix(7, 5, 9, -20, 20);
  const std::vector<std::int32_t> labels{0, 4, 2, 2, 1, 3, 0};
  Matrix<double> grad(7, 5), probe = logits;
  SoftmaxCrossEntropy loss;
  loss(logits.view(), labels, grad.view());
  double worst = 0;
  for (std::size_t i = 0; i < 7; ++i)
    for (std::size_t j = 0; j < 5; ++j) {
      const double h = 1e-6, old = probe(i, j);
      probe(i, j) = old + h;
      const double up = loss(probe.view(), labels);
      probe(i, j) = old - h;
      const double down = loss(probe.view(), labels);
      probe(i, j) = old;
      worst = std::max(worst, typenet::testing::relative_error(grad(i, j), (up - down) / (2 * h)));
    }
  BOOST_TEST(worst < tolerance);
}

// The fused path (softmax cross-entropy on logits, past the Softmax head)
// against finite differences of the whole network's loss.
BOOST_AUTO_TEST_CASE(fused_softmax_cross_entropy_through_network) {
  using Net = Sequential<Input<4>, Linear<12>, BatchNorm<>, Tanh, Linear<6>, Softmax>;
  Model<Net, double> model(Init::torch_default, 3);
  const Matrix<double> x = random_matrix(9, 4, 10, -1, 1);
  const std::vector<std::int32_t> labels{0, 1, 2, 3, 4, 5, 0, 1, 2};
  loss_and_gradient(model, x.view(), std::span<const std::int32_t>(labels), SoftmaxCrossEntropy{});
  const std::vector<double> analytic(model.gradients().begin(), model.gradients().end());
  auto loss = [&] {
    model.forward(x.view(), Mode::train);
    return SoftmaxCrossEntropy{}(model.logits(), std::span<const std::int32_t>(labels));
  };
  double worst = 0;
  auto params = model.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const double h = 1e-6, old = params[i];
    params[i] = old + h;
    const double up = loss();
    params[i] = old - h;
    const double down = loss();
    params[i] = old;
    worst = std::max(worst, typenet::testing::relative_error(analytic[i], (up - down) / (2 * h)));
  }
  BOOST_TEST(worst < tolerance);
}

// An elementwise loss on a Softmax head goes through the softmax Jacobian.
BOOST_AUTO_TEST_CASE(mse_through_softmax_head) {
  using Net = Sequential<Input<3>, Linear<8>, ReLU, Linear<4>, Softmax>;
  Model<Net, double> model(Init::torch_default, 5);
  const Matrix<double> x = random_matrix(5, 3, 11, -1, 1), t = random_matrix(5, 4, 12, 0, 1);
  loss_and_gradient(model, x.view(), t.view(), MeanSquaredError{});
  const std::vector<double> analytic(model.gradients().begin(), model.gradients().end());
  double worst = 0;
  auto params = model.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const double h = 1e-6, old = params[i];
    params[i] = old + h;
    const double up = MeanSquaredError{}(model.forward(x.view(), Mode::train), t.view());
    params[i] = old - h;
    const double down = MeanSquaredError{}(model.forward(x.view(), Mode::train), t.view());
    params[i] = old;
    worst = std::max(worst, typenet::testing::relative_error(analytic[i], (up - down) / (2 * h)));
  }
  BOOST_TEST(worst < tolerance);
}
