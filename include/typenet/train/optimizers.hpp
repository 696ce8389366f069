// The optimizers over the model's whole parameter buffer, one pass per
// step, with torch.optim's definitions (including where weight decay
// enters): each in its own header under optim/, declaring itself
// (optim/declaration.hpp) for checkpoints and the GPU.
#pragma once

#include "typenet/config.hpp"

#include "typenet/optim/adagrad.hpp"
#include "typenet/optim/adam.hpp"
#include "typenet/optim/declaration.hpp"
#include "typenet/optim/rmsprop.hpp"
#include "typenet/optim/sgd.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// Every optimizer a checkpoint can hold: describe_checkpoint reads a file
/// without knowing which one saved it, so it must know them all.
using all_optimizers = optim::OptimizerList<SGD, Adam, AdamW, RMSprop, Adagrad>;
static_assert(optim::distinct_kinds(all_optimizers{}), "typenet: two optimizers share a checkpoint kind.");

}  // namespace typenet
