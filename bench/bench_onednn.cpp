// oneDNN as a benchmark peer (issue 16): the workloads of bench/bench.cpp
// that bench/compare.py sets beside PyTorch, written as an expert writes them
// with oneDNN (Debian's libdnnl-dev, oneDNN 2.x), the best hand-written C++
// alternative to typenet. A benchmark peer only: nothing in include/ uses
// oneDNN.
//
// Training (the MNIST MLPs' epochs, the moons step):
//   forward   one matmul primitive per Linear, its bias and ReLU as
//             attributes (a post-op); before a BatchNorm the matmul has no
//             bias and a batch_normalization forward_training primitive
//             follows, with gamma, beta and the ReLU fused (fuse_norm_relu)
//   backward  dW = X^T dZ and dX = dZ W^T as matmul primitives that read X
//             and W through transposed memory descriptors (strides, no
//             copies); batch_normalization backward, its ReLU through the
//             forward's workspace
//   by hand   what oneDNN has no primitive for, in plain loops that GCC
//             vectorises (#pragma omp simd; -O2's cost model alone does not):
//             softmax cross-entropy and its gradient, the hinge loss, ReLU's
//             backward fused with the bias gradient (one pass over dY where
//             an eltwise_backward and a reduction primitive would make two),
//             BatchNorm's running statistics, Adam and SGD
// Inference: bench/onednn_mlp.hpp (matmul + bias + ReLU post-op, weights
// reordered once into the layout the primitive prefers).
//
// Every primitive and buffer is created before the clock starts; a timed call
// only executes them. Shapes, data (the same Rng draws), initial values,
// losses, optimizers, hyper-parameters and repetition plans are bench.cpp's;
// both binaries report them in --json and compare.py refuses to compare
// runs whose reports differ.
//
// Before timing, each selected workload checks that oneDNN computes what it
// should (exit status 3 and a message otherwise):
//   - its oneDNN forward agrees with a plain-loop reference within 1e-4;
//   - training: the gradients of one step agree with typenet's (same initial
//     values, same batch), the first steps' losses with typenet's train_step,
//     and twenty steps on one batch lower its loss.
//
// Threads: Debian's oneDNN runs on OpenMP (libgomp), and so do the loops
// here (Adam splits its parameters between the threads): OMP_NUM_THREADS,
// or --threads N. compare.py runs 1 and 2 and keeps the faster.
//
//   bench_onednn [--threads N] [--reps N] [--warmup N] [--only NAME[,NAME...]] [--json] [--list]
//
// Build: meson (bench/meson.build, when dnnl is found) or, as compare.py does,
//   g++ -std=c++20 -O2 -march=native -fopenmp -fno-math-errno -Iinclude
//       bench/bench_onednn.cpp -ldnnl -o /tmp/bench_onednn
// (-fopenmp for the loops' threads and simd pragmas; -fno-math-errno because
// Adam's sqrt does not vectorise while it may set errno).
#include <omp.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "harness.hpp"
#include "workloads.hpp"
#include "onednn_mlp.hpp"
#include "typenet/typenet.hpp"

namespace {

using bench::Options;
using bench::Plan;
using bench::Timing;
using bench::json_string;
using bench::measure;
using bench::result_sink;

// ------------------------------------------------------------------ bench.cpp's workloads

// bench/workloads.hpp, which bench.cpp uses too (and compare.py checks that
// both binaries report the same "mnist" and "moons"); the networks are its types, read
// block by block into oneDNN layers below, and the optimizers' and
// BatchNorm's constants are typenet's defaults, which bench.cpp uses.
using namespace bench::workloads;

const typenet::AdamOptions adam_options{.lr = mnist_lr};  // bench.cpp: Adam<>({.lr = mnist_lr})
constexpr float batchnorm_eps = typenet::BatchNorm<>::epsilon<float>();
constexpr float batchnorm_momentum = typenet::BatchNorm<>::momentum;

// bench.cpp's FLOP count of the three products at batch B (2 per multiply-add).
template <std::size_t N>
double step_flop(const std::array<std::size_t, N>& widths, std::size_t batch, bool training) {
  double f = 0;
  for (std::size_t layer = 0; layer + 1 < N; ++layer) {
    const double products = 2.0 * static_cast<double>(batch * widths[layer] * widths[layer + 1]);
    f += training ? (layer > 0 ? 3 : 2) * products : products;  // forward, dW, and dX but for the first layer
  }
  return f;
}

// bench.cpp's random MNIST-shaped data: the same draws in the same order.
struct MnistLikeData {
  typenet::Matrix<float> x{mnist_samples, mnist_widths.front()};
  std::vector<std::int32_t> labels = std::vector<std::int32_t>(mnist_samples);

  MnistLikeData() {
    typenet::Rng rng(data_seed);
    for (std::size_t i = 0; i < mnist_samples; ++i) {
      for (std::size_t j = 0; j < x.cols(); ++j) x(i, j) = static_cast<float>(rng.uniform());
      labels[i] = static_cast<std::int32_t>(rng.below(mnist_widths.back()));
    }
  }
};

const MnistLikeData& mnist_data() {
  static const MnistLikeData data;
  return data;
}

struct MoonsData {
  typenet::data::LabelledData<float> data = typenet::data::make_moons<float>(moons_samples, moons_noise, data_seed);
  typenet::Matrix<float> targets = data.label_column(-1.0f, 1.0f);
};

// ------------------------------------------------------------------ the network in oneDNN

struct LayerSpec {
  int in, out;
  bool batchnorm;  // Linear without bias, then BatchNorm (batch statistics)
  bool relu;
};

// The layers of a typenet network type: Linear, optionally BatchNorm<>, then ReLU or nothing.
template <class Net>
std::vector<LayerSpec> layer_specs() {
  std::vector<LayerSpec> specs;
  typenet::for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    using A = typename B::activation;
    static_assert(std::is_same_v<A, typenet::ReLU> || std::is_same_v<A, typenet::Identity>,
                  "the oneDNN peer writes ReLU only");
    static_assert(!B::has_normalization || std::is_same_v<typename B::normalization, typenet::BatchNorm<>>,
                  "the oneDNN peer writes BatchNorm<> only");
    static_assert(!B::has_dropout, "the oneDNN peer writes no dropout");
    specs.push_back({static_cast<int>(B::in), static_cast<int>(B::out), B::has_normalization,
                     std::is_same_v<A, typenet::ReLU>});
  });
  return specs;
}

