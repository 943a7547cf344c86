//===- IdxDataset.cpp - IDX image/label files and batching ----------------===//
//
// IDX parsing through zlib's gz* functions (which read plain files as they
// are and decompress gzip ones, recognized by their magic bytes), the checks
// that turn a malformed or mismatched file into a one-line error naming the
// file, the Keras validation split, the platform-independent epoch shuffle
// and batch copying.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/IdxDataset.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <system_error>
#include <thread>

namespace gradc {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
// Refuse headers that promise more than this many bytes (4 GiB, 16 GiB as
// floats): they are corrupt, and reading them would only exhaust memory.
constexpr uint64_t kMaxDataBytes = uint64_t(1) << 32;
// A gzip file may expand at most this much (MNIST's files expand 3 to 6
// times; only a zip bomb of zeros comes near deflate's limit of 1032), or
// to kMinBoundBytes, whichever is more.
constexpr uint64_t kMaxGzipRatio = 100;
constexpr uint64_t kMinBoundBytes = uint64_t(64) << 20;

/// A file opened through zlib: gzip data is decompressed, anything else is
/// read as it is.
class GzFile {
public:
  ~GzFile() {
    if (file_)
      gzclose(file_);
  }

  absl::Status open(const std::string &path) {
    path_ = path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    if (std::filesystem::is_directory(path, ec))
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": is a directory, expected an IDX file"));
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (!file_)
      return absl::NotFoundError(absl::StrCat(
          path,
          ": cannot open: ", errno ? std::strerror(errno) : "zlib error"));
    gzbuffer(file_, 1 << 17);
    onDisk_ = std::filesystem::file_size(path, ec);
    if (ec)
      onDisk_ = 0;
    return absl::OkStatus();
  }

  uint64_t onDisk() const { return onDisk_; }
  /// The most bytes the file can plausibly hold once decompressed.
  uint64_t plausibleBytes() {
    if (gzdirect(file_)) // not compressed: a short file is reported truncated
      return std::numeric_limits<uint64_t>::max();
    return std::max(kMinBoundBytes, onDisk_ * kMaxGzipRatio);
  }

  /// Reads up to `size` bytes; returns how many were read (fewer only at
  /// the end of the data) or an error for unreadable or corrupt gzip data.
  absl::StatusOr<uint64_t> read(void *buffer, uint64_t size) {
    uint64_t done = 0;
    char *out = static_cast<char *>(buffer);
    while (done < size) {
      unsigned chunk = unsigned(std::min<uint64_t>(size - done, 1u << 30));
      int got = gzread(file_, out + done, chunk);
      if (got < 0)
        return error();
      if (got == 0)
        break;
      done += uint64_t(got);
    }
    // A truncated gzip stream ends in a short read with Z_BUF_ERROR set;
    // the caller reports it as truncation. Other errors are corruption.
    int code = Z_OK;
    gzerror(file_, &code);
    if (code != Z_OK && code != Z_BUF_ERROR)
      return error();
    return done;
  }

  /// Counts the bytes left after the current position.
  absl::StatusOr<uint64_t> countRemaining() {
    uint64_t total = 0;
    std::vector<char> scratch(1 << 16);
    for (;;) {
      absl::StatusOr<uint64_t> got = read(scratch.data(), scratch.size());
      if (!got.ok())
        return got.status();
      if (*got == 0)
        return total;
      total += *got;
    }
  }

private:
  uint64_t onDisk_ = 0;

  absl::Status error() {
    int code = Z_OK;
    const char *message = gzerror(file_, &code);
    if (code == Z_ERRNO)
      return absl::DataLossError(
          absl::StrCat(path_, ": read error: ", std::strerror(errno)));
    return absl::DataLossError(absl::StrCat(
        path_, ": corrupt gzip data: ", message ? message : "unknown error"));
  }

  std::string path_;
  gzFile file_ = nullptr;
};

uint32_t readBigEndian32(const uint8_t *bytes) {
  return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) |
         (uint32_t(bytes[2]) << 8) | uint32_t(bytes[3]);
}

