// Inference latency (issue 15): typenet's InferenceModel beside oneDNN, the
// expert's hand-written C++ (matmul primitives with bias and ReLU/tanh
// post-ops and a softmax primitive, created once, weights reordered once
// into the layout oneDNN prefers), and, when built with Eigen
// (TYPENET_BENCH_EIGEN, set by bench/meson.build when eigen3 is found), the
// same network hand-written in Eigen 3.4 (bench/eigen_mlp.hpp), on one
// thread each, with the machine's ceilings measured in the same run.
// bench/compare_inference.py adds PyTorch and prints the table.
//
//   bench_inference [--reps N] [--warmup N] [--only NAME,...] [--list] [--json]
//
// Workloads: the MNIST MLP (784-256-256-10, ReLU, softmax) at batch 1, 16
// and 1000; one dense layer 16->16 and 64->64 with tanh at batch 1 (what
// real-time audio users time); micrograd's moons MLP at batch 1.
// oneDNN's threads: run with OMP_NUM_THREADS=1 (compare_inference.py does).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ceilings.hpp"
#include "harness.hpp"
#include "onednn_mlp.hpp"
#ifdef TYPENET_BENCH_EIGEN
#include "eigen_mlp.hpp"
#endif
#include "typenet/model/inference_model.hpp"
#include "typenet/typenet.hpp"

namespace {

using namespace typenet;
using bench::Plan;
using bench::Timing;
using bench::OneDnnMlp;
using bench::onednn_layers;

using Mnist = Sequential<Input<784>, Linear<256>, ReLU, Linear<256>, ReLU, Linear<10>, Softmax>;
using Dense16 = Sequential<Input<16>, Linear<16>, Tanh>;
using Dense64 = Sequential<Input<64>, Linear<64>, Tanh>;
using Moons = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;

struct Result {
  std::string name, system;
  std::size_t batch;
  Timing timing;
  double flop, weight_bytes;
};

// Every peer computed the same network as typenet: check, so that the race is fair.
void check_same(const std::string& name, const char* system, const float* theirs, const Matrix<float>& ours) {
  double worst = 0;
  for (std::size_t i = 0; i < ours.rows() * ours.cols(); ++i)
    worst = std::max(worst, static_cast<double>(std::abs(theirs[i] - ours.data()[i])));
  if (worst > 1e-4)
    throw std::runtime_error(name + ": " + system + " and typenet differ by " + std::to_string(worst));
}

template <class Net>
void run_systems(const std::string& name, std::size_t batch, const Plan& plan, const bench::Options& o,
              std::vector<Result>& out) {
  if (!o.only.empty() && !o.only.contains(name)) return;
  Model<Net> model(Init::torch_default, 3);
  const InferenceModel<Net> served(model);
  Rng rng(4);
  Matrix<float> x(batch, Net::input_size), y(batch, Net::output_size);
  for (std::size_t i = 0; i < batch; ++i)
    for (std::size_t j = 0; j < Net::input_size; ++j) x(i, j) = static_cast<float>(rng.normal());
  typename InferenceModel<Net>::Workspace workspace(batch);
  double flop = 0, bytes = 0;
  for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    flop += 2.0 * static_cast<double>(batch * B::in * B::out);
    bytes += static_cast<double>((B::in * B::out + B::out) * sizeof(float));
  });
  const Timing t = bench::measure(plan, [&] {
    served.predict(x.view(), y.view(), workspace);
    bench::result_sink = y(0, 0);
  });
  out.push_back({name, "typenet", batch, t, flop, bytes});

  std::vector<const float*> weights, biases;
  for_each_block<Net>([&](auto b) {
    using B = typename decltype(b)::type;
    weights.push_back(model.parameters().data() + B::weight_offset);
    biases.push_back(model.parameters().data() + B::bias_offset);
  });
  // A peer on the same input, timed the same way, and checked against
  // typenet's output so that the race is fair.
  auto race = [&](auto& peer, const char* label, const char* system) {
    std::copy_n(x.data(), batch * Net::input_size, peer.input());
    const Timing timing = bench::measure(plan, [&] {
      peer.run();
      bench::result_sink = peer.output()[0];
    });
    peer.run();
    check_same(name, label, peer.output(), y);
    out.push_back({name, system, batch, timing, flop, bytes});
  };
  OneDnnMlp dnn(onednn_layers<Net>(), Net::softmax_head, static_cast<int>(batch), weights, biases);
  race(dnn, "oneDNN", "onednn");
