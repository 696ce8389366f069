// Numeric tables from CSV files:
//
//   // Classification: features, and class labels from one column.
//   auto iris = data::read_csv<float>("iris.csv", {.label = "species"});   // or {.label = -1}: the last column
//   iris.data.x;            // Matrix<float>: rows x features (every column but the label's)
//   iris.data.labels;       // class ids 0, 1, 2, ...
//   iris.class_names;       // the name of each class id, when the file names them
//
//   // Regression: features, and a numeric target column.
//   auto houses = data::read_csv_regression<double>("houses.csv", {.target = "price"});
//   houses.x; houses.targets;                                  // rows x features, rows x 1
//
//   // Every column, as numbers.
//   auto table = data::read_csv_matrix<float>("table.csv");
//   table.values; table.column_names;
//
// All three take the same CsvOptions; read_csv uses .label, read_csv_regression
// .target (unset: the last column), read_csv_matrix neither. Writing:
// csv_writer.hpp.
//
// What is read:
//  - Separators: comma, semicolon or tab, found from the first line (the one
//    of the three that occurs most often there outside quotes; a tie is an
//    error that asks for .separator), or set with .separator (any
//    punctuation, tab or space that cannot be part of a number).
//  - Header: a row of column names or none, told apart from the first two
//    rows (a header has a name where the row below has a number), or set
//    with .header. Naming the label or target column implies a header
//    (below scikit-learn's counts line, only a row of names is one).
//  - scikit-learn's bundled tables (sklearn/datasets/data/*.csv), whose first
//    line holds the counts and the class names: "569,30,malignant,benign"
//    (569 samples, 30 features, then the name of class 0, of class 1, ...);
//    recognised when the first two cells are counts and the third on are
//    names or empty, and the rows below have features + 1 cells; the label
//    is then the last column, its classes take those names, and the number
//    of data rows must be the first count. A row of column names may follow
//    (boston_house_prices.csv).
//  - .skip_rows lines skipped before anything else (after a UTF-8
//    byte-order mark, which is always skipped).
//  - Quoted cells ("1.5", "a, b", "say ""hi""", line breaks inside quotes);
//    spaces around a cell are not part of it (spaces inside quotes are);
//    line ends LF or CRLF; empty lines are skipped (as pandas does).
//  - Numbers as std::from_chars reads them ("1", "-2.5e-3", ".5"), with an
//    optional "+". A value beyond T's range is an error; one too small for T
//    becomes the nearest value (0 or a subnormal), as strtod gives.
//  - "nan", "inf" and "infinity" (any case, with a sign): an error unless
//    .allow_non_finite, then read as IEEE values. Training on NaN silently
//    ruins a model, so they must be asked for. Empty cells and markers such as
//    "NA" are errors either way.
//  - Labels: integers (class ids, 0 to 2^31 - 1) or names. With
//    .label_kind = CsvLabelKind::detect (the default), a column whose every
//    cell is an integer holds ids; otherwise its cells are class names,
//    numbered in sorted (byte) order as scikit-learn's LabelEncoder does, and
//    kept in class_names. A column of numbers that are not all integers is
//    an error (regression targets belong in read_csv_regression).
//
// Errors: every problem throws CsvError (a FileError, base/file_error.hpp) whose message
// starts "typenet: <path>: " and names the line and, for a cell, the column
// (both counted from 1, as editors do; the column's name too when there is a
// header) and what is wrong: a ragged row (its number of cells and the
// header's), an empty cell, a cell that is not a number, an unclosed quote,
// bad options. With .drop_bad_rows, rows with the wrong number of cells,
// empty cells or cells that are not numbers are skipped instead, and their
// lines are listed in dropped_lines; everything else is still an error.
//
// Speed: the file is read whole into memory, once; numbers are parsed in
// place with std::from_chars, straight into the result matrix (allocated
// once, for an upper bound of the rows); no cell is copied or allocated
// unless it is quoted or is a label name.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/base/file_error.hpp"
#include "typenet/base/matrix.hpp"
#include "typenet/data/file_io.hpp"
#include "typenet/data/generators.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::data {

struct CsvError : FileError {
  using FileError::FileError;
};

/// A column by its name in the header row, or by its position: 0 the first,
/// 1 the second, ..., -1 the last, -2 the one before it. Unset (the
/// default): the reader's default column (the last).
class CsvColumn {
 public:
  CsvColumn() = default;
  /// The column of this name.
  CsvColumn(const char* name) : name_(name), kind_(Kind::name) {}
  /// The column of this name.
  CsvColumn(std::string name) : name_(std::move(name)), kind_(Kind::name) {}
  /// The column at this position (negative: from the last).
  CsvColumn(int index) : index_(index), kind_(Kind::index) {}

  /// Whether a column was given.
  bool is_set() const { return kind_ != Kind::unset; }
  /// Whether it was given by name.
  bool by_name() const { return kind_ == Kind::name; }
  /// The name given.
  const std::string& name() const { return name_; }
  /// The position given.
  long index() const { return index_; }

 private:
  enum class Kind { unset, name, index };
  std::string name_;
  long index_ = -1;
  Kind kind_ = Kind::unset;
};