// Where a layer's values start in the parameter (and gradient) buffer: W
// (in x out, row-major), then its bias, or BatchNorm's gamma and beta.
// Each value starts on a 64-byte boundary, as the primitives like it.
struct Offsets {
  static constexpr std::size_t none = ~std::size_t{0};
  std::size_t weight = none, bias = none, gamma = none, beta = none;
};

struct Layout {
  std::vector<Offsets> layers;
  std::size_t size = 0;
};

Layout lay_out(const std::vector<LayerSpec>& specs) {
  Layout layout;
  auto take = [&](std::size_t n) {
    const std::size_t at = layout.size;
    layout.size += (n + 15) / 16 * 16;
    return at;
  };
  for (const LayerSpec& s : specs) {
    const auto in = static_cast<std::size_t>(s.in), out = static_cast<std::size_t>(s.out);
    Offsets& o = layout.layers.emplace_back();
    o.weight = take(in * out);
    if (s.batchnorm) {
      o.gamma = take(out);
      o.beta = take(out);
    } else {
      o.bias = take(out);
    }
  }
  return layout;
}

// A typenet model's values copied into this layout (padding zero).
template <class Net>
std::vector<float> values_of(const typenet::Model<Net>& model, const Layout& layout) {
  std::vector<float> values(layout.size, 0.0f);
  const float* p = model.parameters().data();
  std::size_t l = 0;
  typenet::for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    const Offsets& o = layout.layers[l++];
    std::copy_n(p + B::weight_offset, B::in * B::out, values.data() + o.weight);
    if constexpr (B::has_bias) std::copy_n(p + B::bias_offset, B::out, values.data() + o.bias);
    if constexpr (B::has_normalization) {
      std::copy_n(p + B::scale_offset, B::out, values.data() + o.gamma);
      std::copy_n(p + B::shift_offset, B::out, values.data() + o.beta);
    }
  });
  return values;
}

// A typenet model's gradients in this layout, for the checks.
template <class Net>
std::vector<float> gradients_of(const typenet::Model<Net>& model, const Layout& layout) {
  std::vector<float> g(layout.size, 0.0f);
  const float* d = model.gradients().data();
  std::size_t l = 0;
  typenet::for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    const Offsets& o = layout.layers[l++];
    std::copy_n(d + B::weight_offset, B::in * B::out, g.data() + o.weight);
    if constexpr (B::has_bias) std::copy_n(d + B::bias_offset, B::out, g.data() + o.bias);
    if constexpr (B::has_normalization) {
      std::copy_n(d + B::scale_offset, B::out, g.data() + o.gamma);
      std::copy_n(d + B::shift_offset, B::out, g.data() + o.beta);
    }
  });
  return g;
}

// ReLU's backward in place (dY where Y > 0, else 0) fused with the bias
// gradient, the column sums of the result; without ReLU the sums only.
template <bool Relu>
void relu_backward_and_bias(float* __restrict dy, const float* __restrict y, float* __restrict db, std::size_t rows,
                            std::size_t cols) {
  std::fill_n(db, cols, 0.0f);
  for (std::size_t i = 0; i < rows; ++i) {
    float* __restrict d = dy + i * cols;
    const float* __restrict out = y + i * cols;
#pragma omp simd
    for (std::size_t j = 0; j < cols; ++j) {
      float g = d[j];
      if constexpr (Relu) {
        g = out[j] > 0.0f ? g : 0.0f;
        d[j] = g;
      }
      db[j] += g;
    }
  }
}

// BatchNorm's view of a row-major batch x features matrix: the same bytes
// as an N x C x 1 x 1 tensor in nhwc. Described as 2-D (nc), oneDNN 2.6
// takes its plain C++ ncsp_bnorm, which made the BatchNorm epoch 2.3x
// slower on the AVX2 machine; nhwc gets its JIT kernel (bnorm_tbb_jit:avx2,
// which despite the name runs on OpenMP here).
dnnl::memory::desc batchnorm_view(dnnl::memory::dim rows, dnnl::memory::dim features) {
  return {{rows, features, 1, 1}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nhwc};
}

