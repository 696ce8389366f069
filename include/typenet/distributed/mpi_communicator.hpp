// MPI for data-parallel training: the process's MPI lifetime (MpiSession)
// and the collectives the trainer uses (MpiCommunicator).
//
// Every collective is nonblocking and polled against a deadline. A blocking
// MPI_Allreduce waits forever for a rank that has thrown, hung or died
// without taking the job down; here the ranks still waiting stop the whole
// job after `timeout` with a sentence naming the rank, the step and the
// collective, and an exception that escapes a rank's training stops every
// rank at once (stop_every_rank_on_exception).
//
// Only programs that want MPI include this (through distributed/mpi.hpp);
// typenet.hpp never does.
#pragma once

// (Before mpi.h: a compiler too old for typenet stops here, MPI or not.)
#include "typenet/config.hpp"

// The C API only: the deprecated C++ bindings of Open MPI and MPICH are not
// used, cost compile time and do not compile cleanly with -Wextra.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace typenet::inline TYPENET_ISA_NAMESPACE::distributed {

/// An error every rank detects alike (so every rank throws it, and none is
/// left waiting): replicas whose parameters differ, a step called with
/// inconsistent sizes.
struct DistributedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// MPI_Init_thread at construction, MPI_Finalize at destruction; nothing if
/// someone else initialised MPI (they finalise it). Worker threads of the
/// model's pool never call MPI, only the thread that trains does, so
/// MPI_THREAD_FUNNELED is all that is asked for.
class MpiSession {
 public:
  /// Initialises MPI with threads for the program's lifetime (MPI_Init_thread).
  MpiSession(int& argc, char**& argv) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (initialised) return;
    int provided = MPI_THREAD_SINGLE;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw std::runtime_error("typenet: MPI_Init_thread failed.");
    owner_ = true;
    if (provided < MPI_THREAD_FUNNELED) {
      MPI_Finalize();
      throw std::runtime_error(
          "typenet: this MPI library does not support MPI_THREAD_FUNNELED (MPI calls from the main thread of a "
          "process that has other threads), which the model's thread pool needs.");
    }
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  ~MpiSession() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (owner_ && !finalised) MPI_Finalize();
  }

 private:
  bool owner_ = false;
};

/// The MPI datatype of T.
template <class T>
MPI_Datatype mpi_datatype() {
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
  else if constexpr (std::is_same_v<T, unsigned char>) return MPI_UNSIGNED_CHAR;
  else static_assert(sizeof(T) == 0, "typenet: no MPI datatype for this type.");
}

/// MPI_COMM_WORLD with deadlines: a collective that does not complete in time, or a failed rank, throws on every rank instead of hanging.
class MpiCommunicator {
 public:
  /// Durations in seconds.
  using seconds = std::chrono::duration<double>;

