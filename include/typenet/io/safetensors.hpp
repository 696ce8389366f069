// A model's values as a safetensors file, named and laid out as PyTorch's
// state_dict() of a torch.nn.Sequential with the same layers:
//
//   save_safetensors("net.safetensors", model);   // torch: nn.Sequential(...).load_state_dict(...)
//   load_safetensors("net.safetensors", model);   // a state_dict saved as safetensors
//
// Layer k after Input is module k (a module index counts every layer,
// activations and Dropout included). Each value a layer declares
// (topology/parameters.hpp) is "k.<its PyTorch name>", in PyTorch's layout:
// Linear's weight [out, in] (typenet keeps in x out), vectors [out]. A
// normalisation over the batch (BatchNorm) also has PyTorch's
// num_batches_tracked (I64, shape []). SafetensorsNames maps the modules to
// other names (fc1, bn1, ...) and adds a prefix ("net."), for models that
// are not one nn.Sequential.
//
// A Linear whose bias a following BatchNorm cancels has no bias in typenet;
// PyTorch's nn.Linear before BatchNorm1d usually has one. Saving writes it
// as zeros; loading folds it into the running mean (running_mean - bias),
// which is exact in evaluation, and in training the batch mean absorbs it.
// The format itself (checks, dtypes, atomic writes): io/safetensors_format.hpp.
// docs/interop.md says all of it, with the checks against PyTorch.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "typenet/io/safetensors_format.hpp"
#include "typenet/topology/sequential.hpp"
#include "typenet/version.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// Declared, not included: save and load are templates that meet the full
// Model where they are used (typenet.hpp includes both).
template <class Net, class T>
class Model;

/// Module names other than nn.Sequential's "0", "1", ...: one per layer after
/// Input, in order (layers without values, like ReLU, need a name too, which
/// is not used), and a prefix before each, e.g. {.prefix = "net.", .modules =
/// {"fc1", "bn1", "act", "fc2"}} for "net.fc1.weight", "net.bn1.running_mean".
struct SafetensorsNames {
  std::string prefix = {};  ///< put before every name, e.g. "net."
  std::vector<std::string> modules = {};  ///< one name per layer after Input; empty: "0", "1", ...
};

/// How save_safetensors names and stores the tensors.
struct SafetensorsSaveOptions {
  SafetensorsNames names = {};  ///< the names to write under
  /// F32 or F64; by default the model's scalar type.
  std::optional<SafetensorsDtype> dtype = std::nullopt;
};

/// How load_safetensors finds and checks the tensors.
struct SafetensorsLoadOptions {
  SafetensorsNames names = {};  ///< the names to read
  /// The files typenet and typenet_torch.py write name their network type in
  /// the metadata (typenet_network); it must then be this model's: activations
  /// have no tensors, so only this check can tell a ReLU file from a Tanh
  /// network. false skips it. Files without that entry are not checked.
  bool check_network = true;
};

// The metadata keys typenet writes.
inline constexpr const char* safetensors_network_key = "typenet_network";  ///< the metadata key of the network's type
inline constexpr const char* safetensors_version_key = "typenet_version";  ///< the metadata key of typenet's version

