//===- Dataset.cpp - examples in memory, checks, splits and batching ------===//
//
// The format-independent half of data loading: byte-to-float conversion,
// the checks against the model, the Keras validation split, the
// platform-independent epoch shuffle, augmentation and batch copying.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Dataset.h"
#include "support/Stopwatch.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

namespace gradc {
namespace {
uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

/// Uniform in [0, bound) from raw 64-bit draws, by rejection (the
/// distribution classes of the standard library are implementation-defined).
uint64_t boundedDraw(std::mt19937_64 &rng, uint64_t bound) {
  uint64_t threshold = (0 - bound) % bound; // 2^64 mod bound
  for (;;) {
    uint64_t r = rng();
    if (r >= threshold)
      return r % bound;
  }
}

/// Flips and crops example `x` (H x W x C floats) in place as `a` says,
/// with draws from `key`.
void augmentExample(const Dataset &d, const Augmentation &a, uint64_t key,
                    float *x) {
  std::mt19937_64 rng(key);
  int64_t h = d.height, w = d.width, c = d.channels;
  bool flip = a.horizontalFlip && (rng() & 1);
  int64_t dy = 0, dx = 0;
  if (a.cropPadding > 0) {
    // The window's top-left corner in the padded image, minus the padding.
    uint64_t span = uint64_t(2 * a.cropPadding + 1);
    dy = int64_t(boundedDraw(rng, span)) - a.cropPadding;
    dx = int64_t(boundedDraw(rng, span)) - a.cropPadding;
  }
  if (!flip && dy == 0 && dx == 0)
    return;
  std::vector<float> src(x, x + h * w * c);
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      int64_t si = i + dy, sj = j + dx;
      if (flip)
        sj = w - 1 - sj;
      float *out = x + (i * w + j) * c;
      if (si < 0 || si >= h || sj < 0 || sj >= w)
        std::fill(out, out + c, 0.0f);
      else
        std::copy_n(src.data() + (si * w + sj) * c, c, out);
    }
}
} // namespace

Dataset emptyLike(const Dataset &d) {
  Dataset e;
  e.height = d.height;
  e.width = d.width;
  e.channels = d.channels;
  e.targetWidth = d.targetWidth;
  e.labelWidth = d.labelWidth;
  e.idBytes = d.idBytes;
  return e;
}

