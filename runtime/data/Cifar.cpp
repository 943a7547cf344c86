//===- Cifar.cpp - CIFAR-10 and CIFAR-100 binary files --------------------===//
//
// Finds which CIFAR layout a directory holds, reads each batch file whole
// (regular files only, size-capped), checks its size against the record
// size and every label, and turns each record's R, G and B planes into
// interleaved HWC pixels.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Cifar.h"

#include "support/Files.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include <filesystem>

namespace gradc {
namespace {

namespace fs = std::filesystem;

// CIFAR-100's train.bin is 154 MB; anything far larger is not CIFAR.
constexpr int64_t kMaxBatchFileBytes = int64_t(1) << 30;
constexpr int64_t kMaxNamesFileBytes = int64_t(1) << 20;

struct CifarFormat {
  const char *name;      // "CIFAR-10"
  int64_t labelBytes;    // label bytes before the image
  int64_t classes;       // of the last label byte, the class
  int64_t coarseClasses; // of the first label byte when there are two
  const char *namesFile;
};

const CifarFormat kCifar10 = {"CIFAR-10", 1, 10, 0, "batches.meta.txt"};
const CifarFormat kCifar100 = {"CIFAR-100", 2, 100, 20, "fine_label_names.txt"};

Dataset emptyCifar() {
  Dataset d;
  d.height = kCifarSide;
  d.width = kCifarSide;
  d.channels = 3;
  return d;
}

/// Appends the records of `path` to `data`.
absl::Status readBatch(const std::string &path, const CifarFormat &format,
                       Dataset &data) {
  absl::StatusOr<std::string> bytes =
      readRegularFile(path, "CIFAR file", kMaxBatchFileBytes);
  if (!bytes.ok())
    return bytes.status();
  const int64_t recordBytes = format.labelBytes + kCifarImageBytes;
  const int64_t size = int64_t(bytes->size());
  if (size == 0)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": error: empty file, expected ", recordBytes,
                     "-byte ", format.name, " records"));
  if (size % recordBytes != 0)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": error: ", size, " bytes is not a whole number of ",
        recordBytes, "-byte ", format.name, " records"));
  const int64_t records = size / recordBytes;
  const auto *in = reinterpret_cast<const uint8_t *>(bytes->data());
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t *record = in + r * recordBytes;
    if (format.coarseClasses && record[0] >= format.coarseClasses)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": error: record ", r, " (byte ", r * recordBytes,
                       ") has coarse label ", record[0], ", ", format.name,
                       " coarse labels are 0..", format.coarseClasses - 1));
    const uint8_t label = record[format.labelBytes - 1];
    if (label >= format.classes)
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": error: record ", r, " (byte ", r * recordBytes,
                       ") has label ", label, ", ", format.name,
                       " labels are 0..", format.classes - 1));
  }

  const size_t first = data.pixels.size();
  data.pixels.resize(first + size_t(records) * kCifarImageBytes);
  data.labels.reserve(data.labels.size() + size_t(records));
  constexpr int64_t kPlane = kCifarSide * kCifarSide;
  for (int64_t r = 0; r < records; ++r) {
    const uint8_t *record = in + r * recordBytes;
    const uint8_t *planes = record + format.labelBytes;
    uint8_t *out = data.pixels.data() + first + r * kCifarImageBytes;
    for (int64_t p = 0; p < kPlane; ++p)
      for (int64_t c = 0; c < 3; ++c)
        out[p * 3 + c] = planes[c * kPlane + p];
    data.labels.push_back(record[format.labelBytes - 1]);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> readNames(const std::string &path,
                                                   const CifarFormat &format) {
  absl::StatusOr<std::string> text =
      readRegularFile(path, "class names file", kMaxNamesFileBytes);
  if (!text.ok())
    return text.status();
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty())
      names.emplace_back(line);
  }
  if (int64_t(names.size()) != format.classes)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": error: ", names.size(), " class names, ",
                     format.name, " has ", format.classes, " classes"));
  return names;
}

bool present(const fs::path &path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

} // namespace

absl::StatusOr<DataSplits> loadCifar(const std::string &dir) {
  std::error_code ec;
  fs::file_status status = fs::status(dir, ec);
  if (ec || !fs::exists(status))
    return absl::NotFoundError(
        absl::StrCat(dir, ": error: no such CIFAR directory"));
  if (!fs::is_directory(status))
    return absl::InvalidArgumentError(absl::StrCat(
        dir, ": error: is not a directory (expected the directory of the "
             "CIFAR binary files)"));
  const fs::path root(dir);
  bool isCifar10 = present(root / "data_batch_1.bin");
  bool isCifar100 = present(root / "train.bin");
  if (isCifar10 && isCifar100)
    return absl::InvalidArgumentError(absl::StrCat(
        dir, ": error: holds both CIFAR-10 (data_batch_1.bin) and CIFAR-100 "
             "(train.bin) files; keep one data set per directory"));
  if (!isCifar10 && !isCifar100) {
    std::string hint;
    for (const char *sub : {"cifar-10-batches-bin", "cifar-100-binary"})
      if (present(root / sub))
        hint = absl::StrCat(" (did you mean ", (root / sub).string(), "?)");
    return absl::NotFoundError(
        absl::StrCat(dir,
                     ": error: no CIFAR-10 (data_batch_1.bin) or CIFAR-100 "
                     "(train.bin) binary files",
                     hint));
  }
  const CifarFormat &format = isCifar10 ? kCifar10 : kCifar100;

  DataSplits splits;
  splits.train = emptyCifar();
  splits.validation = emptyCifar();
  splits.test = emptyCifar();
  std::vector<std::string> trainFiles;
  if (isCifar10) {
    for (int i = 1; i <= 5; ++i) {
      fs::path batch = root / absl::StrCat("data_batch_", i, ".bin");
      if (i == 1 || present(batch))
        trainFiles.push_back(batch.string());
    }
  } else {
    trainFiles.push_back((root / "train.bin").string());
  }
  for (const std::string &file : trainFiles)
    if (absl::Status s = readBatch(file, format, splits.train); !s.ok())
      return s;
  fs::path test = root / (isCifar10 ? "test_batch.bin" : "test.bin");
  if (present(test))
    if (absl::Status s = readBatch(test.string(), format, splits.test); !s.ok())
      return s;
  fs::path names = root / format.namesFile;
  if (present(names)) {
    absl::StatusOr<std::vector<std::string>> read =
        readNames(names.string(), format);
    if (!read.ok())
      return read.status();
    splits.classNames = std::move(*read);
  }
  return splits;
}

} // namespace gradc
