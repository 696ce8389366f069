// A rank that fails in the middle of data-parallel training must make the
// others stop with a sentence instead of waiting forever. Run under
// `mpirun -np 2` by test/meson.build through run_example.py:
//
//   distributed_failure none  TIMEOUT   trains 10 steps, prints "final steps: 10"
//   distributed_failure throw TIMEOUT   rank 1 throws at step 3: the job stops at once
//   distributed_failure hang  TIMEOUT   rank 1 stops taking part at step 3: the others
//                                       give up after TIMEOUT seconds, naming the step
//   distributed_failure kill  TIMEOUT   rank 1 is killed (SIGKILL) at step 3: mpirun ends the job
//
// The throw and kill runs use a long TIMEOUT, so that only the abort, not the
// deadline, can end them within the test's time limit.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include "typenet/data/loader.hpp"
#include "typenet/distributed/mpi.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
using Net = Sequential<Input<8>, Linear<16>, ReLU, Linear<3>>;

int main(int argc, char** argv) {
  distributed::MpiSession mpi(argc, argv);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (argc != 3 || (mode != "none" && mode != "throw" && mode != "hang" && mode != "kill")) {
    std::fprintf(stderr, "usage: distributed_failure none|throw|hang|kill TIMEOUT_SECONDS\n");
    return 2;
  }
  const double timeout = std::stod(argv[2]);
  distributed::MpiCommunicator comm(MPI_COMM_WORLD, std::chrono::duration<double>(timeout));
  return distributed::stop_every_rank_on_exception(comm, [&] {
    const auto d = data::make_blobs<float>(320, 3, 8, 1.0, 1);
    data::BatchLoader<float> loader(d, {.batch_size = 32, .seed = 2, .shard = static_cast<std::size_t>(comm.rank()),
                                        .shards = static_cast<std::size_t>(comm.size())});
    Model<Net> model;
    SGD<> sgd({.lr = 0.1});
    distributed::DataParallel trainer(model, comm);
    for (auto batch : loader.epoch(0)) {
      if (trainer.steps() == 3 && comm.rank() == 1) {
        if (mode == "throw") throw std::runtime_error("injected failure at step 3");
        if (mode == "hang") std::this_thread::sleep_for(std::chrono::duration<double>(10 * timeout));
        if (mode == "kill") raise(SIGKILL);
      }
      trainer.step(batch.x, batch.labels, batch.global_size, SoftmaxCrossEntropy{}, sgd);
    }
    if (comm.rank() == 0) std::printf("final steps: %llu\n", static_cast<unsigned long long>(trainer.steps()));
    return 0;
  });
}
