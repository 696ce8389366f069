// What a layer declares about the values it owns: its learned parameters and
// its state (values a layer keeps but does not learn, like BatchNorm's running
// statistics). The planner lays the declarations out in the model's buffers;
// initialisation, checkpoints and the importers and exporters read them, so a
// new layer appears in all of them by declaring its values here.
#pragma once

#include <cstddef>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// One dimension of a value, in terms of its block's widths.
enum class Extent { one, in, out };

/// The size of one dimension, given the block's input and output widths.
constexpr std::size_t extent_size(Extent e, std::size_t in, std::size_t out) {
  return e == Extent::in ? in : (e == Extent::out ? out : 1);
}

/// What the kernels read a value as. A layer kind whose values play a new role
/// needs kernels that read it: the roles are the kernels' vocabulary.
enum class ParameterRole {
  weight,  ///< Linear's W, in x out
  bias,  ///< Linear's b
  scale,  ///< a normalisation's gamma
  shift,  ///< a normalisation's beta
  running_mean,  ///< BatchNorm's running estimates (state)
  running_var,
};

/// How a value starts. `linear_weight` and `linear_bias` follow the model's
/// Init scheme (train: PyTorch's nn.Linear by default); the others are constant.
enum class Initial { linear_weight, linear_bias, ones, zeros };

/// How PyTorch stores the value in its module's state_dict: as typenet does,
/// or transposed (nn.Linear's weight is [out, in]; typenet's W is in x out).
enum class TorchLayout { same, transposed };

/// What a layer declares about one of its values: its role, names, shape, PyTorch layout and initial value.
struct ValueSpec {
  ParameterRole role;  ///< what the value is (weight, bias, gamma, ...)
  const char* name;        ///< typenet's name of the value ("gamma")
  const char* torch_name;  ///< its name in the PyTorch module ("weight")
  ///@{
  /// typenet's shape (rows x cols, row-major; a vector is one x n).
  Extent rows, cols;       ///< typenet's shape (rows x cols, row-major; a vector is one x n)
  ///@}
  TorchLayout torch_layout;  ///< as PyTorch stores it: the same, or transposed
  Initial initial;  ///< how it starts

  /// The number of values for a block of these widths.
  constexpr std::size_t size(std::size_t in, std::size_t out) const {
    return extent_size(rows, in, out) * extent_size(cols, in, out);
  }
};

/// A vector with one value per output feature: every normalisation parameter
/// and state value.
constexpr ValueSpec feature_vector(ParameterRole role, const char* name, const char* torch_name, Initial initial) {
  return {role, name, torch_name, Extent::one, Extent::out, TorchLayout::same, initial};
}

}  // namespace typenet
