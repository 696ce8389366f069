// What the MNIST examples share: finding the data (and saying what to run
// when it is missing), evaluating in chunks, and the pictures (confusion
// matrix heatmap, a grid of misclassified digits).
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/pictures.hpp"
#include "typenet/data/mnist.hpp"
#include "typenet/train/classification_report.hpp"
#include "typenet/typenet.hpp"

namespace examples {

// The default data folder: data/mnist beside the sources (where
// `meson compile -C build mnist-data` puts it).
inline std::string default_mnist_folder() {
#ifdef TYPENET_SOURCE_ROOT
  return std::string(TYPENET_SOURCE_ROOT) + "/data/mnist";
#else
  return "data/mnist";
#endif
}

// Loads one MNIST-format set from `folder`, or explains how to get it.
inline typenet::data::MnistSet load_mnist_or_explain(const std::string& folder, std::string_view set,
                                                     typenet::data::PixelScaling scaling = {}) {
  const std::string name = std::string(set) + "-images-idx3-ubyte";
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(folder) / name, ec) &&
      !std::filesystem::exists(std::filesystem::path(folder) / (name + ".gz"), ec))
    throw std::runtime_error("MNIST is not in " + folder + " (no " + name +
                             "). Fetch it with:\n  meson compile -C build mnist-data\nor\n  python3 examples/fetch_mnist.py " +
                             folder + "\nor point --data at a folder with MNIST-format files (Fashion-MNIST, KMNIST).");
  return typenet::data::load_mnist(folder, set, scaling);
}

// Outputs for a large set in chunks (the workspace stays at chunk size).
template <class M>
typenet::Matrix<float> predict_in_chunks(M& model, typenet::MatrixView<const float> x, std::size_t chunk = 1000) {
  typenet::Matrix<float> out(x.rows, M::output_size);
  for (std::size_t i = 0; i < x.rows; i += chunk) {
    const std::size_t n = std::min(chunk, x.rows - i);
    const auto y = model.forward(x.rows_view(i, n), typenet::Mode::eval);
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t c = 0; c < M::output_size; ++c) out(i + r, c) = y(r, c);
  }
  return out;
}

// Mean cross-entropy of probabilities (the model ends in Softmax).
inline double cross_entropy_of_probabilities(typenet::MatrixView<const float> p, std::span<const std::int32_t> labels) {
  double total = 0;
  for (std::size_t i = 0; i < p.rows; ++i)
    total -= std::log(std::max(static_cast<double>(p(i, static_cast<std::size_t>(labels[i]))), 1e-30));
  return total / static_cast<double>(p.rows);
}

inline void draw_confusion_heatmap(const Pictures& pictures, const typenet::ConfusionMatrix& cm,
                                   const std::string& name) {
  if (!pictures.enabled()) return;
  {
    std::ofstream f = pictures.open(name + ".dat");
    for (std::size_t t = 0; t < cm.classes(); ++t) {
      for (std::size_t p = 0; p < cm.classes(); ++p) f << (p ? " " : "") << cm(t, p);
      f << "\n";
    }
  }
  const std::string data = pictures.path(name + ".dat");
  pictures.draw(name, "set title 'confusion matrix (rows: true digit, columns: predicted)'\n"
                      "set xlabel 'predicted'\nset ylabel 'true'\nset yrange [9.5:-0.5]\nset xrange [-0.5:9.5]\n"
                      "set xtics 1\nset ytics 1\nset palette defined (0 'white', 1 '#fdd49e', 2 '#d7301f')\n"
                      "set cbrange [0:50]\nset size ratio 1\n"
                      "plot '" + data + "' matrix with image notitle, '" + data +
                      "' matrix using 1:2:(sprintf('%d', $3)) with labels font ',9' notitle\n");
}

