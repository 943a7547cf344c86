//===- Csv.cpp - tabular data sets from CSV files -------------------------===//
//
// An RFC 4180 record reader over the file's bytes (read whole, bounded)
// that remembers the line each field starts on, the resolution of the
// named columns against the header, and the conversion of cells: numbers
// through std::from_chars (finite, within float's range), class labels as
// integers or as strings mapped in sorted order. Every error names the
// file, the line and, for a cell, its column.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Csv.h"

#include "support/Files.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <string_view>

namespace gradc {
namespace {

// Larger files are refused before reading.
constexpr int64_t kMaxCsvBytes = int64_t(4) << 30;

/// A field of a record: its text (quotes removed) and where it starts.
struct Field {
  std::string text;
  int64_t line = 0;
  bool quoted = false;
};

std::string_view trimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// A cell as shown in an error: control characters escaped, at most 60
/// bytes.
std::string showCell(std::string_view cell) {
  bool cut = cell.size() > 60;
  cell = cell.substr(0, 60);
  bool control = std::any_of(cell.begin(), cell.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  std::string shown =
      control ? absl::CHexEscape(absl::string_view(cell.data(), cell.size()))
              : std::string(cell);
  return cut ? shown + "..." : shown;
}

/// Reads records from CSV text.
class CsvReader {
public:
  CsvReader(std::string_view text, const std::string &path)
      : text_(text), path_(path) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF")
      text_.remove_prefix(3);
  }

  /// Reads the next record that is not a blank line into `fields`;
  /// returns false at the end of the file.
  absl::StatusOr<bool> next(std::vector<Field> &fields, int64_t &line) {
    fields.clear();
    while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r'))
      endOfLine();
    if (pos_ >= text_.size())
      return false;
    line = line_;
    for (;;) {
      Field field;
      field.line = line_;
      if (text_[pos_] == '"') {
        field.quoted = true;
        ++pos_;
        for (;;) {
          size_t quote = text_.find('"', pos_);
          if (quote == std::string_view::npos)
            return absl::InvalidArgumentError(absl::StrCat(
                path_, ":", field.line, ":", fields.size() + 1,
                ": error: a quoted field is not closed before the end of "
                "the file"));
          std::string_view chunk = text_.substr(pos_, quote - pos_);
          countLines(chunk);
          field.text.append(chunk);
          pos_ = quote + 1;
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field.text.push_back('"');
            ++pos_;
            continue;
          }
          break;
        }
        if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' &&
            text_[pos_] != '\r')
          return absl::InvalidArgumentError(absl::StrCat(
              path_, ":", line_, ":", fields.size() + 1, ": error: '",
              showCell(text_.substr(pos_, 1)),
              "' after the closing quote of a field (a quote inside a "
              "quoted field is written \"\")"));
      } else {
        size_t end = text_.find_first_of(",\r\n", pos_);
        if (end == std::string_view::npos)
          end = text_.size();
        field.text.assign(text_.substr(pos_, end - pos_));
        pos_ = end;
      }
      fields.push_back(std::move(field));
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        if (pos_ >= text_.size() || text_[pos_] == '\n' || text_[pos_] == '\r')
          fields.emplace_back(Field{"", line_, false});
        else
          continue;
      }
      if (pos_ < text_.size())
        endOfLine();
      return true;
    }
  }

private:
  /// Consumes "\r\n", "\n" or "\r".
  void endOfLine() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() &&
        text_[pos_ + 1] == '\n')
      ++pos_;
    ++pos_;
    ++line_;
  }
  /// Counts the line ends inside a quoted field.
  void countLines(std::string_view chunk) {
    for (size_t i = 0; i < chunk.size(); ++i)
      if (chunk[i] == '\n' ||
          (chunk[i] == '\r' && (i + 1 >= chunk.size() || chunk[i + 1] != '\n')))
        ++line_;
  }

  std::string_view text_;
  const std::string &path_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

/// A finite number within float's range, with optional spaces around it
/// and an optional '+'.
bool parseNumber(std::string_view cell, float &out) {
  std::string_view s = trimSpaces(cell);
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && (s.front() == '-' || s.front() == '+'))
      return false;
  }
  if (s.empty())
    return false;
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (end != s.data() + s.size())
    return false;
  if (ec == std::errc::result_out_of_range) {
    // Underflow rounds to zero or a subnormal; overflow is refused below.
    std::string copy(s);
    value = std::strtod(copy.c_str(), nullptr);
  } else if (ec != std::errc()) {
    return false;
  }
  if (!std::isfinite(value) || std::fabs(value) > FLT_MAX)
    return false;
  out = float(value);
  return true;
}

/// An integer (optional spaces around it, an optional '-').
bool parseInteger(std::string_view cell, int64_t &out) {
  std::string_view s = trimSpaces(cell);
  if (s.empty())
    return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

} // namespace

