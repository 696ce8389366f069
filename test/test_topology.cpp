// Shape inference and planning: parameter counts, sizes, blocks, names.
#define BOOST_TEST_MODULE topology
#include <boost/test/unit_test.hpp>

#include "typenet/topology/sequential.hpp"

using namespace typenet;

using Moons = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;
using Mnist = Sequential<Input<784>, Linear<256>, ReLU, Linear<256>, ReLU, Linear<10>>;
using MnistBn =
    Sequential<Input<784>, Linear<256>, BatchNorm<>, ReLU, Linear<256>, BatchNorm<>, ReLU, Linear<10>, Softmax>;
using Regression = Sequential<Input<3>, Linear<3>, Sigmoid, Linear<2>, Sigmoid, Linear<1>, Sigmoid>;

BOOST_AUTO_TEST_CASE(parameter_counts) {
  BOOST_TEST(Moons::parameter_count == 337u);
  BOOST_TEST(Mnist::parameter_count == 269322u);
  BOOST_TEST(Regression::parameter_count == 23u);
  // BatchNorm cancels the Linear's bias: the plan drops it and adds gamma, beta.
  BOOST_TEST(MnistBn::parameter_count == 784u * 256 + 2 * 256 + 256u * 256 + 2 * 256 + 256u * 10 + 10);
  BOOST_TEST(MnistBn::state_count == 4u * 256);
}

BOOST_AUTO_TEST_CASE(sizes) {
  BOOST_TEST(Moons::input_size == 2u);
  BOOST_TEST(Moons::output_size == 1u);
  BOOST_TEST(Mnist::input_size == 784u);
  BOOST_TEST(Mnist::output_size == 10u);
  BOOST_TEST(Mnist::block_count == 3u);
  BOOST_TEST(Mnist::max_width == 256u);
}

BOOST_AUTO_TEST_CASE(blocks_fuse_the_layers_after_each_linear) {
  using B0 = MnistBn::block<0>;
  BOOST_TEST(B0::batch_statistics);
  BOOST_TEST(!B0::has_bias);
  BOOST_TEST((std::is_same_v<B0::activation, ReLU>));
  BOOST_TEST((B0::keeps == Keeps::normalized));
  BOOST_TEST(MnistBn::softmax_head);
  using Last = MnistBn::block<2>;
  BOOST_TEST((std::is_same_v<Last::activation, Identity>));
  BOOST_TEST(Last::has_bias);
  BOOST_TEST(Last::weight_offset == 784u * 256 + 512 + 256u * 256 + 512);

  using Drop = Sequential<Input<4>, Linear<8>, GELU, Dropout<0.5f>, Linear<8, false>, Tanh, Linear<2>>;
  BOOST_TEST(Drop::block<0>::has_dropout);
  BOOST_TEST((Drop::block<0>::keeps == Keeps::preactivation));  // GELU's derivative needs x
  BOOST_TEST(!Drop::block<1>::has_bias);
  BOOST_TEST((Drop::block<1>::keeps == Keeps::nothing));  // tanh' = 1 - y^2
  BOOST_TEST(Drop::block<1>::weight_offset == 4u * 8 + 8);
  // Dropout<0> is the identity: no mask is drawn.
  BOOST_TEST(!(Sequential<Input<2>, Linear<2>, Dropout<0.0f>>::block<0>::has_dropout));
}

BOOST_AUTO_TEST_CASE(names_are_readable_signatures) {
  BOOST_TEST(Moons::name() == "Sequential<Input<2>,Linear<16>,ReLU,Linear<16>,ReLU,Linear<1>>");
  BOOST_TEST((Sequential<Input<3>, Linear<4, false>, BatchNorm<1e-3f, 0.2f>, LeakyReLU<0.1f>, Dropout<0.25f>,
                         Linear<2>, Softmax>::name() ==
              "Sequential<Input<3>,Linear<4,false>,BatchNorm<0.001,0.2>,LeakyReLU<0.1>,Dropout<0.25>,Linear<2>,"
              "Softmax>"));
}
