// What the activation tests share (test_activations.cpp,
// test_activation_gradients.cpp, test_activation_kernels.cpp: one file
// would take two minutes to compile, three compile side by side).
#pragma once

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include "gradient_check.hpp"
#include "typenet/typenet.hpp"

namespace typenet::testing {

/// The activations that networks are built of in the gradient, kernel and
/// checkpoint tests (Softplus<2, 1> takes its threshold branch, x > 0.5, on
/// ordinary inputs).
using NetworkActivations =
    boost::mpl::list<SiLU, Softplus<>, Softplus<2.0f, 1.0f>, Mish, Hardswish>;

/// Finite differences in double agree with the model's gradients (M: the CPU
/// Model or the GPU kernels run on the host).
template <class Net, class M = Model<Net, double>>
void expect_exact_gradients(std::size_t batch = 7) {
  const auto e = testing::check_network_gradients<Net, M>(Mode::train, batch, 42);
  BOOST_TEST_INFO("network " << Net::name());
  BOOST_TEST(e.checked > Net::parameter_count);
  BOOST_TEST(e.parameters < 1e-6);
  BOOST_TEST(e.input < 1e-6);
}

}  // namespace typenet::testing