#ifdef TYPENET_BENCH_EIGEN
  bench::EigenMlp mlp(bench::eigen_layers<Net>(), Net::softmax_head, static_cast<int>(batch), weights, biases);
  race(mlp, "Eigen", "eigen");
#endif
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bench::Options o = bench::parse(
        argc, argv,
        "bench_inference [--reps N] [--warmup N] [--only NAME[,NAME...]] [--list] [--json]\n"
        "  typenet's InferenceModel, oneDNN and (when built with it) Eigen on one thread\n"
        "  (run with OMP_NUM_THREADS=1), and the ceilings");
    const std::vector<std::string> names = {"mnist_batch1", "mnist_batch16", "mnist_batch1000",
                                            "dense16_tanh_batch1", "dense64_tanh_batch1", "moons_batch1"};
    if (o.list) {
      for (const auto& n : names) std::printf("%s\n", n.c_str());
      return 0;
    }
    for (const auto& n : o.only)
      if (std::find(names.begin(), names.end(), n) == names.end())
        throw std::invalid_argument("no workload named '" + n + "' (--list shows the names)");
    auto plan = [&](int warmup, int reps, long calls) {
      return Plan{o.warmup.value_or(warmup), o.reps.value_or(reps), calls};
    };
#ifdef TYPENET_BENCH_EIGEN
    Eigen::setNbThreads(1);  // one thread, like the others (and the build has no OpenMP)
#endif
    std::vector<Result> results;
    run_systems<Mnist>("mnist_batch1", 1, plan(3, 21, 2000), o, results);
    run_systems<Mnist>("mnist_batch16", 16, plan(3, 21, 500), o, results);
    run_systems<Mnist>("mnist_batch1000", 1000, plan(2, 11, 10), o, results);
    run_systems<Dense16>("dense16_tanh_batch1", 1, plan(3, 21, 200000), o, results);
    run_systems<Dense64>("dense64_tanh_batch1", 1, plan(3, 21, 100000), o, results);
    run_systems<Moons>("moons_batch1", 1, plan(3, 21, 200000), o, results);

    // The ceilings: one core's FMA peak, and the read bandwidth of the cache
    // that holds each workload's weights.
    const Timing peak = bench::fma_peak(Plan{1, 5, 1}, 1);
    const double flops = bench::fma_flop_per_thread / peak.median_seconds;
    // Its independent check (the same chains in assembly; 0: not built here).
    const double check =
        bench::has_fma_check ? bench::fma_flop_per_thread / bench::fma_peak(Plan{1, 5, 1}, 1, true).median_seconds : 0;
    std::printf(
        "{\n  \"instruction_set\": %s,\n  \"fma_peak_flops_1thread\": %.6g,\n  \"fma_check_flops_1thread\": %.6g,\n"
        "  \"results\": [",
        bench::json_string(simd::instruction_set).c_str(), flops, check);
    for (std::size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      const double bandwidth = bench::read_bandwidth(static_cast<std::size_t>(r.weight_bytes), Plan{1, 5, 1});
      std::printf(
          "%s\n    {\"name\": %s, \"system\": %s, \"batch\": %zu, \"median_seconds\": %.9g, \"min_seconds\": %.9g, "
          "\"flop\": %.0f, \"weight_bytes\": %.0f, \"bandwidth_of_weights_cache\": %.6g}",
          i ? "," : "", bench::json_string(r.name).c_str(), bench::json_string(r.system).c_str(), r.batch,
          r.timing.median_seconds, r.timing.min_seconds, r.flop, r.weight_bytes, bandwidth);
    }
    std::printf("\n  ]\n}\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_inference: %s\n", e.what());
    return 2;
  }
}
