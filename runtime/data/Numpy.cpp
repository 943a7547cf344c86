//===- Numpy.cpp - NumPy .npz archives and arrays as data sets ------------===//
//
// An .npz archive is read through the ZIP reader (ZipArchive.h), each
// NAME.npy entry parsed by the .npy parser (NpyFormat.h). The arrays then
// become a Dataset: their shapes are checked against the layouts a model
// input can take, labels against [0, 2^31), and the values copied (uint8
// inputs stay bytes, int32 and int64 ones ids, floats floats).
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Numpy.h"

#include "runtime/data/ZipArchive.h"
#include "support/Files.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <limits>

namespace gradc {
namespace {

// Values (or targets) per example beyond this are refused: only an array
// of zero examples can claim them, and sizes computed from them overflow.
constexpr int64_t kMaxExampleValues = std::numeric_limits<int32_t>::max();

absl::Status invalid(const std::string &prefix, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(prefix, message));
}

} // namespace

absl::StatusOr<std::map<std::string, NpyArray>>
readNpz(const std::string &path) {
  absl::StatusOr<std::string> file =
      readRegularFile(path, "NumPy archive", kMaxNumpyFileBytes);
  if (!file.ok())
    return file.status();
  std::string_view zip = *file;
  if (zip.substr(0, kNpyMagic.size()) == kNpyMagic && !findZipEndRecord(zip))
    return invalid(absl::StrCat(path, ": error: "),
                   "this is a single .npy array, not an .npz archive; save "
                   "inputs and labels together with np.savez(file, "
                   "x_train=..., y_train=..., x_test=..., y_test=...)");
  absl::StatusOr<std::vector<ZipEntry>> entries = readZipDirectory(zip, path);
  if (!entries.ok())
    return entries.status();
  std::map<std::string, NpyArray> arrays;
  for (const ZipEntry &entry : *entries) {
    std::string prefix = absl::StrCat(path, ": error: entry '",
                                      absl::CHexEscape(entry.name), "': ");
    constexpr std::string_view kSuffix = ".npy";
    if (entry.name.size() < kSuffix.size() ||
        entry.name.compare(entry.name.size() - kSuffix.size(), kSuffix.size(),
                           kSuffix) != 0)
      return invalid(prefix, "is not a .npy array; an .npz archive holds "
                             "only NAME.npy entries");
    std::string key = entry.name.substr(0, entry.name.size() - kSuffix.size());
    if (arrays.count(key))
      return invalid(prefix, "appears twice in the archive");
    std::string_view compressed =
        zip.substr(entry.dataStart, entry.compressedSize);
    absl::StatusOr<NpyArray> array = absl::UnknownError("not read");
    if (entry.method == 0) {
      if (absl::Status s = checkZipCrc(
              entry, reinterpret_cast<const uint8_t *>(compressed.data()),
              compressed.size(), prefix);
          !s.ok())
        return s;
      array = parseNpyWithPrefix(compressed, prefix);
    } else {
      absl::StatusOr<std::vector<uint8_t>> data =
          inflateZipEntry(compressed, entry.size, prefix);
      if (!data.ok())
        return data.status();
      if (absl::Status s =
              checkZipCrc(entry, data->data(), data->size(), prefix);
          !s.ok())
        return s;
      array = parseNpyBuffer(std::move(*data), prefix);
    }
    if (!array.ok())
      return array.status();
    arrays.emplace(std::move(key), std::move(*array));
  }
  return arrays;
}