// The MLP's training step in oneDNN primitives, created once for one batch
// size. forward() reads the batch in place, backward() writes every
// gradient into gradients(), laid out as parameters().
class TrainingMlp {
 public:
  TrainingMlp(const std::vector<LayerSpec>& specs, int batch)
      : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_), specs_(specs), layout_(lay_out(specs)), batch_(batch) {
    using dnnl::memory;
    using tag = memory::format_tag;
    const auto f32 = memory::data_type::f32;
    // Both buffers are oneDNN's (aligned); the layers' memories point into them.
    params_ = memory({{static_cast<memory::dim>(layout_.size)}, f32, tag::a}, engine_);
    grads_ = memory({{static_cast<memory::dim>(layout_.size)}, f32, tag::a}, engine_);
    std::fill_n(parameters().data(), layout_.size, 0.0f);
    std::fill_n(gradients().data(), layout_.size, 0.0f);
    const memory::dim m = batch;
    auto matrix = [&](memory::dim rows, memory::dim cols) { return memory::desc({rows, cols}, f32, tag::ab); };
    // The transpose of a row-major rows x cols matrix, read in place.
    auto transposed = [&](memory::dim rows, memory::dim cols) {
      return memory::desc({cols, rows}, f32, memory::dims{1, cols});
    };
    auto in_params = [&](const memory::desc& d, std::size_t offset) {
      return memory(d, engine_, parameters().data() + offset);
    };
    auto in_grads = [&](const memory::desc& d, std::size_t offset) {
      return memory(d, engine_, gradients().data() + offset);
    };

    for (std::size_t l = 0; l < specs_.size(); ++l) {
      const LayerSpec& s = specs_[l];
      const Offsets& o = layout_.layers[l];
      const memory::dim k = s.in, n = s.out;
      Layer& L = layers_.emplace_back();
      L.spec = s;
      // The input: the batch (its address set by forward()) or the previous layer's output.
      if (l == 0) {
        L.x = memory(matrix(m, k), engine_, DNNL_MEMORY_NONE);
        L.x_t = memory(transposed(m, k), engine_, DNNL_MEMORY_NONE);
      } else {
        L.x = layers_[l - 1].y;
        L.x_t = memory(transposed(m, k), engine_, L.x.get_data_handle());
      }
      L.w = in_params(matrix(k, n), o.weight);
      L.w_t = in_params(transposed(k, n), o.weight);
      L.dw = in_grads(matrix(k, n), o.weight);
      L.y = memory(matrix(m, n), engine_);
      L.dy = memory(matrix(m, n), engine_);

      // Z = X W (+ b, ReLU)
      dnnl::primitive_attr attr;
      if (s.relu && !s.batchnorm) {
        dnnl::post_ops ops;
        ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(ops);
      }
      const memory::desc bias_desc({1, n}, f32, tag::ab);
      if (s.batchnorm) {
        L.z = memory(matrix(m, n), engine_);
        L.dz = memory(matrix(m, n), engine_);
        const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(matrix(m, k), matrix(k, n), matrix(m, n)), attr,
                                              engine_);
        note(l, "matmul forward", pd.impl_info_str());
        L.forward = dnnl::matmul(pd);
        L.forward_args = {{DNNL_ARG_SRC, L.x}, {DNNL_ARG_WEIGHTS, L.w}, {DNNL_ARG_DST, L.z}};
      } else {
        L.z = L.y;
        L.dz = L.dy;  // ReLU's backward works in place
        L.bias = in_params(bias_desc, o.bias);
        L.dbias = in_grads(bias_desc, o.bias);
        const dnnl::matmul::primitive_desc pd(
            dnnl::matmul::desc(matrix(m, k), matrix(k, n), bias_desc, matrix(m, n)), attr, engine_);
        note(l, "matmul forward", pd.impl_info_str());
        L.forward = dnnl::matmul(pd);
        L.forward_args = {{DNNL_ARG_SRC, L.x}, {DNNL_ARG_WEIGHTS, L.w}, {DNNL_ARG_BIAS, L.bias}, {DNNL_ARG_DST, L.y}};
      }

      // BatchNorm with batch statistics, gamma, beta and the ReLU after it.
      if (s.batchnorm) {
        if (!s.relu) throw std::logic_error("the oneDNN peer fuses BatchNorm with the ReLU after it");
        const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift |
                           dnnl::normalization_flags::fuse_norm_relu;
        const memory::desc features = batchnorm_view(m, n);
        const dnnl::batch_normalization_forward::primitive_desc fpd(
            dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, features, batchnorm_eps, flags),
            engine_);
        const dnnl::batch_normalization_backward::primitive_desc bpd(
            dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, features, features, batchnorm_eps,
                                                     flags),
            engine_, fpd);
        auto as_features = [&](const memory& matrix_memory) {
          return memory(features, engine_, matrix_memory.get_data_handle());
        };
        note(l, "batch_normalization forward", fpd.impl_info_str());
        note(l, "batch_normalization backward", bpd.impl_info_str());
        const memory::desc vector_desc = fpd.weights_desc();
        if (vector_desc.get_size() != static_cast<std::size_t>(n) * sizeof(float))
          throw std::runtime_error("oneDNN's batch_normalization wants gamma and beta other than as two vectors");
        L.gamma = in_params(vector_desc, o.gamma);
        L.beta = in_params(vector_desc, o.beta);
        L.dgamma = in_grads(vector_desc, o.gamma);
        L.dbeta = in_grads(vector_desc, o.beta);
        L.mean = memory(fpd.mean_desc(), engine_);
        L.variance = memory(fpd.variance_desc(), engine_);
        L.workspace = memory(fpd.workspace_desc(), engine_);
        L.running_mean.assign(static_cast<std::size_t>(n), 0.0f);  // BatchNorm1d's initial running statistics
        L.running_var.assign(static_cast<std::size_t>(n), 1.0f);
        L.norm = dnnl::batch_normalization_forward(fpd);
        const memory z = as_features(L.z), y = as_features(L.y), dy = as_features(L.dy), dz = as_features(L.dz);
        L.norm_args = {{DNNL_ARG_SRC, z},
                       {DNNL_ARG_DST, y},
                       {DNNL_ARG_MEAN, L.mean},
                       {DNNL_ARG_VARIANCE, L.variance},
                       {DNNL_ARG_SCALE, L.gamma},
                       {DNNL_ARG_SHIFT, L.beta},
                       {DNNL_ARG_WORKSPACE, L.workspace}};
        L.norm_backward = dnnl::batch_normalization_backward(bpd);
        L.norm_backward_args = {{DNNL_ARG_SRC, z},
                                {DNNL_ARG_MEAN, L.mean},
                                {DNNL_ARG_VARIANCE, L.variance},
                                {DNNL_ARG_DIFF_DST, dy},
                                {DNNL_ARG_SCALE, L.gamma},
                                {DNNL_ARG_SHIFT, L.beta},
                                {DNNL_ARG_WORKSPACE, L.workspace},
                                {DNNL_ARG_DIFF_SRC, dz},
                                {DNNL_ARG_DIFF_SCALE, L.dgamma},
                                {DNNL_ARG_DIFF_SHIFT, L.dbeta}};
      }

      // dW = X^T dZ: the batch is the product's depth.
      {
        const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(transposed(m, k), matrix(m, n), matrix(k, n)),
                                              engine_);
        note(l, "matmul dW = X^T dZ", pd.impl_info_str());
        L.weight_gradient = dnnl::matmul(pd);
        L.weight_gradient_args = {{DNNL_ARG_SRC, L.x_t}, {DNNL_ARG_WEIGHTS, L.dz}, {DNNL_ARG_DST, L.dw}};
      }
      // dX = dZ W^T, into the previous layer's dY; the data needs none.
      if (l > 0) {
        const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(matrix(m, n), transposed(k, n), matrix(m, k)),
                                              engine_);
        note(l, "matmul dX = dZ W^T", pd.impl_info_str());
        L.input_gradient = dnnl::matmul(pd);
        L.input_gradient_args = {{DNNL_ARG_SRC, L.dz}, {DNNL_ARG_WEIGHTS, L.w_t}, {DNNL_ARG_DST, layers_[l - 1].dy}};
      }
    }
  }

  TrainingMlp(const TrainingMlp&) = delete;
  TrainingMlp& operator=(const TrainingMlp&) = delete;

  const Layout& layout() const { return layout_; }
  std::span<float> parameters() { return {static_cast<float*>(params_.get_data_handle()), layout_.size}; }
  std::span<float> gradients() { return {static_cast<float*>(grads_.get_data_handle()), layout_.size}; }
  void set_parameters(const std::vector<float>& values) {
    std::copy(values.begin(), values.end(), parameters().data());
  }
  int batch() const { return batch_; }
  int output_width() const { return specs_.back().out; }

  // The forward pass in training mode (BatchNorm: batch statistics, and its
  // running statistics updated, as PyTorch's and typenet's are). x: batch x
  // in, row-major; it must stay until backward().
  void forward(const float* x) {
    void* data = const_cast<float*>(x);  // oneDNN reads it only
    layers_.front().x.set_data_handle(data);
    layers_.front().x_t.set_data_handle(data);
    for (Layer& L : layers_) {
      L.forward.execute(stream_, L.forward_args);
      if (L.spec.batchnorm) {
        L.norm.execute(stream_, L.norm_args);
        stream_.wait();
        update_running_statistics(L);
      }
    }
    stream_.wait();
  }
  const float* output() const { return static_cast<const float*>(layers_.back().y.get_data_handle()); }
  // Where the loss writes dLoss/dOutput (batch x output width) for backward().
  float* output_gradient() { return static_cast<float*>(layers_.back().dy.get_data_handle()); }

  void backward() {
    const auto rows = static_cast<std::size_t>(batch_);
    for (std::size_t l = layers_.size(); l-- > 0;) {
      Layer& L = layers_[l];
      const auto cols = static_cast<std::size_t>(L.spec.out);
      float* dy = static_cast<float*>(L.dy.get_data_handle());
      if (L.spec.batchnorm) {
        L.norm_backward.execute(stream_, L.norm_backward_args);
      } else {
        float* db = static_cast<float*>(L.dbias.get_data_handle());
        const float* y = static_cast<const float*>(L.y.get_data_handle());
        if (L.spec.relu) relu_backward_and_bias<true>(dy, y, db, rows, cols);
        else relu_backward_and_bias<false>(dy, y, db, rows, cols);
      }
      L.weight_gradient.execute(stream_, L.weight_gradient_args);
      if (l > 0) L.input_gradient.execute(stream_, L.input_gradient_args);
      stream_.wait();  // the next layer's loop reads what these wrote
    }
  }

  // What oneDNN chose for each primitive ("brg:avx2", "gemm:jit", ...), layer by layer.
  const std::vector<std::pair<std::string, std::string>>& implementations() const { return implementations_; }

 private:
  struct Layer {
    LayerSpec spec{};
    dnnl::memory x, x_t;   // the input and its transpose (the same numbers)
    dnnl::memory w, w_t;   // the weights and their transpose (in parameters())
    dnnl::memory bias, gamma, beta;
    dnnl::memory dw, dbias, dgamma, dbeta;  // in gradients()
    dnnl::memory z, y;     // the matmul's output; the layer's (z itself without BatchNorm)
    dnnl::memory dy, dz;   // dLoss/dY, written by the next layer or the loss; dLoss/dZ (dy itself without BatchNorm)
    dnnl::memory mean, variance, workspace;
    std::vector<float> running_mean, running_var;
    dnnl::primitive forward, norm, norm_backward, weight_gradient, input_gradient;
    std::unordered_map<int, dnnl::memory> forward_args, norm_args, norm_backward_args, weight_gradient_args,
        input_gradient_args;
  };

  // running = (1 - momentum) running + momentum batch, the variance unbiased (PyTorch's BatchNorm1d).
  void update_running_statistics(Layer& L) const {
    const float* mean = static_cast<const float*>(L.mean.get_data_handle());
    const float* var = static_cast<const float*>(L.variance.get_data_handle());
    const float unbiased = static_cast<float>(batch_) / static_cast<float>(batch_ - 1);
    const float keep = 1.0f - batchnorm_momentum;
    for (std::size_t j = 0; j < L.running_mean.size(); ++j) {
      L.running_mean[j] = keep * L.running_mean[j] + batchnorm_momentum * mean[j];
      L.running_var[j] = keep * L.running_var[j] + batchnorm_momentum * unbiased * var[j];
    }
  }

  void note(std::size_t layer, const char* what, const char* impl) {
    implementations_.emplace_back("layer " + std::to_string(layer) + " " + what, impl);
  }

  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<LayerSpec> specs_;
  Layout layout_;
  int batch_;
  dnnl::memory params_, grads_;
  std::vector<Layer> layers_;
  std::vector<std::pair<std::string, std::string>> implementations_;
};