/// Whether the first row names the columns.
enum class CsvHeader {
  detect,  ///< a header if the first row has a name where the second has a number
  names,  ///< the first row holds column names
  none,  ///< every row is data
  sklearn,  ///< scikit-learn's counts line (see the top), then maybe a row of names
};

/// Whether labels are class ids or class names.
enum class CsvLabelKind {
  detect,  ///< integers if every label is one, names otherwise
  integers,  ///< every label must be an integer class id
  names,  ///< every label is a class name, even "0" or "1.5"
};

/// How read_csv reads a file.
struct CsvOptions {
  CsvColumn label{};   ///< read_csv: the class labels (unset: the last column)
  CsvColumn target{};  ///< read_csv_regression: the targets (unset: the last column)
  CsvLabelKind label_kind = CsvLabelKind::detect;  ///< whether labels are ids or names
  CsvHeader header = CsvHeader::detect;  ///< whether the first row names the columns
  char separator = '\0';      ///< NUL (the default): found from the first line (a comma, semicolon or tab)
  std::size_t skip_rows = 0;  ///< lines skipped before the header or the data
  bool drop_bad_rows = false;  ///< skip rows that do not read, listing their lines, instead of throwing
  bool allow_non_finite = false;  ///< read nan, inf, infinity as IEEE values
};

/// A classification table: features, class labels, and the names the file gave them.
template <class T>
struct LabelledTable {
  LabelledData<T> data;                    ///< x: rows x features; labels: class ids
  std::vector<std::string> class_names;    ///< class_names[id]; empty when the file names no classes
  std::vector<std::string> feature_names;  ///< the header's names of x's columns; empty without a header
  std::string label_name;                  ///< the header's name of the label column
  std::vector<std::size_t> dropped_lines;  ///< with .drop_bad_rows: the lines skipped
};

/// A regression table: features and targets.
template <class T>
struct RegressionTable {
  Matrix<T> x;        ///< rows x features
  Matrix<T> targets;  ///< rows x 1
  std::vector<std::string> feature_names;  ///< the header's names of x's columns; empty without a header
  std::string target_name;  ///< the header's name of the target column
  std::vector<std::size_t> dropped_lines;  ///< with .drop_bad_rows: the lines skipped
};

/// Every column of a numeric table, with its names.
template <class T>
struct CsvTable {
  Matrix<T> values;  ///< rows x columns
  std::vector<std::string> column_names;  ///< empty without a header
  std::vector<std::size_t> dropped_lines;  ///< with .drop_bad_rows: the lines skipped
};

namespace csv_detail {

using std::filesystem::path;

[[noreturn, gnu::cold]] inline void fail(const path& file, const std::string& problem) {
  file_io_detail::fail<CsvError>(file, problem);
}

/// A cell's text for a message: quoted, non-printable bytes escaped, long
/// text cut.
inline std::string show(std::string_view text, std::size_t limit = 40) {
  return "'" + file_io_detail::escaped(text, limit, /*keep_high=*/true) + "'";
}

inline std::string line_text(std::size_t line) { return "line " + std::to_string(line); }

// ------------------------------------------------------------ numbers
enum class NumberStatus { ok, invalid, out_of_range, non_finite };

/// Whether a number std::from_chars gave up on as out of range is too large
/// (true) or too small (false) for T: from where its first significant digit
/// stands and its exponent.
inline bool too_large(const char* b, const char* e) {
  if (b < e && (*b == '-' || *b == '+')) ++b;
  long long magnitude = 0;  // decimal exponent of the first nonzero digit, + 1
  bool found = false, point = false;
  long long integer_digits = 0, leading_fraction_zeros = 0;
  for (; b < e && ((*b >= '0' && *b <= '9') || *b == '.'); ++b) {
    if (*b == '.') {
      point = true;
      continue;
    }
    if (!point) {
      if (found || *b != '0') {
        found = true;
        ++integer_digits;
      }
    } else if (!found) {
      if (*b == '0') ++leading_fraction_zeros;
      else found = true;
    }
  }
  magnitude = integer_digits > 0 ? integer_digits : -leading_fraction_zeros;
  long long exponent = 0;
  if (b < e && (*b == 'e' || *b == 'E')) {
    ++b;
    const bool negative = b < e && *b == '-';
    if (b < e && (*b == '-' || *b == '+')) ++b;
    for (; b < e && *b >= '0' && *b <= '9'; ++b) exponent = std::min(exponent * 10 + (*b - '0'), 1000000000LL);
    if (negative) exponent = -exponent;
  }
  return magnitude + exponent > 0;
}

/// from_chars gave up on [b, e) as out of range: too large is an error; too
/// small becomes what strtod gives (0 or a subnormal), through long double's
/// wider exponent.
template <class T>
[[gnu::cold, gnu::noinline]] NumberStatus out_of_range(const char* b, const char* e, T& value) {
  long double wide = 0;
  if (std::from_chars(b, e, wide, std::chars_format::general).ec == std::errc()) {
    if (std::fabs(wide) > 1) return NumberStatus::out_of_range;
    value = static_cast<T>(wide);
    return NumberStatus::ok;
  }
  if (too_large(b, e)) return NumberStatus::out_of_range;
  value = *b == '-' ? -T(0) : T(0);
  return NumberStatus::ok;
}

/// Parses a number at [b, e), stopping where it ends (`stop`).
template <class T>
inline NumberStatus parse_number(const char* b, const char* e, T& value, const char*& stop, bool allow_non_finite) {
  if (b < e && *b == '+' && b + 1 < e && b[1] != '-' && b[1] != '+') ++b;
  const auto r = std::from_chars(b, e, value, std::chars_format::general);
  stop = r.ptr;
  if (r.ec == std::errc()) [[likely]]
    return allow_non_finite || std::isfinite(value) ? NumberStatus::ok : NumberStatus::non_finite;
  if (r.ec != std::errc::result_out_of_range) return NumberStatus::invalid;
  return out_of_range(b, stop, value);
}

/// Whether all of `text` is a number (for telling a header from data).
inline bool is_number(std::string_view text, bool allow_non_finite) {
  double v = 0;
  const char* stop = nullptr;
  const NumberStatus s = parse_number(text.data(), text.data() + text.size(), v, stop, allow_non_finite);
  return !text.empty() && stop == text.data() + text.size() &&
         (s == NumberStatus::ok || s == NumberStatus::out_of_range);
}

// ------------------------------------------------------------ the text
// The file's bytes and the rules every cell is read by.
struct Text {
  const path& file;
  const char* begin;
  const char* end;
  char separator = ',';
  bool allow_non_finite = false;

