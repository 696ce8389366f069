// The tiny regression of the micrograd tutorials: MLP 3-3-2-1 with a sigmoid
// on every layer (the output too), uniform(-1, 1) weights, four samples, sum
// of squared errors, full-batch gradient descent.
#include <cstdio>
#include <exception>

#include "support/command_line.hpp"
#include "support/pictures.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
using Net = Sequential<Input<3>, Linear<3>, Sigmoid, Linear<2>, Sigmoid, Linear<1>, Sigmoid>;

int main(int argc, char** argv) {
  std::size_t epochs = 10;
  std::uint64_t seed = 42;
  double lr = 0.01;
  std::string device = "cpu", save, load, out;
  examples::CommandLine cli("regression", "MLP 3-3-2-1 (sigmoid everywhere) on four samples, sum of squared errors.");
  cli.number("--epochs", epochs, "full-batch gradient steps", std::size_t{1}, std::size_t{100000000})
      .number("--lr", lr, "learning rate", 0.0, 1e6)
      .number("--seed", seed, "seed for the initial weights")
      .choice("--device", device, {"cpu"}, "where to compute (this build has the CPU backend only)")
      .text("--save", save, "write a checkpoint here after training", "FILE")
      .text("--load", load, "evaluate this checkpoint instead of training", "FILE")
      .text("--out", out, "folder for the loss curve", "DIR");
  try {
    if (!cli.parse(argc, argv)) {
      std::printf("%s", cli.usage().c_str());
      return 0;
    }
  } catch (const examples::UsageError& e) {
    std::fprintf(stderr, "regression: %s\n\n%s", e.what(), cli.usage().c_str());
    return 2;
  }

  try {
    const float xs[4][3] = {{2, 3, -1}, {3, -1, 0.5f}, {0.5f, 1, 1}, {1, 1, -1}};
    const float ys[4] = {1, 0, 0.2f, 0.5f};
    const MatrixView<const float> x(&xs[0][0], 4, 3), y(ys, 4, 1);

    Model<Net> model(Init::uniform, seed);
    std::printf("%s: %zu parameters\n", Net::name().c_str(), Net::parameter_count);
    float loss = SumSquaredError{}(model.forward(x), y);
    if (!load.empty()) {
      load_checkpoint(load, model);
      loss = SumSquaredError{}(model.forward(x), y);
      std::printf("loaded %s\n", load.c_str());
    } else {
      SGD<> gd({.lr = lr});
      examples::Curves log({"epoch", "loss"});
      for (std::size_t e = 0; e < epochs; ++e) {
        loss = train_step(model, x, y, SumSquaredError{}, gd);
        std::printf("epoch %zu loss %.6f\n", e, static_cast<double>(loss));
        log.add({static_cast<double>(e), loss});
      }
      loss = SumSquaredError{}(model.forward(x), y);  // after the last update
      log.write(examples::Pictures(out), "regression_loss", "regression: sum of squared errors per epoch");
      if (!save.empty()) {
        save_checkpoint(save, model);
        std::printf("saved %s\n", save.c_str());
      }
    }
    const auto pred = model.forward(x);
    std::printf("prediction  target\n");
    for (std::size_t i = 0; i < 4; ++i)
      std::printf("%10.4f  %6.2f\n", static_cast<double>(pred(i, 0)), static_cast<double>(ys[i]));
    std::printf("final loss: %.6f\n", static_cast<double>(loss));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "regression: %s\n", e.what());
    return 1;
  }
}