// ------------------------------------------------------------------ the hand-written pieces

// Above this many parameters the optimizers' loops split between the
// OpenMP threads; below it starting them costs more than the loop.
constexpr std::size_t parallel_update_threshold = 1 << 15;

// torch.optim.Adam (typenet's Adam, which bench.cpp trains with):
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
class AdamUpdate {
 public:
  AdamUpdate(std::size_t n, const typenet::AdamOptions& o) : m_(n, 0.0f), v_(n, 0.0f), o_(o) {
    if (o.weight_decay != 0) throw std::logic_error("the oneDNN peer's Adam has no weight decay");
  }
  void step(std::span<float> params, std::span<const float> grads) {
    ++t_;
    const double bc1 = 1 - std::pow(o_.beta1, static_cast<double>(t_));
    const double bc2 = 1 - std::pow(o_.beta2, static_cast<double>(t_));
    const auto b1 = static_cast<float>(o_.beta1), b2 = static_cast<float>(o_.beta2);
    const auto one_b1 = static_cast<float>(1 - o_.beta1), one_b2 = static_cast<float>(1 - o_.beta2);
    const auto step_size = static_cast<float>(o_.lr / bc1), eps = static_cast<float>(o_.eps);
    const auto inv_sqrt_bc2 = static_cast<float>(1 / std::sqrt(bc2));
    float* __restrict p = params.data();
    const float* __restrict g = grads.data();
    float* __restrict m = m_.data();
    float* __restrict v = v_.data();
    const std::size_t n = params.size();
#pragma omp parallel for simd schedule(static) if (n >= parallel_update_threshold)
    for (std::size_t i = 0; i < n; ++i) {
      const float gi = g[i];
      const float mi = b1 * m[i] + one_b1 * gi;
      const float vi = b2 * v[i] + one_b2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] -= step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
    }
  }

 private:
  std::vector<float> m_, v_;
  typenet::AdamOptions o_;
  std::size_t t_ = 0;
};

