// SiLU, Softplus, Mish and Hardswish in the GPU's kernels, run on the host
// (KernelModel over HostExecutor): finite differences in double, and the CPU
// Model's results in float and double.
#define BOOST_TEST_MODULE activation_kernels
#include <boost/test/unit_test.hpp>

#include "activation_networks.hpp"
#include "kernel_model_check.hpp"

using namespace typenet;
using testing::expect_exact_gradients;
using testing::NetworkActivations;

// ============================================================ the GPU's kernels, on the host

BOOST_AUTO_TEST_SUITE(gpu_kernels_on_the_host)
BOOST_AUTO_TEST_CASE_TEMPLATE(finite_differences, A, NetworkActivations) {
  using Net = Sequential<Input<5>, Linear<12>, A, Linear<10>, BatchNorm<>, A, Dropout<0.3f>, Linear<3>>;
  expect_exact_gradients<Net, HostKernelModel<Net, double>>();
}
BOOST_AUTO_TEST_CASE_TEMPLATE(same_as_the_cpu_in_float_and_double, A, NetworkActivations) {
  using Net = Sequential<Input<37>, Linear<67>, BatchNorm<>, A, Dropout<0.2f>, Linear<17>, A, Linear<5>>;
  testing::expect_same_as_cpu<Net, float>(21, 5, 3.0);
  testing::expect_same_as_cpu<Net, double>(21, 5, 3.0);
}
BOOST_AUTO_TEST_SUITE_END()
