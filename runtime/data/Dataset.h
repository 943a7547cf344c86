//===- Dataset.h - examples in memory, checks, splits and batching -*- C++
//-*-===//
//
// What every data format (IDX, NumPy, CSV, image folders, CIFAR binaries)
// loads into: examples as bytes or floats with class labels or value
// targets; the checks against the model; the Keras validation split; and the
// batching pipeline: a per-epoch shuffle that is a pure function of (seed,
// epoch), so training can be resumed from (epoch, step) alone, optional
// augmentation, and copies into buffers the caller owns.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATASET_H
#define GRADC_RUNTIME_DATASET_H

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

/// What the model expects of its data. A zero field is not checked.
struct DataSpec {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  /// Labels must lie in [0, numClasses) (or equal ignoreIndex).
  int64_t numClasses = 0;
  /// Labels per example: 1, or one per position of a classifier's output
  /// [T..., classes] (per-token labels).
  int64_t labelsPerExample = 1;
  /// A label equal to it counts in neither the loss nor the accuracy
  /// (checkDataset makes it -1, as padding is).
  std::optional<int32_t> ignoreIndex;
  /// Value targets (regression: mse, mae, huber against numbers): each
  /// example has this many float targets. 0: integer class labels.
  int64_t targetWidth = 0;
  /// A model input of integer ids (dtype INT32 or INT64): the bytes of one
  /// id in a batch, 4 or 8; 0 for a float input.
  int64_t idBytes = 0;
  /// Ids must lie in [0, idLimit) (the smallest input_dim of the embedding
  /// layers reading them); 0: not checked.
  int64_t idLimit = 0;
};

/// Examples N x H x W x C with int32 class labels or float targets.
/// Images read from bytes (IDX, PNG, JPEG, CIFAR, uint8 NumPy arrays) stay
/// bytes, a quarter of the memory, and become floats in [0, 1] (pixel / 255)
/// when a batch is assembled; other data are floats. Tabular data (CSV,
/// NumPy [N, F]) is 1 x 1 x F: a feature is a channel.
struct Dataset {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 1;
  std::vector<uint8_t> pixels; // either these
  std::vector<float> images;   // or these
  /// labelWidth per example: the class, or 0 with value targets (-1: a
  /// label that does not count, a padding row's or an ignored one).
  std::vector<int32_t> labels;
  int64_t labelWidth = 1;
  /// Value targets, targetWidth per example (empty for class labels).
  std::vector<float> targets;
  int64_t targetWidth = 0;
  /// Integer examples (NumPy int32 and int64 arrays: token or category ids
  /// for an embedding), instead of pixels and images, and the bytes each id
  /// takes in a batch: 4 (int32) or 8 (int64), the model input's type once
  /// the loader has checked the data against the model. 0: float examples.
  std::vector<int64_t> ids;
  int64_t idBytes = 0;

  int64_t size() const { return int64_t(labels.size()) / labelWidth; }
  /// Values per example: H * W * C.
  int64_t exampleSize() const { return height * width * channels; }
  /// Bytes of one value in a batch: a float's 4, or idBytes.
  int64_t valueBytes() const { return idBytes ? idBytes : 4; }
  /// Writes example `i` to `out`: exampleSize() floats, or ids of idBytes.
  void example(int64_t i, void *out) const;
  /// Examples [first, first + n) as floats.
  std::vector<float> examples(int64_t first, int64_t n) const;
};

/// Keras's validation_split: the last `fraction` of the examples (not
/// shuffled first) becomes the validation set; the first
/// floor(N * (1 - fraction)) stay for training. `fraction` is in [0, 1).
struct TrainValidation {
  Dataset train;
  Dataset validation;
};
/// The same shape and targets layout as `d`, no examples.
Dataset emptyLike(const Dataset &d);
absl::StatusOr<TrainValidation> splitValidation(Dataset data, double fraction);

/// A data set's parts: training (minus the validation split), validation
/// (empty when validation_split is 0) and test (may be empty); with the
/// class names when the files name the classes (CSV strings, image
/// folders), index = label.
struct DataSplits {
  Dataset train;
  Dataset validation;
  Dataset test;
  std::vector<std::string> classNames;
  /// Text data (data { text }, or --data FILE.txt): its tokens, entry k
  /// token k's text; empty for other data.
  std::vector<std::string> vocabulary;
};

/// Checks a loaded part against the model: at least one example, the
/// example shape (a zero spec field is not checked; tabular data only
/// by its feature count), labels in [0, numClasses) or targets of
/// spec.targetWidth values, every float finite. Errors name `source` (a file
/// or directory) and the example.
absl::Status checkDataset(Dataset &d, const DataSpec &spec,
                          const std::string &source);

