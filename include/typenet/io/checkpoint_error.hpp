// The one error of saving and loading checkpoints.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include "typenet/config.hpp"

namespace typenet {

/// Every problem with saving or loading a checkpoint; what() is
/// "typenet: <path>: <problem>".
class CheckpointError : public std::runtime_error {
 public:
  /// The error `problem` with the file it concerns.
  CheckpointError(const std::filesystem::path& path, const std::string& problem)
      : std::runtime_error(prefix(path) + problem) {}
  /// What every message about `path` starts with.
  static std::string prefix(const std::filesystem::path& path) { return "typenet: " + path.string() + ": "; }
};

}  // namespace typenet
