// Data utilities: random splits, the batch loader, the IDX (MNIST) reader
// with every failure it must report, and the classification report against
// scikit-learn's text. Writes small IDX files into a temporary directory;
// the real MNIST files are only read when present (data/mnist, or
// $TYPENET_MNIST_DIR), and that test case is skipped otherwise.
#define BOOST_TEST_MODULE data
#include <boost/test/unit_test.hpp>
#include <zlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "typenet/data/idx.hpp"
#include "typenet/data/mnist.hpp"
#include "typenet/data/loader.hpp"
#include "typenet/data/split.hpp"
#include "typenet/train/classification_report.hpp"

// Counts heap allocations, to show that iterating a loader allocates nothing.
#include "count_allocations.hpp"
#include "error_messages.hpp"

using namespace typenet;
namespace fs = std::filesystem;

namespace {

// n samples whose first feature is their index, label index % classes.
data::LabelledData<float> indexed(std::size_t n, std::size_t features = 3, std::int32_t classes = 7) {
  data::LabelledData<float> d{Matrix<float>(n, features), std::vector<std::int32_t>(n)};
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < features; ++j) d.x(i, j) = static_cast<float>(i) + 0.25f * static_cast<float>(j);
    d.labels[i] = static_cast<std::int32_t>(i) % classes;
  }
  return d;
}

std::vector<std::size_t> sample_indices(const data::LabelledData<float>& part) {
  std::vector<std::size_t> v;
  for (std::size_t i = 0; i < part.size(); ++i) v.push_back(static_cast<std::size_t>(part.x(i, 0)));
  return v;
}

}  // namespace

// ---------------------------------------------------------------- split

BOOST_AUTO_TEST_SUITE(split)

BOOST_AUTO_TEST_CASE(train_test_split_sizes_follow_scikit_learn) {
  // Expected sizes from sklearn.model_selection.train_test_split(range(n), test_size=t).
  struct Case {
    std::size_t n;
    double test_size;
    std::size_t train, test;
  };
  for (const Case c : {Case{100, 0.2, 80, 20}, Case{100, 0.33, 67, 33}, Case{10, 0.25, 7, 3}, Case{7, 0.5, 3, 4},
                       Case{3, 0.33, 2, 1}, Case{100, 0.07, 92, 8}, Case{100, 0.29, 71, 29}}) {
    const auto d = indexed(c.n);
    const auto [train, test] = data::train_test_split(d, c.test_size, 1);
    BOOST_TEST(train.size() == c.train, "n " << c.n << " test_size " << c.test_size);
    BOOST_TEST(test.size() == c.test, "n " << c.n << " test_size " << c.test_size);
    BOOST_TEST(train.x.rows() == train.size());
    BOOST_TEST(test.x.cols() == d.x.cols());
  }
}

