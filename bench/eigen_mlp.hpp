// The Eigen side of the inference benchmark: a dense network for inference
// as an expert hand-writes it in Eigen 3.4 (Debian's libeigen3-dev), used by
// bench/bench_inference.cpp beside typenet and oneDNN. A benchmark peer only:
// nothing in include/ uses Eigen.
//
// Every matrix is allocated once, in the constructor; run() allocates
// nothing (products into preallocated activations with noalias(), the
// element-wise steps in place). Per Linear: Y = X * W, then one pass that
// adds the bias row and applies the activation (cwiseMax(0) for ReLU,
// Eigen's vectorised rational tanh for Tanh); then, if the network ends in
// one, a numerically stable softmax per row (subtract the row's maximum,
// exp, divide by the sum). One thread: the caller sets
// Eigen::setNbThreads(1), and the benchmark is built without OpenMP.
#pragma once

#include <Eigen/Core>
#include <type_traits>
#include <vector>

#include "peer_layers.hpp"
#include "typenet/typenet.hpp"

namespace bench {

// The storage order of the weights (EigenMlp::Weights says why row-major).
#ifndef TYPENET_BENCH_EIGEN_WEIGHT_ORDER
#define TYPENET_BENCH_EIGEN_WEIGHT_ORDER Eigen::RowMajor
#endif
inline constexpr int WeightOrder = TYPENET_BENCH_EIGEN_WEIGHT_ORDER;

class EigenMlp {
 public:
  enum class Activation { identity, relu, tanh };
  struct Layer {
    int in, out;
    Activation activation;
  };
  // Activations are batch x width, row-major: one sample a row, as typenet's
  // input and output are, so input() and output() are plain arrays.
  using Activations = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  // The weights are in x out (typenet's layout), so X * W is the product.
  // Row-major (as typenet gives them) unless TYPENET_BENCH_EIGEN_WEIGHT_ORDER
  // says Eigen::ColMajor (Eigen's default; W copied once into it). Neither
  // is faster everywhere; row-major wins on more workloads. Medians of two
  // or three runs, one thread, Zen 3, ns (row-major / column-major):
  //   workload               AVX2 (-march=native)   128-bit (x86-64-v2)
  //   mnist_batch1           21572 / 18379          36888 / 29952
  //   mnist_batch16         229476 / 281300        448467 / 536923
  //   mnist_batch1000     12652844 / 12710036    26134206 / 24283340
  //   dense16_tanh_batch1      150 / 166              195 / 219
  //   dense64_tanh_batch1      601 / 558              935 / 1007
  //   moons_batch1             141 / 207              184 / 180
  using Weights = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, WeightOrder>;
  using Bias = Eigen::Matrix<float, 1, Eigen::Dynamic>;

  EigenMlp(const std::vector<Layer>& layers, bool softmax, int batch, const std::vector<const float*>& weights,
           const std::vector<const float*>& biases)
      : layers_(layers), softmax_(softmax) {
    activations_.emplace_back(batch, layers.front().in);
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const int in = layers[l].in, out = layers[l].out;
      // typenet's W is in x out row-major; Eigen copies it into Weights' order.
      weights_.emplace_back(
          Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(weights[l], in, out));
      biases_.emplace_back(Eigen::Map<const Bias>(biases[l], out));
      activations_.emplace_back(batch, out);
    }
    for (auto& a : activations_) a.setZero();
  }
  float* input() { return activations_.front().data(); }
  const float* output() const { return activations_.back().data(); }

  void run() {
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const Activations& x = activations_[l];
      Activations& y = activations_[l + 1];
      // One sample: a row vector at compile time, so Eigen goes straight to
      // its matrix-vector kernel instead of deciding at run time.
      if (x.rows() == 1) y.row(0).noalias() = x.row(0) * weights_[l];
      else y.noalias() = x * weights_[l];
      // The bias and the activation in one pass over Y.
      switch (layers_[l].activation) {
        case Activation::relu: y = (y.rowwise() + biases_[l]).cwiseMax(0.0f); break;
        case Activation::tanh: y = (y.rowwise() + biases_[l]).array().tanh().matrix(); break;
        case Activation::identity: y.rowwise() += biases_[l]; break;
      }
    }
    if (softmax_) {
      Activations& y = activations_.back();
      for (Eigen::Index i = 0; i < y.rows(); ++i) {
        auto row = y.row(i).array();
        row = (row - row.maxCoeff()).exp();
        row /= row.sum();
      }
    }
  }

 private:
  std::vector<Layer> layers_;
  bool softmax_;
  std::vector<Weights> weights_;
  std::vector<Bias> biases_;
  std::vector<Activations> activations_;
};

// The Eigen layers of a typenet network type (ReLU, Tanh, Identity only).
template <class Net>
std::vector<EigenMlp::Layer> eigen_layers() {
  return peer_layers<Net, EigenMlp::Layer>(EigenMlp::Activation::relu, EigenMlp::Activation::tanh,
                                           EigenMlp::Activation::identity);
}

}  // namespace bench
