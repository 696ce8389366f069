// typenet: a network's topology is a type. The umbrella header: topology,
// the CPU model, losses, optimizers, schedules, metrics, toy data. The file
// formats have headers of their own (io/checkpoint.hpp, io/safetensors.hpp,
// io/onnx.hpp, io/header_export.hpp, data/npy.hpp, data/csv.hpp), so that a
// program pays the compile time only of those it uses: safetensors' JSON
// parser alone doubles the umbrella's (docs/interop.md).
#pragma once

// First, so that a compiler too old for typenet stops at its sentence.
#include "typenet/config.hpp"
#include "typenet/data/generators.hpp"
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
