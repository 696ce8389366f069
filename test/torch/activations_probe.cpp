// typenet's SiLU, Softplus, Mish and Hardswish on a grid, for
// test/torch/activations.py to compare with torch.nn's: one JSON object with,
// per scalar type (float, double), the grid and, per activation, the values
// and derivatives on the two paths the kernels take: SIMD vectors
// (cpu::activation and cpu::activation_derivative, the CPU kernels' path)
// and scalars (what each GPU thread evaluates).
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "typenet/cpu/elementwise.hpp"
#include "typenet/topology/activations.hpp"

using namespace typenet;

namespace {

template <class T>
void print_number(T v) {
  if (std::isnan(v)) std::fputs("NaN", stdout);
  else if (std::isinf(v)) std::fputs(v > 0 ? "Infinity" : "-Infinity", stdout);
  else std::printf("%.*g", std::numeric_limits<T>::max_digits10, static_cast<double>(v));
}

template <class T>
void print_list(const std::vector<T>& values) {
  std::fputc('[', stdout);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) std::fputc(',', stdout);
    print_number(values[i]);
  }
  std::fputc(']', stdout);
}

template <class T>
void add_with_neighbours(std::vector<T>& grid, T x) {
  grid.push_back(std::nextafter(x, -std::numeric_limits<T>::infinity()));
  grid.push_back(x);
  grid.push_back(std::nextafter(x, std::numeric_limits<T>::infinity()));
}

// [-40, 40] in steps of 1/64; the kinks, the thresholds (threshold / beta)
// and where float's e^x overflows (88.72), each with its neighbours; large
// |x| up to float's and double's ranges.
template <class T>
std::vector<T> grid() {
  std::vector<T> g;
  for (int i = -40 * 64; i <= 40 * 64; ++i) g.push_back(static_cast<T>(i) / 64);
  for (T k : {T(-3), T(3), T(0), T(-1.5), T(20), T(5), T(10), T(100), T(88.72)}) add_with_neighbours(g, k);
  std::vector<double> large{50, 80, 87, 88, 89, 95, 99, 101, 300, 1e3, 1e4, 1e10, 1e30, 3e38};
  if constexpr (std::is_same_v<T, double>) large.insert(large.end(), {700, 709, 710, 745, 800, 1e100, 1e300});
  for (double v : large) {
    g.push_back(static_cast<T>(v));
    g.push_back(static_cast<T>(-v));
  }
  return g;
}

template <class A, class T>
void print_activation(const std::vector<T>& xs, const char* torch_module, double beta, double threshold,
                      bool last) {
  using V = simd::vec<T>;
  constexpr int W = simd::lanes<T>;
  std::vector<T> vector_value, vector_derivative, scalar_value, scalar_derivative;
  for (std::size_t i = 0; i < xs.size(); i += W) {
    V u = simd::splat<V>(T(0));
    const int n = static_cast<int>(std::min<std::size_t>(W, xs.size() - i));
    for (int l = 0; l < n; ++l) u[l] = xs[i + static_cast<std::size_t>(l)];
    const V y = cpu::activation<A>(u);
    const V d = cpu::activation_derivative<A>(u, y);
    for (int l = 0; l < n; ++l) {
      vector_value.push_back(y[l]);
      vector_derivative.push_back(d[l]);
    }
  }
  for (T x : xs) {
    const T y = cpu::activation<A>(x);
    scalar_value.push_back(y);
    scalar_derivative.push_back(cpu::activation_derivative<A>(x, y));
  }
  std::printf("{\"name\":\"%s\",\"module\":\"%s\",\"beta\":%.9g,\"threshold\":%.9g,", A::name().c_str(), torch_module,
              beta, threshold);
  std::fputs("\"vector\":{\"value\":", stdout);
  print_list(vector_value);
  std::fputs(",\"derivative\":", stdout);
  print_list(vector_derivative);
  std::fputs("},\"scalar\":{\"value\":", stdout);
  print_list(scalar_value);
  std::fputs(",\"derivative\":", stdout);
  print_list(scalar_derivative);
  std::fputs(last ? "}}" : "}},", stdout);
}

template <class T>
void print_type(const char* key, bool last) {
  const std::vector<T> xs = grid<T>();
  std::printf("\"%s\":{\"x\":", key);
  print_list(xs);
  std::fputs(",\"activations\":[", stdout);
  print_activation<SiLU>(xs, "SiLU", 0, 0, false);
  print_activation<Softplus<>>(xs, "Softplus", 1, 20, false);
  print_activation<Softplus<2.0f, 10.0f>>(xs, "Softplus", 2, 10, false);
  print_activation<Softplus<0.5f, 5.0f>>(xs, "Softplus", 0.5, 5, false);
  // A threshold above 88.7: PyTorch's float e^x overflows below it.
  print_activation<Softplus<1.0f, 100.0f>>(xs, "Softplus", 1, 100, false);
  print_activation<Softplus<-1.0f, 20.0f>>(xs, "Softplus", -1, 20, false);  // beta < 0, as PyTorch allows
  print_activation<Mish>(xs, "Mish", 0, 0, false);
  print_activation<Hardswish>(xs, "Hardswish", 0, 0, true);
  std::fputs(last ? "]}" : "]},", stdout);
}

}  // namespace

int main() {
  std::fputc('{', stdout);
  print_type<float>("float", false);
  print_type<double>("double", true);
  std::fputs("}\n", stdout);
}
