// The MNIST MLP that examples/mnist.cpp trains, in one process or (with
// --distributed, support/mnist_distributed.hpp) over MPI: PyTorch's 784-256-256-10 with
// softmax cross-entropy and Adam, in four variants; its flags, its data (an
// 80/20 train/validation split of the training images, and the test
// images) and its evaluation and final report.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "support/example_main.hpp"
#include "support/mnist_common.hpp"
#include "support/networks.hpp"
#include "typenet/data/split.hpp"

namespace examples::mnist_mlp {

using namespace typenet;

struct Settings {
  std::size_t epochs = 5, batch_size = 64;
  double lr = 1e-3, weight_decay = 0, validation = 0.2;
  std::uint64_t seed = 1;
  std::size_t limit = 0;  // use only the first N training images (0: all)
  std::string data = default_mnist_folder(), variant = "plain";
  CommonOptions common;
};

// The flags both programs share; `batch_help` says what a batch is there.
inline void add_flags(CommandLine& cli, Settings& s, const std::string& batch_help) {
  cli.choice("--variant", s.variant, {"plain", "l2", "dropout", "batchnorm"}, "which network")
      .number("--epochs", s.epochs, "passes over the training split", std::size_t{1}, std::size_t{10000})
      .number("--batch-size", s.batch_size, batch_help, std::size_t{1}, std::size_t{60000})
      .number("--lr", s.lr, "Adam's learning rate", 0.0, 10.0)
      .number("--seed", s.seed, "seed for the split, the weights, dropout and the batch order")
      .number("--limit", s.limit, "use only the first N training images (0: all)", std::size_t{0}, std::size_t{1} << 40)
      .text("--data", s.data, "folder with the four MNIST-format IDX files (plain or .gz)", "DIR");
  s.common.add_to(cli, "the training curves, the confusion matrix and misclassified digits");
}

// Calls run.template operator()<Net>() with the network of --variant.
template <class Run>
int with_variant(Settings& s, Run&& run) {
  if (s.variant == "l2") s.weight_decay = 1e-5;
  if (s.variant == "dropout") return run.template operator()<WithDropout>();
  if (s.variant == "batchnorm") return run.template operator()<WithBatchNorm>();
  return run.template operator()<Plain>();
}

// The training images, reordered in place so that the train part comes
// first and the validation part after it (train_test_split_in_place: the
// 188 MB of floats are held once), and the test images.
struct Data {
  data::MnistSet test;
  data::LabelledData<float> train_and_validation;
  std::size_t train_rows = 0;

  data::LabelledView<float> train() const { return part(0, train_rows); }
  data::LabelledView<float> validation() const {
    return part(train_rows, train_and_validation.size() - train_rows);
  }

 private:
  data::LabelledView<float> part(std::size_t begin, std::size_t rows) const {
    return {train_and_validation.x.view().rows_view(begin, rows),
            std::span<const std::int32_t>(train_and_validation.labels).subspan(begin, rows)};
  }
};

// Loads MNIST (or says how to get it), keeps the first --limit training
// images, splits off the validation part and prints what it has.
template <class Net>
Data load(const Settings& s) {
  // Pixels standardised with MNIST's training-set statistics, as PyTorch's
  // tutorials do (transforms.Normalize((0.1307,), (0.3081,))).
  const auto scaling = data::PixelScaling::standardise({0.1307f, 0.3081f});
  auto train_set = load_mnist_or_explain(s.data, "train", scaling);
  auto test_set = load_mnist_or_explain(s.data, "t10k", scaling);
  data::check_width<Net::input_size>(train_set);
  data::check_width<Net::input_size>(test_set);
  if (s.limit > 0 && s.limit < train_set.data.size()) {  // the first `limit` images
    const auto& full = train_set.data;
    data::LabelledData<float> cut{Matrix<float>(s.limit, full.x.cols()),
                                  std::vector<std::int32_t>(full.labels.begin(), full.labels.begin() + s.limit)};
    std::copy_n(full.x.data(), s.limit * full.x.cols(), cut.x.data());
    train_set.data = std::move(cut);
  }
  Data d{std::move(test_set), std::move(train_set.data), 0};
  d.train_rows = data::train_test_split_in_place(d.train_and_validation, s.validation, s.seed).train.size();
  std::printf("%s: %zu parameters\n%zu training, %zu validation, %zu test images from %s\n", Net::name().c_str(),
              Net::parameter_count, d.train().size(), d.validation().size(), d.test.data.size(), s.data.c_str());
  return d;
}

struct Evaluation {
  double loss = 0, accuracy = 0;
};
template <class M>
Evaluation evaluate(M& model, data::LabelledView<float> set) {
  const Matrix<float> p = predict_in_chunks(model, set.x);
  return {cross_entropy_of_probabilities(p.view(), set.labels), accuracy(p.view(), set.labels)};
}

// The test set's accuracy, confusion matrix and classification report, the
// pictures, and the final line the example tests read.
template <class M>
void report_test(M& model, const data::MnistSet& test, const Pictures& pictures) {
  const Matrix<float> p = predict_in_chunks(model, test.data.x.view());
  const std::vector<std::int32_t> predicted = predicted_classes(p.view());
  const auto cm = confusion_matrix(test.data.labels, predicted);
  const double acc = accuracy(p.view(), std::span<const std::int32_t>(test.data.labels));
  std::printf("\ntest accuracy: %.2f%%\n\nconfusion matrix (rows: true digit, columns: predicted)\n%s\n%s\n",
              100 * acc, format_confusion_matrix(cm).c_str(), classification_report(cm).c_str());
  draw_confusion_heatmap(pictures, cm, "mnist_confusion");
  draw_misclassified(pictures, test, predicted, "mnist_misclassified", test.statistics);
  std::printf("final test accuracy: %.2f%%\n", 100 * acc);
}

}  // namespace examples::mnist_mlp
