// The readers and the writer as a command, for test/npy_csv_check.py to
// compare with numpy and pandas:
//
//   npy_csv_probe npy float|double IN OUT             read_npy, then write_npy
//   npy_csv_probe labels IN OUT                       read_npy_labels, then write_npy_labels
//   npy_csv_probe csv float|double IN X Y [OPTION]...         read_csv: X.npy, labels Y.npy
//   npy_csv_probe regression float|double IN X T [OPTION]...  read_csv_regression: X.npy, targets T.npy
//   npy_csv_probe matrix float|double IN X [OPTION]...        read_csv_matrix: X.npy
//   npy_csv_probe rewrite float|double IN OUT [OPTION]...     read_csv, then write_csv
//
// OPTION: label=NAME, label=#N (a position, negative from the end),
// target=NAME, target=#N, sep=, (or sep=tab), header=detect|names|none|sklearn,
// skip=N, kind=detect|integers|names, drop, nonfinite. The CSV commands print
// the names they read as one JSON object. A reader's error goes to stderr,
// with exit status 3.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "typenet/data/csv.hpp"
#include "typenet/data/csv_writer.hpp"
#include "typenet/data/npy.hpp"

using namespace typenet;

namespace {

std::string json(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", u);
      out += escape;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

template <class T>
std::string json(const std::vector<T>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    if constexpr (std::is_same_v<T, std::string>) out += json(v[i]);
    else out += std::to_string(v[i]);
  }
  return out + "]";
}

data::CsvColumn column(const std::string& value) {
  if (!value.empty() && value[0] == '#') return data::CsvColumn(std::stoi(value.substr(1)));
  return data::CsvColumn(value);
}

data::CsvOptions options(int argc, char** argv, int first) {
  data::CsvOptions o;
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    const std::string key = arg.substr(0, eq), value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (key == "label") o.label = column(value);
    else if (key == "target") o.target = column(value);
    else if (key == "sep") o.separator = value == "tab" ? '\t' : value.at(0);
    else if (key == "skip") o.skip_rows = std::stoul(value);
    else if (key == "drop") o.drop_bad_rows = true;
    else if (key == "nonfinite") o.allow_non_finite = true;
    else if (key == "header")
      o.header = value == "names" ? data::CsvHeader::names
                 : value == "none" ? data::CsvHeader::none
                 : value == "sklearn" ? data::CsvHeader::sklearn
                                      : data::CsvHeader::detect;
    else if (key == "kind")
      o.label_kind = value == "integers" ? data::CsvLabelKind::integers
                     : value == "names" ? data::CsvLabelKind::names
                                        : data::CsvLabelKind::detect;
    else throw std::invalid_argument("unknown option " + arg);
  }
  return o;
}

template <class T>
int run(const std::string& command, int argc, char** argv) {
  if (command == "npy") {
    data::write_npy(argv[4], data::read_npy<T>(argv[3]));
  } else if (command == "csv") {
    const auto t = data::read_csv<T>(argv[3], options(argc, argv, 6));
    data::write_npy(argv[4], t.data.x);
    data::write_npy_labels(argv[5], t.data.labels);
    std::printf("{\"class_names\": %s, \"feature_names\": %s, \"label_name\": %s, \"dropped_lines\": %s}\n",
                json(t.class_names).c_str(), json(t.feature_names).c_str(), json(t.label_name).c_str(),
                json(t.dropped_lines).c_str());
  } else if (command == "regression") {
    const auto t = data::read_csv_regression<T>(argv[3], options(argc, argv, 6));
    data::write_npy(argv[4], t.x);
    data::write_npy(argv[5], t.targets);
    std::printf("{\"feature_names\": %s, \"target_name\": %s, \"dropped_lines\": %s}\n",
                json(t.feature_names).c_str(), json(t.target_name).c_str(), json(t.dropped_lines).c_str());
  } else if (command == "rewrite") {
    data::write_csv(argv[4], data::read_csv<T>(argv[3], options(argc, argv, 5)));
  } else if (command == "matrix") {
    const auto t = data::read_csv_matrix<T>(argv[3], options(argc, argv, 5));
    data::write_npy(argv[4], t.values);
    std::printf("{\"column_names\": %s, \"dropped_lines\": %s}\n", json(t.column_names).c_str(),
                json(t.dropped_lines).c_str());
  } else {
    std::fprintf(stderr, "unknown command %s\n", command.c_str());
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: npy_csv_probe COMMAND ... (see npy_csv_probe.cpp)\n");
    return 2;
  }
  const std::string command = argv[1];
  try {
    if (command == "labels") {
      data::write_npy_labels(argv[3], data::read_npy_labels(argv[2]));
      return 0;
    }
    if (argc < 5) return 2;
    const std::string type = argv[2];
    return type == "float" ? run<float>(command, argc, argv) : run<double>(command, argc, argv);
  } catch (const data::NpyError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 3;
  } catch (const data::CsvError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 3;
  }
}