absl::Status checkDataset(Dataset &d, const DataSpec &spec,
                          const std::string &source) {
  auto error = [&](const std::string &m) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": error: ", m));
  };
  if (d.size() == 0)
    return error("holds no examples");
  bool tabular = d.height == 1 && d.width == 1;
  if (tabular && (spec.height || spec.width)) {
    int64_t need =
        spec.height * spec.width * std::max<int64_t>(spec.channels, 1);
    if (d.channels != need)
      return error(absl::StrCat("examples have ", d.channels,
                                " features, the model input needs ", need));
  } else if ((spec.height && spec.height != d.height) ||
             (spec.width && spec.width != d.width) ||
             (spec.channels && spec.channels != d.channels)) {
    auto model = [](int64_t v) {
      return v ? absl::StrCat(v) : std::string("?");
    };
    return error(absl::StrCat("image size ", d.height, "x", d.width, "x",
                              d.channels, " does not match the model input ",
                              model(spec.height), "x", model(spec.width), "x",
                              model(spec.channels)));
  }
  int64_t per = d.exampleSize();
  if (spec.idBytes && !d.idBytes)
    return error(absl::StrCat("holds ",
                              d.pixels.empty() ? "floats" : "bytes (pixels)",
                              ", but the model input takes integer ids (dtype ",
                              spec.idBytes == 4 ? "INT32" : "INT64",
                              "): save x as an int64 or int32 NumPy array"));
  if (!spec.idBytes && d.idBytes)
    return error("holds integer ids (an int32 or int64 array), but the model "
                 "input takes floats: give the input dtype: INT64 (for an "
                 "embedding layer) or save x as float32");
  if (spec.idLimit > 0)
    for (size_t i = 0; i < d.ids.size(); ++i)
      if (d.ids[i] < 0 || d.ids[i] >= spec.idLimit)
        return error(absl::StrCat(
            "id ", d.ids[i], " at position ", i % per, " of example ", i / per,
            " is out of range: the embedding's "
            "input_dim is ",
            spec.idLimit, " (ids must be 0..", spec.idLimit - 1, ")"));
  for (size_t i = 0; i < d.images.size(); ++i)
    if (!std::isfinite(d.images[i]))
      return error(absl::StrCat("feature ", i % per, " of example ", i / per,
                                " is ", d.images[i],
                                "; features must be finite"));
  if (spec.targetWidth > 0) {
    if (d.targetWidth == 0)
      return error(absl::StrCat(
          "has class labels, the model's loss fits ", spec.targetWidth,
          " value(s) per example (loss { ... values: true })"));
    if (d.targetWidth != spec.targetWidth)
      return error(absl::StrCat("examples have ", d.targetWidth,
                                " target value(s), the model output has ",
                                spec.targetWidth));
    for (size_t i = 0; i < d.targets.size(); ++i)
      if (!std::isfinite(d.targets[i]))
        return error(absl::StrCat("target ", i % d.targetWidth, " of example ",
                                  i / d.targetWidth, " is ", d.targets[i],
                                  "; targets must be finite"));
    return absl::OkStatus();
  }
  if (d.targetWidth > 0)
    return error("has value targets, but the model's loss takes class labels "
                 "(set values: true in the loss for regression)");
  if (spec.numClasses > 0 && d.labelWidth != spec.labelsPerExample)
    return error(absl::StrCat("has ", d.labelWidth,
                              " label(s) per example, the model's output has ",
                              spec.labelsPerExample, " position(s) to label"));
  int64_t w = d.labelWidth;
  if (spec.numClasses > 0)
    for (size_t i = 0; i < d.labels.size(); ++i)
      if ((d.labels[i] < 0 || d.labels[i] >= spec.numClasses) &&
          d.labels[i] != spec.ignoreIndex)
        return error(absl::StrCat(
            "label ", d.labels[i],
            w > 1 ? absl::StrCat(" at position ", i % w) : std::string(),
            " of example ", i / w, " is out of range for a model with ",
            spec.numClasses, " classes (labels must be 0..",
            spec.numClasses - 1,
            spec.ignoreIndex
                ? absl::StrCat(", or the ignore_index ", *spec.ignoreIndex)
                : std::string(),
            ")"));
  if (spec.ignoreIndex)
    std::replace(d.labels.begin(), d.labels.end(), *spec.ignoreIndex, -1);
  return absl::OkStatus();
}

void Dataset::example(int64_t i, void *to) const {
  int64_t n = exampleSize();
  if (idBytes) {
    const int64_t *p = ids.data() + i * n;
    if (idBytes == 8)
      std::memcpy(to, p, sizeof(int64_t) * n);
    else
      for (int64_t k = 0; k < n; ++k)
        static_cast<int32_t *>(to)[k] = int32_t(p[k]);
    return;
  }
  float *out = static_cast<float *>(to);
  if (!pixels.empty()) {
    // pixel / 255 exactly as a division rounds it (a multiplication by
    // 1 / 255 differs in the last bit for some pixels).
    static const auto scale = [] {
      std::array<float, 256> t;
      for (int v = 0; v < 256; ++v)
        t[v] = float(v) / 255.0f;
      return t;
    }();
    const uint8_t *p = pixels.data() + i * n;
    for (int64_t k = 0; k < n; ++k)
      out[k] = scale[p[k]];
  } else {
    std::memcpy(out, images.data() + i * n, sizeof(float) * n);
  }
}

std::vector<float> Dataset::examples(int64_t first, int64_t n) const {
  std::vector<float> out(n * exampleSize());
  for (int64_t i = 0; i < n; ++i)
    example(first + i, out.data() + i * exampleSize());
  return out;
}

