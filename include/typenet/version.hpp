// typenet's version, as the files it writes record it (safetensors
// metadata, ONNX producer). test_safetensors checks it against meson's.
#pragma once

namespace typenet {

inline constexpr const char* version = "0.1.0";

}  // namespace typenet
