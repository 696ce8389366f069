// The oneDNN side of the benchmarks: a dense network for inference as an
// expert writes it in oneDNN (Debian's libdnnl-dev, oneDNN 2.x), shared by
// bench/bench_inference.cpp (latency) and bench/bench_onednn.cpp (the peer
// in bench/compare.py's table). A benchmark peer only: nothing in include/
// uses oneDNN.
//
// One matmul primitive per Linear (weights as typenet's in x out, bias, the
// activation as a post-op), then a softmax primitive if the network ends in
// one; every primitive is created once, and the weights are reordered once
// into the layout the primitive prefers (they do not change at inference).
#pragma once

#include <algorithm>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "peer_layers.hpp"
#include "typenet/typenet.hpp"

namespace bench {

class OneDnnMlp {
 public:
  struct Layer {
    int in, out;
    dnnl::algorithm activation;  // eltwise_relu, eltwise_tanh, or undef
  };
  OneDnnMlp(const std::vector<Layer>& layers, bool softmax, int batch, const std::vector<const float*>& weights,
            const std::vector<const float*>& biases)
      : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
    using dnnl::memory;
    using tag = memory::format_tag;
    using dt = memory::data_type;
    const memory::dim m = batch;
    activations_.emplace_back(memory::desc({m, layers[0].in}, dt::f32, tag::ab), engine_);
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const memory::dim k = layers[l].in, n = layers[l].out;
      const memory::desc src({m, k}, dt::f32, tag::ab), dst({m, n}, dt::f32, tag::ab), bias({1, n}, dt::f32, tag::ab);
      const memory::desc any_weights({k, n}, dt::f32, tag::any);
      dnnl::primitive_attr attr;
      if (layers[l].activation != dnnl::algorithm::undef) {
        dnnl::post_ops ops;
        ops.append_eltwise(1.0f, layers[l].activation, 0.0f, 0.0f);
        attr.set_post_ops(ops);
      }
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, any_weights, bias, dst), attr, engine_);
      if (l == 0) first_implementation_ = pd.impl_info_str();
      // The weights once into the layout the primitive prefers.
      memory plain({{k, n}, dt::f32, tag::ab}, engine_, const_cast<float*>(weights[l]));
      memory packed(pd.weights_desc(), engine_);
      dnnl::reorder(plain, packed).execute(stream_, plain, packed);
      memory b(bias, engine_);
      std::copy_n(biases[l], n, static_cast<float*>(b.get_data_handle()));
      activations_.emplace_back(dst, engine_);
      steps_.push_back({dnnl::matmul(pd),
                        {{DNNL_ARG_SRC, activations_[l]}, {DNNL_ARG_WEIGHTS, packed}, {DNNL_ARG_BIAS, b},
                         {DNNL_ARG_DST, activations_[l + 1]}}});
    }
    if (softmax) {
      const memory& last = activations_.back();
      const dnnl::softmax_forward::primitive_desc pd(
          dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, last.get_desc(), 1), engine_);
      steps_.push_back({dnnl::softmax_forward(pd), {{DNNL_ARG_SRC, last}, {DNNL_ARG_DST, last}}});
    }
    stream_.wait();
  }
  float* input() { return static_cast<float*>(activations_.front().get_data_handle()); }
  const float* output() { return static_cast<const float*>(activations_.back().get_data_handle()); }
  void run() {
    for (auto& s : steps_) s.primitive.execute(stream_, s.args);
    stream_.wait();
  }
  // The implementation oneDNN chose for the first layer's matmul ("brg:avx2", ...), for reports.
  const std::string& first_implementation() const { return first_implementation_; }

 private:
  struct Step {
    dnnl::primitive primitive;
    std::unordered_map<int, dnnl::memory> args;
  };
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<dnnl::memory> activations_;
  std::vector<Step> steps_;
  std::string first_implementation_;
};

// The oneDNN layers of a typenet network type (ReLU, Tanh, Identity only).
template <class Net>
std::vector<OneDnnMlp::Layer> onednn_layers() {
  return peer_layers<Net, OneDnnMlp::Layer>(dnnl::algorithm::eltwise_relu, dnnl::algorithm::eltwise_tanh,
                                            dnnl::algorithm::undef);
}

}  // namespace bench