  bool is_space(char c) const { return (c == ' ' || c == '\t') && c != separator; }
  /// A line end at p: LF or CRLF (0 if none); a CR alone is an error.
  std::size_t line_end(const char* p, std::size_t line) const {
    if (*p == '\n') return 1;
    if (*p == '\r') {
      if (p + 1 < end && p[1] == '\n') return 2;
      fail(file, line_text(line) + ": a carriage return (CR) without a line feed; lines must end in LF or CRLF.");
    }
    return 0;
  }
  bool at_cell_end(const char* p) const { return p == end || *p == separator || *p == '\n' || *p == '\r'; }
};

/// One cell, as the slow path reads it: quoted or not, escapes resolved.
struct Cell {
  std::string text;
};

/// The cell at p (after any spaces), quoted or not; `p` ends on the
/// separator, the line end or the end of the file after it. `raw_*` is the
/// cell's text in the file (inside the quotes), `escapes` whether it holds
/// doubled quotes.
struct CellSpan {
  const char* raw_begin;
  const char* raw_end;
  bool quoted = false;
  bool escapes = false;
};

inline CellSpan scan_cell(const Text& t, const char*& p, std::size_t& line, std::size_t column) {
  while (p < t.end && t.is_space(*p)) ++p;
  CellSpan c{p, p};
  if (p < t.end && *p == '"') {
    c.quoted = true;
    const std::size_t opened = line;
    c.raw_begin = ++p;
    for (;;) {
      if (p == t.end)
        fail(t.file, line_text(opened) + ", column " + std::to_string(column + 1) +
                         ": a quoted cell is not closed before the end of the file.");
      if (*p == '"') {
        if (p + 1 < t.end && p[1] == '"') {
          c.escapes = true;
          p += 2;
          continue;
        }
        break;
      }
      if (*p == '\n') ++line;
      ++p;
    }
    c.raw_end = p++;
    while (p < t.end && t.is_space(*p)) ++p;
    if (!t.at_cell_end(p))
      fail(t.file, line_text(line) + ", column " + std::to_string(column + 1) + ": text after the closing quote (" +
                       show(std::string_view(p, static_cast<std::size_t>(std::min<std::ptrdiff_t>(t.end - p, 20)))) +
                       "); a quote inside a quoted cell is written twice (\"\").");
    return c;
  }
  while (!t.at_cell_end(p)) ++p;
  c.raw_end = p;
  while (c.raw_end > c.raw_begin && t.is_space(c.raw_end[-1])) --c.raw_end;
  return c;
}

inline std::string cell_text(const CellSpan& c) {
  std::string s;
  for (const char* p = c.raw_begin; p < c.raw_end; ++p) {
    s += *p;
    if (c.escapes && *p == '"') ++p;  // "" is one quote
  }
  return s;
}

/// Past the line end at p (if any); false at the end of the file.
inline bool next_record(const Text& t, const char*& p, std::size_t& line) {
  if (p == t.end) return false;
  const std::size_t n = t.line_end(p, line);
  p += n;
  ++line;
  return p < t.end;
}

/// Empty lines (LF or CRLF alone) skipped.
inline void skip_empty_lines(const Text& t, const char*& p, std::size_t& line) {
  while (p < t.end) {
    const std::size_t n = *p == '\n' || *p == '\r' ? t.line_end(p, line) : 0;
    if (n == 0) return;
    p += n;
    ++line;
  }
}

/// The cells of the record at p; p ends past its line end.
inline std::vector<Cell> split_record(const Text& t, const char*& p, std::size_t& line) {
  std::vector<Cell> cells;
  for (;;) {
    const CellSpan span = scan_cell(t, p, line, cells.size());
    cells.push_back({cell_text(span)});
    if (p < t.end && *p == t.separator) {
      ++p;
      continue;
    }
    next_record(t, p, line);
    return cells;
  }
}

/// Past the record at p, however malformed its cells (text after a closing
/// quote is taken as part of the cell); quotes open a cell only at its
/// start, as scan_cell reads them. Returns the record's number of cells.
inline std::size_t skip_record(const Text& t, const char*& p, std::size_t& line) {
  std::size_t cells = 1;
  const std::size_t start = line;
  for (;;) {
    while (p < t.end && t.is_space(*p)) ++p;
    if (p < t.end && *p == '"') {
      for (++p;; ++p) {
        if (p == t.end) fail(t.file, line_text(start) + ": a quoted cell is not closed before the end of the file.");
        if (*p == '"') {
          if (p + 1 < t.end && p[1] == '"') ++p;
          else break;
        } else if (*p == '\n') {
          ++line;
        }
      }
      ++p;
    }
    while (!t.at_cell_end(p)) ++p;
    if (p < t.end && *p == t.separator) {
      ++p;
      ++cells;
      continue;
    }
    next_record(t, p, line);
    return cells;
  }
}

// ------------------------------------------------------------ the layout
// What the first lines say: the separator, the columns and their names,
// where the data starts, scikit-learn's counts.
struct Layout {
  std::size_t columns = 0;
  std::vector<std::string> names;  ///< empty without a header row
  std::size_t names_line = 0;
  const char* data = nullptr;  ///< the first data record
  std::size_t data_line = 0;
  bool sklearn = false;
  std::size_t sklearn_samples = 0;
  std::vector<std::string> sklearn_class_names;
};

inline char find_separator(const path& file, const char* p, const char* end, std::size_t line) {
  std::size_t commas = 0, semicolons = 0, tabs = 0;
  bool in_quotes = false;
  for (; p < end && (in_quotes || (*p != '\n' && *p != '\r')); ++p) {
    if (*p == '"') in_quotes = !in_quotes;
    else if (!in_quotes) {
      commas += *p == ',';
      semicolons += *p == ';';
      tabs += *p == '\t';
    }
  }
  const std::size_t most = std::max({commas, semicolons, tabs});
  if (most == 0) return ',';  // one column: any separator reads it
  if ((commas == most) + (semicolons == most) + (tabs == most) > 1)
    fail(file, line_text(line) + " has " + std::to_string(commas) + " commas, " + std::to_string(semicolons) +
                   " semicolons and " + std::to_string(tabs) +
                   " tabs: which separates the columns is unclear; set .separator.");
  return commas == most ? ',' : semicolons == most ? ';' : '\t';
}

inline bool valid_separator(char c) {
  if (c == '\t' || c == ' ') return true;
  const auto u = static_cast<unsigned char>(c);
  // Printable punctuation that no number contains.
  return u > 0x20 && u < 0x7f && !std::isalnum(u) && c != '"' && c != '.' && c != '+' && c != '-';
}

/// Whether cells that are not numbers in `first` stand above numbers in
/// `second`: the first row is then a header.
inline bool looks_like_header(const std::vector<Cell>& first, const std::vector<Cell>* second, bool allow_non_finite) {
  for (std::size_t j = 0; j < first.size(); ++j) {
    if (first[j].text.empty() || is_number(first[j].text, allow_non_finite)) continue;
    if (!second) return true;
    if (j < second->size() && is_number((*second)[j].text, allow_non_finite)) return true;
  }
  return false;
}

/// scikit-learn's counts line: two counts, then names or empty cells.
inline bool looks_like_sklearn(const std::vector<Cell>& cells) {
  auto count = [](const std::string& s) {
    return !s.empty() && s.size() < 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (cells.size() < 2 || !count(cells[0].text) || !count(cells[1].text)) return false;
  for (std::size_t j = 2; j < cells.size(); ++j)
    if (is_number(cells[j].text, true)) return false;
  return true;
}

inline Layout read_layout(Text& t, const CsvOptions& o, bool column_named, const char* p, std::size_t line) {
  Layout L;
  skip_empty_lines(t, p, line);
  if (p == t.end) fail(t.file, "has no data: it is empty" + std::string(o.skip_rows ? " after the skipped rows." : "."));
  t.separator = o.separator ? o.separator : find_separator(t.file, p, t.end, line);

  const char* first_at = p;
  const std::size_t first_line = line;
  std::vector<Cell> first = split_record(t, p, line);
  if (o.header == CsvHeader::sklearn || (o.header == CsvHeader::detect && looks_like_sklearn(first))) {
    // The counts line; the rows below must have features + 1 cells.
    const char* q = p;
    std::size_t q_line = line;
    skip_empty_lines(t, q, q_line);
    std::vector<Cell> next;
    if (q < t.end) {
      const char* r = q;
      std::size_t r_line = q_line;
      next = split_record(t, r, r_line);
    }
    std::size_t samples = 0, features = 0;
    const bool counts = looks_like_sklearn(first);
    if (counts) {
      std::from_chars(first[0].text.data(), first[0].text.data() + first[0].text.size(), samples);
      std::from_chars(first[1].text.data(), first[1].text.data() + first[1].text.size(), features);
    }
    if (counts && next.size() == features + 1) {
      L.sklearn = true;
      L.sklearn_samples = samples;
      for (std::size_t j = 2; j < first.size(); ++j) L.sklearn_class_names.push_back(first[j].text);
      while (!L.sklearn_class_names.empty() && L.sklearn_class_names.back().empty()) L.sklearn_class_names.pop_back();
      L.columns = features + 1;
    } else if (o.header == CsvHeader::sklearn) {
      if (!counts)
        fail(t.file, line_text(first_line) + " is not scikit-learn's counts line (samples, features, class names...): " +
                         "it starts " + show(first[0].text) + (first.size() > 1 ? ", " + show(first[1].text) : "") +
                         ".");
      fail(t.file, line_text(first_line) + " says " + std::to_string(features) + " features (scikit-learn's counts line), "
                       "so rows of " + std::to_string(features + 1) + " cells with the label, but " +
                       (next.empty() ? "no row follows." : line_text(q_line) + " has " + std::to_string(next.size()) + "."));
    }
    if (L.sklearn) {
      // Then maybe a row of names (boston_house_prices.csv).
      p = q;
      line = q_line;
      const char* r = p;
      std::size_t r_line = line;
      first = split_record(t, r, r_line);
      std::vector<Cell> second;
      const char* s = r;
      std::size_t s_line = r_line;
      skip_empty_lines(t, s, s_line);
      if (s < t.end) second = split_record(t, s, s_line);
      // (Numbers there are data, even when a column is named: the error
      // that follows, no header, says more than a header of numbers would.)
      if (looks_like_header(first, second.empty() ? nullptr : &second, t.allow_non_finite)) {
        for (Cell& c : first) L.names.push_back(std::move(c.text));
        L.names_line = line;
        p = r;
        line = r_line;
      }
      L.data = p;
      L.data_line = line;
      return L;
    }
  }

  bool header = o.header == CsvHeader::names;
  if (o.header == CsvHeader::detect) {
    std::vector<Cell> second;
    const char* s = p;
    std::size_t s_line = line;
    skip_empty_lines(t, s, s_line);
    if (s < t.end) second = split_record(t, s, s_line);
    header = column_named || looks_like_header(first, second.empty() ? nullptr : &second, t.allow_non_finite);
  }
  L.columns = first.size();
  if (header) {
    for (Cell& c : first) L.names.push_back(std::move(c.text));
    L.names_line = first_line;
    L.data = p;
    L.data_line = line;
  } else {
    L.data = first_at;
    L.data_line = first_line;
  }
  return L;
}

/// The column `c` names, 0-based; `what` is ".label" or ".target".
inline std::size_t resolve(const Text& t, const Layout& L, const CsvColumn& c, const char* what) {
  if (!c.is_set()) return L.columns - 1;
  if (c.by_name()) {
    if (L.names.empty())
      fail(t.file, std::string(what) + " names the column '" + c.name() + "', but the file has no header row.");
    std::size_t found = L.names.size();
    for (std::size_t j = 0; j < L.names.size(); ++j) {
      if (L.names[j] != c.name()) continue;
      if (found != L.names.size())
        fail(t.file, "the header (" + line_text(L.names_line) + ") names '" + c.name() + "' twice: columns " +
                         std::to_string(found + 1) + " and " + std::to_string(j + 1) + "; give " + what +
                         " by position.");
      found = j;
    }
    if (found == L.names.size()) {
      std::string names;
      for (std::size_t j = 0; j < L.names.size() && j < 12; ++j) names += (j ? ", " : "") + show(L.names[j]);
      if (L.names.size() > 12) names += ", ...";
      fail(t.file, std::string(what) + " names the column '" + c.name() + "', which the header (" +
                       line_text(L.names_line) + ") lacks; its columns are " + names + ".");
    }
    return found;
  }
  const long n = static_cast<long>(L.columns);
  if (c.index() < -n || c.index() >= n)
    fail(t.file, std::string(what) + " is column " + std::to_string(c.index()) + ", but the rows have " +
                     std::to_string(L.columns) + " columns (0 to " + std::to_string(n - 1) + ", or -1 to -" +
                     std::to_string(n) + " from the end).");
  return static_cast<std::size_t>(c.index() < 0 ? c.index() + n : c.index());
}

// ------------------------------------------------------------ the rows
enum class Role : unsigned char { feature, label, target };

template <class T>
struct Rows {
  Matrix<T> x;        ///< the feature columns
  Matrix<T> targets;  ///< the target column (read_csv_regression)
  std::vector<std::string_view> labels;   ///< the label cells (read_csv)
  std::vector<std::size_t> label_lines;   ///< the line of each
  std::deque<std::string> label_storage;  ///< label cells with escapes, resolved
  std::vector<std::size_t> dropped_lines;
  std::size_t count = 0;
};

inline std::string column_text(const Layout& L, std::size_t j) {
  std::string s = "column " + std::to_string(j + 1);
  if (j < L.names.size()) s += " (" + show(L.names[j]) + ")";
  return s;
}

/// A row that cannot be read: an error, or with drop_bad_rows skipped (p
/// then stands at the next record).
struct BadRow {
  const Text& t;
  const Layout& L;
  bool drop;
  std::vector<std::size_t>& dropped;

  /// The record started at `record` on `line`; the problem is in column j.
  void operator()(const char*& p, std::size_t& line, const char* record, std::size_t record_line,
                  const std::string& problem) const {
    if (!drop) fail(t.file, line_text(record_line) + (problem.starts_with(" ") ? "" : ", ") + problem);
    p = record;
    line = record_line;
    skip_record(t, p, line);
    dropped.push_back(record_line);
  }
  std::string ragged(const char* record, std::size_t record_line) const {
    const char* q = record;
    std::size_t l = record_line;
    const std::size_t cells = skip_record(t, q, l);
    return " has " + std::to_string(cells) + (cells == 1 ? " cell" : " cells") + " where " +
           (L.names.empty() ? "the first row (" + line_text(L.data_line) + ")" : "the header (" +
                                                                                      line_text(L.names_line) + ")") +
           " has " + std::to_string(L.columns) + ".";
  }
};

template <class T>
const char* type_name() {
  return std::is_same_v<T, float> ? "float" : "double";
}

/// What is wrong with a cell that did not read as a number.
template <class T>
std::string cell_problem(std::string_view text, NumberStatus s, bool whole) {
  if (text.empty()) return " is empty.";
  if (whole && s == NumberStatus::out_of_range) return ": " + show(text) + " is beyond " + type_name<T>() + "'s range.";
  if (whole && s == NumberStatus::non_finite)
    return ": " + show(text) + " is not a finite number (set .allow_non_finite to read NaN and infinities).";
  return ": " + show(text) + " is not a number.";
}

/// Line feeds in [b, e).
inline std::size_t count_line_feeds(const char* b, const char* e) {
  std::size_t n = 0;
  while (b < e) {
    const void* nl = std::memchr(b, '\n', static_cast<std::size_t>(e - b));
    if (!nl) break;
    ++n;
    b = static_cast<const char*>(nl) + 1;
  }
  return n;
}

template <class T>
void read_rows(const Text& t, const Layout& L, const std::vector<Role>& roles, bool drop, Rows<T>& out) {
  const std::size_t columns = L.columns;
  std::size_t features = 0;
  bool has_label = false, has_target = false;
  for (const Role r : roles) {
    features += r == Role::feature;
    has_label = has_label || r == Role::label;
    has_target = has_target || r == Role::target;
  }
  // Every record but the last ends in a line feed; and every stored row has
  // `columns` non-empty cells and columns - 1 separators, so the rows are at
  // most bytes / columns + 1.
  const auto bytes = static_cast<std::size_t>(t.end - L.data);
  const std::size_t capacity =
      bytes == 0 ? 0 : std::min(count_line_feeds(L.data, t.end) + (t.end[-1] != '\n'), bytes / columns + 1);
  try {
    out.x = Matrix<T>(capacity, features);
    if (has_target) out.targets = Matrix<T>(capacity, 1);
    if (has_label) {
      out.labels.reserve(capacity);
      out.label_lines.reserve(capacity);
    }
  } catch (const std::bad_alloc&) {
    fail(t.file, "not enough memory for up to " + std::to_string(capacity) + " rows of " + std::to_string(features) +
                     " " + type_name<T>() + " values.");
  }
  const BadRow bad{t, L, drop, out.dropped_lines};
  const char* p = L.data;
  const char* const end = t.end;
  const char separator = t.separator;
  const bool allow_non_finite = t.allow_non_finite;
  const Role* role = roles.data();
  std::size_t line = L.data_line;
  std::size_t row = 0;
  for (;;) {
    skip_empty_lines(t, p, line);
    if (p == end) break;
    if (row == capacity) throw std::logic_error("typenet: read_csv: more rows than the bound allows (a bug).");
    const char* const record = p;
    const std::size_t record_line = line;
    T* x = out.x.row(row);
    std::string_view label;
    bool ok = true;
    for (std::size_t j = 0; j < columns; ++j) {
      while (p < end && t.is_space(*p)) ++p;
      T value{};
      if (role[j] != Role::label && (p == end || *p != '"')) [[likely]] {
        // A number in place: the fast path.
        const char* const cell = p;
        const char* stop = nullptr;
        const NumberStatus s = parse_number(p, end, value, stop, allow_non_finite);
        const char* q = stop;
        while (q < end && t.is_space(*q)) ++q;
        if (s != NumberStatus::ok || stop == cell || !t.at_cell_end(q)) [[unlikely]] {
          const char* e = cell;
          while (!t.at_cell_end(e)) ++e;
          const char* trimmed = e;
          while (trimmed > cell && t.is_space(trimmed[-1])) --trimmed;
          const std::string_view text(cell, static_cast<std::size_t>(trimmed - cell));
          bad(p, line, record, record_line, column_text(L, j) + cell_problem<T>(text, s, q == e));
          ok = false;
          break;
        }
        p = q;
      } else {
        // Label cells and quoted cells: the slow path.
        const CellSpan c = scan_cell(t, p, line, j);
        if (role[j] == Role::label) {
          label = std::string_view(c.raw_begin, static_cast<std::size_t>(c.raw_end - c.raw_begin));
          if (c.escapes) label = out.label_storage.emplace_back(cell_text(c));
          if (label.empty()) {
            bad(p, line, record, record_line, column_text(L, j) + ": the label is empty.");
            ok = false;
            break;
          }
        } else {
          const std::string text = cell_text(c);
          const char* stop = nullptr;
          const NumberStatus s = parse_number(text.data(), text.data() + text.size(), value, stop, allow_non_finite);
          const bool whole = stop == text.data() + text.size();
          if (text.empty() || s != NumberStatus::ok || !whole) {
            bad(p, line, record, record_line, column_text(L, j) + cell_problem<T>(text, s, whole));
            ok = false;
            break;
          }
        }
      }
      if (role[j] == Role::feature) [[likely]] *x++ = value;
      else if (role[j] == Role::target) out.targets(row, 0) = value;
      // The separator before the next cell, or the record's end after the last.
      const bool last = j + 1 == columns;
      if (p < end && *p == separator) [[likely]] {
        if (!last) {
          ++p;
          continue;
        }
      } else if (last) {
        next_record(t, p, line);
        break;
      }
      bad(p, line, record, record_line, bad.ragged(record, record_line));
      ok = false;
      break;
    }
    if (!ok) continue;
    if (has_label) {
      out.labels.push_back(label);
      out.label_lines.push_back(record_line);
    }
    ++row;
  }
  out.count = row;
}

/// A matrix cut to its first `rows` rows (the bound was above the count).
template <class T>
Matrix<T> first_rows(Matrix<T>&& m, std::size_t rows) {
  if (rows == m.rows()) return std::move(m);
  Matrix<T> cut(rows, m.cols());
  if (rows * m.cols() > 0) std::copy_n(m.data(), rows * m.cols(), cut.data());
  return cut;
}

/// The label cells as class ids (and the names of the classes).
inline std::vector<std::int32_t> class_ids(const Text& t, const Layout& L, std::size_t label_column,
                                           const std::vector<std::string_view>& cells,
                                           const std::vector<std::size_t>& lines, CsvLabelKind kind,
                                           std::vector<std::string>& class_names) {
  std::vector<std::int32_t> ids(cells.size());
  const std::string where = column_text(L, label_column);
  auto integer = [](std::string_view s, std::int64_t& v) {
    const char* b = s.data();
    if (!s.empty() && *b == '+') ++b;
    const auto r = std::from_chars(b, s.data() + s.size(), v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && b < r.ptr;
  };
  bool integers = kind == CsvLabelKind::integers;
  if (kind == CsvLabelKind::detect) {
    integers = true;
    std::size_t numbers = 0, fraction_at = cells.size();
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::int64_t v = 0;
      if (integer(cells[i], v)) {
        ++numbers;
        continue;
      }
      integers = false;
      if (is_number(cells[i], true)) {
        ++numbers;
        if (fraction_at == cells.size()) fraction_at = i;
      }
    }
    if (!integers && numbers == cells.size())
      fail(t.file, line_text(lines[fraction_at]) + ", " + where + ": the label " + show(cells[fraction_at]) +
                       " is a number but not an integer class id; numeric targets are read by read_csv_regression "
                       "(or set .label_kind = CsvLabelKind::names to take the numbers as class names).");
  }
  if (integers) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::int64_t v = 0;
      if (!integer(cells[i], v))
        fail(t.file, line_text(lines[i]) + ", " + where + ": the label " + show(cells[i]) +
                         " is not an integer class id (.label_kind is CsvLabelKind::integers).");
      if (v < 0 || v > std::numeric_limits<std::int32_t>::max())
        fail(t.file, line_text(lines[i]) + ", " + where + ": the label " + show(cells[i]) +
                         " is not a class id 0, 1, 2, ... up to 2147483647 (set .label_kind = CsvLabelKind::names to "
                         "number the classes in sorted order).");
      ids[i] = static_cast<std::int32_t>(v);
    }
    return ids;
  }
  // Names: numbered in sorted order.
  std::vector<std::string_view> sorted(cells);
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  for (std::size_t i = 0; i < cells.size(); ++i)
    ids[i] = static_cast<std::int32_t>(std::lower_bound(sorted.begin(), sorted.end(), cells[i]) - sorted.begin());
  class_names.assign(sorted.begin(), sorted.end());
  return ids;
}

