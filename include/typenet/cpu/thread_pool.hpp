// A small persistent thread pool for the CPU kernels.
//
// Tasks are claimed one at a time from a shared counter by whichever thread
// is running: the calling thread takes part, so when a worker is slow to wake
// (its core is busy with another program) the caller simply does more of the
// tasks instead of waiting for a fixed share. Kernels make every output
// element the work of exactly one task with a fixed summation order, so
// results are bitwise identical whatever the number of threads and whoever
// runs which task.
//
// Waking a sleeping thread costs microseconds, more than a whole small
// training step; workers therefore spin briefly before they sleep, and callers
// use the pool only above a work threshold.
//
// Workers compute in the caller's floating-point mode: on x86 each task runs
// with the control bits of the caller's MXCSR (rounding, flush-to-zero,
// denormals-are-zero), read when the job is posted. A program that flushes
// subnormal numbers (`_mm_setcsr(_mm_getcsr() | 0x8040)`, or -ffast-math's
// startup code) thus flushes them in every task, and the results stay the
// same whichever thread runs which task, whenever the pool was created.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

#include "typenet/config.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TYPENET_PAUSE() _mm_pause()
#define TYPENET_FP_CONTROL_FOLLOWS_CALLER 1
#else
#define TYPENET_PAUSE() ((void)0)
#define TYPENET_FP_CONTROL_FOLLOWS_CALLER 0
#endif

namespace typenet::inline TYPENET_ISA_NAMESPACE::cpu {

/// A fixed set of worker threads that run parallel_for's tasks with the calling thread; the split of work does not change any result.
class ThreadPool {
 public:
  /// `threads` counts the calling thread: ThreadPool(1) runs everything inline.
  explicit ThreadPool(unsigned threads = std::max(1u, std::thread::hardware_concurrency())) {
    threads = std::max(1u, threads);
    for (unsigned t = 1; t < threads; ++t) workers_.emplace_back([this] { work(); });
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {
    stop_.store(true, std::memory_order_relaxed);
    posted_.fetch_add(1, std::memory_order_release);
    posted_.notify_all();
    for (auto& w : workers_) w.join();
  }

  /// The number of threads, the caller's included.
  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  /// Calls f(begin, end) on consecutive ranges covering [0, n), each range one
  /// task, and returns when all are done. f must not throw.
  template <class F>
  void parallel_for(std::size_t n, F&& f) {
    if (size() == 1 || n <= 1) {
      if (n > 0) f(std::size_t{0}, n);
      return;
    }
    // At most max_tasks tasks: beyond, each task takes several indices.
    const std::size_t per_task = (n + max_tasks - 1) / max_tasks;
    const std::size_t tasks = (n + per_task - 1) / per_task;
    auto run_task = [&](std::size_t t) { f(t * per_task, std::min(n, (t + 1) * per_task)); };
    job_ = [](const void* ctx, std::size_t t) { (*static_cast<const decltype(run_task)*>(ctx))(t); };
    context_ = &run_task;
#if TYPENET_FP_CONTROL_FOLLOWS_CALLER
    fp_control_ = _mm_getcsr() & fp_control_bits;
#endif
    done_.store(0, std::memory_order_relaxed);
    // The job's whole identity is in one word (generation, task count, next
    // task), so a claim is valid exactly when it succeeds.
    generation_ = (generation_ + 1) & 0xffffffffu;
    next_.store(generation_ << 32 | tasks << 16, std::memory_order_release);
    posted_.fetch_add(1, std::memory_order_release);
    posted_.notify_all();
    run_tasks(generation_);
    // Only tasks already claimed by workers remain: wait for them.
    for (int spin = 0; done_.load(std::memory_order_acquire) != tasks; ++spin) {
      if (spin < 20000) {
        TYPENET_PAUSE();
      } else {
        const std::size_t d = done_.load(std::memory_order_acquire);
        if (d != tasks) done_.wait(d, std::memory_order_acquire);
      }
    }
  }

 private:
  static constexpr std::uint64_t max_tasks = 0xffff;
  /// MXCSR's control bits: denormals-are-zero (6), the exception masks
  /// (7-12), rounding (13-14), flush-to-zero (15); not the sticky flags 0-5.
  static constexpr unsigned fp_control_bits = 0xffc0;

  /// Claims and runs tasks of job `generation` until none is left. A claim
  /// that succeeds names an unfinished task of a job whose caller is still
  /// waiting, so job_ and context_ are that job's.
  void run_tasks(std::uint64_t generation) {
    std::uint64_t v = next_.load(std::memory_order_acquire);
    [[maybe_unused]] bool in_callers_mode = false;
    for (;;) {
      const std::uint64_t tasks = (v >> 16) & 0xffffu, task = v & 0xffffu;
      if ((v >> 32) != generation || task >= tasks) return;
      if (!next_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
#if TYPENET_FP_CONTROL_FOLLOWS_CALLER
      // Once per job and thread, after the first claim (which makes
      // fp_control_ this job's): a worker takes the caller's mode.
      if (!in_callers_mode) {
        const unsigned csr = _mm_getcsr();
        if ((csr & fp_control_bits) != fp_control_) _mm_setcsr((csr & ~fp_control_bits) | fp_control_);
        in_callers_mode = true;
      }
#endif
      job_(context_, task);
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == tasks) done_.notify_one();
      v = next_.load(std::memory_order_acquire);
    }
  }

  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      std::uint64_t p;
      for (int spin = 0; (p = posted_.load(std::memory_order_acquire)) == seen; ++spin) {
        if (spin < 20000) TYPENET_PAUSE();
        else posted_.wait(seen, std::memory_order_acquire);
      }
      seen = p;
      if (stop_.load(std::memory_order_relaxed)) return;
      // The job in `next_` now (a late worker may find a newer job than the
      // one that woke it, or none: either way its claims are checked).
      run_tasks(next_.load(std::memory_order_acquire) >> 32);
    }
  }

  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> posted_{0};  ///< bumped per job: wakes the workers
  std::atomic<std::uint64_t> next_{0};    ///< generation << 32 | tasks << 16 | next task
  std::atomic<std::uint64_t> done_{0};    ///< tasks finished in the current job
  std::atomic<bool> stop_{false};
  std::uint64_t generation_ = 0;          ///< the caller's count of jobs (32 bits)
  /// Read by a worker only after a successful claim (see run_tasks).
  void (*job_)(const void*, std::size_t) = nullptr;
  const void* context_ = nullptr;
  unsigned fp_control_ = 0;  ///< the caller's MXCSR control bits, read as job_ is
};

/// The process-wide pool, one thread per core, created on first use.
inline ThreadPool& default_thread_pool() {
  static ThreadPool pool;
  return pool;
}

}  // namespace typenet::cpu
