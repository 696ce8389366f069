// typenet's benchmark suite (issue 4): the workloads that bench/compare.py
// sets side by side with PyTorch, plus the machine's ceilings (OpenBLAS on the
// same GEMM shapes, and the FP32 FMA peak).
//
// Every workload is timed by bench/harness.hpp: medians and minima of
// repeated calls.
//
// Output, one line per workload:   name median_seconds min_seconds reps
// Lines starting with '#' are comments (derived rates). With --json, one JSON
// document instead, with everything compare.py needs to mirror the workloads.
//
//   bench [--threads N] [--reps N] [--warmup N] [--only NAME[,NAME...]] [--json] [--list] [--flush-subnormals]
//
// Build: meson (bench/meson.build) or
//   g++ -std=c++20 -O2 -march=native -Iinclude bench/bench.cpp -lopenblas -o /tmp/bench
// (-DTYPENET_BENCH_NO_OPENBLAS builds it without the OpenBLAS ceiling).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ceilings.hpp"
#include "harness.hpp"
#include "workloads.hpp"
#include "typenet/typenet.hpp"

#if !defined(TYPENET_BENCH_NO_OPENBLAS)
#include <cblas.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using namespace typenet;
using bench::Options;
using bench::Plan;
using bench::Timing;
using bench::json_string;
using bench::measure;
using bench::result_sink;
using bench::fma_flop_per_thread;
using bench::fma_peak;

// ------------------------------------------------------------------ workloads' definitions

using namespace bench::workloads;  // the networks, data and constants (workloads.hpp)

// The FLOPs of the three products of a dense layer stack at batch B
// (2 per multiply-add; elementwise work is not counted):
//   forward  Z = X W        2 B sum(in out), every layer
//   dW = X^T dZ             2 B sum(in out), every layer
//   dX = dZ W^T             2 B sum(in out), all layers but the first (no input gradient)
struct StepFlop {
  double forward = 0, weight_gradient = 0, input_gradient = 0;
  double total() const { return forward + weight_gradient + input_gradient; }
};

template <std::size_t N>
StepFlop step_flop(const std::array<std::size_t, N>& widths, std::size_t batch) {
  StepFlop f;
  for (std::size_t layer = 0; layer + 1 < N; ++layer) {
    const double products = 2.0 * static_cast<double>(batch * widths[layer] * widths[layer + 1]);
    f.forward += products;
    f.weight_gradient += products;
    if (layer > 0) f.input_gradient += products;
  }
  return f;
}

// ------------------------------------------------------------------ typenet workloads

struct Context {
  unsigned threads = 2;
  cpu::ThreadPool* pool = nullptr;
};

// Random MNIST-shaped data (pixel-like values in [0, 1), uniform labels):
// timing does not depend on the values, and no download is needed.
struct MnistLikeData {
  Matrix<float> x{mnist_samples, mnist_widths.front()};
  std::vector<std::int32_t> labels = std::vector<std::int32_t>(mnist_samples);

  MnistLikeData() {
    Rng rng(data_seed);
    for (std::size_t i = 0; i < mnist_samples; ++i) {
      for (std::size_t j = 0; j < x.cols(); ++j) x(i, j) = static_cast<float>(rng.uniform());
      labels[i] = static_cast<std::int32_t>(rng.below(mnist_widths.back()));
    }
  }
};

// Built on first use: only the workloads that need it pay for 150 MB.
const MnistLikeData& mnist_data() {
  static const MnistLikeData data;
  return data;
}

template <class Net>
Timing mnist_epoch(const Plan& plan, const Context& context) {
  const MnistLikeData& data = mnist_data();
  Model<Net> model(Init::torch_default, init_seed);
  model.set_thread_pool(context.pool);
  Adam<> adam({.lr = mnist_lr});
  const SoftmaxCrossEntropy loss;
  return measure(plan, [&] {
    double loss_sum = 0;
    for (std::size_t step = 0; step < mnist_steps_per_epoch; ++step) {
      const std::size_t first = step * mnist_batch;
      const std::span<const std::int32_t> labels(data.labels.data() + first, mnist_batch);
      loss_sum += train_step(model, data.x.view().rows_view(first, mnist_batch), labels, loss, adam);
    }
    result_sink = loss_sum;
  });
}

