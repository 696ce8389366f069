// Data-parallel training on GPUs over NCCL (cuda::NcclCommunicator with
// KernelDataParallel), run under mpirun with one rank per GPU: N ranks on
// their shards train like one cuda::Trainer on the whole batch, every
// step's loss and the final parameters to 1e-5 relative (only the summation
// order differs; with one rank, nothing does). The same trainer's logic is
// tested on the host on 2 and 3 ranks (test_kernel_distributed); this adds
// NCCL itself: its bootstrap over MPI, the device-buffer sums and
// broadcast, the stream handling. Skips (exit status 77) without a GPU for
// every rank.
#define BOOST_TEST_MODULE nccl
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "../mpi_test_world.hpp"
#include "typenet/cuda/kernel_data_parallel.hpp"
#include "typenet/cuda/model.cuh"
#include "typenet/cuda/nccl_communicator.cuh"
#include "typenet/distributed/mpi.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;

namespace {

using testing::world;

using Net = Sequential<Input<20>, Linear<32>, Tanh, Linear<32>, ReLU, Linear<4>>;
constexpr std::size_t local_batch = 32, steps = 12;

template <class T>
cuda::DeviceBuffer<T> to_device(cuda::CudaExecutor& executor, const T* host, std::size_t n) {
  cuda::DeviceBuffer<T> d(n);
  executor.upload(d.data(), host, n);
  return d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ranks_train_like_one_process_on_the_whole_batch) {
  const std::size_t ranks = static_cast<std::size_t>(world().size()), rank = static_cast<std::size_t>(world().rank());
  const std::size_t global = local_batch * ranks;
  const auto data = data::make_blobs<float>(global * steps, 4, 20, 3.0, 11);
  cuda::Model<Net> replica(Model<Net>(Init::torch_default, 3 + rank)), reference(Model<Net>(Init::torch_default, 3));
  const auto x = to_device(replica.executor(), data.x.data(), data.x.rows() * 20);
  const auto labels = to_device(replica.executor(), data.labels.data(), data.labels.size());
  cuda::NcclCommunicator nccl(world(), replica.executor().stream());
  SGD<> sgd({.lr = 0.05, .momentum = 0.9}), reference_sgd = sgd;
  cuda::KernelDataParallel<Net, float, SGD<>, cuda::CudaExecutor, cuda::NcclCommunicator> trainer(
      replica, sgd, nccl, {.verify_every = 1});
  cuda::Trainer<Net, float, SGD<>> one_process(reference, reference_sgd);
  double worst_loss = 0;
  for (std::size_t s = 0; s < steps; ++s) {
    const std::size_t r0 = s * global + rank * local_batch;
    const float loss = trainer.step(x.data() + r0 * 20, local_batch, labels.data() + r0, global, SoftmaxCrossEntropy{});
    const float expected = one_process.step(x.data() + s * global * 20, global, labels.data() + s * global,
                                            SoftmaxCrossEntropy{});
    worst_loss = std::max(worst_loss, std::abs(double(loss) - expected) / std::max(1.0, std::abs(double(expected))));
  }
  std::vector<float> p(Net::parameter_count), q(Net::parameter_count);
  replica.executor().download(p.data(), replica.parameters(), p.size());
  reference.executor().download(q.data(), reference.parameters(), q.size());
  double worst_parameter = 0;
  for (std::size_t i = 0; i < p.size(); ++i)
    worst_parameter = std::max(worst_parameter, std::abs(double(p[i]) - q[i]) / std::max(1.0, std::abs(double(q[i]))));
  BOOST_TEST_MESSAGE(ranks << " ranks over NCCL: worst loss difference " << worst_loss << ", parameters "
                           << worst_parameter);
  BOOST_CHECK(worst_loss <= 1e-5);
  BOOST_CHECK(worst_parameter <= 1e-5);
}

int main(int argc, char** argv) {
  distributed::MpiSession mpi(argc, argv);
  int devices = 0;
  const std::string why = cuda::no_device_reason();
  if (why.empty()) cuda::check(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
  if (!why.empty() || devices < world().size()) {
    if (world().rank() == 0)
      std::printf("SKIPPED: NCCL training needs a GPU per rank (%d ranks, %s)\n", world().size(),
                  why.empty() ? (std::to_string(devices) + " GPUs").c_str() : why.c_str());
    return 77;
  }
  cuda::check(cudaSetDevice(world().rank() % devices), "cudaSetDevice");
  return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