std::string magicString(uint32_t magic) {
  return absl::StrFormat("0x%08X", magic);
}

std::string describeMagic(uint32_t magic) {
  if ((magic >> 16) != 0)
    return "not an IDX file";
  uint8_t type = (magic >> 8) & 0xFF;
  int rank = magic & 0xFF;
  const char *typeName = nullptr;
  switch (type) {
  case 0x08:
    typeName = "unsigned bytes";
    break;
  case 0x09:
    typeName = "signed bytes";
    break;
  case 0x0B:
    typeName = "16-bit integers";
    break;
  case 0x0C:
    typeName = "32-bit integers";
    break;
  case 0x0D:
    typeName = "32-bit floats";
    break;
  case 0x0E:
    typeName = "64-bit floats";
    break;
  default:
    return "not an IDX file";
  }
  if (type == kUnsignedByteType && rank == 1)
    return "an IDX label file";
  if (type == kUnsignedByteType && (rank == 3 || rank == 4))
    return "an IDX image file";
  return absl::StrCat("an IDX file of ", typeName, " with ", rank,
                      rank == 1 ? " dimension" : " dimensions");
}

/// Header of an IDX file: its dimensions, after checking the magic number
/// against the accepted ranks.
struct IdxHeader {
  std::vector<uint64_t> dims;
};

absl::StatusOr<IdxHeader> readHeader(GzFile &file, const std::string &path,
                                     const std::vector<int> &ranks,
                                     const std::string &expected) {
  uint8_t magicBytes[4];
  absl::StatusOr<uint64_t> got = file.read(magicBytes, 4);
  if (!got.ok())
    return got.status();
  if (*got < 4)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": too short for an IDX file (", *got,
                     *got == 1 ? " byte)" : " bytes)"));
  uint32_t magic = readBigEndian32(magicBytes);
  uint8_t type = (magic >> 8) & 0xFF;
  int rank = magic & 0xFF;
  bool accepted = (magic >> 16) == 0 && type == kUnsignedByteType &&
                  std::find(ranks.begin(), ranks.end(), rank) != ranks.end();
  if (!accepted) {
    std::vector<std::string> wanted;
    for (int r : ranks)
      wanted.push_back(magicString((uint32_t(kUnsignedByteType) << 8) | r));
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": wrong magic number ", magicString(magic), " (",
                     describeMagic(magic), "), expected ",
                     absl::StrJoin(wanted, " or "), " for ", expected));
  }
  IdxHeader header;
  std::vector<uint8_t> dimBytes(4 * rank);
  got = file.read(dimBytes.data(), dimBytes.size());
  if (!got.ok())
    return got.status();
  if (*got < dimBytes.size())
    return absl::DataLossError(
        absl::StrCat(path, ": truncated: expected ", dimBytes.size(),
                     " bytes of dimension sizes in the header, got ", *got));
  for (int i = 0; i < rank; ++i)
    header.dims.push_back(readBigEndian32(&dimBytes[4 * i]));
  return header;
}

/// Reads exactly `size` bytes of data and checks that nothing follows.
absl::Status readData(GzFile &file, const std::string &path, uint64_t size,
                      const char *what, std::vector<uint8_t> &out) {
  if (size > kMaxDataBytes)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the header announces ", size, " bytes of ", what,
                     ", which is not plausible; the file is corrupt"));
  if (size > file.plausibleBytes())
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": the header announces ", size, " bytes of ", what, " in a ",
        file.onDisk(), "-byte file (more than ", kMaxGzipRatio,
        " times its size when compressed); refused"));
  // Grow as data arrives so that a lying header in a short file does not
  // allocate the announced size up front.
  out.clear();
  uint64_t done = 0;
  while (done < size) {
    uint64_t chunk = std::min<uint64_t>(size - done, uint64_t(64) << 20);
    out.resize(done + chunk);
    absl::StatusOr<uint64_t> got = file.read(out.data() + done, chunk);
    if (!got.ok())
      return got.status();
    done += *got;
    if (*got < chunk)
      break;
  }
  if (done < size)
    return absl::DataLossError(absl::StrCat(path, ": truncated: expected ",
                                            size, " bytes of ", what, ", got ",
                                            done));
  absl::StatusOr<uint64_t> extra = file.countRemaining();
  if (!extra.ok())
    return extra.status();
  if (*extra > 0)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", *extra, *extra == 1 ? " byte" : " bytes", " after the ",
        size, " bytes of ", what,
        " that the header announces; the header does not describe this file"));
  return absl::OkStatus();
}

