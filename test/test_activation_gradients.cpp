// SiLU, Softplus, Mish and Hardswish in networks, on the CPU: gradients
// against central finite differences in double (plain, with Dropout, with
// BatchNorm, with both, one-output blocks, all four in one network), and
// bitwise equal results on 1 and 2 threads. The formulas themselves are
// tested in test_activations.cpp, the GPU's kernels in
// test_activation_kernels.cpp.
#define BOOST_TEST_MODULE activation_gradients
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <vector>

#include "activation_networks.hpp"

using namespace typenet;
using testing::expect_exact_gradients;
using testing::NetworkActivations;

// ============================================================ gradients (finite differences, double)

BOOST_AUTO_TEST_SUITE(finite_differences)
BOOST_AUTO_TEST_CASE_TEMPLATE(plain, A, NetworkActivations) {
  expect_exact_gradients<Sequential<Input<4>, Linear<9>, A, Linear<3>>>();
}
BOOST_AUTO_TEST_CASE_TEMPLATE(with_dropout, A, NetworkActivations) {
  expect_exact_gradients<Sequential<Input<5>, Linear<20>, A, Dropout<0.3f>, Linear<3>>>();
}
BOOST_AUTO_TEST_CASE_TEMPLATE(with_batchnorm, A, NetworkActivations) {
  expect_exact_gradients<Sequential<Input<5>, Linear<19>, BatchNorm<>, A, Linear<3>>>();
}
BOOST_AUTO_TEST_CASE_TEMPLATE(with_batchnorm_and_dropout, A, NetworkActivations) {
  expect_exact_gradients<Sequential<Input<6>, Linear<20>, BatchNorm<>, A, Dropout<0.2f>, Linear<4>>>(11);
}
// One-output blocks have kernels of their own (cpu/single_output.hpp).
BOOST_AUTO_TEST_CASE_TEMPLATE(one_output_block, A, NetworkActivations) {
  expect_exact_gradients<Sequential<Input<7>, Linear<1>, A, Linear<2>>>(19);
}
BOOST_AUTO_TEST_CASE(all_four_in_one_network_with_odd_widths) {
  expect_exact_gradients<Sequential<Input<37>, Linear<67>, SiLU, Linear<17>, BatchNorm<>, Mish, Dropout<0.25f>,
                                    Linear<9>, Hardswish, Linear<5>, Softplus<>, Linear<3>>>(13);
}
BOOST_AUTO_TEST_SUITE_END()

// ============================================================ threads

// Each output element is one task's work in a fixed order: the pool's size
// changes nothing.
BOOST_AUTO_TEST_CASE(results_do_not_depend_on_the_thread_count) {
  using Net = Sequential<Input<64>, Linear<256>, SiLU, Linear<256>, BatchNorm<>, Mish, Dropout<0.2f>, Linear<128>,
                         Hardswish, Linear<64>, Softplus<>, Linear<10>>;
  Matrix<float> x(96, 64), g(96, 10);
  Rng rng(3);
  for (std::size_t i = 0; i < 96; ++i) {
    for (std::size_t j = 0; j < 64; ++j) x(i, j) = static_cast<float>(rng.normal());
    for (std::size_t j = 0; j < 10; ++j) g(i, j) = static_cast<float>(rng.normal());
  }
  auto run = [&](cpu::ThreadPool* pool) {
    Model<Net> model(Init::torch_default, 4);
    model.set_thread_pool(pool);
    const auto y = model.forward(x.view(), Mode::train);
    std::vector<float> out(y.data, y.data + y.rows * y.cols);
    model.backward(g.view(), true);
    out.insert(out.end(), model.gradients().begin(), model.gradients().end());
    const auto dx = model.input_gradient();
    out.insert(out.end(), dx.data, dx.data + dx.rows * dx.cols);
    return out;
  };
  cpu::ThreadPool two(2);
  const auto single = run(nullptr), pair = run(&two);
  BOOST_TEST(single.size() == pair.size());
  BOOST_TEST(std::memcmp(single.data(), pair.data(), single.size() * sizeof(float)) == 0);
}