absl::StatusOr<TrainValidation> splitValidation(Dataset data, double fraction) {
  if (!(fraction >= 0.0 && fraction < 1.0))
    return absl::InvalidArgumentError(
        absl::StrCat("validation_split must be in [0, 1), got ", fraction));
  TrainValidation result;
  int64_t n = data.size();
  // Keras: split_at = int(floor(n * (1.0 - validation_split))).
  int64_t splitAt =
      fraction == 0.0 ? n : int64_t(std::floor(double(n) * (1.0 - fraction)));
  if (fraction > 0.0 && (splitAt <= 0 || splitAt >= n))
    return absl::InvalidArgumentError(absl::StrCat(
        "the training data has ", n,
        " examples, too few to split into training and validation sets "
        "with validation_split ",
        fraction));
  result.train = emptyLike(data);
  result.validation = emptyLike(data);
  int64_t rowSize = data.exampleSize();
  // The tail of the examples (bytes or floats) becomes the validation set;
  // no shrink_to_fit, which would copy the training set again.
  auto split = [&](auto &all, auto &validation) {
    if (all.empty())
      return;
    validation.assign(all.begin() + splitAt * rowSize, all.end());
    all.resize(splitAt * rowSize);
  };
  split(data.pixels, result.validation.pixels);
  split(data.images, result.validation.images);
  split(data.ids, result.validation.ids);
  if (!data.targets.empty()) {
    result.validation.targets.assign(
        data.targets.begin() + splitAt * data.targetWidth, data.targets.end());
    data.targets.resize(splitAt * data.targetWidth);
  }
  result.validation.labels.assign(
      data.labels.begin() + splitAt * data.labelWidth, data.labels.end());
  data.labels.resize(splitAt * data.labelWidth);
  result.train.pixels = std::move(data.pixels);
  result.train.images = std::move(data.images);
  result.train.ids = std::move(data.ids);
  result.train.labels = std::move(data.labels);
  result.train.targets = std::move(data.targets);
  return result;
}