std::string shapeString(int64_t h, int64_t w, int64_t c, bool withChannels) {
  if (withChannels)
    return absl::StrCat(h, "x", w, "x", c);
  return absl::StrCat(h, "x", w);
}

} // namespace

absl::StatusOr<IdxImages> readIdxImages(const std::string &path) {
  GzFile file;
  if (absl::Status status = file.open(path); !status.ok())
    return status;
  absl::StatusOr<IdxHeader> header =
      readHeader(file, path, {3, 4}, "images (unsigned bytes, N x H x W)");
  if (!header.ok())
    return header.status();
  const std::vector<uint64_t> &dims = header->dims;
  IdxImages images;
  images.rank = int(dims.size());
  images.count = int64_t(dims[0]);
  images.height = int64_t(dims[1]);
  images.width = int64_t(dims[2]);
  images.channels = images.rank == 4 ? int64_t(dims[3]) : 1;
  if (images.height == 0 || images.width == 0 || images.channels == 0)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": empty image size ",
                     shapeString(images.height, images.width, images.channels,
                                 images.rank == 4)));
  // Each factor is below 2^32; check before multiplying them all.
  uint64_t bytes = uint64_t(images.height) * uint64_t(images.width);
  for (uint64_t factor : {uint64_t(images.channels), uint64_t(images.count)}) {
    if (factor != 0 && bytes > kMaxDataBytes / factor) {
      bytes = kMaxDataBytes + 1;
      break;
    }
    bytes *= factor;
  }
  if (absl::Status status =
          readData(file, path, bytes, "pixels", images.pixels);
      !status.ok())
    return status;
  return images;
}

absl::StatusOr<std::vector<uint8_t>> readIdxLabels(const std::string &path) {
  GzFile file;
  if (absl::Status status = file.open(path); !status.ok())
    return status;
  absl::StatusOr<IdxHeader> header =
      readHeader(file, path, {1}, "labels (unsigned bytes, N)");
  if (!header.ok())
    return header.status();
  std::vector<uint8_t> labels;
  if (absl::Status status =
          readData(file, path, header->dims[0], "labels", labels);
      !status.ok())
    return status;
  return labels;
}

absl::StatusOr<Dataset> loadIdxDataset(const std::string &imagesPath,
                                       const std::string &labelsPath,
                                       const DataSpec &spec) {
  absl::StatusOr<IdxImages> images = readIdxImages(imagesPath);
  if (!images.ok())
    return images.status();
  if (images->count == 0)
    return absl::InvalidArgumentError(
        absl::StrCat(imagesPath, ": contains no images"));
  bool hwMismatch = (spec.height && spec.height != images->height) ||
                    (spec.width && spec.width != images->width);
  bool cMismatch = spec.channels && spec.channels != images->channels;
  if (hwMismatch || cMismatch) {
    // Show the channel count of the file when it carries one or when it is
    // the channel count that differs.
    bool withChannels = images->rank == 4 || cMismatch;
    auto model = [](int64_t v) {
      return v ? absl::StrCat(v) : std::string("?");
    };
    return absl::InvalidArgumentError(
        absl::StrCat(imagesPath, ": image size ",
                     shapeString(images->height, images->width,
                                 images->channels, withChannels),
                     " does not match the model input ", model(spec.height),
                     "x", model(spec.width), "x", model(spec.channels)));
  }

  absl::StatusOr<std::vector<uint8_t>> labels = readIdxLabels(labelsPath);
  if (!labels.ok())
    return labels.status();
  if (int64_t(labels->size()) != images->count)
    return absl::InvalidArgumentError(
        absl::StrCat(labelsPath, ": ", labels->size(), " labels for ",
                     images->count, " images in ", imagesPath));
  if (spec.numClasses > 0) {
    for (size_t i = 0; i < labels->size(); ++i) {
      if ((*labels)[i] >= spec.numClasses)
        return absl::InvalidArgumentError(absl::StrCat(
            labelsPath, ": label ", (*labels)[i], " of example ", i,
            " is out of range for a model with ", spec.numClasses,
            " classes (labels must be 0..", spec.numClasses - 1, ")"));
    }
  }

  Dataset data;
  data.height = images->height;
  data.width = images->width;
  data.channels = images->channels;
  data.pixels = std::move(images->pixels);
  data.labels.assign(labels->begin(), labels->end());
  return data;
}