/// The order in which epoch `epoch` visits `n` examples: Fisher-Yates driven
/// by std::mt19937_64 seeded from (seed, epoch), with an exact bounded draw
/// (no std::uniform_int_distribution), so the order is the same on every
/// platform and standard library.
std::vector<int64_t> epochPermutation(int64_t n, uint64_t seed, int64_t epoch);

/// Training-time augmentation (Keras's RandomFlip("horizontal") and
/// RandomCrop after zero padding), a pure function of (seed, epoch,
/// example), so the same seed gives the same batches and a resumed run the
/// same ones too.
struct Augmentation {
  bool horizontalFlip = false;
  /// Pad each side by this many zero pixels and crop a random H x W
  /// window; 0: no crop.
  int64_t cropPadding = 0;
  bool enabled() const { return horizontalFlip || cropPadding > 0; }
};

struct BatchOptions {
  int64_t batchSize = 32;
  /// Shuffle every epoch; otherwise examples come in file order.
  bool shuffle = true;
  uint64_t seed = 0;
  /// Drop the last batch when it is partial (it is kept by default).
  bool dropRemainder = false;
  Augmentation augment;
  /// Data parallelism: of each global batch of batchSize examples, this
  /// process takes share `shard` of `shards` equal parts (batchSize /
  /// shards rows); every process walks the same order.
  int64_t shards = 1;
  int64_t shard = 0;
  int64_t localBatch() const { return batchSize / shards; }
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

  /// Copies the next batch (this shard's rows of it: localBatch() rows)
  /// into `x` (rows * exampleSize values of valueBytes() each: floats or
  /// ids), `labels` (rows * labelWidth ints) and, for
  /// value targets, `targets` (rows * targetWidth floats), and advances.
  /// Returns the number of real examples: batchSize, fewer for a kept partial
  /// last batch (the rest of the buffers is zero-filled), or 0 at the end of
  /// the epoch (nothing is written; call nextEpoch()).
  int64_t next(void *x, int32_t *labels, float *targets = nullptr);

  /// Copies batch `step` of the current epoch without moving; same return
  /// value and padding as next().
  int64_t batch(int64_t step, void *x, int32_t *labels,
                float *targets = nullptr) const;

  const Dataset &data() const { return *data_; }

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

/// One epoch's batches assembled in the background: while the caller runs
/// a step on batch k, a second thread copies (and converts, augments and
/// pads) batch k + 1 into the other of two buffer sets. Padding rows of a
/// partial last batch are labelled -1. Create one per epoch, after seeking
/// the iterator; it starts at the iterator's step and leaves the iterator
/// where it was.
class BatchPipeline {
public:
  explicit BatchPipeline(const BatchIterator &it);
  ~BatchPipeline();
  BatchPipeline(const BatchPipeline &) = delete;
  BatchPipeline &operator=(const BatchPipeline &) = delete;

  /// Moves to the next batch; false at the end of the epoch. Its buffers
  /// are x(), labels() and targets() until the next call, count() its
  /// number of real rows (fewer than the batch, or even 0 for a shard of a
  /// partial last batch; the rest is padding).
  bool next();
  int64_t count() const { return sets_[current_].count; }
  /// The labels that count (not -1): the real rows' number, or their
  /// tokens' less the ignored ones; what the loss is a mean over.
  int64_t counted() const { return sets_[current_].counted; }
  /// Floats, or ids of the data's idBytes.
  void *x() { return sets_[current_].x.data(); }
  int32_t *labels() { return sets_[current_].labels.data(); }
  float *targets() { return sets_[current_].targets.data(); }

  /// Seconds the caller waited for batches, and seconds spent assembling
  /// them (on either thread).
  double waitSeconds() const { return wait_; }
  double assembleSeconds() const { return assemble_; }

private:
  struct Set {
    std::vector<int64_t> x; // storage for floats or ids, 8-byte aligned
    std::vector<int32_t> labels;
    std::vector<float> targets;
    int64_t count = 0, counted = 0;
    double seconds = 0;
  };
  void assemble(int64_t step, Set &set) const;
  void start(int64_t step, int slot);
  void join();

  const BatchIterator &it_;
  Set sets_[2];
  int current_ = 1;
  int64_t step_;
  /// The background thread and the step it assembles into the other slot.
  struct Worker;
  Worker *worker_ = nullptr;
  int64_t pendingStep_ = -1;
  double wait_ = 0, assemble_ = 0;
};

} // namespace gradc

#endif // GRADC_RUNTIME_DATASET_H
