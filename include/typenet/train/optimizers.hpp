// Optimizers over the model's whole parameter buffer, one pass per step,
// with torch.optim's definitions (including where weight decay enters).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include "typenet/model/matrix.hpp"

namespace typenet {

namespace optimizer_detail {
template <class T>
void check_sizes(std::span<T> p, std::span<const T> g, const char* who) {
  if (p.size() != g.size())
    throw std::invalid_argument(std::string("typenet: ") + who + ": " + std::to_string(p.size()) +
                                " parameters but " + std::to_string(g.size()) + " gradients.");
}
}  // namespace optimizer_detail

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;  // L2: g += weight_decay * p
  bool nesterov = false;
};

// torch.optim.SGD:
//   g = grad + wd p
//   buf = g (first step), else momentum buf + (1 - dampening) g
//   g = nesterov ? g + momentum buf : buf       (when momentum != 0)
//   p = p - lr g
template <class T = float>
class SGD {
 public:
  explicit SGD(SGDOptions o = {}) : options(o) {
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
      throw std::invalid_argument("typenet: SGD: Nesterov momentum needs momentum > 0 and dampening 0.");
    if (!(o.lr >= 0)) throw std::invalid_argument("typenet: SGD: the learning rate must be >= 0.");
  }
  SGDOptions options;

  template <class M>
  void step(M& model) {
    step(model.parameters(), std::span<const T>(model.gradients()));
  }
  void step(std::span<T> p, std::span<const T> g) {
    optimizer_detail::check_sizes(p, g, "SGD");
    const T lr = T(options.lr), wd = T(options.weight_decay), mom = T(options.momentum);
    const T damp = T(1) - T(options.dampening);
    if (options.momentum == 0) {
      for (std::size_t i = 0; i < p.size(); ++i) p[i] -= lr * (g[i] + wd * p[i]);
      return;
    }
    if (buffer_.size() != p.size()) {
      buffer_.resize(p.size());
      first_ = true;
    }
    T* buf = buffer_.data();
    for (std::size_t i = 0; i < p.size(); ++i) {
      T d = g[i] + wd * p[i];
      buf[i] = first_ ? d : mom * buf[i] + damp * d;
      d = options.nesterov ? d + mom * buf[i] : buf[i];
      p[i] -= lr * d;
    }
    first_ = false;
  }

  std::span<T> momentum_buffer() { return buffer_.span(); }
  void reset() { buffer_ = {}; }

 private:
  AlignedBuffer<T> buffer_;
  bool first_ = true;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // Adam: L2 added to the gradient; AdamW: decoupled
};

// torch.optim.Adam (Decoupled = false) and torch.optim.AdamW (true):
//   AdamW: p = p (1 - lr wd);  Adam: g = grad + wd p
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
template <class T = float, bool Decoupled = false>
class BasicAdam {
 public:
  explicit BasicAdam(AdamOptions o = {}) : options(o) {
    if (!(o.lr >= 0)) throw std::invalid_argument("typenet: Adam: the learning rate must be >= 0.");
    if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1))
      throw std::invalid_argument("typenet: Adam: betas must be in [0, 1).");
    if (!(o.eps >= 0)) throw std::invalid_argument("typenet: Adam: eps must be >= 0.");
  }
  AdamOptions options;

  template <class M>
  void step(M& model) {
    step(model.parameters(), std::span<const T>(model.gradients()));
  }
  void step(std::span<T> p, std::span<const T> g) {
    optimizer_detail::check_sizes(p, g, Decoupled ? "AdamW" : "Adam");
    if (m_.size() != p.size()) {
      m_.resize(p.size());
      v_.resize(p.size());
      t_ = 0;
    }
    ++t_;
    const double bc1 = 1 - std::pow(options.beta1, static_cast<double>(t_));
    const double bc2 = 1 - std::pow(options.beta2, static_cast<double>(t_));
    const T step_size = T(options.lr / bc1), inv_sqrt_bc2 = T(1 / std::sqrt(bc2));
    const T b1 = T(options.beta1), b2 = T(options.beta2), eps = T(options.eps);
    const T wd = T(options.weight_decay), decay = T(1 - options.lr * options.weight_decay);
    T* m = m_.data();
    T* v = v_.data();
    for (std::size_t i = 0; i < p.size(); ++i) {
      T gi = g[i];
      if constexpr (Decoupled) p[i] *= decay;
      else gi += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  }

  std::size_t steps() const { return t_; }
  void set_steps(std::size_t t) { t_ = t; }
  std::span<T> first_moment() { return m_.span(); }
  std::span<T> second_moment() { return v_.span(); }

 private:
  AlignedBuffer<T> m_, v_;
  std::size_t t_ = 0;
};

template <class T = float>
using Adam = BasicAdam<T, false>;
template <class T = float>
using AdamW = BasicAdam<T, true>;

}  // namespace typenet
