// What an example's --save and --load name: a typenet checkpoint, or, for a
// file named *.safetensors, the network alone as PyTorch's nn.Sequential
// names it (typenet/io/safetensors.hpp; PyTorch reads it through
// examples/python/typenet_torch.py). Only the examples that offer both
// include this: the JSON code it instantiates costs each of them about 2 s
// of compile time.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

#include "typenet/io/checkpoint.hpp"
#include "typenet/io/safetensors.hpp"

namespace examples {

inline bool is_safetensors(const std::filesystem::path& path) { return path.extension() == ".safetensors"; }

// Writes the model (and, into a checkpoint, the optimizer's state) and says so.
template <class Net, class T, class... Optimizer>
void save_model(const std::string& path, const typenet::Model<Net, T>& model, const Optimizer&... optimizer) {
  if (is_safetensors(path))
    typenet::save_safetensors(path, model);
  else
    typenet::save_checkpoint(path, model, optimizer...);
  std::printf("saved %s\n", path.c_str());
}

// Reads the model from either kind of file, with every check its reader makes.
template <class Net, class T>
void load_model(const std::string& path, typenet::Model<Net, T>& model) {
  if (is_safetensors(path))
    typenet::load_safetensors(path, model);
  else
    typenet::load_checkpoint(path, model);
}

}  // namespace examples
