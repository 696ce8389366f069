// Accuracy of a batch of outputs against its targets.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "typenet/base/matrix.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// The predicted class of each row: the index of its largest output.
template <class T>
std::size_t argmax(const T* row, std::size_t n) {
  return static_cast<std::size_t>(std::max_element(row, row + n) - row);
}

/// Fraction of rows whose argmax equals the label.
template <class T>
double accuracy(MatrixView<const T> out, std::span<const std::int32_t> labels) {
  if (labels.size() != out.rows)
    throw std::invalid_argument("typenet: accuracy: " + std::to_string(labels.size()) + " labels for " +
                                std::to_string(out.rows) + " outputs.");
  if (out.rows == 0) return 0.0;
  std::size_t right = 0;
  for (std::size_t i = 0; i < out.rows; ++i)
    right += static_cast<std::int64_t>(argmax(out.row(i), out.cols)) == labels[i] ? 1 : 0;
  return static_cast<double>(right) / static_cast<double>(out.rows);
}

/// One output per row, targets in {-1, +1} (hinge) or {0, 1} (sigmoid,
/// logits): a prediction is positive when the output exceeds `threshold`.
template <class T>
double binary_accuracy(MatrixView<const T> out, std::type_identity_t<MatrixView<const T>> targets,
                       std::type_identity_t<T> threshold, std::type_identity_t<T> positive = T(1)) {
  if (out.rows != targets.rows || out.cols != 1 || targets.cols != 1)
    throw std::invalid_argument("typenet: binary_accuracy needs one output and one target per row.");
  if (out.rows == 0) return 0.0;
  std::size_t right = 0;
  for (std::size_t i = 0; i < out.rows; ++i) right += ((out(i, 0) > threshold) == (targets(i, 0) == positive)) ? 1 : 0;
  return static_cast<double>(right) / static_cast<double>(out.rows);
}

}  // namespace typenet