enum class Want { labels, target, values };

template <class T>
struct Table {
  Layout layout;
  Rows<T> rows;
  std::size_t label_column = 0, target_column = 0;
  std::vector<std::string> class_names;
  std::vector<std::int32_t> labels;
};

template <class T>
Table<T> read_table(const path& file, const CsvOptions& o, Want want, const char* who) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "typenet: the CSV readers read float or double.");
  if (o.separator && !valid_separator(o.separator))
    fail(file, std::string(who) + ": .separator " + show(std::string_view(&o.separator, 1)) +
                   " cannot separate numbers; use punctuation, a tab or a space.");
  if (want != Want::labels && o.label.is_set())
    fail(file, std::string(who) + ": .label is read_csv's option (class labels); " +
                   (want == Want::target ? "read_csv_regression takes .target." : "read_csv_matrix reads every column."));
  if (want != Want::target && o.target.is_set())
    fail(file, std::string(who) + ": .target is read_csv_regression's option; " +
                   (want == Want::labels ? "read_csv takes .label." : "read_csv_matrix reads every column."));

  file_io_detail::InputFile<CsvError> in(file);
  const file_io_detail::Bytes bytes = in.read_all();
  const std::size_t size = bytes.size();
  Text t{file, bytes.data(), bytes.data() + size, ',', o.allow_non_finite};
  if (size == 0) fail(file, "is empty.");
  const char* p = t.begin;
  if (size >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;  // UTF-8 byte-order mark
  std::size_t line = 1;
  for (std::size_t k = 0; k < o.skip_rows; ++k, ++line) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(t.end - p)));
    if (!nl)
      fail(file, ".skip_rows is " + std::to_string(o.skip_rows) + ", but the file has " + std::to_string(k + (p < t.end)) +
                     " lines.");
    p = nl + 1;
  }

  Table<T> table;
  const bool named = (want == Want::labels && o.label.by_name()) || (want == Want::target && o.target.by_name());
  if (named && o.header == CsvHeader::none)
    fail(file, std::string(who) + ": the " + (want == Want::labels ? ".label" : ".target") + " column is named ('" +
                   (want == Want::labels ? o.label.name() : o.target.name()) +
                   "'), but .header is CsvHeader::none; give it by position.");
  Layout& L = table.layout;
  L = read_layout(t, o, named, p, line);
  std::vector<Role> roles(L.columns, Role::feature);
  if (want == Want::labels) {
    table.label_column = resolve(t, L, o.label, ".label");
    roles[table.label_column] = Role::label;
    if (L.columns == 1) fail(file, "has one column, the label's: there are no features.");
  } else if (want == Want::target) {
    table.target_column = resolve(t, L, o.target, ".target");
    roles[table.target_column] = Role::target;
    if (L.columns == 1) fail(file, "has one column, the target's: there are no features.");
  }
  Rows<T>& rows = table.rows;
  read_rows(t, L, roles, o.drop_bad_rows, rows);
  if (rows.count == 0)
    fail(file, "has no data rows" +
                   (L.names.empty() ? std::string(".")
                                    : " after its header (" + line_text(L.names_line) + ").") +
                   (rows.dropped_lines.empty() ? "" : " (" + std::to_string(rows.dropped_lines.size()) +
                                                          " were dropped as bad.)"));
  if (L.sklearn && rows.count + rows.dropped_lines.size() != L.sklearn_samples)
    fail(file, "its first line says " + std::to_string(L.sklearn_samples) +
                   " samples (scikit-learn's counts line), but " + std::to_string(rows.count + rows.dropped_lines.size()) +
                   " data rows follow.");
  rows.x = first_rows(std::move(rows.x), rows.count);
  if (want == Want::target) rows.targets = first_rows(std::move(rows.targets), rows.count);
  if (want == Want::labels) {
    // scikit-learn's class names go with its label column, the last.
    const bool sklearn_names = L.sklearn && !L.sklearn_class_names.empty() && table.label_column == L.columns - 1;
    const CsvLabelKind kind = sklearn_names && o.label_kind == CsvLabelKind::detect ? CsvLabelKind::integers : o.label_kind;
    table.labels = class_ids(t, L, table.label_column, rows.labels, rows.label_lines, kind, table.class_names);
    if (sklearn_names && kind == CsvLabelKind::integers) {
      for (std::size_t i = 0; i < table.labels.size(); ++i)
        if (static_cast<std::size_t>(table.labels[i]) >= L.sklearn_class_names.size())
          fail(file, line_text(rows.label_lines[i]) + ", " + column_text(L, table.label_column) + ": the label " +
                         std::to_string(table.labels[i]) + " has no name: the first line names " +
                         std::to_string(L.sklearn_class_names.size()) + " classes.");
      table.class_names = L.sklearn_class_names;
    }
  }
  return table;
}

