// PyTorch's MNIST MLP in typenet: 784-256-256-10, softmax cross-entropy, Adam
// lr 1e-3, batches of 64, an 80/20 train/validation split of the 60,000
// training images, 5 epochs, then the 10,000 test images. Four variants of
// the same network:
//   plain      Linear, ReLU, Linear, ReLU, Linear
//   l2         the same with weight decay 1e-5 (L2, as torch.optim.Adam)
//   dropout    Dropout(0.2) after each hidden layer's ReLU
//   batchnorm  BatchNorm after each hidden Linear, before ReLU
#include <cstdio>

#include "support/example_main.hpp"
#include "support/mnist_common.hpp"
#include "typenet/data/loader.hpp"
#include "typenet/data/split.hpp"
#include "typenet/io/checkpoint.hpp"

using namespace typenet;

using Plain = Sequential<Input<784>, Linear<256>, ReLU, Linear<256>, ReLU, Linear<10>, Softmax>;
using WithDropout = Sequential<Input<784>, Linear<256>, ReLU, Dropout<0.2f>, Linear<256>, ReLU, Dropout<0.2f>,
                               Linear<10>, Softmax>;
using WithBatchNorm =
    Sequential<Input<784>, Linear<256>, BatchNorm<>, ReLU, Linear<256>, BatchNorm<>, ReLU, Linear<10>, Softmax>;

struct Settings {
  std::size_t epochs = 5, batch_size = 64;
  double lr = 1e-3, weight_decay = 0, validation = 0.2;
  std::uint64_t seed = 1;
  std::size_t limit = 0;  // use only the first N training images (0: all)
  std::string data = examples::default_mnist_folder(), variant = "plain";
  examples::CommonOptions common;
};

template <class Net>
int run(const Settings& s) {
  const examples::Pictures pictures(s.common.out);
  const auto pool = s.common.make_pool();
  // Pixels standardised with MNIST's training-set statistics, as PyTorch's
  // tutorials do (transforms.Normalize((0.1307,), (0.3081,))).
  const auto scaling = data::PixelScaling::standardise({0.1307f, 0.3081f});
  auto train_set = examples::load_mnist_or_explain(s.data, "train", scaling);
  auto test_set = examples::load_mnist_or_explain(s.data, "t10k", scaling);
  data::check_width<Net::input_size>(train_set);
  data::check_width<Net::input_size>(test_set);
  if (s.limit > 0 && s.limit < train_set.data.size()) {  // the first `limit` images
    const auto& full = train_set.data;
    data::LabelledData<float> cut{Matrix<float>(s.limit, full.x.cols()),
                                  std::vector<std::int32_t>(full.labels.begin(), full.labels.begin() + s.limit)};
    std::copy_n(full.x.data(), s.limit * full.x.cols(), cut.x.data());
    train_set.data = std::move(cut);
  }
  const auto [train, validation] = data::train_test_split(train_set.data, s.validation, s.seed);
  std::printf("%s: %zu parameters\n%zu training, %zu validation, %zu test images from %s\n", Net::name().c_str(),
              Net::parameter_count, train.size(), validation.size(), test_set.data.size(), s.data.c_str());

  Model<Net> model(Init::torch_default, s.seed);
  model.set_thread_pool(pool.get());
  if (!s.common.load.empty()) {
    load_checkpoint(s.common.load, model);
    std::printf("loaded %s\n", s.common.load.c_str());
  } else {
    Adam<> adam({.lr = s.lr, .weight_decay = s.weight_decay});
    data::BatchLoader<float> loader(train.x.view(), std::span<const std::int32_t>(train.labels),
                                    {.batch_size = s.batch_size, .seed = s.seed});
    examples::Curves log({"epoch", "train_loss", "validation_loss", "validation_accuracy"});
    std::size_t step = 0;
    double seconds = 0;
    for (std::size_t e = 0; e < s.epochs; ++e) {
      const auto epoch = examples::train_epoch(model, adam, loader, e, step, s.common.unchecked);
      seconds += epoch.seconds;
      const Matrix<float> p = examples::predict_in_chunks(model, validation.x.view());
      const std::span<const std::int32_t> vl(validation.labels);
      const double val_loss = examples::cross_entropy_of_probabilities(p.view(), vl);
      const double val_acc = accuracy(p.view(), vl);
      std::printf("epoch %zu train loss %.4f, validation loss %.4f, validation accuracy %.2f%%\n", e + 1, epoch.loss,
                  val_loss, 100 * val_acc);
      log.add({static_cast<double>(e + 1), epoch.loss, val_loss, val_acc});
    }
    std::printf("time: %.2f s training, %.0f samples/s\n", seconds,
                static_cast<double>(train.size() * s.epochs) / seconds);
    log.write(pictures, "mnist_training", "MNIST (" + s.variant + "): loss and validation accuracy per epoch");
    if (!s.common.save.empty()) {
      save_checkpoint(s.common.save, model, adam);
      std::printf("saved %s\n", s.common.save.c_str());
    }
  }

  const Matrix<float> p = examples::predict_in_chunks(model, test_set.data.x.view());
  const std::vector<std::int32_t> predicted = predicted_classes(p.view());
  const auto cm = confusion_matrix(test_set.data.labels, predicted);
  const double acc = accuracy(p.view(), std::span<const std::int32_t>(test_set.data.labels));
  std::printf("\ntest accuracy: %.2f%%\n\nconfusion matrix (rows: true digit, columns: predicted)\n%s\n%s\n",
              100 * acc, format_confusion_matrix(cm).c_str(), classification_report(cm).c_str());
  examples::draw_confusion_heatmap(pictures, cm, "mnist_confusion");
  examples::draw_misclassified(pictures, test_set, predicted, "mnist_misclassified", test_set.statistics);
  std::printf("final test accuracy: %.2f%%\n", 100 * acc);
  return 0;
}

int main(int argc, char** argv) {
  Settings s;
  examples::CommandLine cli("mnist", "MNIST MLP 784-256-256-10 with Adam; --variant plain|l2|dropout|batchnorm.");
  cli.choice("--variant", s.variant, {"plain", "l2", "dropout", "batchnorm"}, "which network")
      .number("--epochs", s.epochs, "passes over the training split", std::size_t{1}, std::size_t{10000})
      .number("--batch-size", s.batch_size, "samples per step", std::size_t{1}, std::size_t{60000})
      .number("--lr", s.lr, "Adam's learning rate", 0.0, 10.0)
      .number("--seed", s.seed, "seed for the split, the weights, dropout and the batch order")
      .number("--limit", s.limit, "use only the first N training images (0: all)", std::size_t{0}, std::size_t{1} << 40)
      .text("--data", s.data, "folder with the four MNIST-format IDX files (plain or .gz)", "DIR");
  s.common.add_to(cli, "the training curves, the confusion matrix and misclassified digits");
  return examples::run_example("mnist", cli, argc, argv, [&] {
    if (s.variant == "l2") s.weight_decay = 1e-5;
    if (s.variant == "dropout") return run<WithDropout>(s);
    if (s.variant == "batchnorm") return run<WithBatchNorm>(s);
    return run<Plain>(s);
  });
}
