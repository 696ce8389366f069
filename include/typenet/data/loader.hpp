// Mini-batches over a data set for training loops:
//
//   data::BatchLoader<float> loader(d.x.view(), d.labels, {.batch_size = 64, .seed = 1});
//   for (std::size_t k = 0; k < epochs; ++k)
//     for (auto batch : loader.epoch(k))
//       train_step(model, batch.x, batch.labels, SoftmaxCrossEntropy{}, adam);
//
// A batch has `x` (MatrixView<const T>, batch rows x features), `labels`
// (std::span<const std::int32_t>, empty when the loader has none) and
// `targets` (MatrixView<const T>, batch rows x target columns, empty when the
// loader has none): integer labels for classification, a float target matrix
// for regression or hinge targets (for example LabelledData::label_column).
// A loader may carry either or both.
//
// The data set is never copied; the loader keeps views of it, so the data
// must outlive the loader (constructing one from a temporary LabelledData is
// a compile error).
//  - shuffle = true (default): epoch k visits the samples in an order that is
//    a function of (seed, k) alone: the same seed and epoch give the same
//    batches in any program, on any machine, whatever epochs came before.
//    Each batch's rows (and labels and targets) are gathered into buffers the
//    loader allocates once, at construction, for one batch; they are reused,
//    so iterating allocates nothing. A batch is therefore valid until the
//    next batch is produced (copy it to keep it).
//  - shuffle = false: batches are views straight into the data (rows
//    [b * batch_size, ...)), with no copy at all.
// The last batch holds the n mod batch_size samples left over, unless
// drop_last is set, in which case it is skipped and every batch is full.
//
// One epoch at a time: starting epoch(k) reorders the loader's permutation,
// so an iterator of an earlier epoch is stale and throws std::logic_error if
// used, rather than silently yielding the new epoch's samples.
//
// Data parallelism: with shards = N and shard = r, batch_size is the global
// batch and each batch yields only part r of it, rows [r n / N, (r+1) n / N)
// of its n rows (`global_size` is n). N loaders with the same options and
// shards 0..N-1 then see together exactly the batches one unsharded loader
// sees, in the same order, whatever N is; each gathers only its own rows.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "typenet/data/generators.hpp"
#include "typenet/base/matrix.hpp"
#include "typenet/random/rng.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::data {

/// How a BatchLoader batches a data set.
struct LoaderOptions {
  std::size_t batch_size = 32;  ///< samples per batch
  bool shuffle = true;  ///< a new permutation every epoch
  bool drop_last = false;  ///< drop the last batch when it is short
  std::uint64_t seed = 0;  ///< the permutations' seed
  /// This loader's part of each batch, and how many parts (see the top).
  std::size_t shard = 0;
  std::size_t shards = 1;  ///< the number of processes sharing each batch (see shard)
};

/// One batch: views of the loader's data, no copy.
template <class T>
struct Batch {
  MatrixView<const T> x;  ///< the batch's samples, one per row
  std::span<const std::int32_t> labels;  ///< empty when the loader has no labels
  MatrixView<const T> targets;           ///< rows == 0 when the loader has no targets
  /// Which data set rows the batch holds, in order. Shuffled: `samples` (a
  /// view of the loader's permutation). Unshuffled: `samples` is empty and the
  /// batch is rows [first_sample, first_sample + size()).
  std::span<const std::size_t> samples;
  std::size_t first_sample = 0;  ///< the first row, when unshuffled
  std::size_t index = 0;  ///< position of the batch in its epoch
  /// Rows in the whole batch, every shard's together (== size() unsharded).
  std::size_t global_size = 0;

  /// The number of samples in this batch (this shard's).
  std::size_t size() const { return x.rows; }
};

/// Batches of a data set, shuffled per epoch by a seeded permutation, as views (nothing is copied).
template <class T>
class BatchLoader {
  static_assert(std::is_trivially_copyable_v<T>, "typenet: BatchLoader<T> needs a plain number type.");

 public:
  /// Batches of x with class labels.
  BatchLoader(MatrixView<const T> x, std::span<const std::int32_t> labels, LoaderOptions options)
      : BatchLoader(x, labels, MatrixView<const T>(), options) {}
  /// Batches of x with regression targets.
  BatchLoader(MatrixView<const T> x, MatrixView<const T> targets, LoaderOptions options)
      : BatchLoader(x, std::span<const std::int32_t>(), targets, options) {}
  /// Batches of a labelled data set.
  BatchLoader(const LabelledData<T>& d, LoaderOptions options)
      : BatchLoader(d.x.view(), std::span<const std::int32_t>(d.labels), options) {}
  BatchLoader(const LabelledData<T>&&, LoaderOptions) = delete;  ///< would view a temporary

