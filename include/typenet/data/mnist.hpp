// MNIST (and the data sets in its format: Fashion-MNIST, KMNIST) as one
// labelled set per part, from the pair of IDX files that holds it:
//
//   auto train = data::load_mnist("data/mnist", "train");    // 60000 x 784, pixels in [0, 1]
//   auto test = data::load_mnist("data/mnist", "t10k");
//   data::check_width<784>(train);                           // or Model<Net>::input_size
//
// Each file is read by data/idx.hpp (plain or gzip, every problem an
// IdxError naming the file); the pair is checked here: as many labels as
// images, and every label a digit.
#pragma once

#include "typenet/config.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "typenet/data/generators.hpp"
#include "typenet/data/idx.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::data {

/// One part of MNIST: the images as rows of x with their labels, and where
/// they came from.
struct MnistSet {
  LabelledData<float> data;  ///< x: count x 784 (rows x cols), labels 0..9
  std::size_t image_rows = 0;  ///< the height of an image
  std::size_t image_cols = 0;  ///< the width of an image
  PixelStatistics statistics;  ///< the scaling applied to the pixels
  std::filesystem::path images_file;  ///< the images file read
  std::filesystem::path labels_file;  ///< the labels file read
};

/// Throws, naming the file, unless the images are N pixels wide (the network's `Input<N>`).
template <std::size_t N>
void check_width(const MnistSet& set) {
  check_width(set.data.x.cols(), N, set.images_file);
}

/// MNIST's "train" or "t10k" set from `dir`, which holds SET-images-idx3-ubyte
/// and SET-labels-idx1-ubyte, plain or with .gz (examples/fetch_mnist.py
/// puts them there). Plain files are preferred when both exist. Checks that
/// there are as many labels as images and that every label is a digit.
inline MnistSet load_mnist(const std::filesystem::path& dir, std::string_view set, PixelScaling scaling = {}) {
  if (set != "train" && set != "t10k")
    throw std::invalid_argument("typenet: load_mnist: the set is \"" + std::string(set) +
                                "\"; MNIST has \"train\" and \"t10k\".");
  auto find = [&](const std::string& kind) {
    const std::string name = std::string(set) + "-" + kind;
    for (const std::string& candidate : {name, name + ".gz"}) {
      std::error_code ec;
      if (std::filesystem::exists(dir / candidate, ec)) return dir / candidate;
    }
    throw IdxError("typenet: load_mnist: neither " + name + " nor " + name + ".gz is in " + dir.string() +
                   " (python3 examples/fetch_mnist.py " + dir.string() + " downloads MNIST).");
  };
  MnistSet out;
  out.images_file = find("images-idx3-ubyte");
  out.labels_file = find("labels-idx1-ubyte");
  IdxImages images = read_idx_images(out.images_file, scaling);
  std::vector<std::int32_t> labels = read_idx_labels(out.labels_file);
  if (labels.size() != images.pixels.rows())
    throw IdxError("typenet: load_mnist: " + out.images_file.string() + " has " +
                   std::to_string(images.pixels.rows()) + " images but " + out.labels_file.string() + " has " +
                   std::to_string(labels.size()) + " labels.");
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] > 9)
      idx_detail::fail(out.labels_file, "label " + std::to_string(i) + " is " + std::to_string(labels[i]) +
                                            ", not a digit 0-9.");
  out.image_rows = images.image_rows;
  out.image_cols = images.image_cols;
  out.statistics = images.statistics;
  out.data = LabelledData<float>{std::move(images.pixels), std::move(labels)};
  return out;
}

}  // namespace typenet::data
