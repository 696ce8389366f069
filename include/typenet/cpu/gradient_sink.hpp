// Where backward puts each parameter gradient as soon as it is computed:
// into the gradient buffer (StoreGradient), or straight into an optimizer's
// update of that parameter (a fused step, see train/optimizers.hpp), which
// saves writing the gradient and reading it back. A sink is called with the
// parameter's index in the buffer and one vector of gradients; prefetch(index)
// announces the cache line it will touch next.
#pragma once

#include "typenet/config.hpp"

#include <cstddef>

#include "typenet/simd/vec.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

/// The backward kernels' sink that stores each gradient vector in the model's gradient buffer (the separate step; a fused step applies the optimizer's Update instead).
template <class T>
struct StoreGradient {
  T* gradients;  ///< the gradient buffer
  /// Stores the gradient vector g for parameters index, index + 1, ... (its valid lanes).
  TYPENET_INLINE void operator()(std::size_t index, simd::vec<T> g, simd::Tail<T> tail) const {
    simd::store(gradients + index, g, tail);
  }
  /// Asks the cache for the gradients at index.
  TYPENET_INLINE void prefetch(std::size_t index) const { __builtin_prefetch(gradients + index, 1); }
};

}  // namespace typenet::cpu