// torch.optim.SGD without momentum: p = p - lr g.
void sgd_step(std::span<float> params, std::span<const float> grads, float lr) {
  float* __restrict p = params.data();
  const float* __restrict g = grads.data();
  const std::size_t n = params.size();
#pragma omp parallel for simd schedule(static) if (n >= parallel_update_threshold)
  for (std::size_t i = 0; i < n; ++i) p[i] -= lr * g[i];
}

// Mean over the batch of -log softmax(l)[label] (torch.nn.CrossEntropyLoss),
// from the logits by log-sum-exp; grad = (softmax(l) - onehot(label)) / batch.
double softmax_cross_entropy(const float* logits, const std::int32_t* labels, std::size_t batch,
                             std::size_t classes, float* grad) {
  double total = 0;
  const float inv_batch = 1.0f / static_cast<float>(batch);
  for (std::size_t i = 0; i < batch; ++i) {
    const float* l = logits + i * classes;
    float top = l[0];
    for (std::size_t j = 1; j < classes; ++j) top = std::max(top, l[j]);
    float sum = 0;
    for (std::size_t j = 0; j < classes; ++j) sum += std::exp(l[j] - top);
    const float lse = top + std::log(sum);
    const auto label = static_cast<std::size_t>(labels[i]);
    total += static_cast<double>(lse - l[label]);
    for (std::size_t j = 0; j < classes; ++j)
      grad[i * classes + j] = (std::exp(l[j] - lse) - (j == label ? 1.0f : 0.0f)) * inv_batch;
  }
  return total / static_cast<double>(batch);
}

// Mean over samples of max(0, 1 - t s), t in {-1, +1} (micrograd's hinge;
// typenet's Hinge), one output per sample; its gradient into grad.
double hinge(const float* out, const float* targets, std::size_t n, float* grad) {
  double total = 0;
  const float inv_n = 1.0f / static_cast<float>(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float margin = 1.0f - targets[i] * out[i];
    total += static_cast<double>(std::max(margin, 0.0f));
    grad[i] = margin > 0.0f ? -targets[i] * inv_n : 0.0f;
  }
  return total / static_cast<double>(n);
}

// ------------------------------------------------------------------ the checks

struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The network's forward in plain loops, in double: rows x out of the last
// layer. BatchNorm with the statistics of these rows (training mode).
std::vector<double> reference_forward(const std::vector<LayerSpec>& specs, const Layout& layout, const float* params,
                                      const float* x, std::size_t rows) {
  std::vector<double> a(x, x + rows * static_cast<std::size_t>(specs.front().in));
  for (std::size_t l = 0; l < specs.size(); ++l) {
    const auto in = static_cast<std::size_t>(specs[l].in), out = static_cast<std::size_t>(specs[l].out);
    const Offsets& o = layout.layers[l];
    std::vector<double> z(rows * out, 0.0);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < out; ++j) {
        double sum = specs[l].batchnorm ? 0.0 : params[o.bias + j];
        for (std::size_t k = 0; k < in; ++k) sum += a[i * in + k] * params[o.weight + k * out + j];
        z[i * out + j] = sum;
      }
    if (specs[l].batchnorm)
      for (std::size_t j = 0; j < out; ++j) {
        double mean = 0, var = 0;
        for (std::size_t i = 0; i < rows; ++i) mean += z[i * out + j];
        mean /= static_cast<double>(rows);
        for (std::size_t i = 0; i < rows; ++i) var += (z[i * out + j] - mean) * (z[i * out + j] - mean);
        var /= static_cast<double>(rows);  // biased, as BatchNorm normalises
        for (std::size_t i = 0; i < rows; ++i)
          z[i * out + j] = params[o.gamma + j] * (z[i * out + j] - mean) / std::sqrt(var + batchnorm_eps) +
                           params[o.beta + j];
      }
    if (specs[l].relu)
      for (double& v : z) v = std::max(v, 0.0);
    a = std::move(z);
  }
  return a;
}

// The largest difference between got and want; throws CheckFailed above tolerance.
double expect_close(const std::string& what, const float* got, const std::vector<double>& want, double tolerance) {
  double worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]));
  if (!(worst <= tolerance))
    throw CheckFailed(what + ": oneDNN and the plain-loop reference differ by " + std::to_string(worst) +
                      " (tolerance " + std::to_string(tolerance) + ")");
  return worst;
}

// What the checks found, for the report.
struct CheckReport {
  std::string workload;
  double forward_error, gradient_error, loss_error, first_loss, last_loss;
};
std::vector<CheckReport> check_reports;

