//===- Csv.h - tabular data sets from CSV files -----------------*- C++ -*-===//
//
// Reads a CSV file with a header row into a tabular Dataset (1 x 1 x F: a
// feature is a channel): the feature columns become floats, the target
// columns class labels (integers, or strings mapped to indices in sorted
// order) or, for regression, value targets.
//
// The format is RFC 4180: comma-separated, fields optionally in double
// quotes (a quote inside is doubled, a quoted field may span lines), CRLF
// or LF line ends, the last one optional. Blank lines are skipped, a UTF-8
// byte order mark is ignored, and header names are trimmed of spaces.
// Errors point at the cell: "data.csv:12:3: error: column 'age': 'n/a' is
// not a number" (lines counted from 1, the header being line 1; columns
// counted from 1).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_CSV_H
#define GRADC_RUNTIME_DATA_CSV_H

#include "runtime/data/Dataset.h"

#include "absl/status/statusor.h"

#include <string>
#include <vector>

namespace gradc {

/// Which columns of a CSV file are the inputs and which the targets.
struct CsvOptions {
  /// Feature columns, in this order; empty: every column but the targets,
  /// in the file's order.
  std::vector<std::string> features;
  /// Target columns (at least one): one column of class labels, or with
  /// `valueTargets` one or more columns of numbers.
  std::vector<std::string> targets;
  /// Regression: the targets are numbers (Dataset::targets, labels 0).
  bool valueTargets = false;
  /// Class labels must be integers (a test file whose training file had
  /// integer labels): a string class is an error, not a new mapping.
  bool integerLabels = false;
  /// Prediction input: only the feature columns are read; the target
  /// columns may be absent, and are ignored where present (labels 0).
  bool featuresOnly = false;
  /// A column may be both a feature and a target (a time series, whose
  /// past values predict its next one: sequenceWindows).
  bool targetsAsFeatures = false;
};

/// Reads the CSV file `path` (a regular file of at most 4 GiB) into a
/// tabular Dataset. Feature cells (and value target cells) must be finite
/// numbers. Class labels: when every cell of the target column is an
/// integer, the labels are those integers (>= 0) and `*classNames` is
/// cleared; otherwise the distinct strings, sorted, are the classes and
/// `*classNames` receives them (index = label). When `*classNames` is not
/// empty on entry (the training file's classes, when reading a test file),
/// every cell must be one of them and keeps its index. `classNames` may be
/// null for value targets.
absl::StatusOr<Dataset> readCsv(const std::string &path, const CsvOptions &o,
                                std::vector<std::string> *classNames);

/// The longest window sequenceWindows cuts (and the farthest horizon).
constexpr int64_t kMaxSequenceLength = 4096;
/// The most values all windows may hold (1 GiB of floats).
constexpr int64_t kMaxSequenceValues = int64_t(1) << 28;

/// Forecasting windows of a table's rows (`rows`, 1 x 1 x F, in time
/// order): example i is rows [i, i + length) as a sequence (length x F x
/// 1, as a NumPy [N, T, F]), its labels or targets those of row
/// i + length - 1 + horizon (0: its own last row's, for prediction, where
/// the labels are zeros). An error naming `source` when the rows are
/// fewer than one window and its horizon.
absl::StatusOr<Dataset> sequenceWindows(const Dataset &rows, int64_t length,
                                        int64_t horizon,
                                        const std::string &source);

} // namespace gradc

#endif // GRADC_RUNTIME_DATA_CSV_H
