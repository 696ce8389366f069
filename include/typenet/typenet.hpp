// typenet: a network's topology is a type. The umbrella header: topology,
// the CPU model, losses, optimizers, schedules, metrics, toy data, and
// models as safetensors files, named as PyTorch names them.
#pragma once

// First, so that a compiler too old for typenet stops at its sentence.
#include "typenet/config.hpp"
#include "typenet/data/generators.hpp"
#include "typenet/io/safetensors.hpp"
#include "typenet/model/model.hpp"
#include "typenet/topology/sequential.hpp"
#include "typenet/model/init.hpp"
#include "typenet/train/losses.hpp"
#include "typenet/train/metrics.hpp"
#include "typenet/train/numerics.hpp"
#include "typenet/train/optimizers.hpp"
#include "typenet/train/schedules.hpp"
#include "typenet/train/train_step.hpp"
#include "typenet/version.hpp"