// Checks a training workload's oneDNN step against plain loops and typenet,
// on the rows of x from 0 (steps_apart rows further at each step):
//   loss(trainer, first)     the loss of the rows at `first`, its gradient into the trainer
//   make_update(trainer)     the optimizer for a trainer, a callable update(trainer)
//   typenet_step(model)      a callable that runs typenet's train_step on the rows at `first`
//   typenet_gradient(model, first)  typenet's loss_and_gradient on those rows
template <class Net, class Loss, class Update, class TypenetStep, class TypenetGradient>
void check_training(const std::string& name, const float* x, std::size_t batch, std::size_t steps_apart, Loss&& loss,
                    Update&& make_update, TypenetStep&& typenet_step, TypenetGradient&& typenet_gradient) {
  const std::vector<LayerSpec> specs = layer_specs<Net>();
  const auto in = static_cast<std::size_t>(specs.front().in);
  CheckReport report{name, 0, 0, 0, 0, 0};

  // 1. The forward against plain loops.
  typenet::Model<Net> model(typenet::Init::torch_default, init_seed);
  TrainingMlp dnn(specs, static_cast<int>(batch));
  const std::vector<float> initial = values_of(model, dnn.layout());
  dnn.set_parameters(initial);
  dnn.forward(x);
  const std::vector<double> want = reference_forward(specs, dnn.layout(), initial.data(), x, batch);
  report.forward_error = expect_close(name + ": the forward", dnn.output(), want, 1e-4);

  // 2. One step's gradients against typenet's (same values, same batch).
  loss(dnn, 0);
  dnn.backward();
  typenet_gradient(model, 0);
  const std::vector<float> theirs = gradients_of(model, dnn.layout());
  double largest = 0;
  for (std::size_t i = 0; i < theirs.size(); ++i) {
    largest = std::max(largest, static_cast<double>(std::abs(theirs[i])));
    report.gradient_error =
        std::max(report.gradient_error, static_cast<double>(std::abs(dnn.gradients()[i] - theirs[i])));
  }
  if (!(report.gradient_error <= 1e-4 * largest))
    throw CheckFailed(name + ": the gradients of one step differ from typenet's by " +
                      std::to_string(report.gradient_error) + " (largest gradient " + std::to_string(largest) + ")");

  // 3. The first steps of the workload: typenet's losses, step by step.
  {
    typenet::Model<Net> reference(typenet::Init::torch_default, init_seed);
    TrainingMlp trainer(specs, static_cast<int>(batch));
    trainer.set_parameters(values_of(reference, trainer.layout()));
    auto update = make_update(trainer);
    auto typenet_update = typenet_step(reference);
    for (std::size_t step = 0; step < 3; ++step) {
      const std::size_t first = step * steps_apart;
      trainer.forward(x + first * in);
      const double ours = loss(trainer, first);
      trainer.backward();
      update(trainer);
      const double want_loss = typenet_update(first);
      report.loss_error = std::max(report.loss_error, std::abs(ours - want_loss));
      if (!(std::abs(ours - want_loss) <= 1e-4 * std::max(1.0, std::abs(want_loss))))
        throw CheckFailed(name + ": step " + std::to_string(step) + "'s loss is " + std::to_string(ours) +
                          " in oneDNN and " + std::to_string(want_loss) + " in typenet");
    }
  }

  // 4. Training on one batch lowers its loss.
  {
    TrainingMlp trainer(specs, static_cast<int>(batch));
    trainer.set_parameters(initial);
    auto update = make_update(trainer);
    for (int step = 0; step < 20; ++step) {
      trainer.forward(x);
      const double value = loss(trainer, 0);
      if (step == 0) report.first_loss = value;
      report.last_loss = value;
      trainer.backward();
      update(trainer);
    }
    if (!(report.last_loss < 0.9 * report.first_loss))
      throw CheckFailed(name + ": twenty steps on one batch took its loss from " + std::to_string(report.first_loss) +
                        " to " + std::to_string(report.last_loss) + ", not below 90% of it");
  }
  check_reports.push_back(report);
}

template <class Net>
void check_mnist_training(const std::string& name) {
  const MnistLikeData& data = mnist_data();
  auto loss = [&](TrainingMlp& t, std::size_t first) {
    return softmax_cross_entropy(t.output(), data.labels.data() + first, mnist_batch, mnist_widths.back(),
                                 t.output_gradient());
  };
  auto make_update = [](TrainingMlp& t) {
    return [adam = std::make_shared<AdamUpdate>(t.layout().size, adam_options)](TrainingMlp& tr) {
      adam->step(tr.parameters(), tr.gradients());
    };
  };
  auto rows = [&](std::size_t first) { return data.x.view().rows_view(first, mnist_batch); };
  auto labels = [&](std::size_t first) {
    return std::span<const std::int32_t>(data.labels.data() + first, mnist_batch);
  };
  auto typenet_step = [&](typenet::Model<Net>& model) {
    return [&, adam = std::make_shared<typenet::Adam<>>(adam_options)](std::size_t first) {
      return static_cast<double>(
          typenet::train_step(model, rows(first), labels(first), typenet::SoftmaxCrossEntropy{}, *adam));
    };
  };
  auto typenet_gradient = [&](typenet::Model<Net>& model, std::size_t first) {
    typenet::loss_and_gradient(model, rows(first), labels(first), typenet::SoftmaxCrossEntropy{});
  };
  check_training<Net>(name, data.x.data(), mnist_batch, mnist_batch, loss, make_update, typenet_step,
                      typenet_gradient);
}

void check_moons_training(const std::string& name) {
  const MoonsData moons;
  auto loss = [&](TrainingMlp& t, std::size_t) {
    return hinge(t.output(), moons.targets.data(), moons_samples, t.output_gradient());
  };
  auto make_update = [](TrainingMlp&) {
    return [](TrainingMlp& tr) { sgd_step(tr.parameters(), tr.gradients(), static_cast<float>(moons_lr)); };
  };
  auto typenet_step = [&](typenet::Model<MoonsNet>& model) {
    return [&, sgd = std::make_shared<typenet::SGD<>>(typenet::SGDOptions{.lr = moons_lr})](std::size_t) {
      return static_cast<double>(
          typenet::train_step(model, moons.data.x.view(), moons.targets.view(), typenet::Hinge{}, *sgd));
    };
  };
  auto typenet_gradient = [&](typenet::Model<MoonsNet>& model, std::size_t) {
    typenet::loss_and_gradient(model, moons.data.x.view(), moons.targets.view(), typenet::Hinge{});
  };
  // The whole data set is the batch: every step trains on the same rows.
  check_training<MoonsNet>(name, moons.data.x.data(), moons_samples, 0, loss, make_update, typenet_step,
                           typenet_gradient);
}

// ------------------------------------------------------------------ the workloads