  /// Works on a duplicate of `comm`, so that the trainer's messages never
  /// match the program's own. Collective: every rank of `comm` constructs one.
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD, seconds timeout = std::chrono::minutes(5))
      : timeout_(timeout) {
    if (MPI_Comm_dup(comm, &comm_) != MPI_SUCCESS) throw std::runtime_error("typenet: MPI_Comm_dup failed.");
    // Errors come back as codes, so that the job stops with a sentence
    // naming the step and the collective rather than MPI's generic message.
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;
  ~MpiCommunicator() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Comm_free(&comm_);
  }

  /// This rank's number.
  int rank() const { return rank_; }
  /// The number of ranks.
  int size() const { return size_; }
  /// The MPI communicator.
  MPI_Comm get() const { return comm_; }

  /// How long a rank waits in a collective for the others before it decides
  /// that one of them has failed and stops the job.
  seconds timeout() const { return timeout_; }
  /// Sets the deadline of each collective.
  void set_timeout(seconds t) { timeout_ = t; }

  /// The training step the ranks are in, named when a collective times out.
  void set_step(std::uint64_t step) { step_ = step; }
  /// The step number messages report.
  std::uint64_t step() const { return step_; }

  /// Starts an in-place sum of values[0, n) over all ranks; appends its
  /// requests (one per INT_MAX values, MPI's count limit) to `requests`.
  template <class T>
  void start_sum(T* values, std::size_t n, std::vector<MPI_Request>& requests, const char* what) {
    for_each_chunk(n, [&](std::size_t begin, int count) {
      MPI_Request r;
      check(MPI_Iallreduce(MPI_IN_PLACE, values + begin, count, mpi_datatype<T>(), MPI_SUM, comm_, &r), what);
      requests.push_back(r);
    });
  }

  /// Lets started collectives advance while this rank computes (without a
  /// progress thread, MPI moves data only inside MPI calls).
  void progress(std::vector<MPI_Request>& requests, const char* what) {
    int done = 0;
    check(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE), what);
  }

  /// Waits for `requests` to complete, then clears them. Past the deadline,
  /// stops every rank (see the top of the file).
  void wait(std::vector<MPI_Request>& requests, const char* what) {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout_);
    for (std::size_t polls = 0;; ++polls) {
      int done = 0;
      check(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE), what);
      if (done) break;
      const auto now = std::chrono::steady_clock::now();
      if (now > deadline)
        abort(std::string(what) + " did not complete within " + format_seconds(timeout_) +
              ": another rank has failed, stopped or fallen that far behind");
      // Spin first (the answer usually comes within microseconds), then give
      // the core away between polls, which matters when ranks share cores.
      if (polls > 1000) std::this_thread::yield();
    }
    requests.clear();
  }

  /// values[0, n) summed over all ranks, in place.
  template <class T>
  void sum(T* values, std::size_t n, const char* what) {
    start_sum(values, n, scratch_, what);
    wait(scratch_, what);
  }

  /// values[0, n) of rank `root` on every rank.
  template <class T>
  void broadcast(T* values, std::size_t n, int root, const char* what) {
    for_each_chunk(n, [&](std::size_t begin, int count) {
      MPI_Request r;
      check(MPI_Ibcast(values + begin, count, mpi_datatype<T>(), root, comm_, &r), what);
      scratch_.push_back(r);
    });
    wait(scratch_, what);
  }

  /// Every rank's `value`, in rank order (out.size() == size()).
  void gather(std::uint64_t value, std::span<std::uint64_t> out, const char* what) {
    if (out.size() != static_cast<std::size_t>(size_))
      throw std::logic_error("typenet: MpiCommunicator::gather needs room for one value per rank.");
    MPI_Request r;
    check(MPI_Iallgather(&value, 1, MPI_UINT64_T, out.data(), 1, MPI_UINT64_T, comm_, &r), what);
    scratch_.push_back(r);
    wait(scratch_, what);
  }

  /// Prints "typenet: rank R of N, step S: <message>. Stopping every rank."
  /// on stderr and ends the job (MPI_Abort: mpirun then exits with status 1).
  [[noreturn]] void abort(const std::string& message) const {
    std::fprintf(stderr, "typenet: rank %d of %d, step %llu: %s. Stopping every rank.\n", rank_, size_,
                 static_cast<unsigned long long>(step_), message.c_str());
    std::fflush(stderr);
    MPI_Abort(comm_, 1);
    std::abort();  // MPI_Abort does not return; this keeps [[noreturn]] true if it did
  }

 private:
  template <class F>
  static void for_each_chunk(std::size_t n, F&& f) {
    constexpr std::size_t most = INT_MAX;
    for (std::size_t begin = 0; begin < n; begin += most) f(begin, static_cast<int>(std::min(most, n - begin)));
  }

  void check(int code, const char* what) const {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    abort(std::string(what) + " failed in MPI: " + std::string(text, static_cast<std::size_t>(length)));
  }

  static std::string format_seconds(seconds s) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", s.count());
    return text;
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  seconds timeout_;
  std::uint64_t step_ = 0;
  std::vector<MPI_Request> scratch_;  ///< requests of the blocking-style calls above
};

/// Runs `body` (the rank's work); an exception that escapes it stops every
/// rank at once with this rank's message, where the others would otherwise
/// wait in their next collective until the timeout. Returns body's status.
template <class F>
int stop_every_rank_on_exception(const MpiCommunicator& comm, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    comm.abort(e.what());
  }
}

}  // namespace typenet::distributed
