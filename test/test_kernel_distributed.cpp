// The GPU's data-parallel trainer (cuda/kernel_data_parallel.hpp), run on
// the host: KernelDataParallel over HostExecutor with MPI as the
// communicator, under mpirun with 2 and 3 ranks. The same class runs over
// the CUDA executor with NCCL on GPUs; here every kernel runs thread by
// thread on the host, and MPI sums what NCCL would.
//
// N ranks with their shards of each global batch train like one
// KernelTrainer on the whole batch: every step's loss and the final
// parameters agree to 1e-5 (float) and 1e-12 (double) relative, as the CPU's
// DataParallel (test_distributed: only the summation order differs), and
// with synchronised BatchNorm the running statistics too; per-rank
// BatchNorm (the default) does not; the replicas stay bit-identical
// (checked every step); ranks that disagree
// about the global batch are an error on every rank; a rank-0 checkpoint
// of the model and the optimizer's state resumes exactly.
#define BOOST_TEST_MODULE kernel_distributed
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "typenet/cuda/kernel_data_parallel.hpp"
#include "mpi_test_world.hpp"
#include "typenet/distributed/mpi.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;

namespace {

using testing::rank;
using testing::ranks;
using testing::world;

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

using testing::MpiFixture;
BOOST_TEST_GLOBAL_FIXTURE(MpiFixture);

// N ranks on their shards against one KernelTrainer on the whole global
// batch, step by step: the worst relative difference of the losses, and of
// the parameters and running statistics at the end.
template <class N, class T>
std::pair<double, double> train_side_by_side(cuda::KernelDataParallelOptions options) {
  const auto data = data::make_blobs<T>(local_batch * ranks() * steps, 4, 20, 3.0, 11);
  // Rank 1 and up start from other parameters: the broadcast must fix that.
  cuda::KernelModel<N, T, cuda::HostExecutor> replica(Model<N, T>(Init::torch_default, 3 + rank()));
  cuda::KernelModel<N, T, cuda::HostExecutor> reference(Model<N, T>(Init::torch_default, 3));
  // SGD, whose step scales with the gradient, so that a gradient summed
  // instead of averaged shows.
  SGD<T> sgd({.lr = 0.05, .momentum = 0.9}), reference_sgd = sgd;
  cuda::KernelDataParallel<N, T, SGD<T>, cuda::HostExecutor, distributed::MpiCommunicator> trainer(
      replica, sgd, world(), options);
  cuda::KernelTrainer<N, T, SGD<T>, cuda::HostExecutor> one_process(reference, reference_sgd);
  double worst_loss = 0, worst_value = 0;
  auto relative = [](double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); };
  for (std::size_t s = 0; s < steps; ++s) {
    const Shard sh = shard_of(s);
    const T loss = trainer.step(data.x.data() + sh.r0 * 20, sh.rows, data.labels.data() + sh.r0, sh.global,
                                SoftmaxCrossEntropy{});
    const T expected = one_process.step(data.x.data() + s * sh.global * 20, sh.global,
                                        data.labels.data() + s * sh.global, SoftmaxCrossEntropy{});
    worst_loss = std::max(worst_loss, relative(loss, expected));
  }
  for (std::size_t i = 0; i < N::parameter_count; ++i)
    worst_value = std::max(worst_value, relative(replica.parameters()[i], reference.parameters()[i]));
  for (std::size_t i = 0; i < N::state_count; ++i)
    worst_value = std::max(worst_value, relative(replica.state()[i], reference.state()[i]));
  BOOST_TEST_MESSAGE(ranks() << " ranks, " << N::name() << ": worst loss difference " << worst_loss
                             << ", parameters and statistics " << worst_value);
  return {worst_loss, worst_value};
}

using WithBatchNorm = Sequential<Input<20>, Linear<32>, BatchNorm<>, Tanh, Linear<16>, BatchNorm<>, ReLU, Linear<4>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(ranks_train_like_one_process_on_the_whole_batch, T, Scalars) {
  const auto [loss, values] = train_side_by_side<Net, T>({.verify_every = 1});
  BOOST_TEST(loss <= tolerance<T>);
  BOOST_TEST(values <= tolerance<T>);
}

// With synchronised BatchNorm the ranks' statistics are the global batch's:
// the same as one process, running statistics included.
BOOST_AUTO_TEST_CASE_TEMPLATE(synchronised_batchnorm_is_one_process, T, Scalars) {
  const auto [loss, values] =
      train_side_by_side<WithBatchNorm, T>({.verify_every = 1, .synchronise_batchnorm = true});
  BOOST_TEST(loss <= tolerance<T>);
  BOOST_TEST(values <= tolerance<T>);
}

// Without it each rank normalises its own rows (as PyTorch DDP): not one
// process's training any more (the difference is far above rounding).
BOOST_AUTO_TEST_CASE(per_rank_batchnorm_is_the_default) {
  const auto [loss, values] = train_side_by_side<WithBatchNorm, double>({.verify_every = 0});
  BOOST_TEST(loss > 1e-6);
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

// A checkpoint of GPU data-parallel training, the rank-0 way: the model
// and Adam's moments brought to the host, rank 0 writes the file
// (distributed::save_checkpoint), every rank loads it into fresh objects
// (distributed::load_checkpoint) and a new trainer resumes: the same as the
// uninterrupted run, bit for bit, on every rank.
BOOST_AUTO_TEST_CASE(a_rank_zero_checkpoint_resumes_exactly) {
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
  HostModel<float> whole(start), first(start);
  Adam<> whole_adam({.lr = 1e-2}), first_adam({.lr = 1e-2});
  run(whole, whole_adam, 0, 6);
  run(first, first_adam, 0, 3);

  const auto path = std::filesystem::temp_directory_path() / "typenet_test_kernel_distributed.tn";
  Model<Net> saved(Init::torch_default, 3);
  first.copy_to(saved);
  distributed::save_checkpoint(world(), path, saved, first_adam);
  Model<Net> loaded(Init::torch_default, 3);
  Adam<> loaded_adam;
  distributed::load_checkpoint(world(), path, loaded, loaded_adam);
  if (rank() == 0) std::filesystem::remove(path);  // (only rank 0 reads the file)
  HostModel<float> resumed(loaded);
  run(resumed, loaded_adam, 3, 6);
  BOOST_TEST(std::equal(whole.parameters(), whole.parameters() + Net::parameter_count, resumed.parameters()));
}