template <class Net>
Timing mnist_epoch(const Plan& plan) {
  const MnistLikeData& data = mnist_data();
  const typenet::Model<Net> initial(typenet::Init::torch_default, init_seed);
  TrainingMlp dnn(layer_specs<Net>(), static_cast<int>(mnist_batch));
  dnn.set_parameters(values_of(initial, dnn.layout()));
  AdamUpdate adam(dnn.layout().size, adam_options);
  const std::size_t in = mnist_widths.front(), classes = mnist_widths.back();
  return measure(plan, [&] {
    double loss_sum = 0;
    for (std::size_t step = 0; step < mnist_steps_per_epoch; ++step) {
      const std::size_t first = step * mnist_batch;
      dnn.forward(data.x.data() + first * in);
      loss_sum += softmax_cross_entropy(dnn.output(), data.labels.data() + first, mnist_batch, classes,
                                        dnn.output_gradient());
      dnn.backward();
      adam.step(dnn.parameters(), dnn.gradients());
    }
    result_sink = loss_sum;
  });
}

Timing moons_step(const Plan& plan) {
  const MoonsData moons;
  const typenet::Model<MoonsNet> initial(typenet::Init::torch_default, init_seed);
  TrainingMlp dnn(layer_specs<MoonsNet>(), static_cast<int>(moons_samples));
  dnn.set_parameters(values_of(initial, dnn.layout()));
  const float* x = moons.data.x.data();
  const float* targets = moons.targets.data();
  return measure(plan, [&] {
    dnn.forward(x);
    result_sink = hinge(dnn.output(), targets, moons_samples, dnn.output_gradient());
    dnn.backward();
    sgd_step(dnn.parameters(), dnn.gradients(), static_cast<float>(moons_lr));
  });
}

// bench.cpp's inference: the plain MNIST MLP's initial values, its first rows.
struct InferenceNet {
  typenet::Model<MnistNet> model{typenet::Init::torch_default, init_seed};
  Layout layout = lay_out(layer_specs<MnistNet>());
  std::vector<float> values = values_of(model, layout);
  bench::OneDnnMlp dnn;

  explicit InferenceNet(std::size_t batch) : dnn(make(batch)) {
    std::copy_n(mnist_data().x.data(), batch * mnist_widths.front(), dnn.input());
  }

 private:
  bench::OneDnnMlp make(std::size_t batch) const {
    std::vector<const float*> weights, biases;
    for (const Offsets& o : layout.layers) {
      weights.push_back(values.data() + o.weight);
      biases.push_back(values.data() + o.bias);
    }
    return bench::OneDnnMlp(bench::onednn_layers<MnistNet>(), false, static_cast<int>(batch), weights, biases);
  }
};

std::string inference_implementation;

void check_inference(const std::string& name, std::size_t batch) {
  InferenceNet net(batch);
  net.dnn.run();
  inference_implementation = net.dnn.first_implementation();
  // The reference on every 37th row (and the last): no batch statistics, so rows stand alone.
  const std::size_t out = mnist_widths.back(), in = mnist_widths.front();
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < batch; i += 37) rows.push_back(i);
  if (rows.back() != batch - 1) rows.push_back(batch - 1);
  double worst = 0;
  for (const std::size_t i : rows) {
    const std::vector<double> want =
        reference_forward(layer_specs<MnistNet>(), net.layout, net.values.data(), mnist_data().x.data() + i * in, 1);
    worst = std::max(worst, expect_close(name + ": the forward of row " + std::to_string(i),
                                         net.dnn.output() + i * out, want, 1e-4));
  }
  check_reports.push_back({name, worst, 0, 0, 0, 0});
}

template <std::size_t Batch>
Timing inference(const Plan& plan) {
  InferenceNet net(Batch);
  return measure(plan, [&] {
    net.dnn.run();
    result_sink = net.dnn.output()[0];
  });
}

// ------------------------------------------------------------------ the suite

struct Workload {
  std::string name;
  std::string per;  // what one call is
  Plan plan;        // bench.cpp's
  double flop_per_call = 0;
  double samples_per_call = 0;
  std::function<void(const std::string&)> check;
  std::function<Timing(const Plan&)> run;
};

std::vector<Workload> workloads() {
  const double epoch = step_flop(mnist_widths, mnist_batch, true) * static_cast<double>(mnist_steps_per_epoch);
  const double forward_one = step_flop(mnist_widths, 1, false);
  return {
      {"mnist_epoch_plain", "epoch", {1, 5, 1}, epoch, mnist_samples, check_mnist_training<MnistNet>,
       mnist_epoch<MnistNet>},
      {"mnist_epoch_batchnorm", "epoch", {1, 5, 1}, epoch, mnist_samples, check_mnist_training<MnistBatchNormNet>,
       mnist_epoch<MnistBatchNormNet>},
      {"moons_step", "step", {3, 21, 1000}, step_flop(moons_widths, moons_samples, true), moons_samples,
       check_moons_training, moons_step},
      {"inference_batch1", "forward", {3, 21, 2000}, forward_one, 1,
       [](const std::string& n) { check_inference(n, 1); }, inference<1>},
      {"inference_batch1000", "forward", {1, 21, 5}, 1000 * forward_one, 1000,
       [](const std::string& n) { check_inference(n, 1000); }, inference<1000>},
  };
}

struct Result {
  const Workload* workload;
  Plan plan;
  Timing timing;
};

std::string version_string() {
  const dnnl::version_t* v = dnnl::version();
  const std::string hash = v->hash;  // "N/A" in Debian's build
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
         (hash.empty() || hash == "N/A" ? "" : " (" + hash + ")");
}

std::string runtime_string() {
  switch (dnnl::version()->cpu_runtime) {
    case DNNL_RUNTIME_OMP: return "OpenMP";
    case DNNL_RUNTIME_TBB: return "TBB";
    case DNNL_RUNTIME_SEQ: return "sequential";
    case DNNL_RUNTIME_THREADPOOL: return "threadpool";
    default: return "unknown";
  }
}

std::string isa_string() {
  using isa = dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case isa::sse41: return "sse41";
    case isa::avx: return "avx";
    case isa::avx2: return "avx2";
    case isa::avx2_vnni: return "avx2_vnni";
    case isa::avx512_mic: return "avx512_mic";
    case isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case isa::avx512_core: return "avx512_core";
    case isa::avx512_core_vnni: return "avx512_core_vnni";
    case isa::avx512_core_bf16: return "avx512_core_bf16";
    case isa::avx512_core_amx: return "avx512_core_amx";
    case isa::all: return "all";
  }
  return "unknown";
}

