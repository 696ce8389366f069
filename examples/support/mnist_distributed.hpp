// The MNIST example's --distributed mode: the same network, data and flags,
// trained data-parallel over MPI (include/typenet/distributed/):
//
//   mpirun -np 2 build/examples/mnist --distributed --epochs 5 --threads 1
//
// --batch-size is the global batch: each of the N ranks trains on its shard
// of every batch (about batch / N rows), the gradients are averaged before
// each Adam step, and the replicas stay identical, so N ranks compute what
// one process computes with the same batch (BatchNorm: with --sync-batchnorm;
// by default each rank normalises its own rows, as PyTorch's DDP). Rank 0
// prints (the others' output is discarded), writes the checkpoint and draws
// the pictures; --load reads rank 0's file into every rank. Run as a single
// process (no mpirun, or -np 1) it trains on its own.
//
// Compiled only when meson finds MPI (TYPENET_EXAMPLES_MPI).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "support/example_main.hpp"
#include "support/mnist_mlp.hpp"
#include "typenet/data/loader.hpp"
#include "typenet/distributed/mpi.hpp"

namespace examples::mnist_mlp {

struct DistributedSettings {
  bool synchronise_batchnorm = false;
  double timeout = 300;
  std::size_t bucket_kb = distributed::DataParallelOptions{}.bucket_bytes >> 10;
  std::size_t verify_every = distributed::DataParallelOptions{}.verify_every;
  std::size_t time_allreduce = 0;
};

// The allreduce alone, on a buffer the size of Net's gradient: `repeats`
// sums, each started together (after a one-value sum), timed on rank 0;
// prints the median. What a step pays when nothing hides the communication.
template <class Net>
void time_allreduce(distributed::MpiCommunicator& world, std::size_t repeats) {
  std::vector<float> gradient(Net::parameter_count, 1.0f);
  std::vector<double> ms;
  for (std::size_t i = 0; i < repeats; ++i) {
    float together = 0;
    world.sum(&together, 1, "the timing's barrier");
    const auto start = std::chrono::steady_clock::now();
    world.sum(gradient.data(), gradient.size(), "the timed allreduce");
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("time: allreduce of %zu bytes: %.3f ms (median of %zu; fastest %.3f, slowest %.3f)\n",
              gradient.size() * sizeof(float), ms[ms.size() / 2], ms.size(), ms.front(), ms.back());
}

template <class Net>
int run_distributed(distributed::MpiCommunicator& world, const Settings& s, const DistributedSettings& d) {
  const bool printer = world.rank() == 0;
  const Pictures pictures(printer ? s.common.out : std::string());
  const auto pool = s.common.make_pool();
  const auto data = load<Net>(s);
  const data::LabelledView<float> train = data.train();

  Model<Net> model(Init::torch_default, s.seed);
  model.set_thread_pool(pool.get());
  const auto ranks = static_cast<std::size_t>(world.size());
  std::printf("%zu ranks, %zu thread(s) each; global batch %zu, about %zu rows per rank; %zu gradient bytes per "
              "step%s\n",
              ranks, s.common.threads, s.batch_size, s.batch_size / ranks, Net::parameter_count * sizeof(float),
              d.synchronise_batchnorm ? "; synchronised BatchNorm" : "");
  if (d.time_allreduce > 0) time_allreduce<Net>(world, d.time_allreduce);
  if (!s.common.load.empty()) {
    distributed::load_checkpoint(world, s.common.load, model);
    std::printf("loaded %s\n", s.common.load.c_str());
  } else {
    Adam<> adam({.lr = s.lr, .weight_decay = s.weight_decay});
    distributed::DataParallel trainer(model, world,
                                      {.bucket_bytes = d.bucket_kb << 10,
                                       .verify_every = d.verify_every,
                                       .synchronise_batchnorm = d.synchronise_batchnorm,
                                       .dropout_seed = s.seed});
    data::BatchLoader<float> loader(train.x, train.labels,
                                    {.batch_size = s.batch_size,
                                     .seed = s.seed,
                                     .shard = static_cast<std::size_t>(world.rank()),
                                     .shards = ranks});
    Curves log({"epoch", "train_loss", "validation_loss", "validation_accuracy"});
    std::size_t step = 0;
    double seconds = 0;
    for (std::size_t e = 0; e < s.epochs; ++e) {
      const auto epoch = run_epoch(
          model,
          [&](const data::Batch<float>& batch) {
            return trainer.step(batch.x, batch.labels, batch.global_size, SoftmaxCrossEntropy{}, adam);
          },
          loader, e, step, s.common.unchecked);
      seconds += epoch.seconds;
      // The epoch's loss over all ranks' rows (each step's loss is already
      // the global batch's; this weights the steps as one process would).
      double loss[2] = {epoch.loss * static_cast<double>(epoch.samples), static_cast<double>(epoch.samples)};
      world.sum(loss, 2, "the epoch's loss sum");
      // Every rank evaluates, so that none waits for rank 0 in the next step.
      const auto validation = evaluate(model, data.validation());
      std::printf("epoch %zu train loss %.4f, validation loss %.4f, validation accuracy %.2f%%\n", e + 1,
                  loss[0] / loss[1], validation.loss, 100 * validation.accuracy);
      log.add({static_cast<double>(e + 1), loss[0] / loss[1], validation.loss, validation.accuracy});
    }
    const double steps = static_cast<double>(trainer.steps());
    std::printf("time: %.2f s training, %.0f samples/s\n", seconds,
                static_cast<double>(train.size() * s.epochs) / seconds);
    std::printf("time: %.3f ms per step, of which %.3f ms waiting for the gradient allreduce (rank 0)\n",
                1e3 * seconds / steps, 1e3 * trainer.allreduce_wait_seconds() / steps);
    log.write(pictures, "mnist_training", "MNIST (" + s.variant + "): loss and validation accuracy per epoch");
    if (!s.common.save.empty()) {
      distributed::save_checkpoint(world, s.common.save, model, adam);
      std::printf("saved %s\n", s.common.save.c_str());
    }
  }
  report_test(model, data.test, pictures);
  return 0;
}

// Adds the flags of --distributed to `cli`.
inline void add_distributed_flags(CommandLine& cli, DistributedSettings& d) {
  cli.flag("--sync-batchnorm", d.synchronise_batchnorm,
           "with --distributed: BatchNorm with the statistics of the whole global batch (default: each rank's own "
           "rows)")
      .number("--timeout", d.timeout,
              "with --distributed: seconds a rank waits for the others in a collective before stopping the job",
              0.001, 1e6)
      .number("--bucket-kb", d.bucket_kb,
              "with --distributed: start a gradient allreduce once this many KiB are ready (0: one per block; more "
              "than the gradient: one after backward)",
              std::size_t{0}, std::size_t{1} << 30)
      .number("--verify-every", d.verify_every,
              "with --distributed: compare parameter checksums across ranks every N steps (0: never)")
      .number("--time-allreduce", d.time_allreduce,
              "with --distributed: first time N allreduces of the gradient's size alone and print the median (0: do "
              "not)",
              std::size_t{0}, std::size_t{100000});
}

// main() of `mnist --distributed`: joins the MPI job, parses `cli` (which
// has the common and the distributed flags) and trains.
inline int distributed_main(CommandLine& cli, Settings& s, DistributedSettings& d, int argc, char** argv) {
  distributed::MpiSession mpi(argc, argv);
  distributed::MpiCommunicator world;
  if (world.rank() != 0 && !std::freopen("/dev/null", "w", stdout)) return 1;
  // Ranks on one machine share its cores.
  s.common.threads = std::max<std::size_t>(1, std::thread::hardware_concurrency() / static_cast<unsigned>(world.size()));
  return run_example(
      "mnist", cli, argc, argv,
      [&] {
        world.set_timeout(std::chrono::duration<double>(d.timeout));
        if (s.common.device != "cpu")
          throw std::runtime_error("--distributed trains CPU processes; --device " + s.common.device +
                                   " is not available with it in this example (GPUs train data-parallel over NCCL "
                                   "with cuda::KernelDataParallel, docs/distributed.md)");
        return distributed::stop_every_rank_on_exception(world, [&] {
          return with_variant(s, [&]<class Net>() { return run_distributed<Net>(world, s, d); });
        });
      },
      world.rank() == 0);
}

}  // namespace examples::mnist_mlp
