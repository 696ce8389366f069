// Prints, as one JSON object, what typenet's optimizers do on fixed data:
// for every optimizer and variant, in double and in float, the parameters
// and the whole state after each of `steps` steps from the same parameters
// and gradients; and the ExponentialLR schedule. test/torch/optimizers.py
// runs torch.optim on the same numbers (printed here too) and compares.
#include <cmath>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "typenet/train/optimizers.hpp"
#include "typenet/train/schedules.hpp"

using namespace typenet;

namespace {

constexpr std::size_t n = 37;  // no multiple of a vector: the tails run too
constexpr std::size_t steps = 20;

// The data, in double; the float runs take it rounded to float.
double start_value(std::size_t i) { return 1.5 * std::sin(0.7 * static_cast<double>(i) + 0.3); }
double gradient(std::size_t s, std::size_t i) {
  if ((i + s) % 11 == 0) return 0.0;  // zero gradients: the averages shrink, the steps vanish
  const double x = static_cast<double>(i), t = static_cast<double>(s);
  return 0.1 * std::cos(1.3 * x * (t + 1) + 0.5) * (1 + 0.5 * std::sin(t));
}

void print_values(std::span<const double> v) {
  std::printf("[");
  for (std::size_t i = 0; i < v.size(); ++i) std::printf("%s%.17g", i ? "," : "", v[i]);
  std::printf("]");
}
template <class T>
void print_values(std::span<const T> v) {
  const std::vector<double> d(v.begin(), v.end());
  print_values(std::span<const double>(d));
}

// The parameters and the whole state after a step, as one JSON object:
// buffers (null when not allocated), counters and flags.
template <class T, class State>
void print_state(std::span<const T> p, const State& state) {
  std::printf("{\"p\": ");
  print_values(p);
  std::printf(", \"buffers\": [");
  for (std::size_t k = 0; k < state.buffers.size(); ++k) {
    if (k) std::printf(",");
    if (state.buffers[k].size() == 0) std::printf("null");
    else print_values(state.buffers[k].span());
  }
  std::printf("], \"counters\": [");
  for (std::size_t k = 0; k < state.counters.size(); ++k) std::printf("%s%zu", k ? "," : "", state.counters[k]);
  std::printf("], \"flags\": [");
  for (std::size_t k = 0; k < state.flags.size(); ++k)
    std::printf("%s%s", k ? "," : "", state.flags[k] ? "true" : "false");
  std::printf("]}");
}

bool first_case = true;

// One run: the optimizer's options as torch names them, then each step's
// parameters, buffers (null when not allocated), counters and flags.
template <class T, class O>
void run(const char* torch_name, const std::string& torch_options, O optimizer) {
  std::vector<T> p(n), g(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<T>(start_value(i));
  std::printf("%s\n{\"optimizer\": \"%s\", \"dtype\": \"%s\", \"options\": {%s}, \"trajectory\": [",
              first_case ? "" : ",", torch_name, sizeof(T) == 4 ? "float32" : "float64", torch_options.c_str());
  first_case = false;
  for (std::size_t s = 0; s < steps; ++s) {
    for (std::size_t i = 0; i < n; ++i) g[i] = static_cast<T>(gradient(s, i));
    optimizer.step(std::span<T>(p), std::span<const T>(g));
    std::printf("%s", s ? "," : "");
    print_state(std::span<const T>(p), optimizer.state());
  }
  std::printf("]}");
}

// The moving averages' decay while gradients are zero, in float: one step
// with gradients, then zero ones; the state after `snapshot` steps (still
// normal numbers) and after `decay_end` (torch's have decayed into
// subnormals by then and stay there; typenet's reach zero).
constexpr std::size_t snapshot = 600, decay_end = 1500;
bool first_decay = true;
template <class O>
void decay(const char* torch_name, const std::string& torch_options, O optimizer) {
  std::vector<float> p(n), g(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(start_value(i)), g[i] = static_cast<float>(gradient(0, i));
  std::printf("%s\n{\"optimizer\": \"%s\", \"dtype\": \"float32\", \"options\": {%s}, \"snapshot\": ",
              first_decay ? "" : ",", torch_name, torch_options.c_str());
  first_decay = false;
  optimizer.step(std::span<float>(p), std::span<const float>(g));
  std::fill(g.begin(), g.end(), 0.0f);
  for (std::size_t s = 1; s < decay_end; ++s) {
    optimizer.step(std::span<float>(p), std::span<const float>(g));
    if (s + 1 == snapshot) print_state(std::span<const float>(p), optimizer.state());
  }
  std::printf(", \"end\": ");
  print_state(std::span<const float>(p), optimizer.state());
  std::printf("}");
}

template <class T>
void run_all() {
  run<T>("SGD", "\"lr\": 0.1", SGD<T>({.lr = 0.1}));
  run<T>("SGD", "\"lr\": 0.05, \"momentum\": 0.9", SGD<T>({.lr = 0.05, .momentum = 0.9}));
  run<T>("SGD", "\"lr\": 0.05, \"momentum\": 0.9, \"dampening\": 0.3, \"weight_decay\": 0.01",
         SGD<T>({.lr = 0.05, .momentum = 0.9, .dampening = 0.3, .weight_decay = 0.01}));
  run<T>("SGD", "\"lr\": 0.05, \"momentum\": 0.9, \"nesterov\": true, \"weight_decay\": 0.001",
         SGD<T>({.lr = 0.05, .momentum = 0.9, .weight_decay = 0.001, .nesterov = true}));
  run<T>("Adam", "\"lr\": 0.01", Adam<T>({.lr = 0.01}));
  run<T>("Adam", "\"lr\": 0.01, \"betas\": [0.8, 0.99], \"eps\": 1e-6, \"weight_decay\": 0.1",
         Adam<T>({.lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.1}));
  run<T>("AdamW", "\"lr\": 0.01, \"weight_decay\": 0.1", AdamW<T>({.lr = 0.01, .weight_decay = 0.1}));
  run<T>("RMSprop", "", RMSprop<T>());
  run<T>("RMSprop", "\"centered\": true", RMSprop<T>({.centered = true}));
  run<T>("RMSprop", "\"momentum\": 0.9", RMSprop<T>({.momentum = 0.9}));
  run<T>("RMSprop", "\"weight_decay\": 0.01", RMSprop<T>({.weight_decay = 0.01}));
  run<T>("RMSprop", "\"lr\": 0.001, \"alpha\": 0.9, \"eps\": 1e-6, \"weight_decay\": 0.01, \"momentum\": 0.5, "
                    "\"centered\": true",
         RMSprop<T>({.lr = 0.001, .alpha = 0.9, .eps = 1e-6, .weight_decay = 0.01, .momentum = 0.5, .centered = true}));
  run<T>("Adagrad", "", Adagrad<T>());
  run<T>("Adagrad", "\"lr_decay\": 0.1", Adagrad<T>({.lr_decay = 0.1}));
  run<T>("Adagrad", "\"weight_decay\": 0.01", Adagrad<T>({.weight_decay = 0.01}));
  run<T>("Adagrad", "\"initial_accumulator_value\": 0.1", Adagrad<T>({.initial_accumulator_value = 0.1}));
  run<T>("Adagrad", "\"lr\": 0.1, \"lr_decay\": 0.05, \"weight_decay\": 0.001, \"initial_accumulator_value\": 0.2, "
                    "\"eps\": 1e-8",
         Adagrad<T>(
             {.lr = 0.1, .lr_decay = 0.05, .weight_decay = 0.001, .initial_accumulator_value = 0.2, .eps = 1e-8}));
}

}  // namespace

int main() {
  std::printf("{\"steps\": %zu, \"start\": ", steps);
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = start_value(i);
  print_values(std::span<const double>(v));
  std::printf(", \"gradients\": [");
  for (std::size_t s = 0; s < steps; ++s) {
    for (std::size_t i = 0; i < n; ++i) v[i] = gradient(s, i);
    std::printf("%s", s ? "," : "");
    print_values(std::span<const double>(v));
  }
  std::printf("],\n\"cases\": [");
  run_all<double>();
  run_all<float>();
  std::printf("],\n\"decay\": {\"snapshot\": %zu, \"end\": %zu, \"cases\": [", snapshot, decay_end);
  decay("Adam", "\"lr\": 0.001", Adam<float>({.lr = 1e-3}));
  decay("SGD", "\"lr\": 0.05, \"momentum\": 0.9", SGD<float>({.lr = 0.05, .momentum = 0.9}));
  decay("RMSprop", "\"alpha\": 0.9, \"momentum\": 0.9, \"centered\": true",
        RMSprop<float>({.alpha = 0.9, .momentum = 0.9, .centered = true}));
  std::printf("]}");
  const ExponentialLR schedule{0.1, 0.95};
  std::vector<double> rates(200);
  for (std::size_t k = 0; k < rates.size(); ++k) rates[k] = schedule(k);
  std::printf(",\n\"exponential_lr\": {\"lr\": 0.1, \"gamma\": 0.95, \"rates\": ");
  print_values(std::span<const double>(rates));
  std::printf("}}\n");
}
