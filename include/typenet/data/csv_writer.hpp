// CSV tables written, for spreadsheets, pandas and read_csv:
//
//   data::write_csv("x.csv", x, {.column_names = {"a", "b"}});   // a header, then the rows of x
//   data::write_csv("iris.csv", iris);                           // a LabelledTable: features, then the label
//
// Each value is written as the shortest text that reads back as the same
// float or double (std::to_chars), so read_csv, pandas.read_csv
// (float_precision="round_trip") and numpy.loadtxt give back exactly the
// values written. NaN and infinities are written as "nan", "inf" and "-inf"
// (read_csv reads them back with .allow_non_finite). Names that hold the
// separator, a quote, a line break or spaces at either end are quoted, a
// quote doubled. Line ends are LF. Saving is atomic, as write_npy's
// (file_io.hpp): a failed save leaves the old file as it was.
//
// Every problem throws CsvError: "typenet: <path>: ...".
#pragma once

#include "typenet/config.hpp"

#include <charconv>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "typenet/base/atomic_file.hpp"
#include "typenet/base/matrix.hpp"
#include "typenet/data/csv.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::data {

/// How write_csv writes a table.
struct CsvWriteOptions {
  std::vector<std::string> column_names{};  ///< the header; empty: no header row
  char separator = ',';  ///< between cells
};

namespace csv_writer_detail {

using Output = AtomicFile<CsvError>;

inline void write_name(Output& out, std::string_view name, char separator) {
  const bool quote = name.find_first_of(std::string{separator, '"', '\n', '\r'}) != std::string_view::npos ||
                     (!name.empty() && (name.front() == ' ' || name.back() == ' ' || name.front() == '\t' ||
                                        name.back() == '\t'));
  if (!quote) {
    out.write(name.data(), name.size());
    return;
  }
  std::string quoted = "\"";
  for (const char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  quoted += '"';
  out.write(quoted.data(), quoted.size());
}

template <class T>
void write_value(Output& out, T value) {
  char text[32];
  const auto r = std::to_chars(text, text + sizeof text, value);
  out.write(text, static_cast<std::size_t>(r.ptr - text));
}

inline void check(const std::filesystem::path& file, std::size_t names, std::size_t columns, char separator) {
  if (!csv_detail::valid_separator(separator))
    csv_detail::fail(file, std::string("write_csv: .separator ") + csv_detail::show(std::string_view(&separator, 1)) +
                               " cannot separate numbers; use punctuation, a tab or a space.");
  if (names != 0 && names != columns)
    csv_detail::fail(file, "write_csv: " + std::to_string(names) + " column names for " + std::to_string(columns) +
                               " columns.");
}

/// The header (if any) and the rows; `extra(i)` writes what follows row i's
/// values (a label), `extra_name` its header cell.
template <class T, class Extra>
void write_table(const std::filesystem::path& file, MatrixView<T> x, const std::vector<std::string>& names,
                 char separator, std::string_view extra_name, Extra extra) {
  Output out(file);
  constexpr bool has_extra = !std::is_same_v<Extra, std::nullptr_t>;
  if (!names.empty() || !extra_name.empty()) {
    for (std::size_t j = 0; j < names.size(); ++j) {
      if (j) out.write(&separator, 1);
      write_name(out, names[j], separator);
    }
    if (has_extra) {
      if (!names.empty()) out.write(&separator, 1);
      write_name(out, extra_name, separator);
    }
    out.write("\n", 1);
  }
  for (std::size_t i = 0; i < x.rows; ++i) {
    for (std::size_t j = 0; j < x.cols; ++j) {
      if (j) out.write(&separator, 1);
      write_value(out, x(i, j));
    }
    if constexpr (has_extra) {
      if (x.cols) out.write(&separator, 1);
      extra(out, i);
    }
    out.write("\n", 1);
  }
  out.commit();
}

}  // namespace csv_writer_detail

/// The rows of x (float or double), after a header when column names are
/// given.
template <class T>
void write_csv(const std::filesystem::path& file, MatrixView<T> x, const CsvWriteOptions& options = {}) {
  static_assert(std::is_floating_point_v<std::remove_const_t<T>>, "typenet: write_csv writes float or double.");
  csv_writer_detail::check(file, options.column_names.size(), x.cols, options.separator);
  csv_writer_detail::write_table(file, x, options.column_names, options.separator, "", nullptr);
}
/// Writes x as a CSV table, atomically (the old file stays until the new one is complete).
template <class T>
void write_csv(const std::filesystem::path& file, const Matrix<T>& x, const CsvWriteOptions& options = {}) {
  write_csv(file, x.view(), options);
}

/// A table read_csv reads back as it was: the features, then the label
/// column (its class names when the table has them, else the ids), after a
/// header when the table has feature names (the label's column is then named
/// label_name, or "label"). (Class names that are all integers, such as "-1"
/// and "1", read back as names with .label_kind = CsvLabelKind::names.)
template <class T>
void write_csv(const std::filesystem::path& file, const LabelledTable<T>& table, char separator = ',') {
  const LabelledData<T>& d = table.data;
  csv_writer_detail::check(file, table.feature_names.size(), d.x.cols(), separator);
  if (d.labels.size() != d.x.rows())
    csv_detail::fail(file, "write_csv: " + std::to_string(d.x.rows()) + " rows but " +
                               std::to_string(d.labels.size()) + " labels.");
  for (const std::int32_t l : d.labels)
    if (!table.class_names.empty() && (l < 0 || static_cast<std::size_t>(l) >= table.class_names.size()))
      csv_detail::fail(file, "write_csv: the label " + std::to_string(l) + " has no class name (the table names " +
                                 std::to_string(table.class_names.size()) + " classes).");
  const std::string label_name =
      table.feature_names.empty() ? "" : (table.label_name.empty() ? std::string("label") : table.label_name);
  csv_writer_detail::write_table(file, d.x.view(), table.feature_names, separator, label_name,
                                 [&](csv_writer_detail::Output& out, std::size_t i) {
                                   if (table.class_names.empty()) {
                                     const std::string id = std::to_string(d.labels[i]);
                                     out.write(id.data(), id.size());
                                   } else {
                                     csv_writer_detail::write_name(
                                         out, table.class_names[static_cast<std::size_t>(d.labels[i])], separator);
                                   }
                                 });
}

}  // namespace typenet::data
