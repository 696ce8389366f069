// BatchNorm values against hand-computed numbers: train-mode normalisation
// (biased variance), running statistics (momentum 0.1, unbiased variance),
// eval mode from the running statistics; and its errors.
#define BOOST_TEST_MODULE batchnorm
#include <boost/test/unit_test.hpp>
#include <barrier>
#include <cmath>
#include <thread>
#include <vector>

#include "typenet/typenet.hpp"

using namespace typenet;

// z = x (weight 1, no bias), then BatchNorm with gamma = 2, beta = 0.5.
using Net = Sequential<Input<1>, Linear<1, false>, BatchNorm<>>;

namespace {
Model<Net, double> make_model() {
  Model<Net, double> m;
  m.weight<0>()(0, 0) = 1.0;
  m.gamma<0>()[0] = 2.0;
  m.beta<0>()[0] = 0.5;
  return m;
}
const double batch[] = {1, 2, 3, 6};  // mean 3, biased variance 3.5, unbiased 14/3
// The layer's constants are float template arguments: 0.1f, 1e-5f as doubles.
const double momentum = static_cast<double>(0.1f), eps = static_cast<double>(1e-5f);
}  // namespace

BOOST_AUTO_TEST_CASE(train_mode_normalises_with_batch_statistics) {
  auto m = make_model();
  const auto y = m.forward(MatrixView<const double>(batch, 4, 1), Mode::train);
  for (int i = 0; i < 4; ++i) BOOST_TEST(std::abs(y(i, 0) - (2 * (batch[i] - 3) / std::sqrt(3.5 + eps) + 0.5)) < 1e-12);
  // running = (1 - m) running + m batch, from mean 0 and variance 1
  const double mean1 = momentum * 3, var1 = (1 - momentum) + momentum * 14.0 / 3.0;
  BOOST_TEST(std::abs(m.running_mean<0>()[0] - mean1) < 1e-12);
  BOOST_TEST(std::abs(m.running_var<0>()[0] - var1) < 1e-12);
  m.forward(MatrixView<const double>(batch, 4, 1), Mode::train);
  BOOST_TEST(std::abs(m.running_mean<0>()[0] - ((1 - momentum) * mean1 + momentum * 3)) < 1e-12);
  BOOST_TEST(std::abs(m.running_var<0>()[0] - ((1 - momentum) * var1 + momentum * 14.0 / 3.0)) < 1e-12);
  BOOST_TEST(std::abs(mean1 - 0.3) < 1e-7);  // the PyTorch numbers, to float precision
}

BOOST_AUTO_TEST_CASE(eval_mode_uses_running_statistics_and_changes_nothing) {
  auto m = make_model();
  m.forward(MatrixView<const double>(batch, 4, 1), Mode::train);
  const double rm = m.running_mean<0>()[0], rv = m.running_var<0>()[0];
  const double one[] = {2.0};
  const auto y = m.forward(MatrixView<const double>(one, 1, 1), Mode::eval);
  BOOST_TEST(std::abs(y(0, 0) - (2 * (2.0 - rm) / std::sqrt(rv + eps) + 0.5)) < 1e-12);
  BOOST_TEST(m.running_mean<0>()[0] == rm);
  BOOST_TEST(m.running_var<0>()[0] == rv);
}

BOOST_AUTO_TEST_CASE(per_feature_statistics) {
  Model<Sequential<Input<2>, Linear<2, false>, BatchNorm<1e-3f, 0.5f>>, double> m;
  auto w = m.weight<0>();
  w(0, 0) = 1, w(0, 1) = 0, w(1, 0) = 0, w(1, 1) = 1;
  const double x[] = {1, 10, 3, 30, 5, 50};  // feature 0: mean 3, var 8/3; feature 1: mean 30, var 800/3
  const auto y = m.forward(MatrixView<const double>(x, 3, 2), Mode::train);
  const double eps = static_cast<double>(1e-3f);
  BOOST_TEST(std::abs(y(0, 0) - (1 - 3) / std::sqrt(8.0 / 3 + eps)) < 1e-12);
  BOOST_TEST(std::abs(y(2, 1) - (50 - 30) / std::sqrt(800.0 / 3 + eps)) < 1e-12);
  BOOST_TEST(std::abs(m.running_mean<0>()[1] - 15.0) < 1e-12);           // 0.5 * 0 + 0.5 * 30
  BOOST_TEST(std::abs(m.running_var<0>()[0] - (0.5 + 0.5 * 4.0)) < 1e-12);  // unbiased: 8 / 2
}