inline std::vector<std::string> names_except(const Layout& L, std::size_t except) {
  std::vector<std::string> names;
  for (std::size_t j = 0; j < L.names.size(); ++j)
    if (j != except) names.push_back(L.names[j]);
  return names;
}

}  // namespace csv_detail

/// Features and class labels; see the top of this file.
template <class T = float>
LabelledTable<T> read_csv(const std::filesystem::path& file, const CsvOptions& options = {}) {
  auto t = csv_detail::read_table<T>(file, options, csv_detail::Want::labels, "read_csv");
  LabelledTable<T> out;
  out.data = LabelledData<T>{std::move(t.rows.x), std::move(t.labels)};
  out.class_names = std::move(t.class_names);
  out.feature_names = csv_detail::names_except(t.layout, t.label_column);
  if (!t.layout.names.empty()) out.label_name = t.layout.names[t.label_column];
  out.dropped_lines = std::move(t.rows.dropped_lines);
  return out;
}

/// Features and a numeric target column (rows x 1).
template <class T = float>
RegressionTable<T> read_csv_regression(const std::filesystem::path& file, const CsvOptions& options = {}) {
  auto t = csv_detail::read_table<T>(file, options, csv_detail::Want::target, "read_csv_regression");
  RegressionTable<T> out;
  out.x = std::move(t.rows.x);
  out.targets = std::move(t.rows.targets);
  out.feature_names = csv_detail::names_except(t.layout, t.target_column);
  if (!t.layout.names.empty()) out.target_name = t.layout.names[t.target_column];
  out.dropped_lines = std::move(t.rows.dropped_lines);
  return out;
}

/// Every column, as numbers.
template <class T = float>
CsvTable<T> read_csv_matrix(const std::filesystem::path& file, const CsvOptions& options = {}) {
  auto t = csv_detail::read_table<T>(file, options, csv_detail::Want::values, "read_csv_matrix");
  return {std::move(t.rows.x), std::move(t.layout.names), std::move(t.rows.dropped_lines)};
}

}  // namespace typenet::data
