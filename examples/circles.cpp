// Two concentric circles, as in the PyTorch binary-classification tutorials:
// 10,000 samples, noise 0.05, a third held out for testing, MLP 2-10-1
// (Kaiming init, ReLU, then a sigmoid), binary cross-entropy, SGD lr 0.1,
// batches of 64, 100 epochs. Prints the test accuracy, scikit-learn's
// classification report and the confusion matrix.
#include <cstdio>

#include "support/example_main.hpp"
#include "support/networks.hpp"
#include "support/pictures.hpp"
#include "support/training_steps.hpp"
#include "typenet/data/loader.hpp"
#include "typenet/data/split.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/train/classification_report.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
using examples::circles::Net;  // 2-10-1, ReLU then a sigmoid

int main(int argc, char** argv) {
  std::size_t epochs = 100, batch_size = 64, samples = 10000;
  std::uint64_t seed = 42;
  double lr = 0.1, noise = 0.05, factor = 0.8, test_size = 0.33;
  examples::CommonOptions common;
  examples::CommandLine cli("circles", "Two circles: MLP 2-10-1, ReLU then sigmoid, binary cross-entropy, SGD.");
  cli.number("--epochs", epochs, "passes over the training set", std::size_t{1}, std::size_t{100000})
      .number("--batch-size", batch_size, "samples per step", std::size_t{1}, std::size_t{1} << 30)
      .number("--lr", lr, "learning rate", 0.0, 1e6)
      .number("--seed", seed, "seed for the data, the split, the weights and the batch order")
      .number("--samples", samples, "number of points", std::size_t{4}, std::size_t{100000000})
      .number("--noise", noise, "standard deviation of the noise", 0.0, 10.0)
      .number("--factor", factor, "radius of the inner circle relative to the outer", 0.0, 0.999)
      .number("--test-size", test_size, "fraction held out for testing", 0.01, 0.99);
  common.add_to(cli, "the decision boundary and the training curves");
  return examples::run_example("circles", cli, argc, argv, [&] {
    const examples::Pictures pictures(common.out);
    const auto pool = common.make_pool();
    const auto all = data::make_circles<float>(samples, noise, factor, seed);
    const auto [train, test] = data::train_test_split(all, test_size, seed);
    const Matrix<float> train_targets = train.label_column(0.0f, 1.0f), test_targets = test.label_column(0.0f, 1.0f);
    std::printf("%s: %zu parameters; %zu training and %zu test samples\n", Net::name().c_str(), Net::parameter_count,
                train.size(), test.size());

    Model<Net> model(Init::kaiming_uniform, seed);
    model.set_thread_pool(pool.get());
    if (!common.load.empty()) {
      load_checkpoint(common.load, model);
      std::printf("loaded %s\n", common.load.c_str());
    } else {
      SGD<> sgd({.lr = lr});
      examples::TrainingSteps<Net, BinaryCrossEntropy, SGD<>> training(common.device, model, sgd);
      data::BatchLoader<float> loader(train.x.view(), train_targets.view(), {.batch_size = batch_size, .seed = seed});
      examples::Curves log({"epoch", "train_loss", "test_loss", "test_accuracy"});
      std::size_t step = 0;
      for (std::size_t e = 0; e < epochs; ++e) {
        double total = 0;
        for (const auto batch : loader.epoch(e)) {
          const float loss = training.step(batch.x, batch.targets);
          if (!common.unchecked) training.check_finite(step, loss, 100);
          total += static_cast<double>(loss) * static_cast<double>(batch.size());
          ++step;
        }
        training.sync_model();  // the parameters, for the evaluation
        const auto out = model.forward(test.x.view());
        const double test_loss = BinaryCrossEntropy{}(out, test_targets.view());
        const double acc = binary_accuracy(out, test_targets.view(), 0.5f);
        const double train_loss = total / static_cast<double>(train.size());
        if (e % 10 == 0 || e + 1 == epochs)
          std::printf("epoch %zu train loss %.4f, test loss %.4f, test accuracy %.2f%%\n", e + 1, train_loss,
                      test_loss, 100 * acc);
        log.add({static_cast<double>(e + 1), train_loss, test_loss, acc});
      }
      log.write(pictures, "circles_training", "circles: loss and test accuracy per epoch");
      if (!common.save.empty()) {
        save_checkpoint(common.save, model);
        std::printf("saved %s\n", common.save.c_str());
      }
    }

    const auto out = model.forward(test.x.view());
    std::vector<std::int32_t> predicted(test.size());
    for (std::size_t i = 0; i < test.size(); ++i) predicted[i] = out(i, 0) > 0.5f ? 1 : 0;
    const auto cm = confusion_matrix(test.labels, predicted);
    const double acc = binary_accuracy(out, test_targets.view(), 0.5f);
    std::printf("\ntest accuracy: %.2f%%\n\n%s\nconfusion matrix (rows: true class, columns: predicted)\n%s\n",
                100 * acc, classification_report(cm).c_str(), format_confusion_matrix(cm).c_str());
    examples::draw_decision_boundary(pictures, "circles_boundary", "circles: decision boundary (test set)",
                                     test.x.data(), test.labels.data(), test.size(),
                                     [&](const float* p, std::size_t n) {
                                       const auto s = model.forward(MatrixView<const float>(p, n, 2));
                                       std::vector<float> score(n);
                                       for (std::size_t i = 0; i < n; ++i) score[i] = s(i, 0) - 0.5f;
                                       return score;
                                     });
    std::printf("final test accuracy: %.2f%%\n", 100 * acc);
    return 0;
  });
}