// Up to 64 misclassified test images in an 8 x 8 grid, each titled
// "true -> predicted".
inline void draw_misclassified(const Pictures& pictures, const typenet::data::MnistSet& test,
                               const std::vector<std::int32_t>& predicted, const std::string& name,
                               const typenet::data::PixelStatistics& statistics) {
  if (!pictures.enabled()) return;
  std::vector<std::size_t> wrong;
  for (std::size_t i = 0; i < predicted.size() && wrong.size() < 64; ++i)
    if (predicted[i] != test.data.labels[i]) wrong.push_back(i);
  const std::size_t side = 28, cells = 8, gap = 2, size = cells * (side + gap);
  std::vector<float> canvas(size * size, 0.0f);
  std::string labels;
  for (std::size_t k = 0; k < wrong.size(); ++k) {
    const std::size_t r0 = (k / cells) * (side + gap), c0 = (k % cells) * (side + gap);
    for (std::size_t r = 0; r < side; ++r)
      for (std::size_t c = 0; c < side; ++c)
        canvas[(r0 + r) * size + c0 + c] = test.data.x(wrong[k], r * side + c) * statistics.stddev + statistics.mean;
    labels += "set label " + std::to_string(k + 1) + " '" + std::to_string(test.data.labels[wrong[k]]) + "->" +
              std::to_string(predicted[wrong[k]]) + "' at " + std::to_string(c0 + 1) + "," + std::to_string(r0 + 4) +
              " textcolor rgb '#ff5555' font ',8' front\n";
  }
  {
    std::ofstream f = pictures.open(name + ".dat");
    for (std::size_t r = 0; r < size; ++r) {
      for (std::size_t c = 0; c < size; ++c) f << (c ? " " : "") << canvas[r * size + c];
      f << "\n";
    }
  }
  pictures.draw(name, "set title 'misclassified test digits (true -> predicted)'\nunset xtics\nunset ytics\n"
                      "set yrange [" + std::to_string(size) + ":0]\nset xrange [0:" + std::to_string(size) +
                      "]\nset palette gray\nunset colorbox\nset size ratio 1\n" + labels + "plot '" +
                      pictures.path(name + ".dat") + "' matrix with image notitle\n");
}

}  // namespace examples

#include "support/progress.hpp"
#include "typenet/data/loader.hpp"

namespace examples {

struct EpochResult {
  double loss = 0;      // mean training loss over the epoch's batches
  double accuracy = 0;  // training accuracy, as measured on each batch before its update
  double seconds = 0;
  std::size_t samples = 0;  // rows trained on (this process's share, with a sharded loader)
};

// The per-step finite-value check, for a model trained in place or for
// TrainingSteps (support/training_steps.hpp).
template <class Net>
void check_step(const typenet::Model<Net>& model, std::size_t step, float loss) {
  typenet::check_finite(model, step, loss, 0);
}
template <class Steps>
  requires requires(Steps& s) { s.check_finite(std::size_t{0}, 0.0f); }
void check_step(Steps& steps, std::size_t step, float loss) {
  steps.check_finite(step, loss);
}

// One epoch of softmax cross-entropy training: `train_on(batch)` trains on
// each batch and returns its loss. With a progress bar on a terminal and the
// per-step finite-value check unless `unchecked`.
template <class M, class TrainOn>
EpochResult run_epoch(M& model, TrainOn&& train_on, typenet::data::BatchLoader<float>& loader, std::size_t epoch,
                      std::size_t& step, bool unchecked) {
  Progress progress("epoch " + std::to_string(epoch + 1), loader.size());
  double total = 0, right = 0;
  std::size_t seen = 0;
  for (const auto batch : loader.epoch(epoch)) {
    const float loss = train_on(batch);
    if (!unchecked) check_step(model, step, loss);
    right += typenet::accuracy(model.output(), batch.labels) * static_cast<double>(batch.size());
    total += static_cast<double>(loss) * static_cast<double>(batch.size());
    seen += batch.size();
    ++step;
    progress.update(seen * loader.options().shards);  // a shard's progress stands for all of them
  }
  progress.finish();
  return {total / static_cast<double>(seen), right / static_cast<double>(seen), progress.seconds(), seen};
}

}  // namespace examples