absl::StatusOr<Dataset> datasetFromArrays(const NpyArray &x, const NpyArray &y,
                                          const std::string &where,
                                          bool valueTargets,
                                          const std::string &xName,
                                          const std::string &yName) {
  std::string prefix = absl::StrCat(where, ": error: ");
  const char *layouts = "[N, H, W, C] (images), [N, H, W] (one channel) or "
                        "[N, F] (one row of F features per example)";
  if (x.shape.empty())
    return invalid(prefix,
                   absl::StrCat(xName, " is a scalar; expected ", layouts));
  if (x.shape.size() == 1)
    return invalid(prefix,
                   absl::StrCat(xName, " has shape ", npyShapeString(x.shape),
                                ", one value per example; expected ", layouts,
                                " (one feature: ", xName, ".reshape(-1, 1))"));
  if (x.shape.size() > 4)
    return invalid(prefix,
                   absl::StrCat(xName, " has shape ", npyShapeString(x.shape),
                                "; expected ", layouts));
  Dataset d;
  int64_t n = x.shape[0];
  if (x.shape.size() == 2) {
    d.height = d.width = 1;
    d.channels = x.shape[1];
  } else {
    d.height = x.shape[1];
    d.width = x.shape[2];
    d.channels = x.shape.size() == 4 ? x.shape[3] : 1;
  }
  if (d.height == 0 || d.width == 0 || d.channels == 0)
    return invalid(prefix,
                   absl::StrCat(xName, " has shape ", npyShapeString(x.shape),
                                ": its examples hold no values"));
  // Real data bound the example size, but not when there are no examples.
  int64_t exampleSize = 0;
  if (__builtin_mul_overflow(d.height, d.width, &exampleSize) ||
      __builtin_mul_overflow(exampleSize, d.channels, &exampleSize) ||
      exampleSize > kMaxExampleValues)
    return invalid(prefix,
                   absl::StrCat(xName, " has shape ", npyShapeString(x.shape),
                                ": examples of more than ", kMaxExampleValues,
                                " values are not supported"));

  if (y.shape.empty())
    return invalid(prefix,
                   absl::StrCat(yName, " is a scalar; expected one ",
                                valueTargets ? "row of targets" : "label",
                                " per example"));
  if (y.shape[0] != n)
    return invalid(prefix, absl::StrCat(xName, " has ", n, " examples, ", yName,
                                        " has ", y.shape[0]));
  if (!valueTargets) {
    // [N] or [N, 1]: a label per example; [N, T...]: one per position of
    // the model's output (per-token labels; the model checks the count).
    if (!y.isInteger())
      return invalid(prefix,
                     absl::StrCat(yName, " holds floats; class labels must be "
                                         "integers (for regression set values: "
                                         "true in the loss)"));
    d.labelWidth = 1;
    bool tooMany = false;
    for (size_t k = 1; k < y.shape.size() && !tooMany; ++k)
      tooMany =
          __builtin_mul_overflow(d.labelWidth, y.shape[k], &d.labelWidth) ||
          d.labelWidth > kMaxExampleValues;
    if (tooMany || d.labelWidth <= 0)
      return invalid(prefix,
                     absl::StrCat(yName, " has shape ", npyShapeString(y.shape),
                                  ": no labels, or too many, per example"));
    d.labels.resize(size_t(y.count()));
    for (int64_t i = 0; i < y.count(); ++i) {
      int64_t v = y.integerAt(i);
      // Negative labels are checked against the model's ignore_index.
      if (v < std::numeric_limits<int32_t>::min() ||
          v > std::numeric_limits<int32_t>::max())
        return invalid(prefix, absl::StrCat(yName, "[", i, "] is ", v,
                                            "; class labels must fit in "
                                            "32 bits"));
      d.labels[size_t(i)] = int32_t(v);
    }
  } else {
    if (y.shape.size() > 2)
      return invalid(prefix,
                     absl::StrCat(yName, " has shape ", npyShapeString(y.shape),
                                  "; value targets are [N] or [N, K]"));
    d.targetWidth = y.shape.size() == 2 ? y.shape[1] : 1;
    if (d.targetWidth == 0 || d.targetWidth > kMaxExampleValues)
      return invalid(prefix,
                     absl::StrCat(yName, " has shape ", npyShapeString(y.shape),
                                  d.targetWidth == 0
                                      ? ": no targets per example"
                                      : ": too many targets per example"));
    d.labels.assign(size_t(n), 0);
    d.targets.resize(size_t(y.count()));
    for (int64_t i = 0; i < y.count(); ++i)
      d.targets[size_t(i)] = float(y.at(i));
  }

  if (x.type == NpyArray::Type::U8) {
    d.pixels = x.bytes;
  } else if (x.isInteger()) {
    // int32 and int64: ids for an embedding, kept exact.
    d.idBytes = x.itemSize();
    d.ids.resize(size_t(x.count()));
    for (int64_t i = 0; i < x.count(); ++i)
      d.ids[size_t(i)] = x.integerAt(i);
  } else {
    d.images.resize(size_t(x.count()));
    for (int64_t i = 0; i < x.count(); ++i)
      d.images[size_t(i)] = float(x.at(i));
  }
  return d;
}

