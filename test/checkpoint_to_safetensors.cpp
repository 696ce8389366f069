// Converts a checkpoint of the mnist example's BatchNorm network into a
// safetensors file, so that test/serve_matches_mnist.py can serve the same
// trained network from both kinds of file. (The mnist example itself writes
// checkpoints only: safetensors' JSON code would cost its four networks
// about 10 s more to compile.)
//
//   checkpoint_to_safetensors IN.tn OUT.safetensors
#include <cstdio>
#include <exception>

#include "support/networks.hpp"
#include "typenet/model/model.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/io/safetensors.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: checkpoint_to_safetensors IN.tn OUT.safetensors\n");
    return 2;
  }
  try {
    typenet::Model<examples::mnist_mlp::WithBatchNorm> model;
    typenet::load_checkpoint(argv[1], model);
    typenet::save_safetensors(argv[2], model);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_to_safetensors: %s\n", e.what());
    return 1;
  }
  return 0;
}