absl::StatusOr<Dataset> readCsv(const std::string &path, const CsvOptions &o,
                                std::vector<std::string> *classNames) {
  absl::StatusOr<std::string> file =
      readRegularFile(path, "CSV file", kMaxCsvBytes);
  if (!file.ok())
    return file.status();
  auto fileError = [&](const std::string &message) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": error: ", message));
  };
  auto cellError = [&](int64_t line, size_t column,
                       const std::string &message) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", line, ":", column + 1, ": error: ", message));
  };

  CsvReader reader(*file, path);
  std::vector<Field> fields;
  int64_t line = 0;
  absl::StatusOr<bool> got = reader.next(fields, line);
  if (!got.ok())
    return got.status();
  if (!*got)
    return fileError("the file is empty; expected a header row of column "
                     "names");
  std::vector<std::string> header;
  std::map<std::string, size_t> columnOf;
  for (size_t c = 0; c < fields.size(); ++c) {
    header.emplace_back(trimSpaces(fields[c].text));
    auto [it, added] = columnOf.emplace(header.back(), c);
    if (!added)
      return cellError(line, c,
                       absl::StrCat("column '", showCell(header.back()),
                                    "' appears twice in the header (columns ",
                                    it->second + 1, " and ", c + 1, ")"));
  }
  int64_t headerLine = line;

  // Resolve the named columns.
  auto listHeader = [&] {
    std::vector<std::string> names;
    for (const std::string &h : header)
      names.push_back(absl::StrCat("'", showCell(h), "'"));
    return absl::StrJoin(names, ", ");
  };
  auto resolve = [&](const std::string &name,
                     const char *role) -> absl::StatusOr<size_t> {
    auto it = columnOf.find(name);
    if (it == columnOf.end())
      return fileError(absl::StrCat("no ", role, " column '", showCell(name),
                                    "'; the header has ", listHeader()));
    return it->second;
  };
  if (o.targets.empty() && !o.featuresOnly)
    return fileError("no target column given");
  if (!o.valueTargets && o.targets.size() > 1)
    return fileError(absl::StrCat(
        "class labels come from one column, ", o.targets.size(),
        " target columns are given (for regression set values: true in the "
        "loss)"));
  std::vector<size_t> targetColumns, featureColumns;
  std::vector<bool> isTarget(header.size(), false);
  for (const std::string &name : o.targets) {
    if (o.featuresOnly && !columnOf.count(name))
      continue;
    absl::StatusOr<size_t> c = resolve(name, "target");
    if (!c.ok())
      return c.status();
    if (isTarget[*c])
      return fileError(
          absl::StrCat("target column '", showCell(name), "' is listed twice"));
    isTarget[*c] = true;
    targetColumns.push_back(*c);
  }
  if (o.features.empty()) {
    for (size_t c = 0; c < header.size(); ++c)
      if (!isTarget[c])
        featureColumns.push_back(c);
    if (featureColumns.empty())
      return fileError(absl::StrCat("no feature columns: the header has only "
                                    "the target columns ",
                                    listHeader()));
  } else {
    std::vector<bool> isFeature(header.size(), false);
    for (const std::string &name : o.features) {
      absl::StatusOr<size_t> c = resolve(name, "feature");
      if (!c.ok())
        return c.status();
      if (isTarget[*c] && !o.targetsAsFeatures)
        return fileError(absl::StrCat("column '", showCell(name),
                                      "' is both a feature and a target"));
      if (isFeature[*c])
        return fileError(absl::StrCat("feature column '", showCell(name),
                                      "' is listed twice"));
      isFeature[*c] = true;
      featureColumns.push_back(*c);
    }
  }

  Dataset d;
  d.height = d.width = 1;
  d.channels = int64_t(featureColumns.size());
  if (o.valueTargets)
    d.targetWidth = int64_t(targetColumns.size());
  // Class label cells, converted once all are known.
  struct LabelCell {
    std::string text;
    int64_t line;
  };
  std::vector<LabelCell> labelCells;
  auto number = [&](const Field &f, size_t column, float &out) -> absl::Status {
    if (parseNumber(f.text, out))
      return absl::OkStatus();
    return cellError(f.line, column,
                     absl::StrCat("column '", showCell(header[column]), "': '",
                                  showCell(f.text), "' is not a number"));
  };
  for (;;) {
    got = reader.next(fields, line);
    if (!got.ok())
      return got.status();
    if (!*got)
      break;
    if (fields.size() != header.size())
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line, ": error: ", fields.size(),
                       fields.size() == 1 ? " field" : " fields",
                       ", the header has ", header.size()));
    for (size_t c : featureColumns) {
      float v;
      if (absl::Status s = number(fields[c], c, v); !s.ok())
        return s;
      d.images.push_back(v);
    }
    if (o.featuresOnly) {
      // Prediction: no targets read.
    } else if (o.valueTargets) {
      for (size_t c : targetColumns) {
        float v;
        if (absl::Status s = number(fields[c], c, v); !s.ok())
          return s;
        d.targets.push_back(v);
      }
    } else {
      const Field &f = fields[targetColumns[0]];
      std::string_view text =
          f.quoted ? std::string_view(f.text) : trimSpaces(f.text);
      if (text.empty())
        return cellError(f.line, targetColumns[0],
                         absl::StrCat("column '",
                                      showCell(header[targetColumns[0]]),
                                      "': empty class label"));
      labelCells.push_back(LabelCell{std::string(text), f.line});
    }
    d.labels.push_back(0);
  }
  if (d.labels.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", headerLine, ": error: no data rows after the header"));
  if (o.valueTargets || o.featuresOnly)
    return d;

  size_t labelColumn = targetColumns[0];
  std::vector<std::string> localNames;
  std::vector<std::string> &names = classNames ? *classNames : localNames;
  if (!names.empty()) {
    // The training file's classes.
    std::map<std::string, int32_t> index;
    for (size_t i = 0; i < names.size(); ++i)
      index.emplace(names[i], int32_t(i));
    for (size_t i = 0; i < labelCells.size(); ++i) {
      auto it = index.find(labelCells[i].text);
      if (it == index.end())
        return cellError(labelCells[i].line, labelColumn,
                         absl::StrCat("class '", showCell(labelCells[i].text),
                                      "' is not one of the training file's "
                                      "classes"));
      d.labels[i] = it->second;
    }
    return d;
  }
  bool integers = true;
  for (size_t i = 0; i < labelCells.size() && integers; ++i) {
    int64_t v;
    integers = parseInteger(labelCells[i].text, v);
    if (!integers && o.integerLabels)
      return cellError(labelCells[i].line, labelColumn,
                       absl::StrCat("class '", showCell(labelCells[i].text),
                                    "' is not an integer, as the training "
                                    "file's class labels are"));
  }
  if (integers) {
    for (size_t i = 0; i < labelCells.size(); ++i) {
      int64_t v = 0;
      parseInteger(labelCells[i].text, v);
      if (v < 0 || v > std::numeric_limits<int32_t>::max())
        return cellError(labelCells[i].line, labelColumn,
                         absl::StrCat("column '", showCell(header[labelColumn]),
                                      "': class label ", v,
                                      v < 0 ? " is negative"
                                            : " is too large (labels "
                                              "must be below 2^31)"));
      d.labels[i] = int32_t(v);
    }
    names.clear();
    return d;
  }
  std::vector<std::string> distinct;
  for (const LabelCell &cell : labelCells)
    distinct.push_back(cell.text);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::map<std::string, int32_t> index;
  for (size_t i = 0; i < distinct.size(); ++i)
    index.emplace(distinct[i], int32_t(i));
  for (size_t i = 0; i < labelCells.size(); ++i)
    d.labels[i] = index.at(labelCells[i].text);
  names = std::move(distinct);
  return d;
}

