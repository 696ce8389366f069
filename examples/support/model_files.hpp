// What an example's --load names: a typenet checkpoint, or, for a file
// named *.safetensors, the network alone as PyTorch's nn.Sequential names it
// (typenet/io/safetensors.hpp; typenet_torch.save writes it from PyTorch,
// examples/python/typenet_torch.py). Only the examples that read both
// include this: the JSON code it instantiates costs each of them several
// seconds of compile time (the serving example, examples/serve.cpp).
#pragma once

#include <filesystem>
#include <string>

#include "typenet/io/checkpoint.hpp"
#include "typenet/io/safetensors.hpp"

namespace examples {

inline bool is_safetensors(const std::filesystem::path& path) { return path.extension() == ".safetensors"; }

// Reads the model from either kind of file, with every check its reader makes.
template <class Net, class T>
void load_model(const std::string& path, typenet::Model<Net, T>& model) {
  if (is_safetensors(path))
    typenet::load_safetensors(path, model);
  else
    typenet::load_checkpoint(path, model);
}

}  // namespace examples
