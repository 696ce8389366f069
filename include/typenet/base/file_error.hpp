/// @file
/// What every error about a file says: "typenet: <path>: <problem>". Each
/// reader and writer throws its own type derived from FileError
/// (CheckpointError, SafetensorsError, OnnxError, HeaderExportError,
/// data::NpyError, data::CsvError), so that a program can catch one
/// format's errors, or any file's.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include "typenet/config.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// A problem with one file; what() names the file first.
class FileError : public std::runtime_error {
 public:
  /// The error `problem` with the file it concerns.
  FileError(const std::filesystem::path& path, const std::string& problem)
      : std::runtime_error(prefix(path) + problem) {}
  /// What every message about `path` starts with.
  static std::string prefix(const std::filesystem::path& path) { return "typenet: " + path.string() + ": "; }
};

}  // namespace typenet