absl::StatusOr<Dataset> sequenceWindows(const Dataset &rows, int64_t length,
                                        int64_t horizon,
                                        const std::string &source) {
  if (length < 1 || length > kMaxSequenceLength || horizon < 0 ||
      horizon > kMaxSequenceLength)
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": error: a sequence length in [1, ", kMaxSequenceLength,
        "] and a horizon in [0, ", kMaxSequenceLength, "] are needed, got ",
        length, " and ", horizon));
  int64_t n = rows.size() - length - horizon + 1;
  if (n < 1)
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": error: ", rows.size(), " rows, a window of ", length,
        " and a horizon of ", horizon, " need ", length + horizon));
  int64_t f = rows.exampleSize(), values = 0;
  // Each row is copied into up to `length` windows: bounded here, not by
  // what the allocator survives.
  if (__builtin_mul_overflow(n, length, &values) ||
      __builtin_mul_overflow(values, f, &values) || values > kMaxSequenceValues)
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": error: ", n, " windows of ", length, " rows of ", f,
        " features are more than ", kMaxSequenceValues, " values"));
  Dataset d = emptyLike(rows);
  d.height = length;
  d.width = f;
  d.channels = 1;
  d.images.reserve(size_t(n * length * f));
  for (int64_t i = 0; i < n; ++i) {
    d.images.insert(d.images.end(), rows.images.begin() + i * f,
                    rows.images.begin() + (i + length) * f);
    int64_t at = i + length - 1 + horizon;
    d.labels.insert(d.labels.end(), rows.labels.begin() + at * rows.labelWidth,
                    rows.labels.begin() + (at + 1) * rows.labelWidth);
    if (rows.targetWidth)
      d.targets.insert(d.targets.end(),
                       rows.targets.begin() + at * rows.targetWidth,
                       rows.targets.begin() + (at + 1) * rows.targetWidth);
  }
  return d;
}

} // namespace gradc
