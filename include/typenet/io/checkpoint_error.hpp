// The one error of saving and loading checkpoints.
#pragma once

#include "typenet/base/file_error.hpp"

namespace typenet {

/// Every problem with saving or loading a checkpoint; what() is
/// "typenet: <path>: <problem>".
class CheckpointError : public FileError {
 public:
  using FileError::FileError;
};

}  // namespace typenet
