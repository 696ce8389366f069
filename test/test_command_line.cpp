// The examples' command-line parser: every kind of bad input is a
// UsageError whose message names the flag and what was wrong.
#define BOOST_TEST_MODULE command_line
#include <boost/test/unit_test.hpp>

#include "support/command_line.hpp"

using examples::CommandLine;
using examples::UsageError;

namespace {
struct Flags {
  std::size_t epochs = 5;
  double lr = 0.1;
  std::string variant = "plain", data;
  bool nesterov = false;
  CommandLine cli{"prog", "test program"};
  Flags() {
    cli.number("--epochs", epochs, "epochs", std::size_t{1}, std::size_t{1000})
        .number("--lr", lr, "learning rate", 0.0, 10.0)
        .choice("--variant", variant, {"plain", "batchnorm"}, "variant")
        .text("--data", data, "folder")
        .flag("--nesterov", nesterov, "momentum");
  }
  bool parse(std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    return cli.parse(static_cast<int>(args.size()), args.data());
  }
};

void expect_error(std::vector<const char*> args, const std::string& message) {
  Flags f;
  try {
    f.parse(args);
    BOOST_FAIL("expected a UsageError for " << args.front());
  } catch (const UsageError& e) {
    BOOST_TEST_INFO(e.what());
    BOOST_TEST(std::string(e.what()) == message);
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(valid_flags_are_read) {
  Flags f;
  BOOST_TEST(f.parse({"--epochs", "12", "--lr=0.5", "--variant", "batchnorm", "--data", "x/y", "--nesterov"}));
  BOOST_TEST(f.epochs == 12u);
  BOOST_TEST(f.lr == 0.5);
  BOOST_TEST(f.variant == "batchnorm");
  BOOST_TEST(f.data == "x/y");
  BOOST_TEST(f.nesterov);
  Flags help;
  BOOST_TEST(!help.parse({"--help"}));
  BOOST_TEST(help.cli.usage().find("--epochs N") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_bad_input_is_named) {
  expect_error({"--epochs", "abc"}, "--epochs expects a whole number, got 'abc'");
  expect_error({"--epochs", "12abc"}, "--epochs expects a whole number, got '12abc'");
  expect_error({"--epochs", "-3"}, "--epochs expects a whole number, got '-3'");
  expect_error({"--epochs", ""}, "--epochs expects a whole number, got ''");
  expect_error({"--epochs", "0"}, "--epochs must be between 1 and 1000, got 0");
  expect_error({"--epochs", "99999999999999999999999"}, "--epochs: '99999999999999999999999' is out of range");
  expect_error({"--lr", "fast"}, "--lr expects a number, got 'fast'");
  expect_error({"--lr", "nan"}, "--lr expects a finite number, got 'nan'");
  expect_error({"--lr", "inf"}, "--lr expects a finite number, got 'inf'");
  expect_error({"--lr", "11"}, "--lr must be between 0 and 10, got 11");
  expect_error({"--lr", "1e999"}, "--lr: '1e999' is out of range");
  expect_error({"--variant", "deep"}, "--variant must be one of plain|batchnorm, got 'deep'");
  expect_error({"--epochs"}, "--epochs needs a value (N)");
  expect_error({"--data", ""}, "--data expects a value");
  expect_error({"--nesterov=yes"}, "--nesterov takes no value");
  expect_error({"--bogus", "1"}, "unknown option '--bogus'");
  expect_error({"epochs"}, "unknown option 'epochs'");
}