absl::StatusOr<DataSplits> loadNumpy(const std::string &path,
                                     bool valueTargets) {
  absl::StatusOr<std::map<std::string, NpyArray>> arrays = readNpz(path);
  if (!arrays.ok())
    return arrays.status();
  std::string prefix = absl::StrCat(path, ": error: ");
  auto has = [&](const char *key) { return arrays->count(key) != 0; };
  std::vector<std::string> keys;
  for (const auto &[key, array] : *arrays)
    keys.push_back(absl::StrCat("'", absl::CHexEscape(key), "'"));
  std::string listing =
      keys.empty() ? "the archive is empty"
                   : absl::StrCat("the file has ", absl::StrJoin(keys, ", "));
  const char *expected = "expected arrays x_train and y_train (and x_test and "
                         "y_test for a test set) or x and y";
  std::string xTrain = "x_train", yTrain = "y_train";
  if (!has("x_train") && !has("y_train")) {
    xTrain = "x";
    yTrain = "y";
  }
  if (!has(xTrain.c_str()) || !has(yTrain.c_str()))
    return invalid(prefix, absl::StrCat(expected, "; ", listing));
  if (has("x_test") != has("y_test"))
    return invalid(prefix, absl::StrCat("the file has ",
                                        has("x_test") ? "x_test but no y_test"
                                                      : "y_test but no x_test",
                                        "; a test set needs both; ", listing));
  DataSplits splits;
  absl::StatusOr<Dataset> train =
      datasetFromArrays(arrays->at(xTrain), arrays->at(yTrain), path,
                        valueTargets, xTrain, yTrain);
  if (!train.ok())
    return train.status();
  splits.train = std::move(*train);
  if (has("x_test")) {
    absl::StatusOr<Dataset> test =
        datasetFromArrays(arrays->at("x_test"), arrays->at("y_test"), path,
                          valueTargets, "x_test", "y_test");
    if (!test.ok())
      return test.status();
    const Dataset &a = splits.train, &b = *test;
    if (a.height != b.height || a.width != b.width || a.channels != b.channels)
      return invalid(prefix, absl::StrCat("x_test's examples are ", b.height,
                                          "x", b.width, "x", b.channels, ", ",
                                          xTrain, "'s are ", a.height, "x",
                                          a.width, "x", a.channels));
    if (arrays->at(xTrain).type != arrays->at("x_test").type &&
        (arrays->at(xTrain).type == NpyArray::Type::U8 ||
         arrays->at("x_test").type == NpyArray::Type::U8))
      return invalid(
          prefix, absl::StrCat(
                      xTrain, " is ", npyTypeName(arrays->at(xTrain).type),
                      " and x_test is ", npyTypeName(arrays->at("x_test").type),
                      "; uint8 pixels are scaled to [0, 1] and other types "
                      "are used as they are, so save both with one dtype"));
    if (a.targetWidth != b.targetWidth)
      return invalid(prefix, absl::StrCat("y_test has ", b.targetWidth,
                                          " targets per example, ", yTrain,
                                          " has ", a.targetWidth));
    splits.test = std::move(*test);
  } else {
    splits.test = emptyLike(splits.train);
  }
  splits.validation = emptyLike(splits.train);
  return splits;
}

} // namespace gradc
