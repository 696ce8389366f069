// typenet's GPU benchmarks (issue 5): the workloads bench/compare_gpu.py
// sets side by side with PyTorch CUDA on the same machine.
//
//   gpu_mnist_epoch_b64     MNIST MLP 784-256-256-10, Adam, softmax cross-entropy,
//                           one epoch of 48,000 samples in batches of 64
//   gpu_mnist_epoch_b1024   the same in batches of 1,024
//   gpu_width64_step        a 64-wide MLP with 4 hidden layers (ReLU), 16 outputs,
//                           MSE, Adam: one training step on 2^18 samples
//   gpu_inference_b65536    the MNIST MLP's forward on 65,536 samples
//
// The data are random and resident on the GPU; batches are consecutive rows
// (the PyTorch side slices the same way). A call returns when the GPU is
// done: every training step reads its loss back (as cuda::Trainer does),
// and the forward waits for its stream. Timing: bench/harness.hpp.
//
//   bench_gpu [--reps N] [--warmup N] [--only NAME[,NAME...]] [--json] [--list]
//
// Without a usable GPU it says why and exits with status 77.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "typenet/cuda/model.cuh"
#include "typenet/random/rng.hpp"
#include "typenet/typenet.hpp"

namespace {

using namespace typenet;

using MnistNet = Sequential<Input<784>, Linear<256>, ReLU, Linear<256>, ReLU, Linear<10>>;
using Width64Net = Sequential<Input<64>, Linear<64>, ReLU, Linear<64>, ReLU, Linear<64>, ReLU, Linear<64>, ReLU,
                              Linear<16>>;
constexpr std::size_t mnist_samples = 48000, width64_batch = std::size_t{1} << 18, inference_batch = 65536;
constexpr double mnist_lr = 1e-3;

// Random rows on the GPU (values in [0, 1)) and labels in [0, classes).
struct DeviceData {
  cuda::DeviceBuffer<float> x;
  cuda::DeviceBuffer<float> targets;
  cuda::DeviceBuffer<std::int32_t> labels;
};

DeviceData random_data(cuda::CudaExecutor& executor, std::size_t rows, std::size_t cols, std::size_t outputs,
                       std::size_t classes) {
  Rng rng(1);
  std::vector<float> x(rows * cols), t(rows * outputs);
  std::vector<std::int32_t> labels(rows);
  for (float& v : x) v = static_cast<float>(rng.uniform());
  for (float& v : t) v = static_cast<float>(rng.normal());
  for (auto& l : labels) l = static_cast<std::int32_t>(rng.uniform() * static_cast<double>(classes));
  DeviceData d{cuda::DeviceBuffer<float>(x.size()), cuda::DeviceBuffer<float>(t.size()),
               cuda::DeviceBuffer<std::int32_t>(labels.size())};
  executor.upload(d.x.data(), x.data(), x.size());
  executor.upload(d.targets.data(), t.data(), t.size());
  executor.upload(d.labels.data(), labels.data(), labels.size());
  return d;
}

bench::Timing mnist_epoch(const bench::Plan& plan, std::size_t batch) {
  cuda::Model<MnistNet> model(Init::torch_default, 1);
  const DeviceData data = random_data(model.executor(), mnist_samples, 784, 0, 10);
  Adam<> adam({.lr = mnist_lr});
  cuda::Trainer<MnistNet, float, Adam<>> trainer(model, adam);
  return bench::measure(plan, [&] {
    double loss = 0;
    for (std::size_t r0 = 0; r0 + batch <= mnist_samples; r0 += batch)
      loss += trainer.step(data.x.data() + r0 * 784, batch, data.labels.data() + r0, SoftmaxCrossEntropy{});
    bench::result_sink = loss;
  });
}

bench::Timing width64_step(const bench::Plan& plan) {
  cuda::Model<Width64Net> model(Init::torch_default, 1);
  const DeviceData data = random_data(model.executor(), width64_batch, 64, 16, 1);
  Adam<> adam({.lr = 1e-3});
  cuda::Trainer<Width64Net, float, Adam<>> trainer(model, adam);
  return bench::measure(plan, [&] {
    bench::result_sink = trainer.step(data.x.data(), width64_batch, data.targets.data(), MeanSquaredError{});
  });
}

bench::Timing inference(const bench::Plan& plan) {
  cuda::Model<MnistNet> model(Init::torch_default, 1);
  const DeviceData data = random_data(model.executor(), inference_batch, 784, 0, 10);
  return bench::measure(plan, [&] {
    model.forward(data.x.data(), inference_batch, Mode::eval);
    model.executor().synchronize();
  });
}

struct Workload {
  std::string name, per;
  bench::Plan plan;
  double samples_per_call;
  std::function<bench::Timing(const bench::Plan&)> run;
};

std::vector<Workload> workloads() {
  return {
      {"gpu_mnist_epoch_b64", "epoch", {1, 5, 1}, double(mnist_samples / 64 * 64),
       [](const bench::Plan& p) { return mnist_epoch(p, 64); }},
      {"gpu_mnist_epoch_b1024", "epoch", {1, 5, 1}, double(mnist_samples / 1024 * 1024),
       [](const bench::Plan& p) { return mnist_epoch(p, 1024); }},
      {"gpu_width64_step", "step", {3, 11, 1}, double(width64_batch), width64_step},
      {"gpu_inference_b65536", "forward", {3, 11, 5}, double(inference_batch), inference},
  };
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const bench::Options options = bench::parse(
        argc, argv,
        "bench_gpu [--reps N] [--warmup N] [--only NAME[,NAME...]] [--json] [--list]\n"
        "  --reps N     timed repetitions of every workload (default: per workload)\n"
        "  --warmup N   untimed repetitions before them (default: per workload)\n"
        "  --only LIST  run only these workloads (comma-separated; --list shows the names)\n"
        "  --json       one JSON document instead of lines 'name median_seconds min_seconds reps'");
    const std::vector<Workload> suite = workloads();
    if (bench::list_or_check_names(options, suite)) return 0;
    if (const std::string why = cuda::no_device_reason(); !why.empty()) {
      std::fprintf(stderr, "bench_gpu: no usable GPU (%s)\n", why.c_str());
      return 77;
    }
    cudaDeviceProp prop{};
    cuda::check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    if (options.json)
      std::printf("{\n  \"device\": %s,\n  \"mnist\": {\"samples\": %zu, \"lr\": %g},\n  \"results\": [",
                  bench::json_string(prop.name).c_str(), mnist_samples, mnist_lr);
    else
      std::printf("# typenet bench_gpu on %s\n# name median_seconds min_seconds reps\n", prop.name);
    bool first = true;
    for (const Workload& w : suite) {
      if (!options.only.empty() && !options.only.contains(w.name)) continue;
      bench::Plan plan = w.plan;
      if (options.reps) plan.reps = *options.reps;
      if (options.warmup) plan.warmup = *options.warmup;
      const bench::Timing t = w.run(plan);
      if (options.json) {
        std::printf("%s\n    {\"name\": %s, \"per\": %s, \"median_seconds\": %.9g, \"min_seconds\": %.9g, "
                    "\"reps\": %d, \"warmup\": %d, \"calls_per_rep\": %ld, \"samples_per_call\": %.0f}",
                    first ? "" : ",", bench::json_string(w.name).c_str(), bench::json_string(w.per).c_str(),
                    t.median_seconds, t.min_seconds, plan.reps, plan.warmup, plan.calls, w.samples_per_call);
      } else {
        std::printf("%s %.9g %.9g %d\n#   per %s: %.0f samples/s\n", w.name.c_str(), t.median_seconds,
                    t.min_seconds, plan.reps, w.per.c_str(), w.samples_per_call / t.median_seconds);
      }
      std::fflush(stdout);
      first = false;
    }
    if (options.json) std::printf("\n  ]\n}\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gpu: %s\n", e.what());
    return 2;
  }
}
