// PyTorch's MNIST MLP in typenet: 784-256-256-10, softmax cross-entropy, Adam
// lr 1e-3, batches of 64, an 80/20 train/validation split of the 60,000
// training images, 5 epochs, then the 10,000 test images. Four variants of
// the same network:
//   plain      Linear, ReLU, Linear, ReLU, Linear
//   l2         the same with weight decay 1e-5 (L2, as torch.optim.Adam)
//   dropout    Dropout(0.2) after each hidden layer's ReLU
//   batchnorm  BatchNorm after each hidden Linear, before ReLU
// (support/mnist_mlp.hpp.) With --distributed, under mpirun, the same
// training data-parallel over MPI (support/mnist_distributed.hpp):
//   mpirun -np 2 build/examples/mnist --distributed --threads 1
#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string_view>

#include "support/example_main.hpp"
#include "support/mnist_mlp.hpp"
#include "support/training_steps.hpp"
#include "typenet/data/loader.hpp"
#include "typenet/io/checkpoint.hpp"
#ifdef TYPENET_EXAMPLES_MPI
#include "support/mnist_distributed.hpp"
#endif

using namespace typenet;
using examples::mnist_mlp::Settings;

template <class Net>
int run(const Settings& s) {
  if (s.common.device == "cuda") examples::gpu::require_gpu();
  const examples::Pictures pictures(s.common.out);
  const auto pool = s.common.make_pool();
  const auto data = examples::mnist_mlp::load<Net>(s);
  const data::LabelledView<float> train = data.train();

  Model<Net> model(Init::torch_default, s.seed);
  model.set_thread_pool(pool.get());
  if (!s.common.load.empty()) {
    load_checkpoint(s.common.load, model);
    std::printf("loaded %s\n", s.common.load.c_str());
  } else {
    Adam<> adam({.lr = s.lr, .weight_decay = s.weight_decay});
    data::BatchLoader<float> loader(train.x, train.labels,
                                    {.batch_size = s.batch_size, .seed = s.seed});
    examples::TrainingSteps<Net, SoftmaxCrossEntropy, Adam<>> training(s.common.device, model, adam);
    examples::Curves log({"epoch", "train_loss", "validation_loss", "validation_accuracy"});
    std::size_t step = 0;
    double seconds = 0;
    for (std::size_t e = 0; e < s.epochs; ++e) {
      const auto epoch = examples::run_epoch(
          training, [&](const data::Batch<float>& batch) { return training.step(batch.x, batch.labels); }, loader, e,
          step, s.common.unchecked);
      training.sync_model();  // the parameters, for the evaluation
      seconds += epoch.seconds;
      const auto validation = examples::mnist_mlp::evaluate(model, data.validation());
      std::printf("epoch %zu train loss %.4f, validation loss %.4f, validation accuracy %.2f%%\n", e + 1, epoch.loss,
                  validation.loss, 100 * validation.accuracy);
      log.add({static_cast<double>(e + 1), epoch.loss, validation.loss, validation.accuracy});
    }
    std::printf("time: %.2f s training, %.0f samples/s\n", seconds,
                static_cast<double>(train.size() * s.epochs) / seconds);
    log.write(pictures, "mnist_training", "MNIST (" + s.variant + "): loss and validation accuracy per epoch");
    if (!s.common.save.empty()) {
      save_checkpoint(s.common.save, model, adam);
      std::printf("saved %s\n", s.common.save.c_str());
    }
  }
  examples::mnist_mlp::report_test(model, data.test, pictures);
  return 0;
}

int main(int argc, char** argv) {
  Settings s;
  bool distributed = false;
  examples::CommandLine cli("mnist", "MNIST MLP 784-256-256-10 with Adam; --variant plain|l2|dropout|batchnorm.");
  examples::mnist_mlp::add_flags(cli, s, "samples per step (with --distributed: all ranks together)");
  cli.flag("--distributed", distributed, "train data-parallel over MPI: mpirun -np N build/examples/mnist --distributed");
#ifdef TYPENET_EXAMPLES_MPI
  examples::mnist_mlp::DistributedSettings d;
  examples::mnist_mlp::add_distributed_flags(cli, d);
  // MPI starts before the command line is parsed: only rank 0 reports a bad
  // flag, and the default thread count depends on the number of ranks.
  if (std::find(argv + 1, argv + argc, std::string_view("--distributed")) != argv + argc)
    return examples::mnist_mlp::distributed_main(cli, s, d, argc, argv);
#endif
  return examples::run_example("mnist", cli, argc, argv, [&] {
    if (distributed)
      throw std::runtime_error(
          "--distributed: this build has no MPI; install it (Debian: apt-get install libopenmpi-dev openmpi-bin) and "
          "run meson setup --reconfigure build");
    return examples::mnist_mlp::with_variant(s, [&]<class Net>() { return run<Net>(s); });
  });
}
