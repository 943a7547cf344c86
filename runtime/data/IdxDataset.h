//===- IdxDataset.h - IDX image/label files and batching --------*- C++ -*-===//
//
// Reads datasets in the IDX format of MNIST, Fashion-MNIST, KMNIST, ... (raw
// or gzip-compressed), checks them against the model's input shape and class
// count, splits off a validation set the way Keras does, and feeds batches to
// the trainer: a per-epoch shuffle that is a pure function of (seed, epoch),
// so training can be resumed from (epoch, step) alone, and copies into
// buffers the caller owns.
//
// File format (big-endian): two zero bytes, a type byte (0x08: unsigned
// byte, the only type accepted), a dimension count, then one 32-bit size per
// dimension and the data. Images are IDX3 (N x rows x cols, one channel) or
// IDX4 (N x H x W x C); labels are IDX1 (N). Bytes after the data are
// rejected: they mean the header does not describe the file.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_IDXDATASET_H
#define GRADC_RUNTIME_IDXDATASET_H

#include "runtime/data/Dataset.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

/// The raw content of an IDX image file (pixels row-major, NHWC).
struct IdxImages {
  int64_t count = 0;
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 1;
  /// Number of dimensions in the file: 3 (N,H,W) or 4 (N,H,W,C).
  int rank = 3;
  std::vector<uint8_t> pixels;
};

/// Reads an IDX3/IDX4 unsigned-byte image file, gzip-compressed or not (the
/// gzip magic is detected, whatever the file name).
absl::StatusOr<IdxImages> readIdxImages(const std::string &path);

/// Reads an IDX1 unsigned-byte label file, gzip-compressed or not.
absl::StatusOr<std::vector<uint8_t>> readIdxLabels(const std::string &path);

/// Loads an image file and its label file and checks that they agree and
/// match `spec`; the pixels are kept as bytes.
absl::StatusOr<Dataset> loadIdxDataset(const std::string &imagesPath,
                                       const std::string &labelsPath,
                                       const DataSpec &spec = {});

/// The two parts of an IDX data directory, named as MNIST ships them.
enum class IdxPart { Train, Test };

/// Paths of a part's image and label files.
struct IdxPaths {
  std::string images;
  std::string labels;
};

/// Finds a part's files in `dir`: "train-images-idx3-ubyte" and
/// "train-labels-idx1-ubyte" (or "t10k-..."), each raw or with ".gz", as in
/// the MNIST distribution and Debian's dataset-fashion-mnist; also the
/// "train-images.idx3-ubyte" spelling of some mirrors. The error names every
/// path tried.
absl::StatusOr<IdxPaths> findIdxFiles(const std::string &dir, IdxPart part);

/// findIdxFiles + loadIdxDataset.
absl::StatusOr<Dataset> loadIdxPart(const std::string &dir, IdxPart part,
                                    const DataSpec &spec = {});

/// A whole IDX data directory: training set (minus the validation split),
/// validation set (empty when validationSplit is 0) and test set.
absl::StatusOr<DataSplits> loadIdxDirectory(const std::string &dir,
                                               const DataSpec &spec,
                                               double validationSplit = 0.0);

} // namespace gradc

#endif // GRADC_RUNTIME_IDXDATASET_H
