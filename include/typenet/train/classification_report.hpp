// Evaluating a classifier: the confusion matrix and scikit-learn's
// classification report, as text identical to
// sklearn.metrics.classification_report(y_true, y_pred, digits=2):
//
//   auto predicted = predicted_classes(model.forward(test.x.view(), Mode::eval));
//   std::cout << classification_report(test.labels, predicted);
//   std::cout << format_confusion_matrix(confusion_matrix(test.labels, predicted));
//
// The classes are the sorted union of the true and predicted labels (as
// scikit-learn's unique_labels), or a list given in the order given. A
// precision or recall whose denominator is zero is 0, scikit-learn's default
// (zero_division="warn") without the warning. Averages are summed in NumPy's
// order, so even a value on a rounding boundary prints the same digit.
#pragma once

#include "typenet/config.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "typenet/base/matrix.hpp"
#include "typenet/train/metrics.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

/// counts(t, p): how many samples of true class labels[t] were predicted as
/// labels[p] (rows = true class, columns = predicted), as scikit-learn's
/// confusion_matrix.
struct ConfusionMatrix {
  std::vector<std::int32_t> labels;  ///< the classes, in ascending order
  std::vector<std::size_t> counts;  ///< labels.size() x labels.size(), row-major

  /// The number of classes.
  std::size_t classes() const { return labels.size(); }
  /// How many samples of true class true_class were predicted as predicted_class (indices into labels).
  std::size_t operator()(std::size_t true_class, std::size_t predicted_class) const {
    return counts[true_class * labels.size() + predicted_class];
  }
  /// The number of samples.
  std::size_t samples() const {
    std::size_t n = 0;
    for (const std::size_t c : counts) n += c;
    return n;
  }
};

/// The predicted class of each row of a model's outputs: its argmax. (A
/// view of T or of const T: both are what a model hands out.)
template <class T>
std::vector<std::int32_t> predicted_classes(MatrixView<T> outputs) {
  std::vector<std::int32_t> classes(outputs.rows);
  for (std::size_t i = 0; i < outputs.rows; ++i)
    classes[i] = static_cast<std::int32_t>(argmax(outputs.row(i), outputs.cols));
  return classes;
}

namespace report_detail {

inline void check_lengths(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred, const char* who) {
  if (y_true.size() != y_pred.size())
    throw std::invalid_argument(std::string("typenet: ") + who + ": " + std::to_string(y_true.size()) +
                                " true labels but " + std::to_string(y_pred.size()) + " predicted labels.");
  if (y_true.empty()) throw std::invalid_argument(std::string("typenet: ") + who + ": no samples.");
}

/// NumPy's pairwise summation of a contiguous float64 array (np.sum, and so
/// np.mean and np.average): 8 interleaved partial sums per block of up to
/// 128 values, halves above that.
inline double numpy_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s += a[i];
    return s;
  }
  if (n <= 128) {
    double r[8];
    std::copy_n(a, 8, r);
    std::size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) s += a[i];
    return s;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return numpy_sum(a, half) + numpy_sum(a + half, n - half);
}

/// x / y, or 0 when y is 0 (scikit-learn's zero_division default).
inline double divide(double x, double y) { return y == 0 ? 0.0 : x / y; }

/// F1 exactly as scikit-learn 1.2 computes it from precision and recall.
inline double f1(double precision, double recall) {
  const double denominator = precision + recall;
  return 2.0 * precision * recall / (denominator == 0.0 ? 1.0 : denominator);
}

/// Python's len(): code points, so UTF-8 names pad as in scikit-learn.
inline std::size_t text_width(const std::string& s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

/// "{:>{width}s}"
inline std::string right(const std::string& s, std::size_t width) {
  const std::size_t w = text_width(s);
  return (w < width ? std::string(width - w, ' ') : std::string()) + s;
}

/// " {:>9.{digits}f}"
inline std::string number(double v, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, " %9.*f", digits, v);
  return buffer;
}

