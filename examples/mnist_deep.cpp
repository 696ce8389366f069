// A deeper MNIST MLP: 784-150-150-150-10 with a different activation on each
// hidden layer (ReLU, Tanh, ELU), inputs centred as (x - 0.5) / 1.0, plain SGD
// with learning rate 0.02 (or Nesterov momentum 0.9 with --nesterov),
// batches of 100. Prints per-epoch loss, training and test accuracy.
#include <cstdio>

#include "support/example_main.hpp"
#include "support/mnist_common.hpp"
#include "support/networks.hpp"
#include "support/training_steps.hpp"
#include "typenet/data/loader.hpp"
#include "typenet/io/checkpoint.hpp"

using namespace typenet;
using examples::mnist_deep::Net;  // 784-150-150-150-10: ReLU, Tanh, ELU

int main(int argc, char** argv) {
  std::size_t epochs = 10, batch_size = 100;
  double lr = 0.02;
  std::uint64_t seed = 1;
  bool nesterov = false;
  std::string folder = examples::default_mnist_folder();
  examples::CommonOptions common;
  examples::CommandLine cli("mnist_deep", "MNIST MLP 784-150-150-150-10 (ReLU, Tanh, ELU) with SGD.");
  cli.number("--epochs", epochs, "passes over the training set", std::size_t{1}, std::size_t{10000})
      .number("--batch-size", batch_size, "samples per step", std::size_t{1}, std::size_t{60000})
      .number("--lr", lr, "learning rate", 0.0, 100.0)
      .flag("--nesterov", nesterov, "Nesterov momentum 0.9 instead of plain SGD")
      .number("--seed", seed, "seed for the weights and the batch order")
      .text("--data", folder, "folder with the four MNIST-format IDX files (plain or .gz)", "DIR");
  common.add_to(cli, "the training curves, the confusion matrix and misclassified digits");
  return examples::run_example("mnist_deep", cli, argc, argv, [&] {
    if (common.device == "cuda") examples::gpu::require_gpu();
    const examples::Pictures pictures(common.out);
    const auto pool = common.make_pool();
    const auto scaling = data::PixelScaling::standardise({0.5f, 1.0f});  // (x - 0.5) / 1.0
    const auto train = examples::load_mnist_or_explain(folder, "train", scaling);
    const auto test = examples::load_mnist_or_explain(folder, "t10k", scaling);
    data::check_width<Net::input_size>(train);
    data::check_width<Net::input_size>(test);
    std::printf("%s: %zu parameters; %zu training and %zu test images from %s\n", Net::name().c_str(),
                Net::parameter_count, train.data.size(), test.data.size(), folder.c_str());

    Model<Net> model(Init::torch_default, seed);
    model.set_thread_pool(pool.get());
    const std::span<const std::int32_t> test_labels(test.data.labels);
    if (!common.load.empty()) {
      load_checkpoint(common.load, model);
      std::printf("loaded %s\n", common.load.c_str());
    } else {
      SGD<> sgd(nesterov ? SGDOptions{.lr = lr, .momentum = 0.9, .nesterov = true} : SGDOptions{.lr = lr});
      data::BatchLoader<float> loader(train.data, {.batch_size = batch_size, .seed = seed});
      examples::TrainingSteps<Net, SoftmaxCrossEntropy, SGD<>> training(common.device, model, sgd);
      examples::Curves log({"epoch", "loss", "train_accuracy", "test_accuracy"});
      std::size_t step = 0;
      double seconds = 0;
      for (std::size_t e = 0; e < epochs; ++e) {
        const auto epoch = examples::run_epoch(
            training, [&](const data::Batch<float>& batch) { return training.step(batch.x, batch.labels); }, loader,
            e, step, common.unchecked);
        training.sync_model();  // the parameters, for the evaluation
        seconds += epoch.seconds;
        const Matrix<float> p = examples::predict_in_chunks(model, test.data.x.view());
        const double test_acc = accuracy(p.view(), test_labels);
        std::printf("epoch %zu loss %.4f, training accuracy %.2f%%, test accuracy %.2f%%\n", e + 1, epoch.loss,
                    100 * epoch.accuracy, 100 * test_acc);
        log.add({static_cast<double>(e + 1), epoch.loss, epoch.accuracy, test_acc});
      }
      std::printf("time: %.2f s training, %.0f samples/s\n", seconds,
                  static_cast<double>(train.data.size() * epochs) / seconds);
      log.write(pictures, "mnist_deep_training", "MNIST deep MLP: loss and accuracy per epoch");
      if (!common.save.empty()) {
        save_checkpoint(common.save, model, sgd);
        std::printf("saved %s\n", common.save.c_str());
      }
    }
    const Matrix<float> p = examples::predict_in_chunks(model, test.data.x.view());
    const std::vector<std::int32_t> predicted = predicted_classes(p.view());
    const auto cm = confusion_matrix(test.data.labels, predicted);
    examples::draw_confusion_heatmap(pictures, cm, "mnist_deep_confusion");
    examples::draw_misclassified(pictures, test, predicted, "mnist_deep_misclassified", test.statistics);
    std::printf("final test accuracy: %.2f%%\n", 100 * accuracy(p.view(), test_labels));
    return 0;
  });
}