namespace safetensors_detail {

template <class Net>
struct layers_after_input;
template <class... Layers>
struct layers_after_input<Sequential<Layers...>> : std::integral_constant<std::size_t, sizeof...(Layers) - 1> {};

// Whether the block's Linear was declared with a bias (Linear<N> rather than
// Linear<N, false>), whether or not a normalisation cancels it.
template <class B>
struct declared_bias;
template <std::size_t I, std::size_t In, std::size_t Out, bool Bias, class Norm, class Act, class Drop, std::size_t P,
          std::size_t S, std::size_t L>
struct declared_bias<Block<I, In, Out, Bias, Norm, Act, Drop, P, S, L>> : std::bool_constant<Bias> {};

// PyTorch's count of training batches, which every normalisation over the
// batch keeps beside its running statistics (nn.BatchNorm1d's buffer).
inline constexpr const char* batch_count_name = "num_batches_tracked";

enum class Source {
  parameter,       // a value in the parameter buffer
  state,           // a value in the state buffer
  batch_count,     // num_batches_tracked: the model's count of train-mode forwards
  cancelled_bias,  // a Linear's bias that the normalisation after it cancels
};

// One tensor of a model's file.
struct Expected {
  std::string name;
  std::vector<std::uint64_t> shape;  // PyTorch's
  Source source = Source::parameter;
  std::size_t offset = 0;            // in its buffer
  std::size_t rows = 1, cols = 1;    // typenet's shape, row-major
  bool transposed = false;           // PyTorch stores it as cols x rows
  std::size_t running_mean = 0;      // cancelled_bias: where the running mean it folds into is
  bool has_running_mean = false;
  std::string layer;                 // "Linear<16>", for messages
};

inline std::vector<std::uint64_t> torch_shape(const ValueSpec& spec, std::size_t rows, std::size_t cols) {
  if (spec.torch_layout == TorchLayout::transposed) return {cols, rows};
  if (spec.rows == Extent::one && spec.cols == Extent::one) return {};
  if (spec.rows == Extent::one) return {cols};
  if (spec.cols == Extent::one) return {rows};
  return {rows, cols};
}

// "<prefix><module>.<value>"; a module named "" puts the value right after the prefix.
inline std::string module_name(const SafetensorsNames& names, std::size_t module, const char* value) {
  const std::string m = names.modules.empty() ? std::to_string(module) : names.modules[module];
  return names.prefix + m + (m.empty() ? "" : ".") + value;
}

// Every tensor of Net's file, from its layers' declarations.
template <class Net>
std::vector<Expected> expected_tensors(const std::filesystem::path& file, const SafetensorsNames& names) {
  constexpr std::size_t layers = layers_after_input<Net>::value;
  if (!names.modules.empty() && names.modules.size() != layers)
    throw SafetensorsError(file, "the name map gives " + std::to_string(names.modules.size()) + " module names; " +
                                     Net::name() + " has " + std::to_string(layers) +
                                     " layers after Input (one name each, activations and Dropout included)");
  std::vector<Expected> out;
  for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    using Norm = typename B::normalization;
    // The block's values are the Linear's, then the normalisation's.
    constexpr std::size_t linear_values = B::value_count - Norm::parameters.size();
    const std::size_t linear_module = B::layer - 1, norm_module = B::layer;
    const std::string linear_layer = Linear<B::out, declared_bias<B>::value>::name();
    const std::string norm_layer = [] {
      if constexpr (B::has_normalization) return Norm::name();
      else return std::string();
    }();
    auto add = [&](const BlockValue& v, Source source, std::size_t module, const std::string& layer) {
      Expected e;
      e.name = module_name(names, module, v.spec.torch_name);
      e.rows = extent_size(v.spec.rows, B::in, B::out);
      e.cols = extent_size(v.spec.cols, B::in, B::out);
      e.shape = torch_shape(v.spec, e.rows, e.cols);
      e.transposed = v.spec.torch_layout == TorchLayout::transposed;
      e.source = source;
      e.offset = v.offset;
      e.layer = layer;
      out.push_back(std::move(e));
    };
    for (std::size_t i = 0; i < B::value_count; ++i)
      add(B::parameters[i], Source::parameter, i < linear_values ? linear_module : norm_module,
          i < linear_values ? linear_layer : norm_layer);
    if constexpr (B::has_normalization) {
      for (const BlockValue& v : B::state) add(v, Source::state, norm_module, norm_layer);
      if constexpr (B::batch_statistics) {
        Expected e;
        e.name = module_name(names, norm_module, batch_count_name);
        e.source = Source::batch_count;
        e.layer = norm_layer;
        out.push_back(std::move(e));
      }
      if constexpr (declared_bias<B>::value && !B::has_bias) {
        for (const ValueSpec& spec : Linear<B::out, true>::parameters) {
          if (spec.role != ParameterRole::bias) continue;
          Expected e;
          e.name = module_name(names, linear_module, spec.torch_name);
          e.cols = B::out;
          e.shape = torch_shape(spec, 1, B::out);
          e.source = Source::cancelled_bias;
          e.layer = linear_layer;
          if constexpr (B::batch_statistics) {
            e.running_mean = B::running_mean_offset;
            e.has_running_mean = true;
          }
          out.push_back(std::move(e));
        }
      }
    }
  });
  std::set<std::string> seen;
  for (const Expected& e : out)
    if (!seen.insert(e.name).second)
      throw SafetensorsError(file, "the name map gives two values the name '" + e.name + "'");
  return out;
}

