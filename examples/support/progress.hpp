// Progress of an epoch: a bar with samples/s and time left when the output
// is a terminal, nothing in between otherwise (logs stay clean).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace examples {

class Progress {
 public:
  Progress(std::string label, std::size_t total)
      : label_(std::move(label)), total_(total), tty_(isatty(fileno(stdout)) != 0),
        start_(std::chrono::steady_clock::now()), last_(start_) {}

  // `done` samples of `total` so far; redraws at most 10 times a second.
  void update(std::size_t done) {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    const double left = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
    constexpr int width = 30;
    const int filled = total_ ? static_cast<int>(width * done / total_) : width;
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    std::printf("\r%s [%s] %zu/%zu  %.0f samples/s  %.1fs left ", label_.c_str(), bar.c_str(), done, total_, rate,
                left);
    std::fflush(stdout);
  }

  // Clears the bar so the next printed line starts clean.
  void finish() {
    if (!tty_) return;
    std::printf("\r%*s\r", 100, "");
    std::fflush(stdout);
  }

  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::string label_;
  std::size_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace examples