inline std::vector<std::string> names_of(const ConfusionMatrix& cm, const std::vector<std::string>& target_names,
                                         const char* who) {
  if (target_names.empty()) {
    std::vector<std::string> names;
    for (const std::int32_t l : cm.labels) names.push_back(std::to_string(l));
    return names;
  }
  if (target_names.size() != cm.classes())
    throw std::invalid_argument(std::string("typenet: ") + who + ": " + std::to_string(target_names.size()) +
                                " target names for " + std::to_string(cm.classes()) + " classes.");
  return target_names;
}

}  // namespace report_detail

/// The confusion matrix over the sorted union of the labels that occur.
inline ConfusionMatrix confusion_matrix(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred) {
  report_detail::check_lengths(y_true, y_pred, "confusion_matrix");
  std::vector<std::int32_t> labels(y_true.begin(), y_true.end());
  labels.insert(labels.end(), y_pred.begin(), y_pred.end());
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  ConfusionMatrix cm{labels, std::vector<std::size_t>(labels.size() * labels.size())};
  auto index = [&](std::int32_t l) {
    return static_cast<std::size_t>(std::lower_bound(labels.begin(), labels.end(), l) - labels.begin());
  };
  for (std::size_t i = 0; i < y_true.size(); ++i) ++cm.counts[index(y_true[i]) * labels.size() + index(y_pred[i])];
  return cm;
}

/// The confusion matrix over the given classes, in the given order (all ten
/// digits, say, even those that never occur). A sample whose true or
/// predicted label is not among them is an error: it would otherwise vanish
/// from the counts.
inline ConfusionMatrix confusion_matrix(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred,
                                        std::span<const std::int32_t> labels) {
  report_detail::check_lengths(y_true, y_pred, "confusion_matrix");
  if (labels.empty()) throw std::invalid_argument("typenet: confusion_matrix: the list of labels is empty.");
  std::vector<std::int32_t> sorted(labels.begin(), labels.end());
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw std::invalid_argument("typenet: confusion_matrix: the list of labels names a class twice.");
  ConfusionMatrix cm{std::vector<std::int32_t>(labels.begin(), labels.end()),
                     std::vector<std::size_t>(labels.size() * labels.size())};
  auto index = [&](std::int32_t l, std::size_t sample, const char* which) {
    const auto it = std::find(labels.begin(), labels.end(), l);
    if (it == labels.end())
      throw std::invalid_argument("typenet: confusion_matrix: the " + std::string(which) + " label of sample " +
                                  std::to_string(sample) + " is " + std::to_string(l) +
                                  ", which is not in the list of labels.");
    return static_cast<std::size_t>(it - labels.begin());
  };
  for (std::size_t i = 0; i < y_true.size(); ++i)
    ++cm.counts[index(y_true[i], i, "true") * labels.size() + index(y_pred[i], i, "predicted")];
  return cm;
}