// Index of typenet's element (i, j) in PyTorch's layout.
inline std::size_t torch_index(const Expected& e, std::size_t i, std::size_t j) {
  return e.transposed ? j * e.rows + i : i * e.cols + j;
}

inline std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace safetensors_detail

/// Writes the model's parameters and state as a safetensors file (atomically:
/// a failed save throws SafetensorsError and leaves any old file as it was).
/// The metadata holds format "pt", the network type (Net::name()) and
/// typenet's version; num_batches_tracked is model.dropout_step(), the
/// model's count of train-mode forward passes (one per training step).
template <class Net, class T>
void save_safetensors(const std::filesystem::path& path, const Model<Net, T>& model,
                      const SafetensorsSaveOptions& options = {}) {
  using namespace safetensors_detail;
  using Checked = checked_network_t<Net>;
  const SafetensorsDtype dtype = options.dtype.value_or(safetensors_dtype_of<T>());
  if (dtype != SafetensorsDtype::F32 && dtype != SafetensorsDtype::F64)
    throw SafetensorsError(path, "cannot save as " + std::string(to_string(dtype)) + ": typenet writes F32 or F64");
  const std::span<const T> parameters = model.parameters(), state = model.state();
  std::vector<SafetensorsTensorData> tensors;
  for (const Expected& e : expected_tensors<Checked>(path, options.names)) {
    if (e.source == Source::batch_count) {
      const auto steps = static_cast<std::int64_t>(model.dropout_step());
      tensors.push_back(make_safetensor<std::int64_t>(e.name, e.shape, std::span<const std::int64_t>(&steps, 1)));
      continue;
    }
    std::vector<double> values(e.rows * e.cols, 0.0);  // a cancelled bias: zeros
    if (e.source != Source::cancelled_bias) {
      const std::span<const T> buffer = e.source == Source::parameter ? parameters : state;
      for (std::size_t i = 0; i < e.rows; ++i)
        for (std::size_t j = 0; j < e.cols; ++j)
          values[torch_index(e, i, j)] = static_cast<double>(buffer[e.offset + i * e.cols + j]);
    }
    if (dtype == SafetensorsDtype::F64) {
      tensors.push_back(make_safetensor<double>(e.name, e.shape, std::span<const double>(values)));
    } else {
      const std::vector<float> f(values.begin(), values.end());
      tensors.push_back(make_safetensor<float>(e.name, e.shape, std::span<const float>(f)));
    }
  }
  write_safetensors(path, std::move(tensors),
                    {{"format", "pt"}, {safetensors_network_key, Net::name()}, {safetensors_version_key, version}});
}

