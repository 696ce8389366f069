// Train or evaluation mode: explicit state, never inferred from the batch.
#pragma once

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// train: BatchNorm normalises with the batch's statistics and updates its
///        running estimates; dropout is active; backward may follow.
/// eval:  BatchNorm uses the running estimates; dropout is the identity.
enum class Mode { train, eval };

}  // namespace typenet