Timing moons_step(const Plan& plan, const Context& context) {
  const auto data = data::make_moons<float>(moons_samples, moons_noise, data_seed);
  const Matrix<float> targets = data.label_column(-1.0f, 1.0f);
  Model<MoonsNet> model(Init::torch_default, init_seed);
  model.set_thread_pool(context.pool);
  SGD<> sgd({.lr = moons_lr});
  return measure(plan, [&] { result_sink = train_step(model, data.x.view(), targets.view(), Hinge{}, sgd); });
}

template <std::size_t Batch>
Timing inference(const Plan& plan, const Context& context) {
  const MnistLikeData& data = mnist_data();
  Model<MnistNet> model(Init::torch_default, init_seed);
  model.set_thread_pool(context.pool);
  const MatrixView<const float> x = data.x.view().rows_view(0, Batch);
  return measure(plan, [&] { result_sink = model.forward(x, Mode::eval)(0, 0); });
}

// ------------------------------------------------------------------ the backward pass alone

// One backward pass of the MNIST MLP at batch 64 after a train-mode forward,
// gradients stored (no optimizer): the three weight gradients and the two
// input gradients, without the update's memory traffic.
Timing mnist_backward(const Plan& plan, const Context& context) {
  const MnistLikeData& data = mnist_data();
  Model<MnistNet> model(Init::torch_default, init_seed);
  model.set_thread_pool(context.pool);
  model.forward(data.x.view().rows_view(0, mnist_batch), Mode::train);
  Matrix<float> output_gradient(mnist_batch, mnist_widths.back());
  Rng rng(data_seed);
  for (std::size_t i = 0; i < mnist_batch; ++i)
    for (std::size_t j = 0; j < mnist_widths.back(); ++j) output_gradient(i, j) = static_cast<float>(0.01 * rng.normal());
  return measure(plan, [&] {
    model.backward(output_gradient.view());
    result_sink = model.gradients()[0];
  });
}

// ------------------------------------------------------------------ the optimizer alone

// Adam's separate step over the MNIST MLP's 269,322 parameters, gradients
// given, on the same threads: what the update costs per training step. The
// fused step does this work inside the weight-gradient kernels, so this is a
// floor under what they add to the products (docs/performance.md).
Timing adam_update(const Plan& plan, const Context& context) {
  Model<MnistNet> model(Init::torch_default, init_seed);
  model.set_thread_pool(context.pool);
  Rng rng(data_seed);
  for (float& g : model.gradients()) g = static_cast<float>(1e-3 * (rng.uniform() - 0.5));
  Adam<> adam({.lr = mnist_lr});
  return measure(plan, [&] {
    adam.step(model);
    result_sink = model.parameters()[0];
  });
}

// ------------------------------------------------------------------ OpenBLAS ceiling

#if !defined(TYPENET_BENCH_NO_OPENBLAS)
// The GEMMs of one MNIST training step at batch 64, row-major like typenet
// (activations batch x features, weights in x out), on random operands: the
// same products and FLOP count as step_flop(), nothing elementwise.
class MnistStepGemms {
 public:
  MnistStepGemms() {
    Rng rng(data_seed);
    for (std::size_t i = 0; i + 1 < mnist_widths.size(); ++i) {
      const std::size_t in = mnist_widths[i], out = mnist_widths[i + 1];
      Layer& l = layers_.emplace_back();
      l.in = static_cast<int>(in);
      l.out = static_cast<int>(out);
      l.x = random(mnist_batch * in, rng);
      l.w = random(in * out, rng);
      l.dz = random(mnist_batch * out, rng);
      l.z.resize(mnist_batch * out);
      l.dw.resize(in * out);
      l.dx.resize(mnist_batch * in);
    }
  }

  void run() {
    const int batch = static_cast<int>(mnist_batch);
    for (Layer& l : layers_)  // Z = X W
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, l.out, l.in, 1.0f, l.x.data(), l.in,
                  l.w.data(), l.out, 0.0f, l.z.data(), l.out);
    for (std::size_t i = layers_.size(); i-- > 0;) {
      Layer& l = layers_[i];
      // dW = X^T dZ
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l.in, l.out, batch, 1.0f, l.x.data(), l.in,
                  l.dz.data(), l.out, 0.0f, l.dw.data(), l.out);
      // dX = dZ W^T, not needed for the first layer
      if (i > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, l.in, l.out, 1.0f, l.dz.data(), l.out,
                    l.w.data(), l.out, 0.0f, l.dx.data(), l.in);
    }
    result_sink = layers_.front().dw[0];
  }

 private:
  struct Layer {
    int in = 0, out = 0;
    std::vector<float> x, w, z, dz, dw, dx;  // input, weights, output; their gradients
  };
  static std::vector<float> random(std::size_t n, Rng& rng) {
    std::vector<float> v(n);
    for (float& e : v) e = static_cast<float>(rng.uniform(-0.1, 0.1));
    return v;
  }
  std::vector<Layer> layers_;
};

