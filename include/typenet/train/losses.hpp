// Loss functions. Each returns the loss of a batch and writes dLoss/dOutput.
//
// The elementwise losses are expressions of s = Var<0> (the network's output)
// and t = Var<1> (the target); their gradient is the expression's derivative
// in s, derived at compile time. Softmax cross-entropy is a row operation and
// is written out (fused: it reads logits and yields dLoss/dLogits = p - onehot).
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "typenet/base/matrix.hpp"
#include "typenet/expr/nodes.hpp"
#include "typenet/kernels/softmax.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// How a loss reduces over elements: their mean or their sum.
enum class Reduction { mean, sum };

namespace loss_detail {
inline constexpr expr::Var<0> s{};
inline constexpr expr::Var<1> t{};

template <class U, class V>
void check_same_shape(MatrixView<U> out, MatrixView<V> target, const char* loss) {
  if (out.rows != target.rows || out.cols != target.cols)
    throw std::invalid_argument(std::string("typenet: ") + loss + ": the targets are " + std::to_string(target.rows) +
                                " x " + std::to_string(target.cols) + " but the output is " +
                                std::to_string(out.rows) + " x " + std::to_string(out.cols) + ".");
}
}  // namespace loss_detail

/// loss = reduce over elements of E(s, t).
template <class E, Reduction R>
struct ElementwiseLoss {
  static constexpr E expression{};  ///< E(s, t), s the output and t the target
  static constexpr auto gradient_expression = expr::derivative<0>(expression);  ///< dE/ds, derived at compile time
  static constexpr bool takes_logits = false;  ///< it takes the network's output, not logits

  /// The loss of out against target.
  template <class U, class T = std::remove_const_t<U>>
  T operator()(MatrixView<U> out, std::type_identity_t<MatrixView<const T>> target) const {
    loss_detail::check_same_shape(out, target, "loss");
    double total = 0;
    for (std::size_t i = 0; i < out.rows; ++i)
      for (std::size_t j = 0; j < out.cols; ++j)
        total += static_cast<double>(expression.template eval<T>(std::array<T, 2>{out(i, j), target(i, j)}));
    return static_cast<T>(R == Reduction::mean ? total / static_cast<double>(out.rows * out.cols) : total);
  }

  /// The loss, and dLoss/dOutput into grad (same shape as out; may be dense).
  template <class U, class T = std::remove_const_t<U>>
  T operator()(MatrixView<U> out, std::type_identity_t<MatrixView<const T>> target,
               std::type_identity_t<MatrixView<T>> grad) const {
    loss_detail::check_same_shape(out, target, "loss");
    const T scale = R == Reduction::mean ? T(1) / static_cast<T>(out.rows * out.cols) : T(1);
    double total = 0;
    for (std::size_t i = 0; i < out.rows; ++i)
      for (std::size_t j = 0; j < out.cols; ++j) {
        const std::array<T, 2> env{out(i, j), target(i, j)};
        total += static_cast<double>(expression.template eval<T>(env));
        grad(i, j) = scale * gradient_expression.template eval<T>(env);
      }
    return static_cast<T>(R == Reduction::mean ? total / static_cast<double>(out.rows * out.cols) : total);
  }
};

namespace loss_detail {
using namespace expr;  // the formulas below read as mathematics
/// (s - t)^2
using Squared = decltype(pow<2>(s - t));
/// max(0, 1 - t s)
using Margin = decltype(max(lit<1.0> - t * s, lit<0.0>));
/// -(t log p + (1 - t) log(1 - p)), logs clamped at -100 as torch.nn.BCELoss
using BinaryCrossEntropy = decltype(-(t * max(log(s), lit<-100.0>) + (lit<1.0> - t) * max(log(lit<1.0> - s), lit<-100.0>)));
/// max(s, 0) - s t + log(1 + e^-|s|): BCE of sigmoid(s), without overflow
using BinaryCrossEntropyWithLogits = decltype(max(s, lit<0.0>) - s * t + log1p(exp(-abs(s))));
}  // namespace loss_detail

/// mean (s - t)^2                                  (torch.nn.MSELoss)
using MeanSquaredError = ElementwiseLoss<loss_detail::Squared, Reduction::mean>;
/// sum (s - t)^2                                   (micrograd's regression loss)
using SumSquaredError = ElementwiseLoss<loss_detail::Squared, Reduction::sum>;
/// mean max(0, 1 - t s), t in {-1, +1}             (micrograd's max-margin loss)
using Hinge = ElementwiseLoss<loss_detail::Margin, Reduction::mean>;
/// mean BCE on probabilities                       (torch.nn.BCELoss)
using BinaryCrossEntropy = ElementwiseLoss<loss_detail::BinaryCrossEntropy, Reduction::mean>;
/// mean BCE on logits                              (torch.nn.BCEWithLogitsLoss)
using BinaryCrossEntropyWithLogits = ElementwiseLoss<loss_detail::BinaryCrossEntropyWithLogits, Reduction::mean>;

/// mean over samples of -log softmax(l)[label]     (torch.nn.CrossEntropyLoss)
/// Fused: computed from the logits with log-sum-exp, and its gradient with
/// respect to the logits is (softmax(l) - onehot(label)) / batch.
struct SoftmaxCrossEntropy {
  static constexpr bool takes_logits = true;  ///< it takes logits (the network's last block before any Softmax)

  /// The loss of the logits against class labels.
  template <class U, class T = std::remove_const_t<U>>
  T operator()(MatrixView<U> logits, std::span<const std::int32_t> labels) const {
    return compute<T>(MatrixView<const T>(logits), labels, nullptr);
  }
  /// The loss, and dLoss/dLogits written into grad.
  template <class U, class T = std::remove_const_t<U>>
  T operator()(MatrixView<U> logits, std::span<const std::int32_t> labels,
               std::type_identity_t<MatrixView<T>> grad) const {
    return compute<T>(MatrixView<const T>(logits), labels, &grad);
  }

 private:
  template <class T>
  static T compute(MatrixView<const T> l, std::span<const std::int32_t> labels, MatrixView<T>* grad) {
    if (labels.size() != l.rows)
      throw std::invalid_argument("typenet: softmax cross-entropy: " + std::to_string(labels.size()) +
                                  " labels for a batch of " + std::to_string(l.rows) + " samples.");
    double total = 0;
    const T inv_batch = T(1) / static_cast<T>(l.rows);
    for (std::size_t i = 0; i < l.rows; ++i) {
      const std::int32_t label = labels[i];
      if (label < 0 || static_cast<std::size_t>(label) >= l.cols)
        throw std::invalid_argument("typenet: softmax cross-entropy: label " + std::to_string(label) +
                                    " of sample " + std::to_string(i) + " is outside [0, " +
                                    std::to_string(l.cols) + "), the network's output width.");
      const T* row = l.row(i);
      const T lse = softmax::log_sum_exp(row, l.cols);
      total += static_cast<double>(lse - row[label]);
      if (grad)
        for (std::size_t j = 0; j < l.cols; ++j)
          (*grad)(i, j) = (std::exp(row[j] - lse) - (j == static_cast<std::size_t>(label) ? T(1) : T(0))) * inv_batch;
    }
    return static_cast<T>(total / static_cast<double>(l.rows));
  }
};

}  // namespace typenet
