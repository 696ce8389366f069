// Loops over long buffers one SIMD vector at a time (the optimizers' passes
// over the parameter buffer), split across threads when long enough.
#pragma once

#include "typenet/config.hpp"

#include <cstddef>

#include "typenet/cpu/thread_pool.hpp"
#include "typenet/simd/vec.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

/// f(i, tail) for i = begin, begin + W, ... < end; `tail` marks the valid
/// lanes (all but possibly in the last vector).
template <class T, class F>
TYPENET_INLINE void vector_loop(std::size_t begin, std::size_t end, F&& f) {
  constexpr std::size_t W = static_cast<std::size_t>(simd::lanes<T>);
  std::size_t i = begin;
  for (; i + W <= end; i += W) f(i, simd::Tail<T>());
  if (i < end) f(i, simd::Tail<T>(static_cast<int>(end - i)));
}

/// The same over [0, n), in contiguous chunks of whole cache lines shared by
/// the pool's threads when n is large. Elements are independent, so the
/// split does not change results.
template <class T, class F>
void parallel_vector_loop(ThreadPool* pool, std::size_t n, F&& f) {
  constexpr std::size_t chunk = 4096;  // elements per task: 16 KiB of floats
  const std::size_t tasks = (n + chunk - 1) / chunk;
  auto run = [&](std::size_t t0, std::size_t t1) { vector_loop<T>(t0 * chunk, std::min(n, t1 * chunk), f); };
  if (pool && pool->size() > 1 && tasks >= 8) pool->parallel_for(tasks, run);
  else run(0, tasks);
}

}  // namespace typenet::cpu
