// Checkpoints: CRC-32C against published values; save and load round trips
// after which training continues bit for bit; every kind of damaged or
// mismatched file refused with a message naming it, leaving the model and
// optimizer untouched; failed saves leaving the previous file; and a saver
// killed at random moments never leaving a file that does not load.
#define BOOST_TEST_MODULE checkpoint
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "typenet/io/checkpoint.hpp"
#include "typenet/io/crc32c.hpp"
#include "typenet/typenet.hpp"

using namespace typenet;
namespace fs = std::filesystem;

namespace {

// ------------------------------------------------------------ helpers
using Bytes = std::vector<unsigned char>;

std::span<const unsigned char> as_bytes_of(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void write_file(const fs::path& p, std::span<const unsigned char> bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
void append(Bytes& out, std::span<const T> values) {
  const auto* p = reinterpret_cast<const unsigned char*>(values.data());
  out.insert(out.end(), p, p + values.size_bytes());
}
template <class V>
void append_value(Bytes& out, const V& v) {
  append(out, std::span<const V>(&v, 1));
}

// A fresh directory under the system's temporary directory, removed at the end.
struct ScratchDirectory {
  fs::path path;
  ScratchDirectory() {
    std::string pattern = (fs::temp_directory_path() / "typenet-checkpoint-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

// Rewrites a u32 or u64 field and recomputes both checksums: a file as a
// (future or faulty) writer would produce it, not a corrupted one.
void patch_and_reseal(Bytes& file, std::size_t offset, std::uint64_t value, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) file[offset + i] = static_cast<unsigned char>(value >> (8 * i));
  const std::uint32_t header_crc = crc32c(std::span<const unsigned char>(file.data(), 24));
  for (std::size_t i = 0; i < 4; ++i) file[24 + i] = static_cast<unsigned char>(header_crc >> (8 * i));
  const std::uint32_t crc = crc32c(std::span<const unsigned char>(file.data(), file.size() - 4));
  for (std::size_t i = 0; i < 4; ++i) file[file.size() - 4 + i] = static_cast<unsigned char>(crc >> (8 * i));
}

// Everything a load may change, as bytes: two snapshots are equal exactly
// when nothing changed.
// (every optimizer alike, from its declaration: buffers, counters, flags, options).
template <class O>
void append_optimizer_state(Bytes& out, const O& optimizer) {
  using D = typename O::declaration;
  for (const auto& b : optimizer.state().buffers) {
    append_value(out, b.size());
    append(out, b.span());
  }
  for (const std::size_t c : optimizer.state().counters) append_value(out, c);
  for (const bool f : optimizer.state().flags) append_value(out, f);
  for (const auto& n : D::numbers) append_value(out, optimizer.options.*n.field);
  for (const auto& f : D::flags) append_value(out, optimizer.options.*f.field);
}
template <class M>
Bytes model_snapshot(const M& model) {
  Bytes out;
  append(out, model.parameters());
  append(out, model.state());
  append_value(out, model.dropout_step());
  return out;
}
template <class M, class O>
Bytes snapshot(const M& model, const O& optimizer) {
  Bytes out = model_snapshot(model);
  append_optimizer_state(out, optimizer);
  return out;
}

// BatchNorm (running statistics in the state buffer) and Dropout (the model
// step decides the masks): everything a checkpoint must carry.
using Net = Sequential<Input<6>, Linear<24>, BatchNorm<>, Tanh, Dropout<0.25f>, Linear<12>, BatchNorm<>, ReLU,
                       Linear<3>, Softmax>;
using OtherNet = Sequential<Input<6>, Linear<20>, BatchNorm<>, Tanh, Dropout<0.25f>, Linear<12>, BatchNorm<>, ReLU,
                            Linear<3>, Softmax>;

// The dropout seed is not in the checkpoint (Model does not expose it): both
// sides of a comparison set it, as a training program would.
constexpr std::uint64_t dropout_seed = 77;

template <class T>
struct Batch {
  Matrix<T> x{32, 6};
  std::vector<std::int32_t> labels = std::vector<std::int32_t>(32);
  Batch() {
    Rng rng(3);
    for (std::size_t i = 0; i < 32; ++i) {
      labels[i] = static_cast<std::int32_t>(rng.below(3));
      for (std::size_t j = 0; j < 6; ++j) x(i, j) = static_cast<T>(rng.normal() + 0.5 * labels[i]);
    }
  }
};

template <class M, class O, class T>
void train(M& model, O& optimizer, const Batch<T>& batch, int steps) {
  for (int s = 0; s < steps; ++s)
    train_step(model, batch.x.view(), std::span<const std::int32_t>(batch.labels), SoftmaxCrossEntropy{}, optimizer);
}

template <class T>
Model<Net, T> make_model(std::uint64_t seed) {
  Model<Net, T> m(Init::kaiming_uniform, seed);
  m.set_dropout_seed(dropout_seed);
  return m;
}

// A model trained for `steps` steps on the test batch with `optimizer`.
template <class T, class O>
Model<Net, T> trained(O& optimizer, int steps, std::uint64_t seed = 1) {
  auto model = make_model<T>(seed);
  train(model, optimizer, Batch<T>{}, steps);
  return model;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "(no error)";
}

// The optimizer configurations of the round-trip tests, non-default so that
// restoring the hyper-parameters shows.
template <class T, class O>
struct Case {
  using scalar = T;
  using optimizer = O;
};
template <class T>
SGD<T> configured(std::type_identity<SGD<T>>) {
  return SGD<T>({.lr = 0.05, .momentum = 0.9, .dampening = 0.0, .weight_decay = 1e-3, .nesterov = true});
}
template <class T, bool D>
BasicAdam<T, D> configured(std::type_identity<BasicAdam<T, D>>) {
  return BasicAdam<T, D>({.lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-7, .weight_decay = 0.01});
}

template <class T>
RMSprop<T> configured(std::type_identity<RMSprop<T>>) {
  return RMSprop<T>({.lr = 0.005, .alpha = 0.9, .eps = 1e-6, .weight_decay = 1e-3, .momentum = 0.5, .centered = true});
}
template <class T>
Adagrad<T> configured(std::type_identity<Adagrad<T>>) {
  return Adagrad<T>(
      {.lr = 0.05, .lr_decay = 0.01, .weight_decay = 1e-3, .initial_accumulator_value = 0.1, .eps = 1e-8});
}

using RoundTripCases =
    boost::mpl::list<Case<float, SGD<float>>, Case<double, SGD<double>>, Case<float, Adam<float>>,
                     Case<double, Adam<double>>, Case<float, AdamW<float>>, Case<double, AdamW<double>>,
                     Case<float, RMSprop<float>>, Case<double, RMSprop<double>>, Case<float, Adagrad<float>>,
                     Case<double, Adagrad<double>>>;

}  // namespace

// ============================================================ CRC-32C
BOOST_AUTO_TEST_CASE(crc32c_matches_the_check_value_and_rfc_3720) {
  BOOST_TEST(crc32c(std::string_view("123456789")) == 0xE3069283u);
  BOOST_TEST(crc32c(std::string_view("")) == 0u);
  // RFC 3720 (iSCSI), appendix B.4.
  Bytes zeros(32, 0x00), ones(32, 0xFF), up(32), down(32);
  for (unsigned i = 0; i < 32; ++i) {
    up[i] = static_cast<unsigned char>(i);
    down[i] = static_cast<unsigned char>(31 - i);
  }
  const Bytes read_pdu{0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                       0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
                       0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  BOOST_TEST(crc32c(zeros) == 0x8A9136AAu);
  BOOST_TEST(crc32c(ones) == 0x62A8AB43u);
  BOOST_TEST(crc32c(up) == 0x46DD794Eu);
  BOOST_TEST(crc32c(down) == 0x113FDB5Cu);
  BOOST_TEST(crc32c(read_pdu) == 0xD9963A56u);
  BOOST_TEST(crc32c_extend_portable(0, as_bytes_of("123456789")) == 0xE3069283u);
  BOOST_TEST(crc32c_extend_portable(0, read_pdu) == 0xD9963A56u);
}

// The hardware and the table paths agree at every length and alignment, and
// a message checksummed in pieces gives the value of the whole.
BOOST_AUTO_TEST_CASE(crc32c_paths_agree_and_extend_in_pieces) {
  Bytes data(1000);
  std::mt19937 gen(1);
  for (auto& b : data) b = static_cast<unsigned char>(gen());
  const std::span<const unsigned char> all(data);
  for (std::size_t offset = 0; offset < 9; ++offset)
    for (std::size_t n = 0; n + offset <= 300; n += 7) {
      const auto part = all.subspan(offset, n);
      BOOST_TEST(crc32c(part) == crc32c_extend_portable(0, part));
    }
  const std::uint32_t whole = crc32c(all);
  for (std::size_t cut : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u})
    BOOST_TEST(crc32c_extend(crc32c(all.first(cut)), all.subspan(cut)) == whole);
}

// ============================================================ round trips
// Train, save, load into a fresh model and optimizer (other initial values,
// default options), then train both on: the results are the same bits.
BOOST_AUTO_TEST_CASE_TEMPLATE(training_continues_bit_identically_after_a_round_trip, C, RoundTripCases) {
  using T = typename C::scalar;
  using O = typename C::optimizer;
  const Batch<T> batch;
  ScratchDirectory dir;
  for (int before : {0, 5}) {  // 0: an optimizer that has not stepped yet
    const fs::path file = dir.path / "model.tn";
    auto reference = make_model<T>(1);
    O reference_optimizer = configured(std::type_identity<O>{});
    train(reference, reference_optimizer, batch, before);
    save_checkpoint(file, reference, reference_optimizer);

    auto restored = make_model<T>(2);
    O restored_optimizer;
    load_checkpoint(file, restored, restored_optimizer);
    BOOST_TEST(snapshot(restored, restored_optimizer) == snapshot(reference, reference_optimizer));

    train(reference, reference_optimizer, batch, 4);
    train(restored, restored_optimizer, batch, 4);
    BOOST_TEST(snapshot(restored, restored_optimizer) == snapshot(reference, reference_optimizer));
    const auto eval = [&](auto& m) {
      const auto y = m.forward(batch.x.view(), Mode::eval);
      return Bytes(reinterpret_cast<const unsigned char*>(y.data),
                   reinterpret_cast<const unsigned char*>(y.data + y.rows * y.cols));
    };
    BOOST_TEST(eval(restored) == eval(reference));
  }
}

BOOST_AUTO_TEST_CASE(model_alone_round_trips_and_skips_optimizer_state) {
  ScratchDirectory dir;
  Adam<float> adam;
  const auto model = trained<float>(adam, 3);
  save_checkpoint(dir.path / "alone.tn", model);
  save_checkpoint(dir.path / "with-adam.tn", model, adam);
  for (const char* name : {"alone.tn", "with-adam.tn"}) {
    auto fresh = make_model<float>(9);
    load_checkpoint(dir.path / name, fresh);
    BOOST_TEST(model_snapshot(fresh) == model_snapshot(model));
  }
  const CheckpointInfo alone = describe_checkpoint(dir.path / "alone.tn");
  BOOST_TEST((alone.optimizer == CheckpointOptimizer::none));
  BOOST_TEST(!alone.optimizer_steps.has_value());
}

// What another process read (distributed/checkpoint.hpp broadcasts the
// bytes) loads as the file does, with the same checks.
BOOST_AUTO_TEST_CASE(bytes_read_elsewhere_load_as_the_file_does) {
  ScratchDirectory dir;
  SGD<float> sgd = configured(std::type_identity<SGD<float>>{});
  const auto model = trained<float>(sgd, 3);
  save_checkpoint(dir.path / "m.tn", model, sgd);
  const Bytes bytes = read_checkpoint_bytes(dir.path / "m.tn");
  BOOST_TEST(bytes == read_file(dir.path / "m.tn"));

  auto from_file = make_model<float>(7), from_bytes = make_model<float>(8);
  SGD<float> file_sgd, bytes_sgd;
  load_checkpoint(dir.path / "m.tn", from_file, file_sgd);
  load_checkpoint_bytes("received", bytes, from_bytes, bytes_sgd);
  BOOST_TEST(snapshot(from_bytes, bytes_sgd) == snapshot(from_file, file_sgd));
  auto alone = make_model<float>(9);
  load_checkpoint_bytes("received", bytes, alone);
  BOOST_TEST(model_snapshot(alone) == model_snapshot(model));

  Bytes damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x10;
  auto untouched = make_model<float>(10);
  const auto before = model_snapshot(untouched);
  BOOST_TEST(error_of([&] { load_checkpoint_bytes("received", damaged, untouched); }) ==
             "typenet: received: checksum mismatch (file corrupted)");
  BOOST_TEST(model_snapshot(untouched) == before);
  BOOST_TEST(error_of([&] { read_checkpoint_bytes(dir.path / "missing.tn"); }).find("cannot open") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(describe_reads_a_checkpoint_without_the_network_type) {
  ScratchDirectory dir;
  AdamW<double> adamw;
  const auto model = trained<double>(adamw, 6);
  save_checkpoint(dir.path / "m.tn", model, adamw);
  const CheckpointInfo info = describe_checkpoint(dir.path / "m.tn");
  BOOST_TEST(info.format_version == 1u);
  BOOST_TEST(info.signature == Net::name());
  BOOST_TEST(info.signature == "Sequential<Input<6>,Linear<24>,BatchNorm,Tanh,Dropout<0.25>,Linear<12>,BatchNorm,"
                               "ReLU,Linear<3>,Softmax>");
  BOOST_TEST((info.scalar == CheckpointScalar::float64));
  BOOST_TEST(info.parameter_count == Net::parameter_count);
  BOOST_TEST(info.state_count == Net::state_count);
  BOOST_TEST(info.model_step == 6u);
  BOOST_TEST((info.optimizer == CheckpointOptimizer::adamw));
  BOOST_TEST(info.optimizer_steps.value_or(0) == 6u);
  BOOST_TEST(info.file_size == fs::file_size(dir.path / "m.tn"));
  // Header, signature, parameters, state, Adam section (two moments), CRC.
  BOOST_TEST(info.file_size == 60 + info.signature.size() + (3 * Net::parameter_count + Net::state_count) * 8 + 56 + 4);
}

// ============================================================ refused loads
// Each case: the exact message, and a model and optimizer left as they were.
struct LoadFailures {
  ScratchDirectory dir;
  Batch<float> batch;
  fs::path good = dir.path / "good.tn";
  Bytes good_bytes;
  Model<Net, float> model = make_model<float>(5);
  Adam<float> adam;

  LoadFailures() {
    Adam<float> saved_adam;
    save_checkpoint(good, trained<float>(saved_adam, 2), saved_adam);
    good_bytes = read_file(good);
    train(model, adam, batch, 3);  // state of its own, which a failed load must keep
  }

  // Loads `bytes` as model.tn with the optimizer and without; both must fail
  // with "<path>: <problem>" and change nothing.
  void expect_refused(std::span<const unsigned char> bytes, const std::string& problem) {
    const fs::path file = dir.path / "model.tn";
    write_file(file, bytes);
    expect_refused_file(file, problem);
  }
  void expect_refused_file(const fs::path& file, const std::string& problem) {
    const Bytes before = snapshot(model, adam);
    BOOST_TEST(error_of([&] { load_checkpoint(file, model, adam); }) == "typenet: " + file.string() + ": " + problem);
    BOOST_TEST(error_of([&] { load_checkpoint(file, model); }) == "typenet: " + file.string() + ": " + problem);
    BOOST_TEST((snapshot(model, adam) == before));
  }
};

BOOST_FIXTURE_TEST_CASE(truncated_files_are_refused_at_every_length, LoadFailures) {
  const std::size_t size = good_bytes.size();
  for (std::size_t n : {std::size_t{0}, std::size_t{3}, std::size_t{8}, std::size_t{27}})
    expect_refused({good_bytes.data(), n}, "truncated: expected at least 28 bytes, found " + std::to_string(n));
  for (std::size_t n : {std::size_t{28}, std::size_t{60}, std::size_t{100}, size / 2, size - 4, size - 1})
    expect_refused({good_bytes.data(), n},
                   "truncated: expected " + std::to_string(size) + " bytes, found " + std::to_string(n));
  Bytes longer = good_bytes;
  longer.insert(longer.end(), {1, 2, 3});
  expect_refused(longer, "expected " + std::to_string(size) + " bytes, found " + std::to_string(size + 3) +
                             " (data appended after the checkpoint)");
}

BOOST_FIXTURE_TEST_CASE(a_flipped_byte_is_a_checksum_mismatch, LoadFailures) {
  for (std::size_t at : {std::size_t{70}, good_bytes.size() / 2, good_bytes.size() - 5, good_bytes.size() - 1}) {
    Bytes bad = good_bytes;
    bad[at] ^= 0x10;
    expect_refused(bad, "checksum mismatch (file corrupted)");
  }
  for (std::size_t at : {std::size_t{9}, std::size_t{16}, std::size_t{25}}) {  // version, size, header CRC
    Bytes bad = good_bytes;
    bad[at] ^= 0x01;
    expect_refused(bad, "header checksum mismatch (file corrupted)");
  }
}

BOOST_FIXTURE_TEST_CASE(other_files_and_other_versions_are_named_as_such, LoadFailures) {
  expect_refused(as_bytes_of("just some text that happens to be long enough"), "not a typenet checkpoint (bad magic)");
  expect_refused(as_bytes_of("PK"), "not a typenet checkpoint (bad magic)");
  Bytes newer = good_bytes;
  patch_and_reseal(newer, 8, 7, 4);
  expect_refused(newer, "format version 7 is newer than this typenet (1)");
  expect_refused_file(dir.path / "missing.tn", "cannot open: " + std::string(std::strerror(ENOENT)));
  expect_refused_file(dir.path, "not a regular file");
}

// Lengths from the file are checked before anything is sized by them.
BOOST_FIXTURE_TEST_CASE(absurd_lengths_are_refused_without_allocating, LoadFailures) {
  Bytes huge_count = good_bytes;
  patch_and_reseal(huge_count, 32, std::uint64_t{1} << 62, 8);  // parameter count
  expect_refused(huge_count, "malformed checkpoint: the parameter section runs past the end of the file");
  Bytes huge_signature = good_bytes;
  patch_and_reseal(huge_signature, 56, 0xFFFFFFFFu, 4);
  expect_refused(huge_signature, "malformed checkpoint: the topology signature runs past the end of the file");
  Bytes bad_kind = good_bytes;
  patch_and_reseal(bad_kind, 28, 9, 4);
  expect_refused(bad_kind, "malformed checkpoint: unknown optimizer kind 9");
}

// Options the optimizer's constructor would refuse are refused on load too,
// before the model is touched (the optimizer is restored first, the model last).
BOOST_FIXTURE_TEST_CASE(invalid_saved_optimizer_options_are_refused, LoadFailures) {
  const std::size_t adam_lr = 60 + Net::name().size() + (Net::parameter_count + Net::state_count) * sizeof(float);
  Bytes negative_lr = good_bytes;
  patch_and_reseal(negative_lr, adam_lr, std::bit_cast<std::uint64_t>(-1.0), 8);
  const fs::path file = dir.path / "model.tn";
  write_file(file, negative_lr);
  const Bytes before = snapshot(model, adam);
  BOOST_TEST(error_of([&] { load_checkpoint(file, model, adam); }) ==
             "typenet: " + file.string() +
                 ": malformed checkpoint: the saved optimizer options are invalid (typenet: Adam: the learning rate "
                 "must be >= 0.)");
  BOOST_TEST((snapshot(model, adam) == before));
  load_checkpoint(file, model);  // the model alone does not read them
}

BOOST_FIXTURE_TEST_CASE(another_network_scalar_type_or_optimizer_is_refused, LoadFailures) {
  {
    Model<OtherNet, float> other(Init::kaiming_uniform, 1);
    const fs::path file = dir.path / "other.tn";
    save_checkpoint(file, other);
    expect_refused_file(file, "saved for " + OtherNet::name() + ", this network is " + Net::name());
  }
  {
    const fs::path file = dir.path / "double.tn";
    save_checkpoint(file, make_model<double>(1), Adam<double>());
    expect_refused_file(file, "saved with double parameters, this model uses float");
  }
  const auto refused = [&](const fs::path& file, auto& optimizer, const std::string& problem) {
    const Bytes optimizer_before = [&] {
      Bytes b;
      append_optimizer_state(b, optimizer);
      return b;
    }();
    BOOST_TEST(error_of([&] { load_checkpoint(file, model, optimizer); }) ==
               "typenet: " + file.string() + ": " + problem);
    Bytes optimizer_after;
    append_optimizer_state(optimizer_after, optimizer);
    BOOST_TEST((optimizer_after == optimizer_before));
  };
  SGD<float> sgd({.lr = 0.1, .momentum = 0.5});
  train(model, sgd, batch, 1);
  const Bytes model_before = model_snapshot(model);
  refused(good, sgd, "saved with Adam optimizer state, this optimizer is SGD");
  AdamW<float> adamw;
  refused(good, adamw, "saved with Adam optimizer state, this optimizer is AdamW");
  const fs::path alone = dir.path / "alone.tn";
  save_checkpoint(alone, make_model<float>(1));
  refused(alone, adam, "saved without optimizer state, so it cannot restore this Adam optimizer; load the model alone");
  const fs::path with_sgd = dir.path / "sgd.tn";
  save_checkpoint(with_sgd, make_model<float>(1), sgd);
  refused(with_sgd, adam, "saved with SGD optimizer state, this optimizer is Adam");
  BOOST_TEST((model_snapshot(model) == model_before));
}

// ============================================================ the bytes
// The file as docs/checkpoint-format.md lays it out, built here field by
// field from the optimizer's public accessors, independently of the writer:
// what save_checkpoint writes, byte for byte (format version 1; the SGD,
// Adam and AdamW sections are the ones files have always had).
namespace {
struct ByteWriter {
  Bytes out;
  void u32(std::uint32_t v) { append_value(out, v); }  // (the test machine is little-endian)
  void u64(std::uint64_t v) { append_value(out, v); }
  void f64(double v) { append_value(out, v); }
  template <class T>
  void scalars(std::span<const T> v) {
    append(out, v);
  }
};
static_assert(std::endian::native == std::endian::little);

template <class T>
Bytes expected_file(const Model<Net, T>& model, std::uint32_t kind, const Bytes& section) {
  ByteWriter w;
  const std::string signature = Net::name();
  const std::uint64_t size = 60 + signature.size() + (Net::parameter_count + Net::state_count) * sizeof(T) +
                             section.size() + 4;
  w.out = {0x89, 'T', 'N', 'C', '\r', '\n', 0x1A, '\n'};
  w.u32(1);
  w.u32(sizeof(T));
  w.u64(size);
  w.u32(crc32c(std::span<const unsigned char>(w.out)));
  w.u32(kind);
  w.u64(Net::parameter_count);
  w.u64(Net::state_count);
  w.u64(model.dropout_step());
  w.u32(static_cast<std::uint32_t>(signature.size()));
  append(w.out, std::span<const char>(signature.data(), signature.size()));
  w.scalars(model.parameters());
  w.scalars(model.state());
  w.out.insert(w.out.end(), section.begin(), section.end());
  w.u32(crc32c(std::span<const unsigned char>(w.out)));
  return w.out;
}

template <class T>
Bytes section_of(const SGD<T>& o) {
  ByteWriter w;
  for (double v : {o.options.lr, o.options.momentum, o.options.dampening, o.options.weight_decay}) w.f64(v);
  w.u32((o.options.nesterov ? 1u : 0u) | (o.started() ? 2u : 0u));
  w.u64(o.momentum_buffer().size());
  w.scalars(o.momentum_buffer());
  return w.out;
}
template <class T, bool D>
Bytes section_of(const BasicAdam<T, D>& o) {
  ByteWriter w;
  const AdamOptions& a = o.options;
  for (double v : {a.lr, a.beta1, a.beta2, a.eps, a.weight_decay}) w.f64(v);
  w.u64(o.steps());
  w.u64(o.first_moment().size());
  w.scalars(o.first_moment());
  w.scalars(o.second_moment());
  return w.out;
}
template <class T>
Bytes section_of(const RMSprop<T>& o) {
  ByteWriter w;
  const RMSpropOptions& r = o.options;
  for (double v : {r.lr, r.alpha, r.eps, r.weight_decay, r.momentum}) w.f64(v);
  w.u32(r.centered ? 1u : 0u);
  w.u64(o.square_average().size());
  w.scalars(o.square_average());
  if (r.momentum > 0) w.scalars(o.momentum_buffer());
  if (r.centered) w.scalars(o.gradient_average());
  return w.out;
}
template <class T>
Bytes section_of(const Adagrad<T>& o) {
  ByteWriter w;
  const AdagradOptions& a = o.options;
  for (double v : {a.lr, a.lr_decay, a.weight_decay, a.initial_accumulator_value, a.eps}) w.f64(v);
  w.u64(o.steps());
  w.u64(o.sum().size());
  w.scalars(o.sum());
  return w.out;
}

template <class T, class O>
void expect_documented_bytes(const char* name, std::uint32_t kind, O optimizer, int steps) {
  ScratchDirectory dir;
  const auto model = trained<T>(optimizer, steps);
  save_checkpoint(dir.path / "m.tn", model, optimizer);
  BOOST_TEST_INFO(name << " after " << steps << " steps");
  BOOST_TEST((read_file(dir.path / "m.tn") == expected_file(model, kind, section_of(optimizer))));
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_file_is_the_documented_layout_byte_for_byte) {
  for (int steps : {0, 3}) {
    expect_documented_bytes<float>("SGD", 1, SGD<float>({.lr = 0.1}), steps);
    expect_documented_bytes<double>("SGD with momentum", 1,
                                    SGD<double>({.lr = 0.05, .momentum = 0.9, .dampening = 0.1}), steps);
    expect_documented_bytes<float>("SGD, Nesterov", 1, configured(std::type_identity<SGD<float>>{}), steps);
    expect_documented_bytes<float>("Adam", 2, configured(std::type_identity<Adam<float>>{}), steps);
    expect_documented_bytes<double>("AdamW", 3, configured(std::type_identity<AdamW<double>>{}), steps);
    expect_documented_bytes<float>("RMSprop", 4, RMSprop<float>(), steps);
    expect_documented_bytes<float>("RMSprop, momentum", 4, RMSprop<float>({.momentum = 0.9}), steps);
    expect_documented_bytes<double>("RMSprop, centered, momentum", 4, configured(std::type_identity<RMSprop<double>>{}),
                                    steps);
    expect_documented_bytes<float>("Adagrad", 5, configured(std::type_identity<Adagrad<float>>{}), steps);
  }
}

// The fuzzer's seeds are checkpoints as typenet wrote them (the SGD and Adam
// ones by the writer before optimizers declared themselves): each loads, and
// saving what it loaded gives the same bytes back.
BOOST_AUTO_TEST_CASE(the_seed_files_load_and_save_to_the_same_bytes) {
  // (Tests run in the build directory, where __FILE__ names this source.)
  const fs::path corpus = fs::path(__FILE__).parent_path() / "fuzz" / "corpus" / "checkpoint";
  BOOST_TEST_REQUIRE(fs::is_directory(corpus), corpus.string() << " not found: run from the build directory");
  using Moons = Sequential<Input<2>, Linear<16>, ReLU, Linear<16>, ReLU, Linear<1>>;
  using Bn = Sequential<Input<3>, Linear<5>, BatchNorm<>, Tanh, Dropout<0.1f>, Linear<2>, Softmax>;
  ScratchDirectory dir;
  auto resave = [&](const char* seed, auto model, auto optimizer) {
    Bytes seed_bytes = read_file(corpus / seed);
    BOOST_TEST_REQUIRE(seed_bytes.size() > 1u, seed);
    const Bytes file(seed_bytes.begin() + 1, seed_bytes.end());  // the first byte is the fuzzer's mode
    load_checkpoint_bytes(seed, file, model, optimizer);
    save_checkpoint(dir.path / "again.tn", model, optimizer);
    BOOST_TEST_INFO(seed);
    BOOST_TEST((read_file(dir.path / "again.tn") == file));
  };
  resave("moons_sgd_raw", Model<Moons, float>(), SGD<float>());
  resave("bn_adam_double_raw", Model<Bn, double>(), Adam<double>());
  resave("bn_rmsprop_double_raw", Model<Bn, double>(), RMSprop<double>());
  resave("moons_adagrad_raw", Model<Moons, float>(), Adagrad<float>());
}

BOOST_AUTO_TEST_CASE(describe_names_every_optimizer_and_counts_the_steps_of_those_that_count) {
  ScratchDirectory dir;
  auto describe = [&](auto optimizer) {
    const auto model = trained<float>(optimizer, 2);
    save_checkpoint(dir.path / "m.tn", model, optimizer);
    return describe_checkpoint(dir.path / "m.tn");
  };
  const CheckpointInfo rmsprop = describe(RMSprop<float>({.momentum = 0.9}));
  BOOST_TEST((rmsprop.optimizer == checkpoint_kind<RMSprop<float>>));
  BOOST_TEST(to_string(rmsprop.optimizer) == "RMSprop");
  BOOST_TEST(!rmsprop.optimizer_steps.has_value());
  // Header, signature, parameters, state, section (5 options, flags, length, 2 buffers), CRC.
  BOOST_TEST(rmsprop.file_size ==
             60 + Net::name().size() + (3 * Net::parameter_count + Net::state_count) * 4 + 5 * 8 + 4 + 8 + 4);
  const CheckpointInfo adagrad = describe(Adagrad<float>());
  BOOST_TEST((adagrad.optimizer == checkpoint_kind<Adagrad<float>>));
  BOOST_TEST(to_string(adagrad.optimizer) == "Adagrad");
  BOOST_TEST(adagrad.optimizer_steps.value_or(0) == 2u);
  BOOST_TEST(adagrad.file_size ==
             60 + Net::name().size() + (2 * Net::parameter_count + Net::state_count) * 4 + 5 * 8 + 8 + 8 + 4);
  BOOST_TEST(to_string(describe(SGD<float>()).optimizer) == "SGD");
  BOOST_TEST(to_string(CheckpointOptimizer::none) == "none");
}

// ============================================================ malformed sections
// Every field of every optimizer's section, cut short, is named; and the
// checks of each section's values, each with its sentence. The files are
// resealed (sizes and checksums recomputed), as a faulty writer would leave
// them, so that the body parser is what refuses them.
namespace {
struct SectionField {
  std::size_t offset;  // in the section
  std::string name;
};

// The file cut after `keep` bytes, then resealed.
Bytes cut_and_reseal(const Bytes& file, std::size_t keep) {
  Bytes cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(keep));
  cut.resize(keep + 4);
  patch_and_reseal(cut, 16, cut.size(), 8);
  return cut;
}

template <class O>
struct SectionFailures {
  ScratchDirectory dir;
  Model<Net, float> model = make_model<float>(5);
  O optimizer;
  Bytes good;
  std::size_t section = 60 + Net::name().size() + (Net::parameter_count + Net::state_count) * sizeof(float);

  explicit SectionFailures(O saved) {
    const auto saved_model = trained<float>(saved, 2);
    save_checkpoint(dir.path / "good.tn", saved_model, saved);
    good = read_file(dir.path / "good.tn");
    Batch<float> batch;
    train(model, optimizer, batch, 1);  // state of its own, which a failed load must keep
  }
  // Loading `bytes` with the optimizer fails with `problem` and changes
  // nothing; `with_model_alone`: loading the model alone fails alike.
  void expect_refused(const Bytes& bytes, const std::string& problem, bool with_model_alone = true) {
    const fs::path file = dir.path / "bad.tn";
    write_file(file, bytes);
    const Bytes before = snapshot(model, optimizer);
    BOOST_TEST(error_of([&] { load_checkpoint(file, model, optimizer); }) ==
               "typenet: " + file.string() + ": " + problem);
    if (with_model_alone)
      BOOST_TEST(error_of([&] { load_checkpoint(file, model); }) == "typenet: " + file.string() + ": " + problem);
    BOOST_TEST((snapshot(model, optimizer) == before));
  }
  void expect_every_field_named(const std::vector<SectionField>& fields) {
    for (const auto& f : fields) {
      BOOST_TEST_INFO(f.name);
      expect_refused(cut_and_reseal(good, section + f.offset + 1),
                     "malformed checkpoint: " + f.name + " runs past the end of the file");
    }
  }
  Bytes patched(std::size_t offset, std::uint64_t value, std::size_t size) const {
    Bytes b = good;
    patch_and_reseal(b, section + offset, value, size);
    return b;
  }
};
constexpr std::size_t P = Net::parameter_count;
}  // namespace

BOOST_AUTO_TEST_CASE(sgd_sections_are_checked_field_by_field) {
  SectionFailures<SGD<float>> t(configured(std::type_identity<SGD<float>>{}));
  t.expect_every_field_named({{0, "the SGD learning rate"},
                              {8, "the SGD momentum"},
                              {16, "the SGD dampening"},
                              {24, "the SGD weight decay"},
                              {32, "the SGD flags"},
                              {36, "the SGD momentum buffer length"},
                              {44 + 2 * P, "the SGD momentum buffer"}});
  t.expect_refused(t.patched(32, 4 | 3, 4), "malformed checkpoint: unknown SGD flags 7");
  t.expect_refused(t.patched(36, 5, 8),
                   "malformed checkpoint: the SGD momentum buffer length is 5, neither 0 nor the parameter count " +
                       std::to_string(P));
  Bytes no_buffer = t.good;  // started, with the buffer cut away
  no_buffer.erase(no_buffer.begin() + static_cast<std::ptrdiff_t>(t.section + 44), no_buffer.end() - 4);
  patch_and_reseal(no_buffer, 16, no_buffer.size(), 8);
  patch_and_reseal(no_buffer, t.section + 36, 0, 8);
  t.expect_refused(no_buffer, "malformed checkpoint: SGD momentum marked started, but no momentum buffer");
  t.expect_refused(t.patched(0, std::bit_cast<std::uint64_t>(-0.5), 8),
                   "malformed checkpoint: the saved optimizer options are invalid (typenet: SGD: the learning rate "
                   "must be >= 0.)",
                   false);
  // Without momentum the buffer is not stored: the saved one is then extra.
  t.expect_refused(t.patched(8, std::bit_cast<std::uint64_t>(0.0), 8),
                   "malformed checkpoint: " + std::to_string(P * 4) + " unexpected bytes after the last section");
}

BOOST_AUTO_TEST_CASE(adam_sections_are_checked_field_by_field) {
  const auto fields = [](const std::string& name) {
    const std::string of = "the " + name + " ";
    return std::vector<SectionField>{{0, of + "learning rate"},  {8, of + "beta1"},
                                     {16, of + "beta2"},         {24, of + "eps"},
                                     {32, of + "weight decay"},  {40, of + "step count"},
                                     {48, of + "moment length"}, {56 + 2 * P, of + "first moment"},
                                     {56 + 6 * P, of + "second moment"}};
  };
  SectionFailures<Adam<float>> adam(configured(std::type_identity<Adam<float>>{}));
  adam.expect_every_field_named(fields("Adam"));
  adam.expect_refused(adam.patched(48, P - 1, 8), "malformed checkpoint: the Adam moment length is " +
                                                      std::to_string(P - 1) + ", neither 0 nor the parameter count " +
                                                      std::to_string(P));
  adam.expect_refused(adam.patched(8, std::bit_cast<std::uint64_t>(1.0), 8),
                      "malformed checkpoint: the saved optimizer options are invalid (typenet: Adam: betas must be in "
                      "[0, 1).)",
                      false);
  // AdamW's fields say AdamW; its option checks are Adam's, with Adam's sentences.
  SectionFailures<AdamW<float>> adamw(configured(std::type_identity<AdamW<float>>{}));
  adamw.expect_every_field_named(fields("AdamW"));
  adamw.expect_refused(adamw.patched(24, std::bit_cast<std::uint64_t>(-1e-8), 8),
                       "malformed checkpoint: the saved optimizer options are invalid (typenet: Adam: eps must be >= "
                       "0.)",
                       false);
}

BOOST_AUTO_TEST_CASE(rmsprop_sections_are_checked_field_by_field) {
  // Centered with momentum: all three buffers are stored.
  SectionFailures<RMSprop<float>> t(RMSprop<float>({.momentum = 0.9, .centered = true}));
  t.expect_every_field_named({{0, "the RMSprop learning rate"},
                              {8, "the RMSprop alpha"},
                              {16, "the RMSprop eps"},
                              {24, "the RMSprop weight decay"},
                              {32, "the RMSprop momentum"},
                              {40, "the RMSprop flags"},
                              {44, "the RMSprop state buffer length"},
                              {52 + 2 * P, "the RMSprop square average"},
                              {52 + 6 * P, "the RMSprop momentum buffer"},
                              {52 + 10 * P, "the RMSprop gradient average"}});
  t.expect_refused(t.patched(40, 3, 4), "malformed checkpoint: unknown RMSprop flags 3");
  t.expect_refused(t.patched(44, 2 * P, 8), "malformed checkpoint: the RMSprop state buffer length is " +
                                                std::to_string(2 * P) + ", neither 0 nor the parameter count " +
                                                std::to_string(P));
  t.expect_refused(t.patched(8, std::bit_cast<std::uint64_t>(-0.99), 8),
                   "malformed checkpoint: the saved optimizer options are invalid (typenet: RMSprop: alpha must be >= "
                   "0.)",
                   false);
  t.expect_refused(t.patched(24, std::bit_cast<std::uint64_t>(-1e-3), 8),
                   "malformed checkpoint: the saved optimizer options are invalid (typenet: RMSprop: the weight decay "
                   "must be >= 0.)",
                   false);
  // The options say which buffers follow: not centered, the gradient average is extra.
  t.expect_refused(t.patched(40, 0, 4),
                   "malformed checkpoint: " + std::to_string(P * 4) + " unexpected bytes after the last section");
  t.expect_refused(t.patched(44, 0, 8),
                   "malformed checkpoint: " + std::to_string(3 * P * 4) + " unexpected bytes after the last section");
}

BOOST_AUTO_TEST_CASE(adagrad_sections_are_checked_field_by_field) {
  SectionFailures<Adagrad<float>> t(configured(std::type_identity<Adagrad<float>>{}));
  t.expect_every_field_named({{0, "the Adagrad learning rate"},
                              {8, "the Adagrad learning rate decay"},
                              {16, "the Adagrad weight decay"},
                              {24, "the Adagrad initial accumulator value"},
                              {32, "the Adagrad eps"},
                              {40, "the Adagrad step count"},
                              {48, "the Adagrad sum length"},
                              {56 + 2 * P, "the Adagrad sum"}});
  t.expect_refused(t.patched(48, 1, 8),
                   "malformed checkpoint: the Adagrad sum length is 1, neither 0 nor the parameter count " +
                       std::to_string(P));
  t.expect_refused(t.patched(24, std::bit_cast<std::uint64_t>(-0.1), 8),
                   "malformed checkpoint: the saved optimizer options are invalid (typenet: Adagrad: the initial "
                   "accumulator value must be >= 0.)",
                   false);
  t.expect_refused(t.patched(8, std::bit_cast<std::uint64_t>(std::nan("")), 8),
                   "malformed checkpoint: the saved optimizer options are invalid (typenet: Adagrad: the learning rate "
                   "decay must be >= 0.)",
                   false);
  // A kind no typenet has written.
  Bytes unknown = t.good;
  patch_and_reseal(unknown, 28, 6, 4);
  t.expect_refused(unknown, "malformed checkpoint: unknown optimizer kind 6");
}

BOOST_AUTO_TEST_CASE(each_optimizer_refuses_the_others_state) {
  ScratchDirectory dir;
  const auto save = [&](const char* name, auto optimizer) {
    const auto model = trained<float>(optimizer, 1);
    save_checkpoint(dir.path / name, model, optimizer);
    return dir.path / name;
  };
  const fs::path rmsprop = save("rmsprop.tn", RMSprop<float>()), adagrad = save("adagrad.tn", Adagrad<float>()),
                 sgd = save("sgd.tn", SGD<float>()), alone = dir.path / "alone.tn";
  save_checkpoint(alone, make_model<float>(1));
  auto model = make_model<float>(4);
  const Bytes model_before = model_snapshot(model);
  const auto refused = [&](const fs::path& file, auto optimizer, const std::string& problem) {
    Bytes before;
    append_optimizer_state(before, optimizer);
    BOOST_TEST(error_of([&] { load_checkpoint(file, model, optimizer); }) ==
               "typenet: " + file.string() + ": " + problem);
    Bytes after;
    append_optimizer_state(after, optimizer);
    BOOST_TEST((after == before));
  };
  refused(rmsprop, Adagrad<float>(), "saved with RMSprop optimizer state, this optimizer is Adagrad");
  refused(adagrad, RMSprop<float>(), "saved with Adagrad optimizer state, this optimizer is RMSprop");
  refused(adagrad, Adam<float>(), "saved with Adagrad optimizer state, this optimizer is Adam");
  refused(sgd, RMSprop<float>(), "saved with SGD optimizer state, this optimizer is RMSprop");
  refused(alone, Adagrad<float>(),
          "saved without optimizer state, so it cannot restore this Adagrad optimizer; load the model alone");
  BOOST_TEST((model_snapshot(model) == model_before));
}

// ============================================================ failed saves
// A save that fails at any point leaves the previous checkpoint loadable and
// no temporary file behind. The faults are injected through the documented
// test hook: as root, permissions cannot make a write fail.
BOOST_AUTO_TEST_CASE(a_failed_save_leaves_the_previous_checkpoint) {
  using save_testing::SaveFault;
  using save_testing::SaveStage;
  ScratchDirectory dir;
  const fs::path file = dir.path / "model.tn";
  const auto old_model = make_model<float>(1);
  const Adam<float> old_adam;
  save_checkpoint(file, old_model, old_adam);
  const Bytes old_bytes = read_file(file);

  Adam<float> new_adam;
  const auto new_model = trained<float>(new_adam, 2, 2);

  const std::string no_space = std::strerror(ENOSPC), io_error = std::strerror(EIO);
  const std::vector<std::pair<SaveFault, std::string>> faults{
      {{SaveStage::write, 0, ENOSPC}, "writing"},
      {{SaveStage::write, 1, ENOSPC}, "writing"},
      {{SaveStage::write, 28, ENOSPC}, "writing"},
      {{SaveStage::write, old_bytes.size() / 2, ENOSPC}, "writing"},
      {{SaveStage::write, old_bytes.size() - 1, ENOSPC}, "writing"},
      {{SaveStage::fsync, 0, EIO}, "syncing"},
      {{SaveStage::rename, 0, EIO}, "renaming"},
  };
  for (const auto& [fault, verb] : faults) {
    save_testing::save_fault = fault;
    const std::string message = error_of([&] { save_checkpoint(file, new_model, new_adam); });
    save_testing::save_fault.reset();
    BOOST_TEST_INFO("fault at " << verb << " after " << fault.after_bytes << " bytes");
    BOOST_TEST(message.starts_with("typenet: " + file.string() + ": cannot save (the existing file is untouched): " +
                                   verb + " " + (dir.path / ".model.tn.tmp-").string()));
    BOOST_TEST(message.ends_with(fault.error == ENOSPC ? no_space : io_error));
    BOOST_TEST((dir.entries() == std::vector<std::string>{"model.tn"}));
    BOOST_TEST((read_file(file) == old_bytes));
    auto loaded = make_model<float>(3);
    Adam<float> loaded_adam;
    load_checkpoint(file, loaded, loaded_adam);
    BOOST_TEST((snapshot(loaded, loaded_adam) == snapshot(old_model, old_adam)));
  }

  // Failing to sync the directory comes after the rename: the new file is in
  // place and complete, and the error says it may not be durable.
  save_testing::save_fault = SaveFault{SaveStage::sync_directory, 0, EIO};
  const std::string message = error_of([&] { save_checkpoint(file, new_model, new_adam); });
  save_testing::save_fault.reset();
  BOOST_TEST(message == "typenet: " + file.string() + ": saved, but syncing the directory " + dir.path.string() +
                            " failed: " + io_error + "; the new file may not survive a power loss");
  BOOST_TEST((dir.entries() == std::vector<std::string>{"model.tn"}));
  auto loaded = make_model<float>(3);
  Adam<float> loaded_adam;
  load_checkpoint(file, loaded, loaded_adam);
  BOOST_TEST((snapshot(loaded, loaded_adam) == snapshot(new_model, new_adam)));
}

// Real operating-system errors, which hold for root too.
BOOST_AUTO_TEST_CASE(an_unwritable_or_missing_directory_is_reported_with_the_os_error) {
  const Model<Net, float> model;
  const fs::path in_proc = "/proc/typenet-checkpoint-test.tn";  // no one may create files there
  const std::string proc_error = error_of([&] { save_checkpoint(in_proc, model); });
  BOOST_TEST(proc_error.starts_with("typenet: " + in_proc.string() +
                                    ": cannot save: cannot create a temporary file in /proc: "));
  BOOST_TEST(!fs::exists(in_proc));

  ScratchDirectory dir;
  const fs::path missing = dir.path / "no-such-folder" / "model.tn";
  BOOST_TEST(error_of([&] { save_checkpoint(missing, model); }) ==
             "typenet: " + missing.string() + ": cannot save: cannot create a temporary file in " +
                 (dir.path / "no-such-folder").string() + ": " + std::strerror(ENOENT));
  BOOST_TEST(error_of([&] { save_checkpoint(dir.path / "", model); }) ==
             "typenet: " + (dir.path / "").string() + ": cannot save: the path names a directory, not a file");
}

// ============================================================ killed saves
// A child process saves a large model over and over; the parent kills it at
// a random moment, many times. The file must always load, holding one of the
// versions that were saved completely.
BOOST_AUTO_TEST_CASE(a_saver_killed_at_any_moment_never_leaves_a_broken_file) {
  using Big = Sequential<Input<256>, Linear<1024>, BatchNorm<>, ReLU, Linear<512>, ReLU, Linear<16>>;
  ScratchDirectory dir;
  const fs::path file = dir.path / "big.tn";
  std::vector<Model<Big, float>> versions;
  versions.reserve(3);
  for (std::uint64_t seed : {1, 2, 3}) versions.emplace_back(Init::kaiming_uniform, seed);
  std::vector<Bytes> expected;
  for (const auto& v : versions) expected.push_back(model_snapshot(v));
  const SGD<float> sgd;

  const auto started = std::chrono::steady_clock::now();
  save_checkpoint(file, versions[0], sgd);
  const auto one_save = std::chrono::steady_clock::now() - started;
  const auto window_us = std::max<long>(
      2000, static_cast<long>(3 * std::chrono::duration_cast<std::chrono::microseconds>(one_save).count()));

  const unsigned seed = std::random_device{}();
  using milliseconds = std::chrono::duration<double, std::milli>;
  BOOST_TEST_MESSAGE("one save took " << milliseconds(one_save).count()
                                      << " ms; kill delays drawn from [0, " << window_us << " us), seed " << seed);
  std::mt19937 gen(seed);
  std::uniform_int_distribution<long> delay(0, window_us);
  std::vector<int> seen(versions.size(), 0);
  for (int round = 0; round < 12; ++round) {
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {  // alternate versions 1 and 2 until killed
      try {
        for (std::size_t k = 0;; ++k) save_checkpoint(file, versions[1 + k % 2], sgd);
      } catch (...) {
        ::_exit(1);
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay(gen)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_TEST_INFO("round " << round);
    BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));  // killed, not failed

    Model<Big, float> loaded(Init::uniform, 99);
    SGD<float> loaded_sgd;
    BOOST_REQUIRE_NO_THROW(load_checkpoint(file, loaded, loaded_sgd));
    const auto match = std::find(expected.begin(), expected.end(), model_snapshot(loaded));
    BOOST_TEST((match != expected.end()));
    if (match != expected.end()) ++seen[static_cast<std::size_t>(match - expected.begin())];
  }
  // Each kill during a save leaves that save's temporary file (nothing can
  // remove it); at least one must have, or the test never hit a save.
  const auto entries = dir.entries();
  const auto leftovers = std::count_if(entries.begin(), entries.end(),
                                       [](const std::string& n) { return n.starts_with(".big.tn.tmp-"); });
  BOOST_TEST_MESSAGE("versions found after the kills: " << seen[0] << ", " << seen[1] << ", " << seen[2] << "; "
                                                        << leftovers << " saves interrupted");
  BOOST_TEST(leftovers > 0);
}
