// Serving a trained MNIST network: a checkpoint written by the mnist
// example (`mnist --save FILE`), or the network as safetensors (written by
// typenet_torch.save from PyTorch, or save_safetensors), loads into an InferenceModel (BatchNorm
// folded, Dropout gone), which N threads share to answer requests of B test
// images each. Prints the throughput, the p50 and p99 latency of a request,
// and the test accuracy, which is the mnist example's for the same file.
//
//   build/examples/mnist --variant batchnorm --save mnist.tn
//   build/examples/serve --load mnist.tn --threads 2 --batch 1
//
// The file says which network it holds; serve knows the mnist
// example's (plain, l2, dropout, batchnorm) and refuses any other with
// their names.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/example_main.hpp"
#include "support/mnist_common.hpp"
#include "support/networks.hpp"
#include "support/model_files.hpp"
#include "typenet/model/inference_model.hpp"
#include "typenet/train/metrics.hpp"

using namespace typenet;

namespace {

struct Settings {
  std::string load, data = examples::default_mnist_folder();
  std::size_t threads = std::max(1u, std::thread::hardware_concurrency()), batch = 1, repeat = 1;
};

template <class Net>
int serve(const Settings& s) {
  const InferenceModel<Net> served(s.load, [](const auto& path, auto& model) { examples::load_model(path, model); });
  const auto scaling = data::PixelScaling::standardise({0.1307f, 0.3081f});  // as the mnist example
  const data::MnistSet test = examples::load_mnist_or_explain(s.data, "t10k", scaling);
  data::check_width<Net::input_size>(test);
  const std::size_t n = test.data.size();
  const std::size_t requests = (n + s.batch - 1) / s.batch;
  std::printf("%s\nserving %zu test images in requests of %zu on %zu threads (%zu pass%s)\n", Net::name().c_str(), n,
              s.batch, s.threads, s.repeat, s.repeat == 1 ? "" : "es");

  Matrix<float> p(n, Net::output_size);
  std::vector<std::vector<double>> latencies(s.threads);
  std::atomic<std::size_t> next{0};
  const std::size_t total = requests * s.repeat;
  auto worker = [&](std::size_t t) {
    typename InferenceModel<Net>::Workspace workspace(s.batch);  // this thread's: no allocation per request
    latencies[t].reserve(total / s.threads + 1);
    for (std::size_t k; (k = next.fetch_add(1)) < total;) {
      const std::size_t begin = (k % requests) * s.batch, rows = std::min(s.batch, n - begin);
      const auto start = std::chrono::steady_clock::now();
      served.predict(test.data.x.view().rows_view(begin, rows), p.view().rows_view(begin, rows), workspace);
      latencies[t].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < s.threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& thread : pool) thread.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto percentile = [&](double q) { return all[std::min(all.size() - 1, static_cast<std::size_t>(q * all.size()))]; };
  std::printf("throughput: %.0f samples/s (%.3f s)\nlatency per request: p50 %.1f us, p99 %.1f us\n",
              static_cast<double>(n * s.repeat) / seconds, seconds, 1e6 * percentile(0.50), 1e6 * percentile(0.99));
  std::printf("final test accuracy: %.2f%%\n",
              100 * accuracy(MatrixView<const float>(p.view()), std::span<const std::int32_t>(test.data.labels)));
  return 0;
}

// The network a file holds: a checkpoint's signature, or the type a
// safetensors file's metadata names.
std::string network_of(const std::string& path) {
  if (!examples::is_safetensors(path)) return describe_checkpoint(path).signature;
  const SafetensorsFile file = read_safetensors(path);
  const auto network = file.metadata.find(safetensors_network_key);
  if (network == file.metadata.end())
    throw SafetensorsError(path, std::string("its metadata names no network (") + safetensors_network_key +
                                     "); serve needs to know which of the mnist networks it holds");
  return network->second;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  examples::CommandLine cli("serve", "Serve a trained MNIST checkpoint from N threads through an InferenceModel.");
  cli.text("--load", s.load, "the checkpoint (mnist --save) or FILE.safetensors to serve", "FILE")
      .text("--data", s.data, "folder with MNIST's test images (t10k, IDX, plain or .gz)", "DIR")
      .number("--threads", s.threads, "threads answering requests", std::size_t{1}, std::size_t{256})
      .number("--batch", s.batch, "images per request", std::size_t{1}, std::size_t{10000})
      .number("--repeat", s.repeat, "passes over the test set", std::size_t{1}, std::size_t{1000});
  return examples::run_example("serve", cli, argc, argv, [&] {
    if (s.load.empty()) throw std::runtime_error("--load FILE is needed: a checkpoint written by mnist --save FILE");
    const std::string signature = network_of(s.load);
    using namespace examples::mnist_mlp;
    if (signature == Plain::name()) return serve<Plain>(s);
    if (signature == WithDropout::name()) return serve<WithDropout>(s);
    if (signature == WithBatchNorm::name()) return serve<WithBatchNorm>(s);
    throw std::runtime_error(s.load + ": holds " + signature +
                             "; serve knows the mnist example's networks: " + Plain::name() + ", " +
                             WithDropout::name() + ", " + WithBatchNorm::name());
  });
}
