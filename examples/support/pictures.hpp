// Pictures for the examples: the data go to CSV files in the --out folder,
// and a gnuplot script next to them turns each into a PNG. gnuplot is a
// well-kept tool (Debian: gnuplot-nox); when it is missing the example still
// writes the CSV and the script, and says how to draw them later.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

class Pictures {
 public:
  // An empty folder means no pictures (the examples' default).
  explicit Pictures(std::string folder) : folder_(std::move(folder)) {
    if (folder_.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(folder_, ec);
    if (ec) throw std::runtime_error("--out " + folder_ + ": cannot create the folder: " + ec.message());
  }

  bool enabled() const { return !folder_.empty(); }
  std::string path(const std::string& name) const { return (std::filesystem::path(folder_) / name).string(); }

  // Opens folder/name for writing, or throws naming the file.
  std::ofstream open(const std::string& name) const {
    std::ofstream f(path(name));
    if (!f) throw std::runtime_error(path(name) + ": cannot open for writing");
    return f;
  }

  // Writes folder/name.gp and runs gnuplot on it (if present) to make
  // folder/name.png. Returns whether the picture was drawn.
  bool draw(const std::string& name, const std::string& gnuplot_commands) const {
    const std::string script = path(name + ".gp");
    {
      std::ofstream f = open(name + ".gp");
      f << "set terminal pngcairo size 900,700 noenhanced\nset output '" << path(name + ".png") << "'\n"
        << gnuplot_commands;
      if (!f) throw std::runtime_error(script + ": write failed");
    }
    if (!gnuplot_available()) {
      if (!warned_) {
        std::printf("gnuplot not found: the data and scripts are in %s; draw them with `gnuplot %s` after "
                    "`apt-get install gnuplot-nox`\n",
                    folder_.c_str(), script.c_str());
        warned_ = true;
      }
      return false;
    }
    const std::string command = "gnuplot '" + script + "' 2>&1";
    if (std::system(command.c_str()) != 0) {
      std::printf("gnuplot failed on %s\n", script.c_str());
      return false;
    }
    std::printf("wrote %s\n", path(name + ".png").c_str());
    return true;
  }

  static bool gnuplot_available() {
    static const bool found = std::system("command -v gnuplot > /dev/null 2>&1") == 0;
    return found;
  }

 private:
  std::string folder_;
  mutable bool warned_ = false;
};

// One row per epoch (or step) of named series, written as CSV, and the
// gnuplot commands that draw each series against the first column.
class Curves {
 public:
  explicit Curves(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  void add(std::vector<double> row) { rows_.push_back(std::move(row)); }

  void write(const Pictures& pictures, const std::string& name, const std::string& title) const {
    if (!pictures.enabled()) return;
    {
      std::ofstream f = pictures.open(name + ".csv");
      for (std::size_t c = 0; c < columns_.size(); ++c) f << (c ? "," : "") << columns_[c];
      f << "\n";
      for (const auto& r : rows_) {
        for (std::size_t c = 0; c < r.size(); ++c) f << (c ? "," : "") << r[c];
        f << "\n";
      }
    }
    std::string commands = "set datafile separator ','\nset key autotitle columnhead\nset title '" + title +
                           "'\nset xlabel '" + columns_[0] + "'\nset grid\nplot ";
    for (std::size_t c = 1; c < columns_.size(); ++c)
      commands += (c > 1 ? ", " : "") + std::string("'") + pictures.path(name + ".csv") + "' using 1:" +
                  std::to_string(c + 1) + " with linespoints";
    pictures.draw(name, commands + "\n");
  }

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<double>> rows_;
};

}  // namespace examples

namespace examples {

// The decision boundary of a 2-D classifier: `score` maps a batch of points
// (n x 2) to one score per point; the picture shades the plane by score and
// draws the data points coloured by label.
template <class Score>
void draw_decision_boundary(const Pictures& pictures, const std::string& name, const std::string& title,
                            const float* points, const std::int32_t* labels, std::size_t n, Score&& score) {
  if (!pictures.enabled()) return;
  float lo[2] = {points[0], points[1]}, hi[2] = {points[0], points[1]};
  for (std::size_t i = 0; i < n; ++i)
    for (int c = 0; c < 2; ++c) {
      lo[c] = std::min(lo[c], points[2 * i + c]);
      hi[c] = std::max(hi[c], points[2 * i + c]);
    }
  constexpr std::size_t grid = 150;
  std::vector<float> xy(grid * grid * 2);
  for (std::size_t r = 0; r < grid; ++r)
    for (std::size_t c = 0; c < grid; ++c) {
      xy[2 * (r * grid + c)] = lo[0] - 0.5f + (hi[0] - lo[0] + 1.0f) * static_cast<float>(c) / (grid - 1);
      xy[2 * (r * grid + c) + 1] = lo[1] - 0.5f + (hi[1] - lo[1] + 1.0f) * static_cast<float>(r) / (grid - 1);
    }
  const std::vector<float> s = score(xy.data(), grid * grid);
  {
    std::ofstream f = pictures.open(name + "_grid.csv");
    for (std::size_t i = 0; i < grid * grid; ++i) f << xy[2 * i] << "," << xy[2 * i + 1] << "," << s[i] << "\n";
    std::ofstream p = pictures.open(name + "_points.csv");
    for (std::size_t i = 0; i < n; ++i) p << points[2 * i] << "," << points[2 * i + 1] << "," << labels[i] << "\n";
  }
  pictures.draw(name, "set datafile separator ','\nset title '" + title +
                          "'\nset palette defined (0 '#d8e4f5', 1 '#f7dede')\nunset colorbox\nset size ratio -1\n"
                          "plot '" + pictures.path(name + "_grid.csv") +
                          "' using 1:2:($3 > 0 ? 1 : 0) with image notitle, '" + pictures.path(name + "_points.csv") +
                          "' using 1:2:($3 > 0 ? 0xd62728 : 0x1f77b4) with points pt 7 ps 0.8 lc rgb variable notitle\n");
}

}  // namespace examples