// The implementations oneDNN chose, for the plain MNIST step (a fresh set of primitives; nothing runs).
std::vector<std::pair<std::string, std::string>> implementations() {
  std::vector<std::pair<std::string, std::string>> list =
      TrainingMlp(layer_specs<MnistBatchNormNet>(), static_cast<int>(mnist_batch)).implementations();
  const auto plain = TrainingMlp(layer_specs<MnistNet>(), static_cast<int>(mnist_batch)).implementations();
  for (const auto& [what, impl] : plain)
    if (what.find("matmul forward") != std::string::npos) list.emplace_back(what + " (with bias, ReLU)", impl);
  if (!inference_implementation.empty())
    list.emplace_back("inference layer 0 matmul (weights reordered)", inference_implementation);
  return list;
}

void print_json(const std::vector<Result>& results) {
  std::printf("{\n  \"threads\": %d,\n  \"onednn\": %s,\n  \"cpu_isa\": %s,\n  \"cpu_runtime\": %s,\n",
              omp_get_max_threads(), json_string(version_string()).c_str(), json_string(isa_string()).c_str(),
              json_string(runtime_string()).c_str());
  std::printf(
      "  \"mnist\": {\"samples\": %zu, \"batch\": %zu, \"steps_per_epoch\": %zu, \"widths\": [%zu, %zu, %zu, %zu], "
      "\"lr\": %g},\n",
      mnist_samples, mnist_batch, mnist_steps_per_epoch, mnist_widths[0], mnist_widths[1], mnist_widths[2],
      mnist_widths[3], mnist_lr);
  std::printf("  \"moons\": {\"samples\": %zu, \"noise\": %g, \"widths\": [%zu, %zu, %zu, %zu], \"lr\": %g},\n",
              moons_samples, moons_noise, moons_widths[0], moons_widths[1], moons_widths[2], moons_widths[3],
              moons_lr);
  std::printf("  \"adam\": {\"lr\": %g, \"beta1\": %g, \"beta2\": %g, \"eps\": %g},\n", adam_options.lr,
              adam_options.beta1, adam_options.beta2, adam_options.eps);
  const auto impls = implementations();
  std::printf("  \"implementations\": {");
  for (std::size_t i = 0; i < impls.size(); ++i)
    std::printf("%s\n    %s: %s", i ? "," : "", json_string(impls[i].first).c_str(),
                json_string(impls[i].second).c_str());
  std::printf("\n  },\n  \"checks\": [");
  for (std::size_t i = 0; i < check_reports.size(); ++i) {
    const CheckReport& c = check_reports[i];
    std::printf(
        "%s\n    {\"name\": %s, \"forward_error\": %.3g, \"gradient_error\": %.3g, \"loss_error\": %.3g, "
        "\"first_loss\": %.6g, \"last_loss\": %.6g}",
        i ? "," : "", json_string(c.workload).c_str(), c.forward_error, c.gradient_error, c.loss_error, c.first_loss,
        c.last_loss);
  }
  std::printf("\n  ],\n  \"results\": [");
  for (std::size_t i = 0; i < results.size(); ++i) bench::print_result_json(results[i], i == 0);
  std::printf("\n  ]\n}\n");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = bench::parse(
        argc, argv,
        "bench_onednn [--threads N] [--reps N] [--warmup N] [--only NAME[,NAME...]] [--json] [--list]\n"
        "  bench.cpp's compared workloads in oneDNN primitives, hand-written loss and optimizer\n"
        "  --threads N  OpenMP threads of oneDNN and of the loops (default: OMP_NUM_THREADS, else every CPU)\n"
        "  --reps N     timed repetitions of every workload (default: bench.cpp's, per workload)\n"
        "  --warmup N   untimed repetitions before them (default: bench.cpp's)\n"
        "  --only LIST  run only these workloads (comma-separated; --list shows the names)\n"
        "  --json       one JSON document instead of lines 'name median_seconds min_seconds reps'");
    const std::vector<Workload> suite = workloads();
    if (bench::list_or_check_names(options, suite)) return 0;
    if (options.threads_given) omp_set_num_threads(static_cast<int>(options.threads));
#if defined(__SSE__)
    // Subnormal results flushed to zero and subnormal inputs read as zero
    // (MXCSR's FTZ and DAZ), as an expert tuning oneDNN on an Intel core
    // would set them: the hand-written Adam's moments otherwise stick at
    // subnormals and every update takes microcode assists (typenet flushes
    // them in the update instead, docs/performance.md). OpenMP's threads,
    // created later from this one, inherit the setting.
    _mm_setcsr(_mm_getcsr() | 0x8040);
#endif

    auto selected = [&](const Workload& w) { return options.only.empty() || options.only.contains(w.name); };
    try {
      for (const Workload& w : suite)
        if (selected(w)) w.check(w.name);
    } catch (const CheckFailed& e) {
      std::fprintf(stderr, "bench_onednn: check failed: %s\n", e.what());
      return 3;
    }

    if (!options.json) {
      std::printf("# bench_onednn: oneDNN %s, %s runtime with %d thread(s), ISA %s\n", version_string().c_str(),
                  runtime_string().c_str(), omp_get_max_threads(), isa_string().c_str());
      for (const CheckReport& c : check_reports) {
        std::printf("# checked %s: forward within %.2g of plain loops", c.workload.c_str(), c.forward_error);
        if (c.first_loss > 0)
          std::printf("; gradients within %.2g and losses within %.2g of typenet's; 20 steps on one batch: loss "
                      "%.4g -> %.4g",
                      c.gradient_error, c.loss_error, c.first_loss, c.last_loss);
        std::printf("\n");
      }
      std::printf("# name median_seconds min_seconds reps\n");
    }
    std::vector<Result> results;
    for (const Workload& w : suite) {
      if (!selected(w)) continue;
      Plan plan = w.plan;
      if (options.reps) plan.reps = *options.reps;
      if (options.warmup) plan.warmup = *options.warmup;
      results.push_back({&w, plan, w.run(plan)});
      if (!options.json) bench::print_line(results.back());
    }
    if (options.json) print_json(results);
    return 0;
  } catch (const dnnl::error& e) {
    std::fprintf(stderr, "bench_onednn: oneDNN: %s (status %d)\n", e.what(), static_cast<int>(e.status));
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_onednn: %s\n", e.what());
    return 2;
  }
}