BOOST_AUTO_TEST_CASE(single_sample_training_is_a_clear_error) {
  auto m = make_model();
  const double one[] = {2.0};
  try {
    m.forward(MatrixView<const double>(one, 1, 1), Mode::train);
    BOOST_FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("at least 2 samples") != std::string::npos);
  }
}

// Synchronised BatchNorm without MPI: two "processes" are two threads whose
// reducer sums through shared memory. Each trains on half of a batch; the
// averaged gradients and the running statistics must be those of one model
// on the whole batch.
namespace {
class SharedMemoryReducer {
 public:
  class Member : public cpu::BatchStatisticsReducer<double> {
   public:
    Member(SharedMemoryReducer& group, std::size_t rank) : group_(group), rank_(rank) {}
    void sum(double* values, std::size_t n) override { group_.sum(rank_, values, n); }
    std::size_t total_batch(std::size_t local) override {
      double b = static_cast<double>(local);
      group_.sum(rank_, &b, 1);
      return static_cast<std::size_t>(b);
    }

   private:
    SharedMemoryReducer& group_;
    std::size_t rank_;
  };

  void sum(std::size_t rank, double* values, std::size_t n) {
    slots_[rank].assign(values, values + n);
    barrier_.arrive_and_wait();
    for (std::size_t i = 0; i < n; ++i) values[i] = slots_[0][i] + slots_[1][i];  // same order on both
    barrier_.arrive_and_wait();
  }

 private:
  std::vector<double> slots_[2];
  std::barrier<> barrier_{2};
};
}  // namespace

BOOST_AUTO_TEST_CASE(synchronised_batchnorm_equals_one_process_on_the_whole_batch) {
  using Deep = Sequential<Input<7>, Linear<20>, BatchNorm<>, Tanh, Linear<9>, BatchNorm<>, ReLU, Linear<3>>;
  Matrix<double> x(24, 7);
  std::vector<std::int32_t> labels(24);
  Rng rng(3);
  for (std::size_t i = 0; i < 24; ++i) {
    labels[i] = static_cast<std::int32_t>(rng.below(3));
    for (std::size_t j = 0; j < 7; ++j) x(i, j) = rng.normal();
  }
  Model<Deep, double> whole(Init::torch_default, 5);
  const double loss = loss_and_gradient(whole, x.view(), std::span<const std::int32_t>(labels), SoftmaxCrossEntropy{});

  SharedMemoryReducer group;
  Model<Deep, double> half[2] = {Model<Deep, double>(Init::torch_default, 5), Model<Deep, double>(Init::torch_default, 5)};
  double half_loss[2] = {0, 0};
  auto run = [&](std::size_t r) {
    SharedMemoryReducer::Member reducer(group, r);
    half[r].set_batch_statistics_reducer(&reducer);
    half_loss[r] = loss_and_gradient(half[r], x.view().rows_view(12 * r, 12),
                                     std::span<const std::int32_t>(labels).subspan(12 * r, 12), SoftmaxCrossEntropy{});
    half[r].set_batch_statistics_reducer(nullptr);
  };
  std::thread other(run, 1);
  run(0);
  other.join();

  BOOST_TEST(std::abs((half_loss[0] + half_loss[1]) / 2 - loss) < 1e-12);
  double worst = 0;
  for (std::size_t i = 0; i < Deep::parameter_count; ++i) {
    const double averaged = (half[0].gradients()[i] + half[1].gradients()[i]) / 2;
    worst = std::max(worst, std::abs(averaged - whole.gradients()[i]) / std::max(1.0, std::abs(whole.gradients()[i])));
  }
  BOOST_TEST(worst < 1e-12);
  for (std::size_t i = 0; i < Deep::state_count; ++i) {
    BOOST_TEST(std::abs(half[0].state()[i] - whole.state()[i]) < 1e-12);
    BOOST_TEST(half[0].state()[i] == half[1].state()[i]);
  }
}