  /// Labels, targets, or both (pass an empty span or view for the one you do
  /// not have).
  BatchLoader(MatrixView<const T> x, std::span<const std::int32_t> labels, MatrixView<const T> targets,
              LoaderOptions options)
      : x_(x), labels_(labels), targets_(targets), options_(options) {
    validate();
    if (options_.shuffle) {
      const std::size_t rows = largest_shard(std::min(options_.batch_size, x_.rows));
      permutation_.resize(x_.rows);
      x_buffer_.resize(rows * x_.cols);
      if (!labels_.empty()) label_buffer_.resize(rows);
      if (!targets_.empty()) target_buffer_.resize(rows * targets_.cols);
    }
  }

  /// The number of samples in the data set.
  std::size_t size() const { return x_.rows; }  // samples in the data set
  /// The options it batches with.
  const LoaderOptions& options() const { return options_; }
  /// The number of batches in an epoch.
  std::size_t batches_per_epoch() const {
    const std::size_t b = options_.batch_size;
    return options_.drop_last ? x_.rows / b : (x_.rows + b - 1) / b;
  }

  class Epoch;
  /// Starts epoch k: in shuffled mode, draws its order (no allocation).
  Epoch epoch(std::size_t k) {
    ++generation_;
    if (options_.shuffle) {
      std::iota(permutation_.begin(), permutation_.end(), std::size_t{0});
      Rng rng(epoch_seed(options_.seed, k));
      rng.shuffle(std::span<std::size_t>(permutation_));
    }
    return Epoch(this, generation_);
  }

  /// An input iterator over an epoch's batches.
  class Iterator {
   public:
    /// It is an input iterator.
    using iterator_category = std::input_iterator_tag;
    /// It yields batches.
    using value_type = Batch<T>;
    /// Iterator difference.
    using difference_type = std::ptrdiff_t;

    Iterator() = default;
    /// The current batch.
    Batch<T> operator*() const {
      if (loader_->generation_ != generation_)
        throw std::logic_error(
            "typenet: BatchLoader: this epoch's iterator was used after a later epoch() call reordered the loader; "
            "iterate one epoch at a time.");
      return loader_->make_batch(index_);
    }
    /// The next batch.
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    /// The next batch.
    void operator++(int) { ++index_; }
    /// Whether both are at the same batch.
    bool operator==(const Iterator& o) const { return index_ == o.index_; }

   private:
    friend class Epoch;
    Iterator(BatchLoader* loader, std::size_t generation, std::size_t index)
        : loader_(loader), generation_(generation), index_(index) {}
    BatchLoader* loader_ = nullptr;
    std::size_t generation_ = 0;
    std::size_t index_ = 0;
  };

  /// One epoch's batches, for a range-for loop.
  class Epoch {
   public:
    /// The first batch.
    Iterator begin() const { return Iterator(loader_, generation_, 0); }
    /// Past the last batch.
    Iterator end() const { return Iterator(loader_, generation_, loader_->batches_per_epoch()); }
    /// The number of batches.
    std::size_t size() const { return loader_->batches_per_epoch(); }

   private:
    friend class BatchLoader;
    Epoch(BatchLoader* loader, std::size_t generation) : loader_(loader), generation_(generation) {}
    BatchLoader* loader_;
    std::size_t generation_;
  };

 private:
  void validate() const {
    if (options_.batch_size == 0) throw std::invalid_argument("typenet: BatchLoader: batch_size must be >= 1.");
    if (x_.rows == 0 || x_.cols == 0)
      throw std::invalid_argument("typenet: BatchLoader: the data set is empty (" + std::to_string(x_.rows) + " x " +
                                  std::to_string(x_.cols) + ").");
    if (labels_.empty() && targets_.empty())
      throw std::invalid_argument("typenet: BatchLoader: give labels, a target matrix, or both.");
    if (!labels_.empty() && labels_.size() != x_.rows)
      throw std::invalid_argument("typenet: BatchLoader: " + std::to_string(labels_.size()) + " labels for " +
                                  std::to_string(x_.rows) + " samples.");
    if (!targets_.empty() && targets_.rows != x_.rows)
      throw std::invalid_argument("typenet: BatchLoader: " + std::to_string(targets_.rows) + " target rows for " +
                                  std::to_string(x_.rows) + " samples.");
    if (options_.drop_last && options_.batch_size > x_.rows)
      throw std::invalid_argument("typenet: BatchLoader: drop_last with batch_size " +
                                  std::to_string(options_.batch_size) + " > " + std::to_string(x_.rows) +
                                  " samples would give no batch at all.");
    if (options_.shards == 0 || options_.shard >= options_.shards)
      throw std::invalid_argument("typenet: BatchLoader: shard " + std::to_string(options_.shard) + " of " +
                                  std::to_string(options_.shards) + " does not exist (shards are 0 .. shards - 1).");
    // Every shard must get a row of every batch: a process with nothing to
    // compute could not take part in the step (nor in BatchNorm's statistics).
    const std::string shards = std::to_string(options_.shards);
    const std::size_t first_batch = std::min(options_.batch_size, x_.rows);
    if (first_batch < options_.shards)
      throw std::invalid_argument("typenet: BatchLoader: a batch of " + std::to_string(first_batch) +
                                  " samples cannot be split into " + shards +
                                  " non-empty shards; use a batch of at least " + shards + " samples.");
    const std::size_t left_over = x_.rows % options_.batch_size;
    if (!options_.drop_last && left_over != 0 && left_over < options_.shards)
      throw std::invalid_argument("typenet: BatchLoader: the last batch is too small to split: " +
                                  std::to_string(left_over) + " left over after full batches of " +
                                  std::to_string(options_.batch_size) + ", fewer than the " + shards +
                                  " shards; set drop_last, or use a batch size that leaves 0 or at least " + shards +
                                  " over.");
  }

