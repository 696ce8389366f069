// Losses on the GPU against the CPU's: mean and sum of squared errors, hinge,
// binary cross-entropy on probabilities and with logits, softmax
// cross-entropy; the value to 1e-6 relative (both sum in double, in different
// orders, of terms the two sides' float functions may round differently by a
// few ulp) and every gradient element to 8 ulp of max(1, |value|); a label
// outside the output width is the CPU's error sentence. Part of the test_cuda
// executable, which skips without a GPU.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "typenet/cuda/device_buffer.cuh"
#include "typenet/cuda/model.cuh"
#include "typenet/random/rng.hpp"

using namespace typenet;

namespace {

constexpr float ulp8 = 8 * std::numeric_limits<float>::epsilon();

bool close(float a, float b) { return std::abs(a - b) <= ulp8 * std::max(1.0f, std::abs(b)); }

template <class T>
cuda::DeviceBuffer<T> upload(const std::vector<T>& v) {
  cuda::DeviceBuffer<T> d(v.size());
  d.copy_from_host(v.data(), v.size());
  // (complete before an executor's stream, which does not wait for the default one, reads it)
  cuda::check(cudaStreamSynchronize(nullptr), "cudaStreamSynchronize");
  return d;
}

std::vector<float> download(const cuda::DeviceBuffer<float>& d) {
  std::vector<float> v(d.size());
  d.copy_to_host(v.data(), v.size());
  cuda::check(cudaStreamSynchronize(nullptr), "cudaStreamSynchronize");
  return v;
}

void expect_close(const std::vector<float>& gpu, const std::vector<float>& cpu, const std::string& what) {
  std::size_t differ = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) differ += !close(gpu[i], cpu[i]);
  BOOST_CHECK_MESSAGE(differ == 0, what << ": " << differ << " of " << cpu.size() << " gradient values differ");
}

// rows x cols outputs from `make_output`, targets from `make_target`.
template <class Loss, class MakeOutput, class MakeTarget>
void expect_elementwise_loss(const std::string& name, MakeOutput make_output, MakeTarget make_target) {
  constexpr std::size_t rows = 333, cols = 3;
  Rng rng(7);
  std::vector<float> out(rows * cols), target(rows * cols), cpu_grad(rows * cols);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = make_output(rng);
    target[i] = make_target(rng);
  }
  const float cpu = Loss{}(MatrixView<const float>{out.data(), rows, cols},
                           MatrixView<const float>{target.data(), rows, cols},
                           MatrixView<float>{cpu_grad.data(), rows, cols});
  auto d_out = upload(out), d_target = upload(target);
  cuda::DeviceBuffer<float> d_grad(out.size());
  cuda::CudaExecutor executor;
  cuda::Losses<float> losses(executor);
  const float gpu = losses(Loss{}, d_out.data(), d_target.data(), d_grad.data(), rows, cols);
  BOOST_CHECK_MESSAGE(std::abs(gpu - cpu) <= 1e-6f * std::max(1.0f, std::abs(cpu)),
                      name << ": GPU " << gpu << ", CPU " << cpu);
  expect_close(download(d_grad), cpu_grad, name);
}

}  // namespace

BOOST_AUTO_TEST_CASE(elementwise_losses_on_the_gpu_are_the_cpus) {
  auto normal = [](Rng& r) { return static_cast<float>(r.normal(0.0, 2.0)); };
  auto sign = [](Rng& r) { return r.uniform() < 0.5 ? -1.0f : 1.0f; };
  auto probability = [](Rng& r) { return static_cast<float>(0.001 + 0.998 * r.uniform()); };
  auto bit = [](Rng& r) { return r.uniform() < 0.5 ? 0.0f : 1.0f; };
  expect_elementwise_loss<MeanSquaredError>("mean squared error", normal, normal);
  expect_elementwise_loss<SumSquaredError>("sum of squared errors", normal, normal);
  expect_elementwise_loss<Hinge>("hinge", normal, sign);
  expect_elementwise_loss<BinaryCrossEntropy>("binary cross-entropy", probability, bit);
  expect_elementwise_loss<BinaryCrossEntropyWithLogits>("binary cross-entropy with logits", normal, bit);
}

BOOST_AUTO_TEST_CASE(softmax_cross_entropy_on_the_gpu_is_the_cpus) {
  constexpr std::size_t rows = 517, cols = 10;
  Rng rng(3);
  std::vector<float> logits(rows * cols), cpu_grad(rows * cols);
  std::vector<std::int32_t> labels(rows);
  for (float& l : logits) l = static_cast<float>(rng.normal(0.0, 4.0));
  for (auto& y : labels) y = static_cast<std::int32_t>(rng.below(cols));
  const float cpu = SoftmaxCrossEntropy{}(MatrixView<const float>{logits.data(), rows, cols},
                                         std::span<const std::int32_t>(labels),
                                         MatrixView<float>{cpu_grad.data(), rows, cols});
  auto d_logits = upload(logits);
  auto d_labels = upload(labels);
  cuda::DeviceBuffer<float> d_grad(logits.size());
  cuda::CudaExecutor executor;
  cuda::Losses<float> losses(executor);
  const float gpu = losses(SoftmaxCrossEntropy{}, d_logits.data(), d_labels.data(), d_grad.data(), rows, cols);
  BOOST_CHECK_MESSAGE(std::abs(gpu - cpu) <= 1e-6f * std::max(1.0f, std::abs(cpu)), "GPU " << gpu << ", CPU " << cpu);
  expect_close(download(d_grad), cpu_grad, "softmax cross-entropy");

  labels[200] = 10;
  labels[300] = -1;
  auto bad_labels = upload(labels);
  try {
    losses(SoftmaxCrossEntropy{}, d_logits.data(), bad_labels.data(), d_grad.data(), rows, cols);
    BOOST_FAIL("a label of 10 for 10 outputs was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_CHECK_EQUAL(std::string(e.what()),
                      "typenet: softmax cross-entropy: label 10 of sample 200 is outside [0, 10), the network's "
                      "output width.");
  }
}
