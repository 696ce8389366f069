// micrograd's two-moons classifier in typenet: 100 samples, noise 0.1,
// labels -1/+1, MLP 2-16-16-1 (ReLU, linear output), max-margin loss with
// micrograd's L2 term (1e-4 sum p^2), SGD with learning rate 1.0 - 0.9 k/100,
// mini-batches of up to 128 samples drawn from the data.
#include <cstdio>

#include "support/example_main.hpp"
#include "support/networks.hpp"
#include "support/pictures.hpp"
#include "support/training_steps.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
using examples::moons::Net;  // 2-16-16-1, ReLU

int main(int argc, char** argv) {
  std::size_t steps = 50, batch_size = 128, samples = 100;
  std::uint64_t seed = 1337;
  double lr = 1.0, noise = 0.1;
  examples::CommonOptions common;
  examples::CommandLine cli("moons", "micrograd's two-moons classifier: MLP 2-16-16-1, hinge loss, SGD.");
  cli.number("--steps", steps, "training steps", std::size_t{1}, std::size_t{1000000})
      .number("--batch-size", batch_size, "samples per step (all when larger than the data)", std::size_t{1},
              std::size_t{1} << 30)
      .number("--lr", lr, "initial learning rate; step k uses lr (1 - 0.9 k/100)", 0.0, 1e6)
      .number("--seed", seed, "seed for the data, the initial weights and the batches")
      .number("--samples", samples, "number of points", std::size_t{2}, std::size_t{10000000})
      .number("--noise", noise, "standard deviation of the noise", 0.0, 10.0);
  common.add_to(cli, "the decision boundary and the training curves");
  return examples::run_example("moons", cli, argc, argv, [&] {
    const examples::Pictures pictures(common.out);
    const auto pool = common.make_pool();
    const auto data = data::make_moons<float>(samples, noise, seed);
    const Matrix<float> y = data.label_column(-1.0f, 1.0f);
    Model<Net> model(Init::uniform, seed);
    model.set_thread_pool(pool.get());
    std::printf("%s: %zu parameters\n", Net::name().c_str(), Net::parameter_count);

    double accuracy = 0;
    auto score_all = [&] {
      accuracy = binary_accuracy(model.forward(data.x.view()), y.view(), 0.0f);
    };
    if (!common.load.empty()) {
      load_checkpoint(common.load, model);
      score_all();
      std::printf("loaded %s\n", common.load.c_str());
    } else {
      SGD<> sgd({.lr = lr, .weight_decay = 2e-4});  // the gradient of 1e-4 sum p^2
      examples::TrainingSteps<Net, Hinge, SGD<>> training(common.device, model, sgd);
      const LinearLR schedule{lr, 0.1 * lr, 100};
      Rng rng(seed);
      std::vector<std::size_t> order(samples);
      Matrix<float> bx(std::min(batch_size, samples), 2), by(std::min(batch_size, samples), 1);
      examples::Curves log({"step", "loss", "accuracy"});
      for (std::size_t k = 0; k < steps; ++k) {
        // micrograd: the whole data set, or a random subset of batch_size rows
        MatrixView<const float> xb = data.x.view(), yb = y.view();
        if (batch_size < samples) {
          for (std::size_t i = 0; i < samples; ++i) order[i] = i;
          rng.shuffle(std::span<std::size_t>(order));
          for (std::size_t i = 0; i < batch_size; ++i) {
            bx(i, 0) = data.x(order[i], 0);
            bx(i, 1) = data.x(order[i], 1);
            by(i, 0) = y(order[i], 0);
          }
          xb = bx.view();
          yb = by.view();
        }
        sgd.options.lr = schedule(k);
        const float hinge = training.step(xb, yb);
        double l2 = 0;
        for (float p : training.parameters()) l2 += static_cast<double>(p) * p;
        const double loss = hinge + 1e-4 * l2;
        if (!common.unchecked) training.check_finite(k, static_cast<float>(loss), 1);
        accuracy = binary_accuracy(training.output(), yb, 0.0f);
        std::printf("step %zu loss %.6f, accuracy %.0f%%\n", k, loss, 100 * accuracy);
        log.add({static_cast<double>(k), loss, accuracy});
      }
      training.sync_model();
      score_all();
      log.write(pictures, "moons_training", "moons: loss and accuracy per step");
      if (!common.save.empty()) {
        save_checkpoint(common.save, model);
        std::printf("saved %s\n", common.save.c_str());
      }
    }
    examples::draw_decision_boundary(pictures, "moons_boundary", "moons: decision boundary", data.x.data(),
                                     data.labels.data(), data.size(), [&](const float* p, std::size_t n) {
                                       const auto s = model.forward(MatrixView<const float>(p, n, 2));
                                       return std::vector<float>(s.data, s.data + n);
                                     });
    std::printf("final accuracy: %.2f%%\n", 100 * accuracy);
    return 0;
  });
}
