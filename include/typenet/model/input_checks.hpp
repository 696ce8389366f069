// The checks every model (the CPU's Model, the GPU's KernelModel) makes of
// a batch before forward and of its state before backward, each failure
// one sentence.
#pragma once

#include "typenet/config.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>

#include "typenet/base/mode.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// A batch of `rows` samples of `cols` features, rows `stride` apart, at
/// `data`, for a network starting with Input<input_size>.
template <class Net>
void check_forward_input(const void* data, std::size_t rows, std::size_t cols, std::size_t stride, Mode mode) {
  if (cols != Net::input_size)
    throw std::invalid_argument("typenet: the input has " + std::to_string(cols) +
                                " features per sample, but the network starts with Input<" +
                                std::to_string(Net::input_size) + ">.");
  if (rows == 0) throw std::invalid_argument("typenet: the input batch is empty (0 samples).");
  if (stride < cols) throw std::invalid_argument("typenet: the input's row stride is smaller than its width.");
  if (!data) throw std::invalid_argument("typenet: the input has no data (null pointer).");
  if constexpr (Net::batch_statistics) {
    if (mode == Mode::train && rows < 2)
      throw std::invalid_argument(
          "typenet: BatchNorm in Mode::train needs at least 2 samples per batch (got 1); use Mode::eval to "
          "evaluate single samples.");
  }
}

/// Backward needs a train-mode forward first.
inline void check_backward_ready(Mode last_forward, std::size_t batch) {
  if (last_forward != Mode::train || batch == 0)
    throw std::logic_error("typenet: backward needs a forward in Mode::train first.");
}

}  // namespace typenet