  /// Rows [begin, end) of a batch of n rows belong to this loader's shard.
  std::size_t shard_begin(std::size_t n) const { return options_.shard * n / options_.shards; }
  std::size_t shard_end(std::size_t n) const { return (options_.shard + 1) * n / options_.shards; }
  std::size_t largest_shard(std::size_t n) const { return (n + options_.shards - 1) / options_.shards; }

  /// Independent streams per epoch: the (seed, k) pair is hashed into one
  /// seed (SplitMix64 twice), because Rng(seed + k) would start the streams
  /// of neighbouring epochs from overlapping SplitMix64 sequences.
  static std::uint64_t epoch_seed(std::uint64_t seed, std::size_t k) {
    std::uint64_t state = seed;
    std::uint64_t mixed = splitmix64(state) ^ static_cast<std::uint64_t>(k);
    return splitmix64(mixed);
  }

  Batch<T> make_batch(std::size_t b) {
    const std::size_t global_begin = b * options_.batch_size;
    const std::size_t global_count = std::min(options_.batch_size, x_.rows - global_begin);
    const std::size_t begin = global_begin + shard_begin(global_count);
    const std::size_t count = shard_end(global_count) - shard_begin(global_count);
    Batch<T> batch;
    batch.index = b;
    batch.global_size = global_count;
    if (!options_.shuffle) {
      batch.first_sample = begin;
      batch.x = x_.rows_view(begin, count);
      if (!labels_.empty()) batch.labels = labels_.subspan(begin, count);
      if (!targets_.empty()) batch.targets = targets_.rows_view(begin, count);
      return batch;
    }
    const std::span<const std::size_t> rows(permutation_.data() + begin, count);
    T* xb = x_buffer_.data();
    for (std::size_t i = 0; i < count; ++i) std::copy_n(x_.row(rows[i]), x_.cols, xb + i * x_.cols);
    batch.x = MatrixView<const T>(xb, count, x_.cols);
    if (!labels_.empty()) {
      std::int32_t* lb = label_buffer_.data();
      for (std::size_t i = 0; i < count; ++i) lb[i] = labels_[rows[i]];
      batch.labels = std::span<const std::int32_t>(lb, count);
    }
    if (!targets_.empty()) {
      T* tb = target_buffer_.data();
      for (std::size_t i = 0; i < count; ++i) std::copy_n(targets_.row(rows[i]), targets_.cols, tb + i * targets_.cols);
      batch.targets = MatrixView<const T>(tb, count, targets_.cols);
    }
    batch.samples = rows;
    return batch;
  }

  MatrixView<const T> x_;
  std::span<const std::int32_t> labels_;
  MatrixView<const T> targets_;
  LoaderOptions options_;
  std::vector<std::size_t> permutation_;
  AlignedBuffer<T> x_buffer_;
  AlignedBuffer<std::int32_t> label_buffer_;
  AlignedBuffer<T> target_buffer_;
  std::size_t generation_ = 0;
};

/// BatchLoader loader(matrix.view(), labels, options) deduces T from a view
/// of mutable or constant data.
template <class U>
BatchLoader(MatrixView<U>, std::span<const std::int32_t>, LoaderOptions) -> BatchLoader<std::remove_const_t<U>>;
/// A loader over views deduces its scalar type.
template <class U, class V>
BatchLoader(MatrixView<U>, MatrixView<V>, LoaderOptions) -> BatchLoader<std::remove_const_t<U>>;
/// A loader over views deduces its scalar type.
template <class U, class V>
BatchLoader(MatrixView<U>, std::span<const std::int32_t>, MatrixView<V>, LoaderOptions)
    -> BatchLoader<std::remove_const_t<U>>;

}  // namespace typenet::data
