// A classifier trained from a CSV table: by default scikit-learn's breast
// cancer table (569 tumours, 30 measurements each, malignant or benign),
// which Debian's python3-sklearn ships as a CSV file. A quarter is held out
// for testing; the features are standardised with the training part's mean
// and standard deviation (scikit-learn's StandardScaler, fitted on the
// training part only, so the test part stays unseen); MLP 30-32-2 (ReLU,
// softmax), softmax cross-entropy, Adam lr 1e-3, batches of 32, 100 epochs.
// Prints the test accuracy, scikit-learn's classification report with the
// table's class names, and the confusion matrix.
//
// --data takes any CSV table data::read_csv reads (a header or none,
// scikit-learn's counts line, comma, semicolon or tab) with 30 feature
// columns and two classes; --label names the class column. --load
// evaluates a checkpoint --save wrote, with the same --data and --seed (the
// split and the standardisation are recomputed, the same).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/example_main.hpp"
#include "support/pictures.hpp"
#include "typenet/data/csv.hpp"
#include "typenet/data/loader.hpp"
#include "typenet/data/split.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/train/classification_report.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
using Net = Sequential<Input<30>, Linear<32>, ReLU, Linear<2>, Softmax>;

namespace {

// Where Debian's python3-sklearn (and a pip install for the system's
// interpreter) put the table.
std::string find_breast_cancer_table() {
  const char* candidates[] = {"/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv",
                              "/usr/local/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv"};
  for (const char* c : candidates) {
    std::error_code ec;
    if (std::filesystem::exists(c, ec)) return c;
  }
  throw std::runtime_error(std::string("scikit-learn's breast cancer table is not installed (looked for ") +
                           candidates[0] + "). Install it with\n  apt-get install python3-sklearn\n"
                           "or give a CSV table with --data FILE.");
}

// A column by position when the text is an integer ("0", "-1"), else by name.
data::CsvColumn column(const std::string& text) {
  int index = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), index);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return data::CsvColumn(index);
  return data::CsvColumn(text);
}

// scikit-learn's StandardScaler: (x - mean) / std per column, with the
// population standard deviation, and 1 for a column that does not vary.
struct Standardiser {
  std::vector<double> mean, scale;

