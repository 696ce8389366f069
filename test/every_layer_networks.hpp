// Networks that together hold every layer and activation typenet has, for
// the tests that carry models out of typenet and back (PyTorch, ONNX), and
// how those tests move a model off its initial values. Each test adds a
// network of the smooth activations with its own Softplus.
#pragma once

#include <cstddef>

#include "typenet/typenet.hpp"

namespace every_layer {

using namespace typenet;

using Deep = Sequential<Input<5>, Linear<12>, BatchNorm<>, ReLU, Dropout<0.2f>, Linear<10>, LayerNorm<>, GELU, Linear<9>,
                        RMSNorm<>, Tanh, Linear<8>, LeakyReLU<0.1f>, Linear<8>, BatchNorm<1e-3f, 0.2f>, ELU<0.5f>,
                        Linear<7>, Sigmoid, Linear<6>, Identity, Linear<6, false>, LayerNorm<1e-4f, false>, Linear<4>,
                        Softmax>;
using Unbiased = Sequential<Input<4>, Linear<6, false>, BatchNorm<>, Tanh, Linear<5>, RMSNorm<1e-6f>, ELU<>, Linear<3>>;

// Parameters perturbed, then five SGD steps of MSE on x (filled here) against
// random targets: values away from any initialiser's, and BatchNorm's running
// statistics away from 0 and 1.
template <class Net, class T>
void move_off_initial_values(Model<Net, T>& model, Matrix<T>& x, Rng& rng) {
  for (T& p : model.parameters()) p += static_cast<T>(0.1 * rng.normal());
  Matrix<T> y(x.rows(), Net::output_size);
  for (std::size_t i = 0; i < x.rows(); ++i) {
    for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = static_cast<T>(1.5 * rng.normal() + 0.5);
    for (std::size_t j = 0; j < Net::output_size; ++j) y(i, j) = static_cast<T>(rng.uniform(0.0, 1.0));
  }
  SGD<T> sgd({.lr = 0.05});
  for (int s = 0; s < 5; ++s) train_step(model, x.view(), y.view(), MeanSquaredError{}, sgd);
}

}  // namespace every_layer
