// The CUDA backend's shared elementwise code against the CPU's: every
// activation and both forms of its derivative, every elementwise loss and its
// gradient, Linear's and BatchNorm's pieces and the dropout hash, compiled for
// the GPU from the same expression types and evaluated there, then compared
// with the host's evaluation of the same types. Device memory errors name the
// call. Without a CUDA device the suite reports itself skipped (exit status
// 77, meson's SKIP) with the reason, and never fails for lack of one.
//
// Tolerance: the host evaluates in float with the C library, the device with
// CUDA's float functions (expf, tanhf, erff, log1pf: at most 2 ulp off the
// correctly rounded value each, and the expressions chain a few of them), so
// results may differ by a few ulp: |device - host| <= 8 ulp of max(1, |host|),
// about 1e-6 relative. NaN must meet NaN and infinities their own sign.
#define BOOST_TEST_MODULE cuda
#define BOOST_TEST_NO_MAIN
// (BOOST_CHECK rather than BOOST_TEST: Boost.Test turns its variadic macros
// off under nvcc.)
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "typenet/cpu/elementwise.hpp"
#include "typenet/cuda/device_buffer.cuh"
#include "typenet/cuda/elementwise.cuh"
#include "typenet/random/counter_hash.hpp"
#include "typenet/topology/activations.hpp"
#include "typenet/train/losses.hpp"

using namespace typenet;

namespace {

constexpr float ulp_tolerance = 8 * std::numeric_limits<float>::epsilon();

// e evaluated on the device for every element of `inputs` (one vector per
// variable of e).
template <int N, class E>
std::vector<float> on_device(const E& e, const std::array<std::vector<float>, N>& inputs) {
  const std::size_t n = inputs[0].size();
  std::array<cuda::DeviceBuffer<float>, N> in;
  for (int k = 0; k < N; ++k) {
    in[k] = cuda::DeviceBuffer<float>(n);
    in[k].copy_from_host(inputs[k].data(), n);
  }
  cuda::DeviceBuffer<float> out(n);
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    cuda::evaluate(e, out.data(), n, nullptr, static_cast<const float*>(in[K].data())...);
  }(std::make_index_sequence<N>{});
  std::vector<float> result(n);
  out.copy_to_host(result.data(), n);
  cuda::check(cudaStreamSynchronize(nullptr), "cudaStreamSynchronize");
  return result;
}

template <int N, class E>
std::vector<float> on_host(const E& e, const std::array<std::vector<float>, N>& inputs) {
  std::vector<float> result(inputs[0].size());
  for (std::size_t i = 0; i < result.size(); ++i) {
    std::array<float, N> env;
    for (int k = 0; k < N; ++k) env[k] = inputs[k][i];
    result[i] = e.template eval<float>(env);
  }
  return result;
}

bool agree(float device, float host) {
  if (std::isnan(host)) return std::isnan(device);
  if (std::isinf(host)) return device == host;
  return std::abs(device - host) <= ulp_tolerance * std::max(1.0f, std::abs(host));
}

template <int N, class E>
void expect_same_on_device(const E& e, const std::array<std::vector<float>, N>& inputs, const std::string& what) {
  const std::vector<float> device = on_device<N>(e, inputs), host = on_host<N>(e, inputs);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < host.size(); ++i)
    if (!agree(device[i], host[i])) {
      if (++wrong <= 5) {
        std::string at = "(";
        for (int k = 0; k < N; ++k) at += (k ? ", " : "") + std::to_string(inputs[k][i]);
        BOOST_TEST_MESSAGE(what << " at " << at << "): device " << device[i] << ", host " << host[i]);
      }
    }
  BOOST_CHECK_MESSAGE(wrong == 0u, what << ": " << wrong << " of " << host.size() << " values differ");
}

// -12 .. 12 in fine steps, and the values where formulas change branch or
// saturate.
std::vector<float> sample_line() {
  std::vector<float> x;
  for (int i = -6000; i <= 6000; ++i) x.push_back(static_cast<float>(i) / 500.0f);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 0.625f, -0.625f, 88.0f, -88.0f, 100.0f, -100.0f})
    x.push_back(v);
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  return x;
}

using Activations = boost::mpl::list<Identity, ReLU, LeakyReLU<0.1f>, Tanh, Sigmoid, ELU<0.7f>, GELU>;

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(activation_and_its_derivatives, Act, Activations) {
  const std::vector<float> u = sample_line();
  expect_same_on_device<1>(Act::expression, {u}, Act::name() + " forward");
  expect_same_on_device<1>(ActivationBackward<Act>::derivative, {u}, Act::name() + "' in u");
  // The form backward uses when the block keeps only the output: env (u, y).
  std::vector<float> y(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) y[i] = Act::expression.template eval<float>(std::array<float, 1>{u[i]});
  expect_same_on_device<2>(ActivationBackward<Act>::derivative_of_output, {u, y}, Act::name() + "' in y");
}