/// scikit-learn's classification_report text for the classes of `cm`:
/// precision, recall, f1-score and support per class, then accuracy, macro
/// avg and weighted avg. target_names, when given, name the classes in the
/// order of cm.labels.
inline std::string classification_report(const ConfusionMatrix& cm, int digits = 2,
                                         const std::vector<std::string>& target_names = {}) {
  using namespace report_detail;
  if (digits < 0 || digits > 20)
    throw std::invalid_argument("typenet: classification_report: digits is " + std::to_string(digits) +
                                "; it must be in [0, 20].");
  const std::size_t k = cm.classes();
  if (k == 0 || cm.samples() == 0) throw std::invalid_argument("typenet: classification_report: no samples.");
  const std::vector<std::string> names = names_of(cm, target_names, "classification_report");

  std::vector<double> precision(k), recall(k), f_score(k), support(k);
  std::size_t tp_total = 0, predicted_total = 0, true_total = 0;
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t predicted = 0, actual = 0;
    for (std::size_t o = 0; o < k; ++o) {
      predicted += cm(o, c);
      actual += cm(c, o);
    }
    precision[c] = divide(static_cast<double>(cm(c, c)), static_cast<double>(predicted));
    recall[c] = divide(static_cast<double>(cm(c, c)), static_cast<double>(actual));
    f_score[c] = f1(precision[c], recall[c]);
    support[c] = static_cast<double>(actual);
    tp_total += cm(c, c);
    predicted_total += predicted;
    true_total += actual;
  }

  std::size_t width = std::string("weighted avg").size();
  for (const std::string& n : names) width = std::max(width, text_width(n));
  width = std::max(width, static_cast<std::size_t>(digits));

  // scikit-learn 1.2 quirk, kept for identical text: when no prediction at
  // all is right, its multilabel_confusion_matrix takes a "pathological
  // case" path that makes the supports floats, which print as "3.0".
  const bool float_supports = tp_total == 0;
  auto support_column = [&](std::size_t s) {  // " {:>9}\n"
    return " " + right(std::to_string(s) + (float_supports ? ".0" : ""), 9) + "\n";
  };
  std::string report = right("", width) + " " + " precision" + "    recall" + "  f1-score" + "   support" + "\n\n";
  auto line = [&](const std::string& heading, double p, double r, double f, std::size_t s) {
    report += right(heading, width) + " " + number(p, digits) + number(r, digits) + number(f, digits) +
              support_column(s);
  };
  for (std::size_t c = 0; c < k; ++c)
    line(names[c], precision[c], recall[c], f_score[c], static_cast<std::size_t>(support[c]));
  report += "\n";

  // Micro averages: with every class listed, precision = recall = accuracy.
  const double micro_p = divide(static_cast<double>(tp_total), static_cast<double>(predicted_total));
  const double micro_r = divide(static_cast<double>(tp_total), static_cast<double>(true_total));
  report += right("accuracy", width) + " " + std::string(20, ' ') + number(f1(micro_p, micro_r), digits) +
            support_column(true_total);

  const double n = static_cast<double>(k);
  line("macro avg", numpy_sum(precision.data(), k) / n, numpy_sum(recall.data(), k) / n,
       numpy_sum(f_score.data(), k) / n, true_total);
  auto weighted = [&](const std::vector<double>& v) {
    std::vector<double> products(k);
    for (std::size_t c = 0; c < k; ++c) products[c] = v[c] * support[c];
    return numpy_sum(products.data(), k) / numpy_sum(support.data(), k);
  };
  line("weighted avg", weighted(precision), weighted(recall), weighted(f_score), true_total);
  return report;
}

/// scikit-learn's classification_report for predicted against true class ids.
inline std::string classification_report(std::span<const std::int32_t> y_true, std::span<const std::int32_t> y_pred,
                                         int digits = 2, const std::vector<std::string>& target_names = {}) {
  report_detail::check_lengths(y_true, y_pred, "classification_report");
  return classification_report(confusion_matrix(y_true, y_pred), digits, target_names);
}

/// The confusion matrix as an aligned table, true classes down, predicted
/// classes across:
/// @verbatim
///   true\pred  0  1  2
///           0  3  0  1
///           1  0  2  0
/// @endverbatim
inline std::string format_confusion_matrix(const ConfusionMatrix& cm, const std::vector<std::string>& target_names = {}) {
  using namespace report_detail;
  const std::vector<std::string> names = names_of(cm, target_names, "format_confusion_matrix");
  const std::string corner = "true\\pred";
  std::size_t first = text_width(corner), cell = 1;
  for (const std::string& n : names) {
    first = std::max(first, text_width(n));
    cell = std::max(cell, text_width(n));
  }
  for (const std::size_t c : cm.counts) cell = std::max(cell, std::to_string(c).size());
  std::string table = right(corner, first);
  for (const std::string& n : names) table += "  " + right(n, cell);
  table += "\n";
  for (std::size_t t = 0; t < cm.classes(); ++t) {
    table += right(names[t], first);
    for (std::size_t p = 0; p < cm.classes(); ++p) table += "  " + right(std::to_string(cm(t, p)), cell);
    table += "\n";
  }
  return table;
}

}  // namespace typenet