Timing openblas_step_gemms(const Plan& plan, unsigned threads) {
  openblas_set_num_threads(static_cast<int>(threads));
  MnistStepGemms gemms;
  return measure(plan, [&] { gemms.run(); });
}

std::string openblas_description() {
  return std::string(openblas_get_corename()) + ", " + openblas_get_config();
}
#else
std::string openblas_description() { return "not built (TYPENET_BENCH_NO_OPENBLAS)"; }
#endif

// ------------------------------------------------------------------ the suite

struct Workload {
  std::string name;
  std::string per;  // what one call is
  Plan plan;
  double flop_per_call = 0;     // 0: not a FLOP-bound figure
  double samples_per_call = 0;  // 0: no samples
  std::function<Timing(const Plan&, const Context&)> run;
};

std::vector<Workload> workloads(const Context& context) {
  const StepFlop step_parts = step_flop(mnist_widths, mnist_batch);
  const double step = step_parts.total();
  const double epoch = step * static_cast<double>(mnist_steps_per_epoch);
  const double forward_one = step_flop(mnist_widths, 1).forward;
  const std::string threads = std::to_string(context.threads);
  std::vector<Workload> list = {
      {"mnist_epoch_plain", "epoch", {1, 5, 1}, epoch, mnist_samples, mnist_epoch<MnistNet>},
      {"mnist_epoch_batchnorm", "epoch", {1, 5, 1}, epoch, mnist_samples, mnist_epoch<MnistBatchNormNet>},
      {"moons_step", "step", {3, 21, 1000}, step_flop(moons_widths, moons_samples).total(), moons_samples, moons_step},
      {"inference_batch1", "forward", {3, 21, 2000}, forward_one, 1, inference<1>},
      {"inference_batch1000", "forward", {1, 21, 5}, 1000 * forward_one, 1000, inference<1000>},
      {"mnist_backward", "backward", {3, 21, 100}, step_parts.weight_gradient + step_parts.input_gradient, mnist_batch,
       mnist_backward},
      {"adam_update", "step", {3, 21, 100}, 0, 0, adam_update},
      {"fma_peak_1thread", "loop", {1, 5, 1}, fma_flop_per_thread, 0,
       [](const Plan& p, const Context&) { return fma_peak(p, 1); }},
      {"fma_peak_" + threads + "threads", "loop", {1, 5, 1}, context.threads * fma_flop_per_thread, 0,
       [](const Plan& p, const Context& c) { return fma_peak(p, c.threads); }},
  };
  // The peak loop's independent check (ceilings.hpp): the same chains in
  // assembly. compare.py warns when the two disagree.
  if constexpr (bench::has_fma_check) {
    list.push_back({"fma_check_1thread", "loop", {1, 5, 1}, fma_flop_per_thread, 0,
                    [](const Plan& p, const Context&) { return fma_peak(p, 1, true); }});
    list.push_back({"fma_check_" + threads + "threads", "loop", {1, 5, 1}, context.threads * fma_flop_per_thread, 0,
                    [](const Plan& p, const Context& c) { return fma_peak(p, c.threads, true); }});
  }
#if !defined(TYPENET_BENCH_NO_OPENBLAS)
  // Last: OpenBLAS's own threads spin for a while after each call and would
  // steal the core from whatever ran next.
  list.push_back({"openblas_step_gemms", "step", {1, 21, 10}, step, mnist_batch,
                  [](const Plan& p, const Context& c) { return openblas_step_gemms(p, c.threads); }});
#endif
  return list;
}

struct Result {
  const Workload* workload;
  Plan plan;
  Timing timing;
};