/// Loads a file save_safetensors, typenet_torch.save or PyTorch (a
/// state_dict saved as safetensors) wrote. F32, F64, F16 and BF16 values are
/// read (converted to the model's type); num_batches_tracked sets
/// model.dropout_step() (the largest, if layers differ). Everything is
/// checked before the model changes: the format (io/safetensors_format.hpp),
/// the network named in the metadata, then every tensor against the type.
/// One SafetensorsError lists every missing tensor, every unexpected one,
/// and every shape or dtype that differs from what the type expects.
template <class Net, class T>
void load_safetensors(const std::filesystem::path& path, Model<Net, T>& model,
                      const SafetensorsLoadOptions& options = {}) {
  using namespace safetensors_detail;
  using Checked = checked_network_t<Net>;
  const SafetensorsFile file = read_safetensors(path);
  if (options.check_network) {
    const auto saved = file.metadata.find(safetensors_network_key);
    if (saved != file.metadata.end() && saved->second != Net::name())
      throw SafetensorsError(path, "saved for " + saved->second + ", this network is " + Net::name() +
                                       " (SafetensorsLoadOptions{.check_network = false} loads its tensors anyway)");
  }
  const std::vector<Expected> expected = expected_tensors<Checked>(path, options.names);

  std::vector<std::string> missing, unexpected, mismatched;
  std::set<std::string> names;
  for (const Expected& e : expected) {
    names.insert(e.name);
    const SafetensorsTensor* t = file.find(e.name);
    if (!t) {
      if (e.source != Source::cancelled_bias) missing.push_back(e.name);
      continue;
    }
    const bool integer = e.source == Source::batch_count;
    const bool dtype_fits = integer ? is_integer(t->dtype) : is_float(t->dtype);
    if (t->shape != e.shape || !dtype_fits)
      mismatched.push_back(e.name + " (" + e.layer + "): the type expects shape " + shape_string(e.shape) + " (" +
                           (integer ? "integers" : "F32, F64, F16 or BF16") + "), the file has " +
                           std::string(to_string(t->dtype)) + " " + shape_string(t->shape));
  }
  for (const SafetensorsTensor& t : file.tensors)
    if (!names.contains(t.name)) unexpected.push_back(t.name + " (" + std::string(to_string(t.dtype)) + " " +
                                                      shape_string(t.shape) + ")");
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string problem = "does not hold " + Net::name() + ":";
    if (!missing.empty()) problem += "\n  missing: " + join_names(missing);
    if (!unexpected.empty()) problem += "\n  unexpected: " + join_names(unexpected);
    for (const std::string& m : mismatched) problem += "\n  " + m;
    throw SafetensorsError(path, problem);
  }

  std::vector<T> parameters(model.parameters().begin(), model.parameters().end());
  std::vector<T> state(model.state().begin(), model.state().end());
  std::optional<std::int64_t> batches;
  std::vector<std::pair<const Expected*, std::vector<double>>> biases;
  for (const Expected& e : expected) {
    const SafetensorsTensor* t = file.find(e.name);
    if (!t) continue;
    if (e.source == Source::batch_count) {
      const std::int64_t n = tensor_values<std::int64_t>(file, *t)[0];
      if (n < 0) throw SafetensorsError(path, e.name + " is " + std::to_string(n) + "; a count cannot be negative");
      batches = std::max(batches.value_or(0), n);
      continue;
    }
    const std::vector<double> values = tensor_values<double>(file, *t);
    for (std::size_t k = 0; k < values.size(); ++k)
      if (!std::isfinite(values[k]) || !std::isfinite(static_cast<T>(values[k])))
        throw SafetensorsError(path, e.name + " element " + std::to_string(k) + " is " + std::to_string(values[k]) +
                                         (std::isfinite(values[k]) ? ", beyond the model's scalar type" : "") +
                                         "; a model's values must be finite");
    if (e.source == Source::cancelled_bias) {
      biases.emplace_back(&e, values);
      continue;
    }
    std::vector<T>& buffer = e.source == Source::parameter ? parameters : state;
    for (std::size_t i = 0; i < e.rows; ++i)
      for (std::size_t j = 0; j < e.cols; ++j)
        buffer[e.offset + i * e.cols + j] = static_cast<T>(values[torch_index(e, i, j)]);
  }
  // (z + b - running_mean) = (z - (running_mean - b)): one rounding.
  for (const auto& [e, b] : biases)
    if (e->has_running_mean)
      for (std::size_t j = 0; j < b.size(); ++j)
        state[e->running_mean + j] = static_cast<T>(static_cast<double>(state[e->running_mean + j]) - b[j]);

  std::copy(parameters.begin(), parameters.end(), model.parameters().begin());
  std::copy(state.begin(), state.end(), model.state().begin());
  if (batches) model.set_dropout_step(static_cast<std::uint64_t>(*batches));
}

}  // namespace typenet