absl::StatusOr<IdxPaths> findIdxFiles(const std::string &dir, IdxPart part) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return absl::NotFoundError(
        absl::StrCat("data directory '", dir, "' does not exist"));
  if (!fs::is_directory(dir, ec))
    return absl::InvalidArgumentError(
        absl::StrCat("data path '", dir, "' is not a directory"));
  const char *prefix = part == IdxPart::Train ? "train" : "t10k";
  const char *partName = part == IdxPart::Train ? "training" : "test";
  auto find = [&](const char *kind, const char *ext,
                  const char *what) -> absl::StatusOr<std::string> {
    std::vector<std::string> tried;
    for (const char *sep : {"-", "."}) {
      std::string base =
          (fs::path(dir) / absl::StrCat(prefix, "-", kind, sep, ext, "-ubyte"))
              .string();
      for (const char *suffix : {"", ".gz"}) {
        std::string candidate = base + suffix;
        if (fs::is_regular_file(candidate, ec))
          return candidate;
        tried.push_back(candidate);
      }
    }
    return absl::NotFoundError(absl::StrCat("cannot find the ", partName, " ",
                                            what, " in '", dir, "': tried ",
                                            absl::StrJoin(tried, ", ")));
  };
  IdxPaths paths;
  absl::StatusOr<std::string> images = find("images", "idx3", "images");
  if (!images.ok())
    return images.status();
  absl::StatusOr<std::string> labels = find("labels", "idx1", "labels");
  if (!labels.ok())
    return labels.status();
  paths.images = *images;
  paths.labels = *labels;
  return paths;
}

absl::StatusOr<Dataset> loadIdxPart(const std::string &dir, IdxPart part,
                                    const DataSpec &spec) {
  absl::StatusOr<IdxPaths> paths = findIdxFiles(dir, part);
  if (!paths.ok())
    return paths.status();
  return loadIdxDataset(paths->images, paths->labels, spec);
}

absl::StatusOr<DataSplits> loadIdxDirectory(const std::string &dir,
                                               const DataSpec &spec,
                                               double validationSplit) {
  // Find every file before reading any, so a missing test set is reported
  // before seconds of decompression.
  absl::StatusOr<IdxPaths> trainPaths = findIdxFiles(dir, IdxPart::Train);
  if (!trainPaths.ok())
    return trainPaths.status();
  absl::StatusOr<IdxPaths> testPaths = findIdxFiles(dir, IdxPart::Test);
  if (!testPaths.ok())
    return testPaths.status();
  // The test set decompresses on a second thread meanwhile.
  absl::StatusOr<Dataset> test = absl::UnknownError("not loaded");
  std::thread testLoader([&] {
    test = loadIdxDataset(testPaths->images, testPaths->labels, spec);
  });
  absl::StatusOr<Dataset> train =
      loadIdxDataset(trainPaths->images, trainPaths->labels, spec);
  testLoader.join();
  if (!train.ok())
    return train.status();
  absl::StatusOr<TrainValidation> split =
      splitValidation(std::move(*train), validationSplit);
  if (!split.ok())
    return split.status();
  if (!test.ok())
    return test.status();
  DataSplits splits;
  splits.train = std::move(split->train);
  splits.validation = std::move(split->validation);
  splits.test = std::move(*test);
  return splits;
}

} // namespace gradc