namespace {
// (score, target) pairs over a grid: scores in `range`, targets from `targets`.
std::array<std::vector<float>, 2> loss_grid(float low, float high, std::initializer_list<float> targets) {
  std::array<std::vector<float>, 2> st;
  for (int i = 0; i <= 400; ++i)
    for (const float t : targets) {
      st[0].push_back(low + (high - low) * static_cast<float>(i) / 400.0f);
      st[1].push_back(t);
    }
  return st;
}

template <class Loss>
void expect_loss_on_device(const std::array<std::vector<float>, 2>& grid, const std::string& name) {
  expect_same_on_device<2>(Loss::expression, grid, name);
  expect_same_on_device<2>(Loss::gradient_expression, grid, name + " gradient");
}
}  // namespace

BOOST_AUTO_TEST_CASE(losses_and_their_gradients) {
  expect_loss_on_device<MeanSquaredError>(loss_grid(-5, 5, {-1.0f, 0.3f, 2.0f}), "squared error");
  expect_loss_on_device<Hinge>(loss_grid(-5, 5, {-1.0f, 1.0f}), "hinge");
  expect_loss_on_device<BinaryCrossEntropy>(loss_grid(0.001f, 0.999f, {0.0f, 0.25f, 1.0f}), "binary cross-entropy");
  expect_loss_on_device<BinaryCrossEntropyWithLogits>(loss_grid(-30, 30, {0.0f, 0.25f, 1.0f}),
                                                      "binary cross-entropy with logits");
}

BOOST_AUTO_TEST_CASE(linear_and_batchnorm_pieces) {
  std::array<std::vector<float>, 3> abc;
  for (int i = 0; i < 2000; ++i) {
    abc[0].push_back(std::sin(0.37f * static_cast<float>(i)) * 8.0f);
    abc[1].push_back(std::cos(0.11f * static_cast<float>(i)) * 3.0f);
    abc[2].push_back(0.01f + static_cast<float>(i % 97) / 13.0f);
  }
  expect_same_on_device<2>(cpu::pieces::bias, {abc[0], abc[1]}, "bias");
  expect_same_on_device<3>(cpu::pieces::normalize, abc, "normalize");
  expect_same_on_device<3>(cpu::pieces::affine, abc, "affine");
  expect_same_on_device<3>(cpu::pieces::dropout, abc, "dropout");
  expect_same_on_device<3>(expr::derivative<0>(cpu::pieces::normalize), abc, "normalize'");
}

namespace {
__global__ void dropout_bits_kernel(std::uint32_t key, std::uint32_t first, std::uint32_t* out, std::size_t n) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = dropout_bits<std::uint32_t>(key, first + static_cast<std::uint32_t>(i));
}
}  // namespace

// The dropout mask is a hash of (key, index): the GPU must draw the CPU's mask
// bit for bit, so a model trained on one and checked on the other agrees.
BOOST_AUTO_TEST_CASE(dropout_hash_is_the_cpus_bit_for_bit) {
  constexpr std::size_t n = 1 << 16;
  for (const std::uint32_t key : {dropout_key(1, 0, 0), dropout_key(42, 7, 3), 0xdeadbeefu}) {
    cuda::DeviceBuffer<std::uint32_t> bits(n);
    dropout_bits_kernel<<<n / 256, 256>>>(key, 1000, bits.data(), n);
    cuda::check(cudaGetLastError(), "dropout_bits_kernel launch");
    std::vector<std::uint32_t> device(n);
    bits.copy_to_host(device.data(), n);
    cuda::check(cudaStreamSynchronize(nullptr), "cudaStreamSynchronize");
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i)
      wrong += device[i] != dropout_bits<std::uint32_t>(key, 1000 + static_cast<std::uint32_t>(i));
    BOOST_CHECK_EQUAL(wrong, 0u);
  }
}

BOOST_AUTO_TEST_CASE(device_memory_errors_name_the_call) {
  try {
    cuda::DeviceBuffer<float> huge(std::size_t{1} << 46);  // 256 TiB
    BOOST_FAIL("a 256 TiB allocation succeeded");
  } catch (const cuda::CudaError& e) {
    BOOST_CHECK_MESSAGE(std::string(e.what()).find("typenet: cudaMalloc(281474976710656 bytes) failed:") == 0, e.what());
  }
  cuda::DeviceBuffer<float> small(4);
  std::vector<float> host(8);
  try {
    small.copy_from_host(host.data(), 8);
    BOOST_FAIL("copying 8 values into a buffer of 4 succeeded");
  } catch (const cuda::CudaError& e) {
    BOOST_CHECK_MESSAGE(std::string(e.what()).find("of 8 elements into a buffer of 4") != std::string::npos, e.what());
  }
  // Moved-from buffers own nothing; the new owner frees once.
  cuda::DeviceBuffer<float> moved(std::move(small));
  BOOST_CHECK(small.data() == nullptr);
  BOOST_CHECK_EQUAL(moved.size(), 4u);
}

int main(int argc, char** argv) {
  const std::string reason = cuda::no_device_reason();
  if (!reason.empty()) {
    std::printf("SKIPPED: the CUDA tests need a GPU: %s.\n", reason.c_str());
    return 77;  // meson: skipped
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