  explicit Standardiser(const Matrix<float>& x) : mean(x.cols(), 0.0), scale(x.cols(), 0.0) {
    const auto n = static_cast<double>(x.rows());
    for (std::size_t i = 0; i < x.rows(); ++i)
      for (std::size_t j = 0; j < x.cols(); ++j) mean[j] += x(i, j);
    for (double& m : mean) m /= n;
    for (std::size_t i = 0; i < x.rows(); ++i)
      for (std::size_t j = 0; j < x.cols(); ++j) scale[j] += (x(i, j) - mean[j]) * (x(i, j) - mean[j]);
    for (double& s : scale) s = s > 0 ? std::sqrt(s / n) : 1.0;
  }
  void apply(Matrix<float>& x) const {
    for (std::size_t i = 0; i < x.rows(); ++i)
      for (std::size_t j = 0; j < x.cols(); ++j) x(i, j) = static_cast<float>((x(i, j) - mean[j]) / scale[j]);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::size_t epochs = 100, batch_size = 32;
  std::uint64_t seed = 42;
  double lr = 1e-3, test_size = 0.25;
  std::string file, label;
  examples::CommonOptions common;
  common.threads = 1;  // 426 samples: one thread is fastest (results do not depend on it)
  examples::CommandLine cli("tabular", "A classifier from a CSV table (default: scikit-learn's breast cancer table): "
                                       "standardised features, MLP 30-32-2, softmax cross-entropy, Adam.");
  cli.text("--data", file, "the CSV table (default: scikit-learn's breast_cancer.csv)", "FILE")
      .text("--label", label, "the class column, by name or position (default: the last)", "COLUMN")
      .number("--epochs", epochs, "passes over the training part", std::size_t{1}, std::size_t{100000})
      .number("--batch-size", batch_size, "samples per step", std::size_t{1}, std::size_t{1} << 30)
      .number("--lr", lr, "Adam's learning rate", 0.0, 10.0)
      .number("--seed", seed, "seed for the split, the weights and the batch order")
      .number("--test-size", test_size, "fraction held out for testing", 0.01, 0.99);
  common.add_to(cli, "the training curves");
  return examples::run_example("tabular", cli, argc, argv, [&] {
    // (The GPU steps are compiled for the other examples' networks only.)
    if (common.device == "cuda")
      throw std::runtime_error("--device cuda: tabular trains on the CPU only; its 1058 parameters train in "
                               "milliseconds there.");
    const examples::Pictures pictures(common.out);
    if (file.empty()) file = find_breast_cancer_table();
    data::CsvOptions options;
    if (!label.empty()) options.label = column(label);
    auto table = data::read_csv<float>(file, options);
    const std::size_t features = table.data.x.cols();
    if (features != Net::input_size)
      throw std::runtime_error(file + " has " + std::to_string(features) + " feature columns, but the network's Input<" +
                               std::to_string(Net::input_size) + "> takes " + std::to_string(Net::input_size) +
                               " (change Net in examples/tabular.cpp for another width).");
    for (const std::int32_t l : table.data.labels)
      if (static_cast<std::size_t>(l) >= Net::output_size)
        throw std::runtime_error(file + " has the class " + std::to_string(l) + ", but the network has " +
                                 std::to_string(Net::output_size) + " outputs, for classes 0 and 1.");

    // The same split and statistics for --load as for the training run that
    // saved the checkpoint (same --data and --seed).
    auto [train, test] = data::train_test_split(table.data, test_size, seed);
    const Standardiser scaler(train.x);  // fitted on the training part only
    scaler.apply(train.x);
    scaler.apply(test.x);
    std::string classes;
    for (const std::string& c : table.class_names) classes += (classes.empty() ? "" : ", ") + c;
    std::printf("%s: %zu parameters\n%s: %zu samples, %zu features%s%s; %zu training and %zu test samples\n",
                Net::name().c_str(), Net::parameter_count, std::filesystem::path(file).filename().c_str(),
                table.data.size(), features, classes.empty() ? "" : ", classes ", classes.c_str(), train.size(),
                test.size());

    const auto pool = common.make_pool();
    Model<Net> model(Init::torch_default, seed);
    model.set_thread_pool(pool.get());
    if (!common.load.empty()) {
      load_checkpoint(common.load, model);
      std::printf("loaded %s\n", common.load.c_str());
    } else {
      Adam<> adam({.lr = lr});
      data::BatchLoader<float> loader(train.x.view(), train.labels, {.batch_size = batch_size, .seed = seed});
      examples::Curves log({"epoch", "train_loss", "test_accuracy"});
      std::size_t step = 0;
      for (std::size_t e = 0; e < epochs; ++e) {
        double total = 0;
        for (const auto batch : loader.epoch(e)) {
          const float loss = train_step(model, batch.x, batch.labels, SoftmaxCrossEntropy{}, adam);
          if (!common.unchecked) check_finite(model, step, loss, 100);
          ++step;
          total += static_cast<double>(loss) * static_cast<double>(batch.size());
        }
        const double train_loss = total / static_cast<double>(train.size());
        const double test_accuracy = accuracy(model.forward(test.x.view(), Mode::eval), test.labels);
        if (e % 10 == 0 || e + 1 == epochs)
          std::printf("epoch %zu train loss %.4f, test accuracy %.2f%%\n", e + 1, train_loss, 100 * test_accuracy);
        log.add({static_cast<double>(e + 1), train_loss, test_accuracy});
      }
      log.write(pictures, "tabular_training", "tabular: loss and test accuracy per epoch");
      if (!common.save.empty()) {
        save_checkpoint(common.save, model, adam);
        std::printf("saved %s\n", common.save.c_str());
      }
    }

    const auto out = model.forward(test.x.view(), Mode::eval);
    const std::vector<std::int32_t> predicted = predicted_classes(out);
    const double acc = accuracy(out, test.labels);
    std::vector<std::int32_t> all_classes(Net::output_size);
    for (std::size_t c = 0; c < all_classes.size(); ++c) all_classes[c] = static_cast<std::int32_t>(c);
    const auto cm = confusion_matrix(test.labels, predicted, all_classes);
    const std::vector<std::string> names = table.class_names.size() == Net::output_size ? table.class_names
                                                                                        : std::vector<std::string>{};
    std::printf("\ntest accuracy: %.2f%%\n\n%s\nconfusion matrix (rows: true class, columns: predicted)\n%s\n",
                100 * acc, classification_report(cm, 2, names).c_str(), format_confusion_matrix(cm, names).c_str());
    std::printf("final test accuracy: %.2f%%\n", 100 * acc);
    return 0;
  });
}
