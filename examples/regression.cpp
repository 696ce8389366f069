// The tiny regression of the micrograd tutorials: MLP 3-3-2-1 with a sigmoid
// on every layer (the output too), uniform(-1, 1) weights, four samples, sum
// of squared errors, full-batch gradient descent.
#include <cstdio>

#include "support/example_main.hpp"
#include "support/networks.hpp"
#include "support/pictures.hpp"
#include "support/training_steps.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
using examples::regression::Net;  // 3-3-2-1, sigmoid everywhere

int main(int argc, char** argv) {
  std::size_t epochs = 10;
  std::uint64_t seed = 42;
  double lr = 0.01;
  examples::CommonOptions common;
  examples::CommandLine cli("regression", "MLP 3-3-2-1 (sigmoid everywhere) on four samples, sum of squared errors.");
  cli.number("--epochs", epochs, "full-batch gradient steps", std::size_t{1}, std::size_t{100000000})
      .number("--lr", lr, "learning rate", 0.0, 1e6)
      .number("--seed", seed, "seed for the initial weights");
  common.add_to(cli, "the loss curve");
  return examples::run_example("regression", cli, argc, argv, [&] {
    const float xs[4][3] = {{2, 3, -1}, {3, -1, 0.5f}, {0.5f, 1, 1}, {1, 1, -1}};
    const float ys[4] = {1, 0, 0.2f, 0.5f};
    const MatrixView<const float> x(&xs[0][0], 4, 3), y(ys, 4, 1);

    Model<Net> model(Init::uniform, seed);
    std::printf("%s: %zu parameters\n", Net::name().c_str(), Net::parameter_count);
    float loss = SumSquaredError{}(model.forward(x), y);
    if (!common.load.empty()) {
      load_checkpoint(common.load, model);
      loss = SumSquaredError{}(model.forward(x), y);
      std::printf("loaded %s\n", common.load.c_str());
    } else {
      SGD<> gd({.lr = lr});
      examples::TrainingSteps<Net, SumSquaredError, SGD<>> training(common.device, model, gd);
      examples::Curves log({"epoch", "loss"});
      for (std::size_t e = 0; e < epochs; ++e) {
        loss = training.step(x, y);
        if (!common.unchecked) training.check_finite(e, loss, 1);
        std::printf("epoch %zu loss %.6f\n", e, static_cast<double>(loss));
        log.add({static_cast<double>(e), loss});
      }
      training.sync_model();
      loss = SumSquaredError{}(model.forward(x), y);  // after the last update
      log.write(examples::Pictures(common.out), "regression_loss", "regression: sum of squared errors per epoch");
      if (!common.save.empty()) {
        save_checkpoint(common.save, model);
        std::printf("saved %s\n", common.save.c_str());
      }
    }
    const auto pred = model.forward(x);
    std::printf("prediction  target\n");
    for (std::size_t i = 0; i < 4; ++i)
      std::printf("%10.4f  %6.2f\n", static_cast<double>(pred(i, 0)), static_cast<double>(ys[i]));
    std::printf("final loss: %.6f\n", static_cast<double>(loss));
    return 0;
  });
}
