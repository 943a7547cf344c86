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

/// What the model expects of its data. A zero field is not checked.
struct DataSpec {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  /// Labels must lie in [0, numClasses).
  int64_t numClasses = 0;
};

/// Examples N x H x W x C and int32 class labels. Images read from bytes
/// (IDX) stay bytes, a quarter of the memory, and become floats in [0, 1]
/// (pixel / 255) when a batch is assembled; other data are floats.
struct Dataset {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 1;
  std::vector<uint8_t> pixels; // either these
  std::vector<float> images;   // or these
  std::vector<int32_t> labels;

  int64_t size() const { return int64_t(labels.size()); }
  /// Floats per example: H * W * C.
  int64_t exampleSize() const { return height * width * channels; }
  /// Writes example `i` as exampleSize() floats to `out`.
  void example(int64_t i, float *out) const;
  /// Examples [first, first + n) as floats.
  std::vector<float> examples(int64_t first, int64_t n) const;
};

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

/// Keras's validation_split: the last `fraction` of the examples (not
/// shuffled first) becomes the validation set; the first
/// floor(N * (1 - fraction)) stay for training. `fraction` is in [0, 1).
struct TrainValidation {
  Dataset train;
  Dataset validation;
};
absl::StatusOr<TrainValidation> splitValidation(Dataset data, double fraction);

/// A whole data directory: training set (minus the validation split),
/// validation set (empty when validationSplit is 0) and test set.
struct IdxDataSplits {
  Dataset train;
  Dataset validation;
  Dataset test;
};
absl::StatusOr<IdxDataSplits> loadIdxDirectory(const std::string &dir,
                                               const DataSpec &spec,
                                               double validationSplit = 0.0);

/// The order in which epoch `epoch` visits `n` examples: Fisher-Yates driven
/// by std::mt19937_64 seeded from (seed, epoch), with an exact bounded draw
/// (no std::uniform_int_distribution), so the order is the same on every
/// platform and standard library.
std::vector<int64_t> epochPermutation(int64_t n, uint64_t seed, int64_t epoch);

struct BatchOptions {
  int64_t batchSize = 32;
  /// Shuffle every epoch; otherwise examples come in file order.
  bool shuffle = true;
  uint64_t seed = 0;
  /// Drop the last batch when it is partial (it is kept by default).
  bool dropRemainder = false;
};

/// Walks a dataset in batches, epoch by epoch. The position is (epoch,
/// step) and nothing else: the order of an epoch is
/// epochPermutation(size, seed, epoch), so a checkpoint that saves epoch()
/// and step() resumes exactly with seek(). The dataset must outlive the
/// iterator.
class BatchIterator {
public:
  static absl::StatusOr<BatchIterator> create(const Dataset &data,
                                              const BatchOptions &options);

  /// Batches per epoch: ceil(N / B), or floor(N / B) with dropRemainder.
  int64_t stepsPerEpoch() const;
  int64_t epoch() const { return epoch_; }
  /// Index of the next batch in the current epoch.
  int64_t step() const { return step_; }
  bool endOfEpoch() const { return step_ >= stepsPerEpoch(); }
  const BatchOptions &options() const { return options_; }
  /// The current epoch's order of examples.
  const std::vector<int64_t> &order() const { return order_; }

  /// Moves to batch `step` of `epoch` (step == stepsPerEpoch() is the end
  /// of that epoch).
  absl::Status seek(int64_t epoch, int64_t step);
  /// Moves to the first batch of the next epoch.
  void nextEpoch();

  /// Copies the next batch into `x` (batchSize * exampleSize floats) and
  /// `labels` (batchSize ints) and advances. Returns the number of real
  /// examples: batchSize, fewer for a kept partial last batch (the rest of
  /// both buffers is zero-filled), or 0 at the end of the epoch (nothing is
  /// written; call nextEpoch()).
  int64_t next(float *x, int32_t *labels);

  /// Copies batch `step` of the current epoch without moving; same return
  /// value and padding as next().
  int64_t batch(int64_t step, float *x, int32_t *labels) const;

private:
  BatchIterator(const Dataset &data, const BatchOptions &options)
      : data_(&data), options_(options) {}
  void computeOrder();

  const Dataset *data_;
  BatchOptions options_;
  int64_t epoch_ = 0;
  int64_t step_ = 0;
  std::vector<int64_t> order_;
};

} // namespace gradc

#endif // GRADC_RUNTIME_IDXDATASET_H