void print_json(const Options& o, const std::vector<Result>& results) {
  const StepFlop f = step_flop(mnist_widths, mnist_batch);
  std::printf("{\n  \"threads\": %u,\n  \"typenet_instruction_set\": %s,\n  \"fma_instruction_set\": %s,\n",
              o.threads, json_string(simd::instruction_set).c_str(), json_string(simd::instruction_set).c_str());
  std::printf("  \"openblas\": %s,\n", json_string(openblas_description()).c_str());
  std::printf(
      "  \"mnist\": {\"samples\": %zu, \"batch\": %zu, \"steps_per_epoch\": %zu, \"widths\": [%zu, %zu, %zu, %zu], "
      "\"lr\": %g},\n",
      mnist_samples, mnist_batch, mnist_steps_per_epoch, mnist_widths[0], mnist_widths[1], mnist_widths[2],
      mnist_widths[3], mnist_lr);
  std::printf("  \"moons\": {\"samples\": %zu, \"noise\": %g, \"widths\": [%zu, %zu, %zu, %zu], \"lr\": %g},\n",
              moons_samples, moons_noise, moons_widths[0], moons_widths[1], moons_widths[2], moons_widths[3],
              moons_lr);
  std::printf(
      "  \"mnist_step_flop\": {\"forward\": %.0f, \"weight_gradient\": %.0f, \"input_gradient\": %.0f, "
      "\"total\": %.0f},\n",
      f.forward, f.weight_gradient, f.input_gradient, f.total());
  std::printf("  \"results\": [");
  for (std::size_t i = 0; i < results.size(); ++i) bench::print_result_json(results[i], i == 0);
  std::printf("\n  ]\n}\n");
}

void print_header(const Options& o) {
  const StepFlop f = step_flop(mnist_widths, mnist_batch);
  std::printf("# typenet bench: %u threads, typenet kernels and FMA loop: %s\n", o.threads, simd::instruction_set);
  std::printf("# OpenBLAS: %s\n", openblas_description().c_str());
  std::printf("# FLOP of one MNIST training step (batch %zu): forward %.0f + dW %.0f + dX %.0f = %.0f\n",
              mnist_batch, f.forward, f.weight_gradient, f.input_gradient, f.total());
  std::printf("# name median_seconds min_seconds reps\n");
}

}  // namespace

// bench_dispatch (bench/meson.build) compiles this file once per instruction
// set, each copy's main renamed into the copy's namespace, and runs the copy
// for the best ISA the CPU has (typenet/cpu/isa_dispatch.hpp).
#if defined(TYPENET_BENCH_ONE_COPY_OF_SEVERAL)
namespace bench_copy::TYPENET_ISA_NAMESPACE {
int main_of_this_copy(int argc, char** argv) {
#else
int main(int argc, char** argv) {
#endif
  try {
    const Options options = bench::parse(
        argc, argv,
        "bench [--threads N] [--reps N] [--warmup N] [--only NAME[,NAME...]] [--json] [--list]\n"
        "  --threads N  threads of typenet's pool, of OpenBLAS and of the multi-thread FMA peak (default 2)\n"
        "  --reps N     timed repetitions of every workload (default: per workload, 5 to 21)\n"
        "  --warmup N   untimed repetitions before them (default: per workload)\n"
        "  --only LIST  run only these workloads (comma-separated; --list shows the names)\n"
        "  --json       one JSON document instead of lines 'name median_seconds min_seconds reps'\n"
        "  --flush-subnormals  compute with MXCSR's flush-to-zero and denormals-are-zero (x86)");
    cpu::ThreadPool pool(options.threads);
    const Context context{options.threads, &pool};
#if defined(__x86_64__)
    // Set after the pool exists: its workers take the caller's mode with
    // each job (cpu/thread_pool.hpp), as a user's program would rely on.
    if (options.flush_subnormals) _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
    const std::vector<Workload> suite = workloads(context);

    if (bench::list_or_check_names(options, suite)) return 0;
    if (const char* coretype = std::getenv("OPENBLAS_CORETYPE"))
      std::fprintf(stderr, "note: OPENBLAS_CORETYPE=%s overrides OpenBLAS's kernel choice; unset it for the ceiling\n",
                   coretype);

#if !defined(TYPENET_BENCH_NO_OPENBLAS)
    // OpenBLAS starts its worker threads when the library loads, and they spin
    // (sched_yield) for about 0.1 s before they sleep: let them settle, or they
    // share the cores with the first workload.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
#endif
    if (!options.json) print_header(options);
    std::vector<Result> results;
    for (const Workload& w : suite) {
      if (!options.only.empty() && !options.only.contains(w.name)) continue;
      Plan plan = w.plan;
      if (options.reps) plan.reps = *options.reps;
      if (options.warmup) plan.warmup = *options.warmup;
      results.push_back({&w, plan, w.run(plan, context)});
      if (!options.json) bench::print_line(results.back());
    }
    if (options.json) print_json(options, results);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: %s\n", e.what());
    return 2;
  }
}
#if defined(TYPENET_BENCH_ONE_COPY_OF_SEVERAL)
}  // namespace bench_copy::TYPENET_ISA_NAMESPACE
#endif
