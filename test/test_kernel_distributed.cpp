// The GPU's data-parallel trainer (cuda/kernel_data_parallel.hpp), run on
// the host: KernelDataParallel over HostExecutor with MPI as the
// communicator, under mpirun with 2 and 3 ranks. The same class runs over
// the CUDA executor with NCCL on GPUs; here every kernel runs thread by
// thread on the host, and MPI sums what NCCL would.
//
// N ranks with their shards of each global batch train like one
// KernelTrainer on the whole batch: every step's loss and the final
// parameters agree to 1e-5 (float) and 1e-12 (double) relative, as the CPU's
// DataParallel (test_distributed: only the summation order differs); the
// replicas stay bit-identical (checked every step); ranks that disagree
// about the global batch are an error on every rank; a checkpoint of the
// optimizer's state resumes.
#define BOOST_TEST_MODULE kernel_distributed
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "typenet/cuda/kernel_data_parallel.hpp"
#include "typenet/distributed/mpi.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;

namespace {

struct Mpi {
  Mpi() : session(boost::unit_test::framework::master_test_suite().argc,
                  boost::unit_test::framework::master_test_suite().argv) {}
  distributed::MpiSession session;
};

distributed::MpiCommunicator& world() {
  static distributed::MpiCommunicator comm(MPI_COMM_WORLD, std::chrono::seconds(60));
  return comm;
}
std::size_t ranks() { return static_cast<std::size_t>(world().size()); }
std::size_t rank() { return static_cast<std::size_t>(world().rank()); }

using Net = Sequential<Input<20>, Linear<32>, Tanh, Linear<32>, ReLU, Linear<4>>;
template <class T>
using HostModel = cuda::KernelModel<Net, T, cuda::HostExecutor>;
template <class T, class Optimizer>
using HostDataParallel =
    cuda::KernelDataParallel<Net, T, Optimizer, cuda::HostExecutor, distributed::MpiCommunicator>;

template <class T>
constexpr double tolerance = std::is_same_v<T, double> ? 1e-12 : 1e-5;

constexpr std::size_t local_batch = 32, steps = 12;

// This rank's rows of global batch `s`: rows [r0, r0 + rows) of the data.
struct Shard {
  std::size_t r0, rows, global;
};
Shard shard_of(std::size_t s) {
  const std::size_t global = local_batch * ranks();
  const std::size_t per_rank = global / ranks();
  return {s * global + rank() * per_rank, per_rank, global};
}

using Scalars = boost::mpl::list<float, double>;

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(Mpi);

BOOST_AUTO_TEST_CASE_TEMPLATE(ranks_train_like_one_process_on_the_whole_batch, T, Scalars) {
  const auto data = data::make_blobs<T>(local_batch * ranks() * steps, 4, 20, 3.0, 11);
  // Rank 1 and up start from other parameters: the broadcast must fix that.
  Model<Net, T> start(Init::torch_default, 3 + rank());
  Model<Net, T> reference_start(Init::torch_default, 3);
  HostModel<T> replica(start), reference(reference_start);
  // SGD, whose step scales with the gradient, so that a gradient summed
  // instead of averaged shows.
  SGD<T> sgd({.lr = 0.05, .momentum = 0.9}), reference_sgd = sgd;
  HostDataParallel<T, SGD<T>> trainer(replica, sgd, world(), {.verify_every = 1});
  cuda::KernelTrainer<Net, T, SGD<T>, cuda::HostExecutor> one_process(reference, reference_sgd);
  double worst_loss = 0;
  for (std::size_t s = 0; s < steps; ++s) {
    const Shard sh = shard_of(s);
    const T loss = trainer.step(data.x.data() + sh.r0 * 20, sh.rows, data.labels.data() + sh.r0, sh.global,
                                SoftmaxCrossEntropy{});
    const T expected = one_process.step(data.x.data() + s * sh.global * 20, sh.global,
                                        data.labels.data() + s * sh.global, SoftmaxCrossEntropy{});
    worst_loss = std::max(worst_loss, std::abs(double(loss) - expected) / std::max(1.0, std::abs(double(expected))));
  }
  double worst_parameter = 0;
  for (std::size_t i = 0; i < Net::parameter_count; ++i)
    worst_parameter =
        std::max(worst_parameter, std::abs(double(replica.parameters()[i]) - reference.parameters()[i]) /
                                      std::max(1.0, std::abs(double(reference.parameters()[i]))));
  BOOST_TEST_MESSAGE(ranks() << " ranks: worst loss difference " << worst_loss << ", parameters " << worst_parameter);
  BOOST_TEST(worst_loss <= tolerance<T>);
  BOOST_TEST(worst_parameter <= tolerance<T>);
}

BOOST_AUTO_TEST_CASE(ranks_that_disagree_about_the_batch_fail_together) {
  const auto data = data::make_blobs<float>(256, 4, 20, 3.0, 11);
  HostModel<float> replica(Model<Net>(Init::torch_default, 3));
  SGD<> sgd({.lr = 0.05});
  HostDataParallel<float, SGD<>> trainer(replica, sgd, world());
  // Every rank claims a global batch of 8 ranks' rows: the rows do not add up.
  BOOST_CHECK_EXCEPTION(trainer.step(data.x.data(), 8, data.labels.data(), 64, SoftmaxCrossEntropy{}),
                        std::runtime_error, [](const std::exception& e) {
                          return std::string(e.what()).find("rows add up to") != std::string::npos;
                        });
  BOOST_CHECK_EXCEPTION(trainer.step(data.x.data(), 9, data.labels.data(), 8, SoftmaxCrossEntropy{}),
                        std::invalid_argument, [](const std::exception& e) {
                          return std::string(e.what()).find("9 rows on this rank") != std::string::npos;
                        });
}

// Adam's moments brought to the host after a few data-parallel steps, as a
// checkpoint would save them, then a fresh trainer resumes: the same as the
// uninterrupted run, bit for bit, on every rank.
BOOST_AUTO_TEST_CASE(the_optimizer_state_resumes) {
  const auto data = data::make_blobs<float>(local_batch * ranks() * 6, 4, 20, 3.0, 11);
  auto run = [&](HostModel<float>& model, Adam<>& adam, std::size_t from, std::size_t to) {
    HostDataParallel<float, Adam<>> trainer(model, adam, world());
    for (std::size_t s = from; s < to; ++s) {
      const Shard sh = shard_of(s);
      trainer.step(data.x.data() + sh.r0 * 20, sh.rows, data.labels.data() + sh.r0, sh.global, SoftmaxCrossEntropy{});
    }
    trainer.copy_optimizer_state_to_host();
  };
  const Model<Net> start(Init::torch_default, 3);
  HostModel<float> whole(start), resumed(start);
  Adam<> whole_adam({.lr = 1e-2}), resumed_adam({.lr = 1e-2});
  run(whole, whole_adam, 0, 6);
  run(resumed, resumed_adam, 0, 3);
  const std::uint64_t dropout_step = resumed.dropout_step();
  run(resumed, resumed_adam, 3, 6);  // a new trainer: state from the host optimizer
  BOOST_TEST(dropout_step == 3u);
  BOOST_TEST(std::equal(whole.parameters(), whole.parameters() + Net::parameter_count, resumed.parameters()));
}
