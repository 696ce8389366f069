// The frame every example shares: parse the command line (usage and exit
// status 2 on a bad flag), then run, turning any error into one line on
// stderr and exit status 1.
#pragma once

#include <cstdio>
#include <exception>
#include <functional>

#include "support/command_line.hpp"

namespace examples {

// `report_usage_errors` false: a bad flag still exits with status 2, but
// silently (the ranks of an MPI job other than rank 0, which all parse the
// same command line and would print the same message N times).
inline int run_example(const char* name, CommandLine& cli, int argc, char** argv, const std::function<int()>& body,
                       bool report_usage_errors = true) {
  try {
    if (!cli.parse(argc, argv)) {
      std::printf("%s", cli.usage().c_str());
      return 0;
    }
  } catch (const UsageError& e) {
    if (report_usage_errors) std::fprintf(stderr, "%s: %s\n\n%s", name, e.what(), cli.usage().c_str());
    return 2;
  }
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace examples

#include <memory>
#include <string>
#include <thread>

#include "typenet/cpu/thread_pool.hpp"

namespace examples {

// The flags every example accepts besides its own.
struct CommonOptions {
  std::string device = "cpu";
  std::string save, load, out;
  std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  bool unchecked = false;  // skip the per-step finite-value check

  void add_to(CommandLine& cli, const std::string& pictures) {
    cli.choice("--device", device, {"cpu", "cuda"}, "where to train (evaluation runs on the CPU)")
        .number("--threads", threads, "CPU threads (results do not depend on it)", std::size_t{1}, std::size_t{256})
        .text("--save", save, "write a checkpoint here after training", "FILE")
        .text("--load", load, "evaluate this checkpoint instead of training", "FILE")
        .text("--out", out, "folder for " + pictures + " (CSV and PNG)", "DIR")
        .flag("--unchecked", unchecked, "do not stop when the loss or a parameter becomes NaN or infinite");
  }
  // The thread pool the model should use (none for one thread).
  std::unique_ptr<typenet::cpu::ThreadPool> make_pool() const {
    if (threads <= 1) return nullptr;
    return std::make_unique<typenet::cpu::ThreadPool>(static_cast<unsigned>(threads));
  }
};

}  // namespace examples
