// Where backward puts each parameter gradient as soon as it is computed:
// into the gradient buffer (StoreGradient), or straight into an optimizer's
// update of that parameter (a fused step, see train/optimizers.hpp), which
// saves writing the gradient and reading it back. A sink is called with the
// parameter's index in the buffer and one vector of gradients; prefetch(index)
// announces the cache line it will touch next.
#pragma once

#include <cstddef>

#include "typenet/simd/vec.hpp"

namespace typenet::cpu {

template <class T>
struct StoreGradient {
  T* gradients;
  TYPENET_INLINE void operator()(std::size_t index, simd::vec<T> g, simd::Tail<T> tail) const {
    simd::store(gradients + index, g, tail);
  }
  TYPENET_INLINE void prefetch(std::size_t index) const { __builtin_prefetch(gradients + index, 1); }
};

}  // namespace typenet::cpu
