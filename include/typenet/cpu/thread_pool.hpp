// A small persistent thread pool for the CPU kernels.
//
// Work is split statically: with T threads, thread t takes the t-th
// contiguous share of the tasks. Kernels make every output element the work
// of exactly one task with a fixed summation order, so results are bitwise
// identical whatever the number of threads.
//
// Waking a sleeping thread costs microseconds, more than a whole small
// training step; workers therefore spin briefly before they sleep, and callers
// use the pool only above a work threshold.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TYPENET_PAUSE() _mm_pause()
#else
#define TYPENET_PAUSE() ((void)0)
#endif

namespace typenet::cpu {

class ThreadPool {
 public:
  // `threads` counts the calling thread: ThreadPool(1) runs everything inline.
  explicit ThreadPool(unsigned threads = std::max(1u, std::thread::hardware_concurrency())) {
    threads = std::max(1u, threads);
    for (unsigned t = 1; t < threads; ++t) workers_.emplace_back([this, t] { work(t); });
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {
    stop_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& w : workers_) w.join();
  }

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  // Calls f(begin, end) on disjoint ranges covering [0, n), one per thread,
  // and returns when all are done. f must not throw.
  template <class F>
  void parallel_for(std::size_t n, F&& f) {
    if (size() == 1 || n <= 1) {
      if (n > 0) f(std::size_t{0}, n);
      return;
    }
    // Every worker takes part (some with an empty share), so that no worker
    // can still be reading this job's fields when the next one is posted.
    job_ = [](const void* ctx, std::size_t b, std::size_t e) { (*static_cast<const std::remove_reference_t<F>*>(ctx))(b, e); };
    context_ = &f;
    tasks_ = n;
    remaining_.store(size() - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    run_share(0);
    // Spin, then sleep, until the other shares are done.
    for (int spin = 0; remaining_.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin < 20000) {
        TYPENET_PAUSE();
      } else {
        const unsigned r = remaining_.load(std::memory_order_acquire);
        if (r != 0) remaining_.wait(r, std::memory_order_acquire);
      }
    }
  }

 private:
  void run_share(unsigned t) const {
    const std::size_t begin = tasks_ * t / size(), end = tasks_ * (t + 1) / size();
    if (begin < end) job_(context_, begin, end);
  }

  void work(unsigned t) {
    std::uint64_t seen = 0;
    for (;;) {
      std::uint64_t g;
      for (int spin = 0; (g = generation_.load(std::memory_order_acquire)) == seen; ++spin) {
        if (spin < 20000) TYPENET_PAUSE();
        else generation_.wait(seen, std::memory_order_acquire);
      }
      seen = g;
      if (stop_.load(std::memory_order_relaxed)) return;
      run_share(t);
      if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) remaining_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<unsigned> remaining_{0};
  std::atomic<bool> stop_{false};
  void (*job_)(const void*, std::size_t, std::size_t) = nullptr;
  const void* context_ = nullptr;
  std::size_t tasks_ = 0;
};

// The process-wide pool, one thread per core, created on first use.
inline ThreadPool& default_thread_pool() {
  static ThreadPool pool;
  return pool;
}

}  // namespace typenet::cpu
