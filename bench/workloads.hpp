// The compared workloads' definitions, shared by bench/bench.cpp (typenet)
// and bench/bench_onednn.cpp (the oneDNN peer), so that both time the same
// networks, data and constants (compare.py also checks what each reports).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "typenet/typenet.hpp"

namespace bench::workloads {

// MNIST-shaped training: 48,000 samples of 784 features, 10 classes, batch 64.
constexpr std::size_t mnist_samples = 48000;
constexpr std::size_t mnist_batch = 64;
constexpr std::size_t mnist_steps_per_epoch = mnist_samples / mnist_batch;
constexpr std::array<std::size_t, 4> mnist_widths{784, 256, 256, 10};
constexpr double mnist_lr = 1e-3;

using MnistNet = typenet::Sequential<typenet::Input<784>, typenet::Linear<256>, typenet::ReLU, typenet::Linear<256>,
                                     typenet::ReLU, typenet::Linear<10>>;
using MnistBatchNormNet =
    typenet::Sequential<typenet::Input<784>, typenet::Linear<256>, typenet::BatchNorm<>, typenet::ReLU,
                        typenet::Linear<256>, typenet::BatchNorm<>, typenet::ReLU, typenet::Linear<10>>;

// micrograd's two moons: 100 samples, MLP 2-16-16-1, hinge loss, plain SGD.
constexpr std::size_t moons_samples = 100;
constexpr double moons_noise = 0.1;
constexpr double moons_lr = 0.1;
constexpr std::array<std::size_t, 4> moons_widths{2, 16, 16, 1};
using MoonsNet = typenet::Sequential<typenet::Input<2>, typenet::Linear<16>, typenet::ReLU, typenet::Linear<16>,
                                     typenet::ReLU, typenet::Linear<1>>;

constexpr std::uint64_t data_seed = 42;
constexpr std::uint64_t init_seed = 1;

}  // namespace bench::workloads