BOOST_AUTO_TEST_CASE(random_split_sizes_follow_pytorch) {
  // floor(f * n) each, the rest one by one to parts 0, 1, ...
  auto sizes = [](std::size_t n, const std::vector<double>& f) {
    std::vector<std::size_t> s;
    for (const auto& part : data::random_split(indexed(n), f, 3)) s.push_back(part.size());
    return s;
  };
  BOOST_TEST(sizes(100, {0.6, 0.2, 0.2}) == (std::vector<std::size_t>{60, 20, 20}), boost::test_tools::per_element());
  BOOST_TEST(sizes(100, {0.8, 0.2}) == (std::vector<std::size_t>{80, 20}), boost::test_tools::per_element());
  BOOST_TEST(sizes(10, {0.75, 0.25}) == (std::vector<std::size_t>{8, 2}), boost::test_tools::per_element());
  BOOST_TEST(sizes(7, {0.6, 0.2, 0.2}) == (std::vector<std::size_t>{5, 1, 1}), boost::test_tools::per_element());
  BOOST_TEST(sizes(11, {0.25, 0.25, 0.25, 0.25}) == (std::vector<std::size_t>{3, 3, 3, 2}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(parts_are_disjoint_cover_everything_and_keep_labels_with_rows) {
  const auto d = indexed(97);
  const auto parts = data::random_split(d, {0.6, 0.2, 0.2}, 11);
  std::vector<std::size_t> all;
  for (const auto& part : parts) {
    for (std::size_t i = 0; i < part.size(); ++i) {
      const auto index = static_cast<std::size_t>(part.x(i, 0));
      BOOST_TEST(part.labels[i] == d.labels[index]);
      BOOST_TEST(part.x(i, 2) == d.x(index, 2));
    }
    const auto s = sample_indices(part);
    all.insert(all.end(), s.begin(), s.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> expected(97);
  for (std::size_t i = 0; i < 97; ++i) expected[i] = i;
  BOOST_TEST(all == expected, boost::test_tools::per_element());

  const auto [train, test] = data::train_test_split(d, 0.33, 11);
  auto a = sample_indices(train), b = sample_indices(test);
  std::set<std::size_t> seen(a.begin(), a.end());
  seen.insert(b.begin(), b.end());
  BOOST_TEST(seen.size() == 97u);
}

// The same parts as train_test_split, as views of the reordered data set.
BOOST_AUTO_TEST_CASE(in_place_split_gives_the_same_parts_without_copies) {
  for (const auto& [n, test_size] : {std::pair{std::size_t{97}, 0.2}, std::pair{std::size_t{50}, 0.5},
                                     std::pair{std::size_t{100}, 0.07}, std::pair{std::size_t{2}, 0.5}}) {
    const auto original = indexed(n, 4);
    const auto copies = data::train_test_split(original, test_size, 5);
    auto reordered = original;
    const auto views = data::train_test_split_in_place(reordered, test_size, 5);
    BOOST_TEST(views.train.x.data == reordered.x.data());  // views, not copies
    for (const auto& [view, copy] : {std::pair{views.train, &copies.train}, std::pair{views.test, &copies.test}}) {
      BOOST_TEST_REQUIRE(view.size() == copy->size());
      BOOST_TEST(view.x.rows == copy->x.rows());
      for (std::size_t i = 0; i < view.size(); ++i) {
        BOOST_TEST(view.labels[i] == copy->labels[i]);
        for (std::size_t j = 0; j < 4; ++j) BOOST_TEST(view.x(i, j) == copy->x(i, j));
      }
    }
  }
  auto d = indexed(10);
  check_contains(error_of<std::invalid_argument>([&] { data::train_test_split_in_place(d, 1.5, 1); }),
                 {"train_test_split_in_place: test_size is 1.5"});
  check_contains(error_of<std::invalid_argument>([&] { data::train_test_split_in_place(d, 0.99, 1); }),
                 {"the train part would be empty"});
}

BOOST_AUTO_TEST_CASE(a_seed_gives_the_same_parts_and_another_seed_others) {
  const auto d = indexed(50);
  const auto first = data::train_test_split(d, 0.2, 5);
  const auto again = data::train_test_split(d, 0.2, 5);
  const auto other = data::train_test_split(d, 0.2, 6);
  BOOST_TEST(sample_indices(first.test) == sample_indices(again.test), boost::test_tools::per_element());
  BOOST_TEST(sample_indices(first.train) == sample_indices(again.train), boost::test_tools::per_element());
  BOOST_TEST((sample_indices(first.test) != sample_indices(other.test)));
  // Shuffled, not the first or last rows in order.
  auto t = sample_indices(first.train);
  BOOST_TEST(!std::is_sorted(t.begin(), t.end()));
}

BOOST_AUTO_TEST_CASE(bad_fractions_and_empty_parts_are_errors) {
  const auto d = indexed(10);
  auto split_error = [&](auto f) { return error_of<std::invalid_argument>(f); };
  for (const double t : {0.0, 1.0, -0.2, 1.5, std::nan("")})
    check_contains(split_error([&] { data::train_test_split(d, t, 1); }), {"test_size", "(0, 1)"});
  check_contains(split_error([&] { data::train_test_split(indexed(1), 0.5, 1); }), {"train part would be empty"});
  check_contains(split_error([&] { data::random_split(d, {0.5, 0.4}, 1); }), {"sum to 0.9", "not 1"});
  check_contains(split_error([&] { data::random_split(d, {0.7, 0.2, 0.2}, 1); }), {"sum to 1.1"});
  check_contains(split_error([&] { data::random_split(d, {1.2, -0.2}, 1); }), {"fraction 0 is 1.2", "[0, 1]"});
  check_contains(split_error([&] { data::random_split(d, {}, 1); }), {"no fractions"});
  // floor: 2, 0, 0; the one left over goes to part 0; part 1 stays empty.
  check_contains(split_error([&] { data::random_split(indexed(3), {0.9, 0.05, 0.05}, 1); }),
                 {"part 1", "would be empty with 3 samples"});
  auto broken = indexed(4);
  broken.labels.pop_back();
  check_contains(split_error([&] { data::train_test_split(broken, 0.5, 1); }), {"4 rows of x but 3 labels"});
  check_contains(split_error([&] { data::random_split(data::LabelledData<float>{}, {1.0}, 1); }), {"empty"});
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- loader

BOOST_AUTO_TEST_SUITE(loader)

namespace {
// Every batch's sample indices (from the first feature), checking that
// labels and targets travel with their rows.
std::vector<std::vector<std::size_t>> batches_of(data::BatchLoader<float>& loader, std::size_t epoch,
                                                 const data::LabelledData<float>& d) {
  std::vector<std::vector<std::size_t>> batches;
  for (auto batch : loader.epoch(epoch)) {
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto index = static_cast<std::size_t>(batch.x(i, 0));
      rows.push_back(index);
      BOOST_TEST(batch.x(i, 1) == d.x(index, 1));
      if (!batch.labels.empty()) BOOST_TEST(batch.labels[i] == d.labels[index]);
      if (!batch.targets.empty()) BOOST_TEST(batch.targets(i, 0) == 2.0f * static_cast<float>(index));
    }
    batches.push_back(rows);
  }
  return batches;
}
std::vector<std::size_t> flatten(const std::vector<std::vector<std::size_t>>& batches) {
  std::vector<std::size_t> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  return all;
}
}  // namespace

BOOST_AUTO_TEST_CASE(every_sample_once_per_epoch_with_a_partial_last_batch) {
  const auto d = indexed(103);
  Matrix<float> targets(103, 1);
  for (std::size_t i = 0; i < 103; ++i) targets(i, 0) = 2.0f * static_cast<float>(i);
  data::BatchLoader<float> loader(d.x.view(), d.labels, targets.view(), {.batch_size = 10, .seed = 4});
  BOOST_TEST(loader.batches_per_epoch() == 11u);
  for (std::size_t epoch = 0; epoch < 3; ++epoch) {
    const auto batches = batches_of(loader, epoch, d);
    BOOST_TEST(batches.size() == 11u);
    for (std::size_t b = 0; b < 10; ++b) BOOST_TEST(batches[b].size() == 10u);
    BOOST_TEST(batches.back().size() == 3u);
    auto all = flatten(batches);
    BOOST_TEST(!std::is_sorted(all.begin(), all.end()));  // shuffled
    std::sort(all.begin(), all.end());
    BOOST_CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
    BOOST_TEST(all.size() == 103u);
    BOOST_TEST(all.back() == 102u);
  }
}

BOOST_AUTO_TEST_CASE(drop_last_skips_the_partial_batch) {
  const auto d = indexed(103);
  data::BatchLoader<float> loader(d, {.batch_size = 10, .drop_last = true, .seed = 4});
  BOOST_TEST(loader.batches_per_epoch() == 10u);
  const auto batches = batches_of(loader, 0, d);
  BOOST_TEST(batches.size() == 10u);
  for (const auto& b : batches) BOOST_TEST(b.size() == 10u);
  auto all = flatten(batches);
  std::sort(all.begin(), all.end());
  BOOST_CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  BOOST_TEST(all.size() == 100u);
}

BOOST_AUTO_TEST_CASE(any_batch_size) {
  const auto d = indexed(5);
  for (const std::size_t size : {1u, 2u, 4u, 5u, 8u}) {
    for (const bool shuffle : {true, false}) {
      data::BatchLoader<float> loader(d, {.batch_size = size, .shuffle = shuffle});
      const auto batches = batches_of(loader, 0, d);
      BOOST_TEST(batches.size() == (5 + size - 1) / size);
      auto all = flatten(batches);
      std::sort(all.begin(), all.end());
      BOOST_TEST(all == (std::vector<std::size_t>{0, 1, 2, 3, 4}), boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(the_order_is_a_function_of_seed_and_epoch) {
  const auto d = indexed(64);
  data::BatchLoader<float> a(d, {.batch_size = 8, .seed = 21});
  data::BatchLoader<float> b(d, {.batch_size = 8, .seed = 21});
  data::BatchLoader<float> c(d, {.batch_size = 8, .seed = 22});
  const auto a0 = flatten(batches_of(a, 0, d)), a1 = flatten(batches_of(a, 1, d)), a2 = flatten(batches_of(a, 2, d));
  BOOST_TEST((a0 != a1));
  BOOST_TEST((a1 != a2));
  // Epoch 2 of a fresh loader, without epochs 0 and 1 before it.
  BOOST_TEST(flatten(batches_of(b, 2, d)) == a2, boost::test_tools::per_element());
  BOOST_TEST(flatten(batches_of(b, 0, d)) == a0, boost::test_tools::per_element());
  BOOST_TEST(flatten(batches_of(a, 1, d)) == a1, boost::test_tools::per_element());  // replaying an epoch
  BOOST_TEST((flatten(batches_of(c, 0, d)) != a0));
}

BOOST_AUTO_TEST_CASE(unshuffled_batches_are_views_into_the_data) {
  auto d = indexed(23, 4);
  // A view of the first 3 of 4 columns: rows 4 apart, not 3.
  const MatrixView<const float> x(d.x.data(), 23, 3, 4);
  data::BatchLoader<float> loader(x, std::span<const std::int32_t>(d.labels), {.batch_size = 5, .shuffle = false});
  std::size_t b = 0;
  for (auto batch : loader.epoch(0)) {
    BOOST_TEST(batch.x.data == d.x.row(5 * b));
    BOOST_TEST(batch.x.stride == 4u);
    BOOST_TEST(batch.x.cols == 3u);
    BOOST_TEST(batch.labels.data() == d.labels.data() + 5 * b);
    BOOST_TEST(batch.first_sample == 5 * b);
    BOOST_TEST(batch.samples.empty());
    BOOST_TEST(batch.index == b);
    BOOST_TEST(batch.size() == (b < 4 ? 5u : 3u));
    ++b;
  }
  BOOST_TEST(b == 5u);
}

BOOST_AUTO_TEST_CASE(shuffled_batches_gather_into_one_reused_buffer_without_allocating) {
  const auto d = indexed(1000, 7);
  Matrix<float> targets(1000, 2);
  for (std::size_t i = 0; i < 1000; ++i) targets(i, 0) = 2.0f * static_cast<float>(i);
  data::BatchLoader<float> loader(d.x.view(), d.labels, targets.view(), {.batch_size = 64, .seed = 9});
  const float* buffer = nullptr;
  double checksum = 0;
  const std::size_t before = allocations.load();
  for (std::size_t epoch = 0; epoch < 4; ++epoch)
    for (auto batch : loader.epoch(epoch)) {
      if (!buffer) buffer = batch.x.data;
      BOOST_CHECK(batch.x.data == buffer);
      BOOST_CHECK(batch.x.stride == 7u);
      checksum += batch.x(batch.size() - 1, 0) + batch.targets(0, 0) + batch.labels[0];
    }
  BOOST_TEST(allocations.load() - before == 0u);
  BOOST_TEST(checksum > 0);
  // The gathered rows are the rows the batch says it holds.
  for (auto batch : loader.epoch(7))
    for (std::size_t i = 0; i < batch.size(); ++i) BOOST_TEST(batch.x(i, 6) == d.x(batch.samples[i], 6));
}

BOOST_AUTO_TEST_CASE(regression_targets_without_labels) {
  const auto d = indexed(30);
  Matrix<float> targets(30, 1);
  for (std::size_t i = 0; i < 30; ++i) targets(i, 0) = 2.0f * static_cast<float>(i);
  data::BatchLoader loader(d.x.view(), targets.view(), {.batch_size = 8, .seed = 1});  // deduces float
  const auto batches = batches_of(loader, 0, d);
  BOOST_TEST(flatten(batches).size() == 30u);
  for (auto batch : loader.epoch(1)) {
    BOOST_TEST(batch.labels.empty());
    BOOST_TEST(batch.targets.rows == batch.size());
  }
}

BOOST_AUTO_TEST_CASE(misuse_is_an_error) {
  const auto d = indexed(10);
  auto loader_error = [](auto f) { return error_of<std::invalid_argument>(f); };
  check_contains(loader_error([&] { data::BatchLoader<float>(d, {.batch_size = 0}); }), {"batch_size must be >= 1"});
  check_contains(loader_error([&] {
                   data::BatchLoader<float>(d.x.view(), std::span<const std::int32_t>(d.labels).first(9), {});
                 }),
                 {"9 labels for 10 samples"});
  check_contains(loader_error([&] { data::BatchLoader<float>(d, {.batch_size = 11, .drop_last = true}); }),
                 {"no batch at all"});
  check_contains(loader_error([&] {
                   data::BatchLoader<float>(d.x.view(), std::span<const std::int32_t>(), MatrixView<const float>(), {});
                 }),
                 {"give labels, a target matrix, or both"});
  const data::LabelledData<float> empty;
  check_contains(loader_error([&] { data::BatchLoader<float>(empty, {}); }), {"empty"});

  // An iterator of an earlier epoch after a later epoch() call.
  data::BatchLoader<float> loader(d, {.batch_size = 3});
  auto first = loader.epoch(0);
  auto it = first.begin();
  loader.epoch(1);
  check_contains(error_of<std::logic_error>([&] { (void)*it; }), {"one epoch at a time"});
}

// Data parallelism: N sharded loaders together see what one loader sees.
BOOST_AUTO_TEST_CASE(shards_of_each_batch_together_are_the_unsharded_batch) {
  const auto d = indexed(103);
  for (const bool shuffle : {true, false}) {
    data::BatchLoader<float> whole(d, {.batch_size = 12, .shuffle = shuffle, .seed = 5});
    for (const std::size_t shards : {1u, 2u, 3u}) {
      std::vector<std::vector<std::vector<std::size_t>>> parts;  // [shard][batch] -> samples
      for (std::size_t r = 0; r < shards; ++r) {
        data::BatchLoader<float> part(d, {.batch_size = 12, .shuffle = shuffle, .seed = 5, .shard = r,
                                          .shards = shards});
        BOOST_TEST(part.batches_per_epoch() == whole.batches_per_epoch());
        parts.push_back(batches_of(part, 2, d));
        for (auto batch : part.epoch(2)) BOOST_TEST(batch.global_size == (batch.index < 8 ? 12u : 7u));
      }
      const auto expected = batches_of(whole, 2, d);
      for (std::size_t b = 0; b < expected.size(); ++b) {
        std::vector<std::size_t> joined;
        for (std::size_t r = 0; r < shards; ++r) {
          // As even as can be: shard sizes differ by at most one row.
          BOOST_TEST(parts[r][b].size() * shards + shards > expected[b].size());
          BOOST_TEST(parts[r][b].size() * shards < expected[b].size() + shards);
          joined.insert(joined.end(), parts[r][b].begin(), parts[r][b].end());
        }
        BOOST_TEST(joined == expected[b], boost::test_tools::per_element());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_shard_gathers_only_its_own_rows) {
  const auto d = indexed(1000, 7);
  data::BatchLoader<float> loader(d, {.batch_size = 64, .seed = 9, .shard = 1, .shards = 4});
  const std::size_t before = allocations.load();
  for (auto batch : loader.epoch(0)) {
    BOOST_CHECK(batch.size() == batch.global_size / 4);
    BOOST_CHECK(batch.samples.size() == batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) BOOST_CHECK(batch.x(i, 6) == d.x(batch.samples[i], 6));
  }
  BOOST_TEST(allocations.load() - before == 0u);
}

BOOST_AUTO_TEST_CASE(shards_that_would_be_empty_are_an_error) {
  const auto d = indexed(10);
  auto loader_error = [](auto f) { return error_of<std::invalid_argument>(f); };
  check_contains(loader_error([&] { data::BatchLoader<float>(d, {.batch_size = 4, .shard = 2, .shards = 2}); }),
                 {"shard 2 of 2 does not exist"});
  check_contains(loader_error([&] { data::BatchLoader<float>(d, {.batch_size = 2, .shards = 3}); }),
                 {"a batch of 2 samples cannot be split into 3 non-empty shards"});
  // 10 = 3 x 3 + 1: the last batch has one sample for two shards.
  check_contains(loader_error([&] { data::BatchLoader<float>(d, {.batch_size = 3, .shards = 2}); }),
                 {"1 left over after full batches of 3, fewer than the 2 shards", "set drop_last"});
  data::BatchLoader<float> dropped(d, {.batch_size = 3, .drop_last = true, .shards = 2});
  BOOST_TEST(dropped.batches_per_epoch() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- IDX

BOOST_AUTO_TEST_SUITE(idx)

namespace {

using Bytes = std::vector<std::uint8_t>;

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("typenet_test_data_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const Bytes& bytes) const {
    std::ofstream(path / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path / name;
  }
};

void put32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes idx_header(std::uint32_t magic, std::initializer_list<std::uint32_t> dims) {
  Bytes b;
  put32(b, magic);
  for (const std::uint32_t d : dims) put32(b, d);
  return b;
}

// 3 images of 2 x 3 pixels: image k has pixels 50 k + p.
Bytes small_images() {
  Bytes b = idx_header(0x803, {3, 2, 3});
  for (int k = 0; k < 3; ++k)
    for (int p = 0; p < 6; ++p) b.push_back(static_cast<std::uint8_t>(50 * k + p));
  b[b.size() - 1] = 255;
  return b;
}

Bytes small_labels(std::initializer_list<std::uint8_t> labels = {5, 0, 9}) {
  Bytes b = idx_header(0x801, {static_cast<std::uint32_t>(labels.size())});
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

// One gzip member, as gzip(1) writes it.
Bytes gzip(const Bytes& in) {
  z_stream zs{};
  BOOST_REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = const_cast<Bytes::value_type*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  BOOST_REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_plain_and_gzip) {
  TempDir dir;
  const Bytes images = small_images();
  for (const auto& [name, bytes] : {std::pair{std::string("images"), images},
                                    std::pair{std::string("images.gz"), gzip(images)},
                                    // two gzip members, as `cat a.gz b.gz` makes
                                    std::pair{std::string("two-members.gz"),
                                              concat(gzip(Bytes(images.begin(), images.begin() + 10)),
                                                     gzip(Bytes(images.begin() + 10, images.end())))}}) {
    const auto read = data::read_idx_images(dir.write(name, bytes));
    BOOST_TEST(read.pixels.rows() == 3u, name);
    BOOST_TEST(read.pixels.cols() == 6u, name);
    BOOST_TEST(read.image_rows == 2u);
    BOOST_TEST(read.image_cols == 3u);
    BOOST_TEST(read.statistics.mean == 0.0f);
    BOOST_TEST(read.statistics.stddev == 1.0f);
    for (std::size_t k = 0; k < 3; ++k)
      for (std::size_t p = 0; p < 6; ++p)
        BOOST_TEST(read.pixels(k, p) == static_cast<float>(images[16 + 6 * k + p]) / 255.0f, name);
    BOOST_TEST(read.pixels(2, 5) == 1.0f);
    BOOST_TEST(read.pixels(0, 0) == 0.0f);
    // Read in place (plain) or from verified bytes (gzip): the same floats
    // for every scaling.
    for (const auto scaling : {data::PixelScaling::standardise({0.5f, 0.25f}),
                               data::PixelScaling::standardise_from_data()}) {
      const auto scaled = data::read_idx_images(dir.path / name, scaling);
      const auto reference = data::read_idx_images(dir.path / "images", scaling);
      for (std::size_t i = 0; i < 18; ++i) BOOST_TEST(scaled.pixels.data()[i] == reference.pixels.data()[i], name);
    }
  }
  for (const auto& path : {dir.write("labels", small_labels()), dir.write("labels.gz", gzip(small_labels()))})
    BOOST_TEST(data::read_idx_labels(path) == (std::vector<std::int32_t>{5, 0, 9}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(standardisation_given_or_from_the_data) {
  TempDir dir;
  const auto file = dir.write("images", small_images());
  const auto unit = data::read_idx_images(file);
  const auto given = data::read_idx_images(file, data::PixelScaling::standardise({0.5f, 0.25f}));
  BOOST_TEST(given.statistics.mean == 0.5f);
  for (std::size_t i = 0; i < 18; ++i) BOOST_TEST(given.pixels.data()[i] == (unit.pixels.data()[i] - 0.5f) / 0.25f);

  const auto own = data::read_idx_images(file, data::PixelScaling::standardise_from_data());
  const auto stats = data::pixel_statistics(unit.pixels.view());
  BOOST_TEST(own.statistics.mean == stats.mean);
  BOOST_TEST(own.statistics.stddev == stats.stddev);
  for (std::size_t i = 0; i < 18; ++i)
    BOOST_TEST(own.pixels.data()[i] == (unit.pixels.data()[i] - stats.mean) / stats.stddev);
  const auto after = data::pixel_statistics(own.pixels.view());
  BOOST_TEST(after.mean == 0.0f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(after.stddev == 1.0f, boost::test_tools::tolerance(1e-5f));

  check_contains(error_of<std::invalid_argument>(
                     [&] { data::read_idx_images(file, data::PixelScaling::standardise({0.1f, 0.0f})); }),
                 {"stddev", "> 0"});
  Bytes flat = idx_header(0x803, {2, 1, 2});
  flat.insert(flat.end(), {7, 7, 7, 7});
  check_contains(error_of<data::IdxError>([&] {
                   data::read_idx_images(dir.write("flat", flat), data::PixelScaling::standardise_from_data());
                 }),
                 {"flat", "same value", "standard deviation 0"});
}

BOOST_AUTO_TEST_CASE(load_mnist_finds_plain_or_gz_and_checks_the_pair) {
  TempDir dir;
  dir.write("t10k-images-idx3-ubyte.gz", gzip(small_images()));
  dir.write("t10k-labels-idx1-ubyte", small_labels());
  const auto set = data::load_mnist(dir.path, "t10k");
  BOOST_TEST(set.data.size() == 3u);
  BOOST_TEST(set.data.x.cols() == 6u);
  BOOST_TEST(set.data.labels[0] == 5);
  BOOST_TEST(set.images_file.filename() == "t10k-images-idx3-ubyte.gz");
  BOOST_TEST(set.labels_file.filename() == "t10k-labels-idx1-ubyte");

  check_contains(error_of<std::invalid_argument>([&] { data::load_mnist(dir.path, "test"); }),
                 {"\"test\"", "\"train\" and \"t10k\""});
  check_contains(error_of<data::IdxError>([&] { data::load_mnist(dir.path, "train"); }),
                 {"neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz", dir.path.string(),
                  "fetch_mnist.py"});

  dir.write("train-images-idx3-ubyte", small_images());
  dir.write("train-labels-idx1-ubyte", small_labels({1, 2}));
  check_contains(error_of<data::IdxError>([&] { data::load_mnist(dir.path, "train"); }),
                 {"train-images-idx3-ubyte has 3 images but", "train-labels-idx1-ubyte has 2 labels"});
  dir.write("train-labels-idx1-ubyte", small_labels({1, 12, 3}));
  check_contains(error_of<data::IdxError>([&] { data::load_mnist(dir.path, "train"); }),
                 {"train-labels-idx1-ubyte", "label 1 is 12, not a digit"});
}

// Every failure the reader must report, each with the file's name.
BOOST_AUTO_TEST_CASE(every_bad_input_has_a_message_naming_the_file_and_the_problem) {
  TempDir dir;
  auto images_error = [&](const std::string& name, const Bytes& bytes) {
    const fs::path file = dir.write(name, bytes);
    const std::string message = error_of<data::IdxError>([&] { data::read_idx_images(file); });
    check_contains(message, {file.string()});
    return message;
  };
  const Bytes good = small_images();

  check_contains(images_error("empty", {}), {"is empty (0 bytes)"});
  check_contains(images_error("empty.gz", gzip({})), {"is empty", "0 bytes"});
  check_contains(images_error("labels-as-images", small_labels()),
                 {"wrong magic number: found 0x00000801 (IDX, unsigned bytes, 1 dimension)",
                  "expected 0x00000803 (IDX, unsigned bytes, 3 dimensions)", "labels file"});
  check_contains(images_error("page.html", Bytes{'<', '!', 'D', 'O', 'C', 'T', 'Y', 'P', 'E'}),
                 {"found 0x3C21444F (not an IDX file)"});
  check_contains(images_error("floats", idx_header(0xD03, {1, 1, 1})), {"found 0x00000D03 (IDX, 32-bit floats"});
  check_contains(images_error("double.gz", gzip(gzip(good))), {"gzip file compressed twice"});
  check_contains(images_error("short-magic", Bytes{0, 0}), {"truncated", "at least 4 bytes", "has 2"});
  check_contains(images_error("short-header", Bytes(good.begin(), good.begin() + 9)),
                 {"truncated: its header needs 16 bytes but the file has 9"});

  check_contains(images_error("overflow", idx_header(0x803, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF})),
                 {"dimensions 4294967295 x 4294967295 x 4294967295 overflow", "corrupt"});
  check_contains(images_error("overflow-floats", idx_header(0x803, {0xFFFFFFFF, 0xFFFFFFFF, 0x10000000})),
                 {"overflow"});
  check_contains(images_error("zero", idx_header(0x803, {0, 28, 28})), {"include a zero", "0 images of 28 x 28"});
  // Large but representable: refused from the file's size, before allocating.
  check_contains(images_error("huge", idx_header(0x803, {0x7FFFFFFF, 1000, 1000})),
                 {"truncated: its header promises 2147483647 images of 1000 x 1000 pixels, 2147483647000016 bytes "
                  "with the header, but the file has 16"});
  check_contains(images_error("huge.gz", gzip(concat(idx_header(0x803, {0x7FFFFFFF, 1000, 1000}), Bytes(100)))),
                 {"truncated", "a gzip file of", "decompresses to at most"});

  check_contains(images_error("truncated", Bytes(good.begin(), good.end() - 5)),
                 {"truncated: its header promises 3 images of 2 x 3 pixels, 34 bytes with the header, but the file "
                  "has 29"});
  check_contains(images_error("truncated.gz", gzip(Bytes(good.begin(), good.end() - 5))),
                 {"truncated: its header promises 3 images of 2 x 3 pixels, 34 bytes with the header, but the "
                  "decompressed data has 29"});
  check_contains(images_error("trailing", concat(good, {1, 2, 3})),
                 {"has 3 bytes of trailing data after the 34 bytes its header describes"});
  check_contains(images_error("trailing.gz", gzip(concat(good, {1, 2, 3}))),
                 {"has 3 bytes of trailing data (decompressed) after the 34 bytes"});

  Bytes bad_crc = gzip(good);
  bad_crc[bad_crc.size() - 6] ^= 0x5A;  // inside the CRC-32 trailer
  check_contains(images_error("bad-crc.gz", bad_crc), {"corrupt gzip stream (incorrect data check)"});
  Bytes bad_method = gzip(good);
  bad_method[2] = 7;  // compression method: only 8 (deflate) exists
  check_contains(images_error("bad-method.gz", bad_method), {"corrupt gzip stream (unknown compression method)"});
  const Bytes compressed = gzip(good);
  check_contains(images_error("cut.gz", Bytes(compressed.begin(), compressed.end() - 4)),
                 {"corrupt gzip stream: it ends before its end marker (the .gz file is truncated)"});
  check_contains(images_error("garbage-after.gz", concat(compressed, {'j', 'u', 'n', 'k'})),
                 {"the data after gzip member 1 is not gzip"});

  check_contains(error_of<data::IdxError>([&] { data::read_idx_images(dir.path / "no-such-file"); }),
                 {(dir.path / "no-such-file").string(), "no such file"});
  check_contains(error_of<data::IdxError>([&] { data::read_idx_images(dir.path); }), {dir.path.string(), "is a directory"});
  check_contains(error_of<data::IdxError>([&] { data::read_idx_labels(dir.write("images-as-labels", good)); }),
                 {"found 0x00000803", "expected 0x00000801", "images file"});
  check_contains(error_of<data::IdxError>([&] { data::read_idx_labels(dir.write("labels-trailing", concat(small_labels(), {0}))); }),
                 {"has 1 bytes of trailing data after the 11 bytes its header describes (3 labels)"});

  // The image width against the network's input.
  const auto images = data::read_idx_images(dir.write("good", good));
  const std::string expected = "the images in " + (dir.path / "good").string() +
                               " have 6 pixels each but the network's Input<784> expects 784";
  check_contains(error_of<data::IdxError>([&] { data::check_width<784>(images); }), {expected});
  check_contains(error_of<data::IdxError>([&] { data::check_width<784>(images.pixels.view(), images.file); }), {expected});
  BOOST_CHECK_NO_THROW(data::check_width<6>(images));
}

// No input crashes the reader or makes it throw anything but IdxError:
// every prefix of a valid file, and random corruptions of it.
BOOST_AUTO_TEST_CASE(no_input_crashes_the_reader) {
  TempDir dir;
  const Bytes plain = small_images();
  const Bytes compressed = gzip(plain);
  std::size_t failures = 0, cases = 0;
  auto attempt = [&](const Bytes& bytes) {
    const fs::path file = dir.write("fuzz", bytes);
    ++cases;
    try {
      const auto read = data::read_idx_images(file);
      BOOST_CHECK(read.pixels.rows() * read.pixels.cols() + 16 <= std::max(bytes.size(), std::size_t{1} << 20));
    } catch (const data::IdxError&) {
      ++failures;
    }
  };
  for (const Bytes* source : {&plain, &compressed})
    for (std::size_t n = 0; n < source->size(); ++n) attempt(Bytes(source->begin(), source->begin() + n));
  Rng rng(17);
  for (int k = 0; k < 3000; ++k) {
    Bytes b = k % 2 ? compressed : plain;
    const std::size_t flips = 1 + rng.below(3);
    for (std::size_t f = 0; f < flips; ++f)
      b[rng.below(k % 4 < 2 ? std::min<std::size_t>(b.size(), 16) : b.size())] ^=
          static_cast<std::uint8_t>(1 + rng.below(255));
    attempt(b);
  }
  BOOST_TEST_MESSAGE("fuzz: " << failures << " of " << cases << " inputs rejected with an IdxError");
  BOOST_TEST(failures >= plain.size() + compressed.size());
}

// The real MNIST, when examples/fetch_mnist.py has put it in data/mnist
// (CI has no MNIST: the case is then skipped, saying why).
fs::path mnist_directory() {
  if (const char* dir = std::getenv("TYPENET_MNIST_DIR")) return dir;
  return fs::path(__FILE__).parent_path().parent_path() / "data" / "mnist";
}

boost::test_tools::assertion_result mnist_present(boost::unit_test::test_unit_id) {
  const fs::path dir = mnist_directory();
  boost::test_tools::assertion_result present(fs::exists(dir / "train-images-idx3-ubyte") ||
                                              fs::exists(dir / "train-images-idx3-ubyte.gz"));
  present.message() << "MNIST is not in " << dir.string()
                    << " (python3 examples/fetch_mnist.py puts it there; TYPENET_MNIST_DIR overrides)";
  return present;
}

BOOST_AUTO_TEST_CASE(real_mnist, *boost::unit_test::precondition(mnist_present)) {
  const auto train = data::load_mnist(mnist_directory(), "train");
  const auto test = data::load_mnist(mnist_directory(), "t10k");
  BOOST_TEST(train.data.size() == 60000u);
  BOOST_TEST(test.data.size() == 10000u);
  BOOST_TEST(train.image_rows == 28u);
  BOOST_TEST(train.image_cols == 28u);
  BOOST_TEST(train.data.x.cols() == 784u);
  BOOST_TEST(train.data.labels[0] == 5);
  BOOST_TEST(test.data.labels[0] == 7);
  BOOST_CHECK_NO_THROW(data::check_width<784>(train));
  const auto stats = data::pixel_statistics(train.data.x.view());
  BOOST_TEST(stats.mean == 0.1307f, boost::test_tools::tolerance(1e-3f));  // the usual normalisation constants
  BOOST_TEST(stats.stddev == 0.3081f, boost::test_tools::tolerance(1e-3f));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- report

BOOST_AUTO_TEST_SUITE(report)

const std::vector<std::int32_t> y_true{0, 1, 2, 2, 2, 0, 1, 3, 3, 0, 1, 2};
const std::vector<std::int32_t> y_pred{0, 2, 2, 2, 1, 0, 1, 3, 0, 0, 4, 2};

BOOST_AUTO_TEST_CASE(confusion_matrix_as_scikit_learn) {
  const auto cm = confusion_matrix(y_true, y_pred);
  BOOST_TEST(cm.labels == (std::vector<std::int32_t>{0, 1, 2, 3, 4}), boost::test_tools::per_element());
  // sklearn.metrics.confusion_matrix(y_true, y_pred)
  const std::vector<std::size_t> sklearn{3, 0, 0, 0, 0,  //
                                         0, 1, 1, 0, 1,  //
                                         0, 1, 3, 0, 0,  //
                                         1, 0, 0, 1, 0,  //
                                         0, 0, 0, 0, 0};
  BOOST_TEST(cm.counts == sklearn, boost::test_tools::per_element());
  BOOST_TEST(cm(3, 0) == 1u);
  BOOST_TEST(cm.samples() == 12u);

  // Explicit classes, in the given order, including one that never occurs.
  const std::vector<std::int32_t> labels{4, 3, 2, 1, 0, 9};
  const auto ordered = confusion_matrix(y_true, y_pred, labels);
  BOOST_TEST(ordered(4, 4) == 3u);  // true 0, predicted 0
  BOOST_TEST(ordered(1, 4) == 1u);  // true 3, predicted 0
  BOOST_TEST(ordered(5, 5) == 0u);
  check_contains(error_of<std::invalid_argument>([&] {
                   const std::vector<std::int32_t> few{0, 1, 2, 3};
                   confusion_matrix(y_true, y_pred, few);
                 }),
                 {"predicted label of sample 10 is 4", "not in the list"});
}

BOOST_AUTO_TEST_CASE(report_is_scikit_learns_text) {
  // /usr/bin/python3 -c "from sklearn.metrics import classification_report; print(classification_report(
  //   [0,1,2,2,2,0,1,3,3,0,1,2], [0,2,2,2,1,0,1,3,0,0,4,2]), end='')"      (scikit-learn 1.2.1, Debian 12)
  const std::string sklearn = R"(              precision    recall  f1-score   support

           0       0.75      1.00      0.86         3
           1       0.50      0.33      0.40         3
           2       0.75      0.75      0.75         4
           3       1.00      0.50      0.67         2
           4       0.00      0.00      0.00         0

    accuracy                           0.67        12
   macro avg       0.60      0.52      0.53        12
weighted avg       0.73      0.67      0.68        12
)";
  BOOST_TEST(classification_report(y_true, y_pred) == sklearn);
}

BOOST_AUTO_TEST_CASE(report_with_names_and_digits_is_scikit_learns_text) {
  // /usr/bin/python3 -c "from sklearn.metrics import classification_report; print(classification_report(
  //   [-1,7,7,7,-1,3,3], [7,7,-1,7,-1,3,7], target_names=['négatif', 'a rather long class name', 'trois'],
  //   digits=3), end='')"                                                   (scikit-learn 1.2.1, Debian 12)
  const std::string sklearn = R"(                          precision    recall  f1-score   support

                 négatif      0.500     0.500     0.500         2
a rather long class name      1.000     0.500     0.667         2
                   trois      0.500     0.667     0.571         3

                accuracy                          0.571         7
               macro avg      0.667     0.556     0.579         7
            weighted avg      0.643     0.571     0.578         7
)";
  const std::vector<std::int32_t> t{-1, 7, 7, 7, -1, 3, 3}, p{7, 7, -1, 7, -1, 3, 7};
  BOOST_TEST(classification_report(t, p, 3, {"négatif", "a rather long class name", "trois"}) == sklearn);
}

BOOST_AUTO_TEST_CASE(confusion_matrix_table) {
  const std::string expected = "true\\pred  0  1  2  3  4\n"
                               "        0  3  0  0  0  0\n"
                               "        1  0  1  1  0  1\n"
                               "        2  0  1  3  0  0\n"
                               "        3  1  0  0  1  0\n"
                               "        4  0  0  0  0  0\n";
  BOOST_TEST(format_confusion_matrix(confusion_matrix(y_true, y_pred)) == expected);
  const std::vector<std::int32_t> t{-1, 7, 7, 7, -1, 3, 3}, p{7, 7, -1, 7, -1, 3, 7};
  const std::string named = "true\\pred    neg  seven  three\n"
                            "      neg      1      0      1\n"
                            "    seven      0      1      1\n"
                            "    three      1      0      2\n";
  BOOST_TEST(format_confusion_matrix(confusion_matrix(t, p), {"neg", "seven", "three"}) == named);
}

BOOST_AUTO_TEST_CASE(report_misuse_is_an_error) {
  const std::vector<std::int32_t> none;
  check_contains(error_of<std::invalid_argument>([&] { classification_report(y_true, none); }),
                 {"12 true labels but 0 predicted labels"});
  check_contains(error_of<std::invalid_argument>([&] { classification_report(none, none); }), {"no samples"});
  check_contains(error_of<std::invalid_argument>([&] { classification_report(y_true, y_pred, 2, {"a", "b"}); }),
                 {"2 target names for 5 classes"});
  Matrix<float> outputs(2, 3);
  outputs(0, 2) = 1.0f;
  outputs(1, 1) = 1.0f;
  BOOST_TEST(predicted_classes(outputs.view()) == (std::vector<std::int32_t>{2, 1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
