// Expressions of the shared engine (include/typenet/expr/) evaluated on the
// GPU, elementwise: out[i] = e(in_0[i], ..., in_{N-1}[i]).
//
// The activations, their derivatives, the losses and their gradients, and
// BatchNorm's and Linear's pieces are the very expression types the CPU
// kernels evaluate on SIMD vectors; here each thread evaluates them on one
// value (in nvcc's device pass a "vector" is one lane, see simd/vec.hpp).
//
//   cuda::evaluate(ActivationBackward<GELU>::derivative, out, n, stream, x);
#pragma once

#include "typenet/config.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>

#include "typenet/cuda/error.cuh"
#include "typenet/cuda/scalar_expression.hpp"
#include "typenet/expr/nodes.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::cuda {

/// N device arrays read by an elementwise kernel.
template <class T, int N>
struct Inputs {
  const T* data[N];  ///< the arrays
};

/// An expression is all type (variables by index, constants as template
/// arguments), so the kernel takes its type and builds it: nvcc cannot pass
/// empty classes as kernel parameters.
template <class T, int N, class E>
__global__ void evaluate_kernel(Inputs<T, N> in, T* out, std::size_t n) {
  constexpr E e{};
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    Values<T, N> a;
#pragma unroll
    for (int k = 0; k < N; ++k) a.value[k] = in.data[k][i];
    out[i] = e.template eval<T>(a);
  }
}

/// Launches the evaluation of `e` over n elements on `stream` (device
/// pointers; one input per variable of e, Var<0> first).
template <class T, expr::Expr E, class... In>
void evaluate(const E&, T* out, std::size_t n, cudaStream_t stream, const In*... inputs) {
  static_assert((std::is_same_v<In, T> && ...), "typenet: cuda::evaluate: inputs and output must have one type.");
  constexpr int N = static_cast<int>(sizeof...(In));
  static_assert(N > 0, "typenet: cuda::evaluate: an expression of no variables needs no kernel.");
  if (n == 0) return;
  constexpr int threads = 256;
  const auto blocks = static_cast<unsigned>(std::min<std::size_t>((n + threads - 1) / threads, 4096));
  evaluate_kernel<T, N, E><<<blocks, threads, 0, stream>>>(Inputs<T, N>{{inputs...}}, out, n);
  check(cudaGetLastError(), "the elementwise kernel launch (" + std::to_string(n) + " elements)");
}

}  // namespace typenet::cuda