std::vector<int64_t> epochPermutation(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(std::max<int64_t>(n, 0));
  for (int64_t i = 0; i < n; ++i)
    order[i] = i;
  std::mt19937_64 rng(
      mix64(mix64(seed) ^ (uint64_t(epoch) * 0x9E3779B97F4A7C15ull)));
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = int64_t(boundedDraw(rng, uint64_t(i) + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

absl::StatusOr<BatchIterator>
BatchIterator::create(const Dataset &data, const BatchOptions &options) {
  if (options.batchSize <= 0)
    return absl::InvalidArgumentError(
        absl::StrCat("batch size must be positive, got ", options.batchSize));
  if (options.shards < 1 || options.shard < 0 ||
      options.shard >= options.shards ||
      options.batchSize % options.shards != 0)
    return absl::InvalidArgumentError(absl::StrCat(
        "the batch size ", options.batchSize, " does not divide into ",
        options.shards, " equal shares"));
  BatchIterator it(data, options);
  it.computeOrder();
  return it;
}

int64_t BatchIterator::stepsPerEpoch() const {
  int64_t n = data_->size(), b = options_.batchSize;
  return options_.dropRemainder ? n / b : (n + b - 1) / b;
}

void BatchIterator::computeOrder() {
  if (options_.shuffle) {
    order_ = epochPermutation(data_->size(), options_.seed, epoch_);
    return;
  }
  order_.resize(data_->size());
  for (int64_t i = 0; i < data_->size(); ++i)
    order_[i] = i;
}

absl::Status BatchIterator::seek(int64_t epoch, int64_t step) {
  if (epoch < 0 || step < 0 || step > stepsPerEpoch())
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot resume at epoch ", epoch, " step ", step, ": an epoch has ",
        stepsPerEpoch(), " steps of batch size ", options_.batchSize));
  bool newEpoch = epoch != epoch_;
  epoch_ = epoch;
  step_ = step;
  if (newEpoch)
    computeOrder();
  return absl::OkStatus();
}

void BatchIterator::nextEpoch() {
  ++epoch_;
  step_ = 0;
  computeOrder();
}

int64_t BatchIterator::batch(int64_t step, void *xOut, int32_t *labels,
                             float *targets) const {
  if (step < 0 || step >= stepsPerEpoch())
    return 0;
  int64_t b = options_.localBatch();
  int64_t begin = step * options_.batchSize + options_.shard * b;
  int64_t count = std::max<int64_t>(0, std::min(b, data_->size() - begin));
  int64_t rowSize = data_->exampleSize();
  int64_t rowBytes = rowSize * data_->valueBytes();
  char *x = static_cast<char *>(xOut);
  int64_t tw = data_->targetWidth, lw = data_->labelWidth;
  for (int64_t r = 0; r < count; ++r) {
    int64_t index = order_[begin + r];
    data_->example(index, x + r * rowBytes);
    // Images only: ids are not flipped or cropped.
    if (options_.augment.enabled() && !data_->idBytes)
      augmentExample(*data_, options_.augment,
                     mix64(mix64(options_.seed ^ 0xA5A5A5A5u) ^
                           mix64(uint64_t(epoch_) * 0x9E3779B97F4A7C15ull ^
                                 uint64_t(index))),
                     reinterpret_cast<float *>(x + r * rowBytes));
    std::copy_n(data_->labels.begin() + index * lw, lw, labels + r * lw);
    if (targets && tw)
      std::copy_n(data_->targets.begin() + index * tw, tw, targets + r * tw);
  }
  if (count < b) {
    std::memset(x + count * rowBytes, 0, size_t((b - count) * rowBytes));
    std::fill(labels + count * lw, labels + b * lw, 0);
    if (targets && tw)
      std::fill(targets + count * tw, targets + b * tw, 0.0f);
  }
  return count;
}

int64_t BatchIterator::next(void *x, int32_t *labels, float *targets) {
  if (step_ >= stepsPerEpoch())
    return 0;
  return batch(step_++, x, labels, targets);
}

/// The background thread: one job at a time (a step into a slot).
struct BatchPipeline::Worker {
  std::mutex mutex;
  std::condition_variable cv;
  bool hasJob = false, done = true, quit = false;
  int64_t step = 0;
  Set *slot = nullptr;
  std::thread thread;
};

BatchPipeline::BatchPipeline(const BatchIterator &it)
    : it_(it), step_(it.step()) {
  int64_t b = it.options().localBatch();
  for (Set &set : sets_) {
    set.x.resize((b * it.data().exampleSize() * it.data().valueBytes() + 7) /
                 8);
    set.labels.resize(b * it.data().labelWidth);
    set.targets.resize(b * std::max<int64_t>(it.data().targetWidth, 1));
  }
  worker_ = new Worker;
  worker_->thread = std::thread([this] {
    Worker &w = *worker_;
    std::unique_lock<std::mutex> lock(w.mutex);
    for (;;) {
      w.cv.wait(lock, [&] { return w.hasJob || w.quit; });
      if (w.quit)
        return;
      w.hasJob = false;
      int64_t step = w.step;
      Set *slot = w.slot;
      lock.unlock();
      assemble(step, *slot);
      lock.lock();
      w.done = true;
      w.cv.notify_all();
    }
  });
  start(step_, 0);
}

BatchPipeline::~BatchPipeline() {
  join();
  {
    std::lock_guard<std::mutex> lock(worker_->mutex);
    worker_->quit = true;
  }
  worker_->cv.notify_all();
  worker_->thread.join();
  delete worker_;
}

void BatchPipeline::assemble(int64_t step, Set &set) const {
  auto t0 = std::chrono::steady_clock::now();
  set.count =
      it_.batch(step, set.x.data(), set.labels.data(), set.targets.data());
  // Padding rows: label -1, left out of the loss, gradients and counts.
  int64_t b = it_.options().localBatch(), lw = it_.data().labelWidth;
  std::fill(set.labels.begin() + set.count * lw, set.labels.begin() + b * lw,
            -1);
  set.counted = std::count_if(set.labels.begin(), set.labels.end(),
                              [](int32_t l) { return l >= 0; });
  set.seconds = secondsSince(t0);
}

void BatchPipeline::start(int64_t step, int slot) {
  if (step >= it_.stepsPerEpoch())
    return;
  std::lock_guard<std::mutex> lock(worker_->mutex);
  worker_->hasJob = true;
  worker_->done = false;
  worker_->step = step;
  worker_->slot = &sets_[slot];
  pendingStep_ = step;
  worker_->cv.notify_all();
}

void BatchPipeline::join() {
  if (pendingStep_ < 0)
    return;
  std::unique_lock<std::mutex> lock(worker_->mutex);
  worker_->cv.wait(lock, [&] { return worker_->done; });
  pendingStep_ = -1;
}

bool BatchPipeline::next() {
  if (step_ >= it_.stepsPerEpoch())
    return false;
  int next = current_ ^ 1;
  auto t0 = std::chrono::steady_clock::now();
  join(); // the background thread filled `next` with step_
  wait_ += secondsSince(t0);
  current_ = next;
  assemble_ += sets_[current_].seconds;
  ++step_;
  // The following batch goes into the slot just released.
  start(step_, current_ ^ 1);
  return true;
}

} // namespace gradc
