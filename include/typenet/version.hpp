/// @file
/// The library's version, as numbers a program can test with the
/// preprocessor and as the string the files typenet writes record
/// (safetensors metadata, ONNX producer). They equal the version in the
/// top-level meson.build (the one in typenet.pc and
/// typenetConfigVersion.cmake); test_version checks it.
#pragma once

#include "typenet/config.hpp"

/// Raised for changes that break code written against the previous version
/// (while it is 0, so does the minor version: 0.x releases make no promise).
#define TYPENET_VERSION_MAJOR 0
/// Raised for additions.
#define TYPENET_VERSION_MINOR 2
/// Raised for fixes.
#define TYPENET_VERSION_PATCH 0

/// One number that orders versions: major * 10000 + minor * 100 + patch.
#define TYPENET_VERSION (TYPENET_VERSION_MAJOR * 10000 + TYPENET_VERSION_MINOR * 100 + TYPENET_VERSION_PATCH)

/// A macro argument as a string (a helper of typenet::version).
#define TYPENET_VERSION_STRINGIFY_(x) #x
/// A macro's value as a string (a helper of typenet::version).
#define TYPENET_VERSION_STRINGIFY(x) TYPENET_VERSION_STRINGIFY_(x)

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// The version as "major.minor.patch".
inline constexpr const char* version = TYPENET_VERSION_STRINGIFY(TYPENET_VERSION_MAJOR) "." TYPENET_VERSION_STRINGIFY(
    TYPENET_VERSION_MINOR) "." TYPENET_VERSION_STRINGIFY(TYPENET_VERSION_PATCH);

}  // namespace typenet
