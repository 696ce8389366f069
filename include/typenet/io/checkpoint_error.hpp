// The one error of saving and loading checkpoints.
#pragma once

#include "typenet/config.hpp"

#include "typenet/base/file_error.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// Every problem with saving or loading a checkpoint; what() is
/// "typenet: <path>: <problem>".
class CheckpointError : public FileError {
 public:
  using FileError::FileError;
};

}  // namespace typenet
