//===- DatasetTest.cpp - checks, splits, augmentation, background batches -===//
//
// The format-independent half of data loading (runtime/data/Dataset.h): value
// targets through the split and the batches, the checks against the model,
// augmentation (deterministic per seed, visible, exact for a flip) and the
// background pipeline (the same batches as the iterator, padding labelled
// -1).
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Dataset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace gradc;

namespace {

/// n examples of h x w x c floats: example i, element k is i * 100 + k.
Dataset ramp(int64_t n, int64_t h, int64_t w, int64_t c) {
  Dataset d;
  d.height = h;
  d.width = w;
  d.channels = c;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < h * w * c; ++k)
      d.images.push_back(float(i * 100 + k));
    d.labels.push_back(int32_t(i % 3));
  }
  return d;
}

TEST(Dataset, ValueTargetsFollowTheSplitAndTheBatches) {
  Dataset d = ramp(10, 1, 1, 2);
  d.targetWidth = 2;
  for (int64_t i = 0; i < 10; ++i)
    d.targets.insert(d.targets.end(), {float(i), float(-i)});
  auto split = splitValidation(d, 0.3);
  ASSERT_TRUE(split.ok()) << split.status();
  ASSERT_EQ(split->train.size(), 7);
  ASSERT_EQ(split->validation.size(), 3);
  EXPECT_EQ(split->validation.targetWidth, 2);
  EXPECT_EQ(split->validation.targets,
            (std::vector<float>{7, -7, 8, -8, 9, -9}));
  EXPECT_EQ(split->train.targets.size(), 14u);

  auto it = BatchIterator::create(split->validation, {2, false, 0, false});
  ASSERT_TRUE(it.ok());
  std::vector<float> x(4), t(4, 5.0f);
  std::vector<int32_t> labels(2);
  EXPECT_EQ(it->next(x.data(), labels.data(), t.data()), 2);
  EXPECT_EQ(t, (std::vector<float>{7, -7, 8, -8}));
  // The partial last batch: the padding row's targets are zero.
  EXPECT_EQ(it->next(x.data(), labels.data(), t.data()), 1);
  EXPECT_EQ(t, (std::vector<float>{9, -9, 0, 0}));
}

TEST(Dataset, ChecksAgainstTheModel) {
  Dataset d = ramp(4, 1, 1, 3);
  DataSpec spec;
  spec.height = spec.width = 1;
  spec.channels = 3;
  spec.numClasses = 3;
  EXPECT_TRUE(checkDataset(d, spec, "f.csv").ok());

  spec.numClasses = 2; // label 2 is out of range
  absl::Status s = checkDataset(d, spec, "f.csv");
  EXPECT_EQ(s.message(),
            "f.csv: error: label 2 of example 2 is out of range for a "
            "model with 2 classes (labels must be 0..1)");
  spec.numClasses = 3;

  spec.channels = 4;
  EXPECT_EQ(checkDataset(d, spec, "f.csv").message(),
            "f.csv: error: examples have 3 features, the model input needs 4");
  spec.channels = 3;

  Dataset bad = d;
  bad.images[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(
      checkDataset(bad, spec, "f.csv").message(),
      "f.csv: error: feature 2 of example 1 is nan; features must be finite");

  // Value targets: the width must match the output, every value finite.
  DataSpec values = spec;
  values.numClasses = 0;
  values.targetWidth = 2;
  EXPECT_NE(checkDataset(d, values, "f.csv").message().find("class labels"),
            std::string::npos);
  Dataset v = d;
  v.targetWidth = 1;
  v.targets = {1, 2, 3, 4};
  EXPECT_EQ(
      checkDataset(v, values, "f.csv").message(),
      "f.csv: error: examples have 1 target value(s), the model output has 2");
  values.targetWidth = 1;
  EXPECT_TRUE(checkDataset(v, values, "f.csv").ok());
  v.targets[3] = INFINITY;
  EXPECT_EQ(
      checkDataset(v, values, "f.csv").message(),
      "f.csv: error: target 0 of example 3 is inf; targets must be finite");
  // Value targets where the model takes classes.
  EXPECT_NE(checkDataset(v, spec, "f.csv").message().find("value targets"),
            std::string::npos);

  Dataset image = ramp(2, 4, 4, 1);
  DataSpec imageSpec;
  imageSpec.height = imageSpec.width = 5;
  imageSpec.channels = 1;
  EXPECT_EQ(
      checkDataset(image, imageSpec, "dir").message(),
      "dir: error: image size 4x4x1 does not match the model input 5x5x1");
  Dataset empty = emptyLike(image);
  EXPECT_EQ(checkDataset(empty, {}, "dir").message(),
            "dir: error: holds no examples");
}

TEST(Dataset, PerTokenLabelsIgnoredSplitAndBatched) {
  // 5 examples of 3 tokens each, labels 10 * i + position; label -100 of
  // example 1 is PyTorch's ignore_index.
  Dataset d = ramp(5, 1, 1, 3);
  d.labelWidth = 3;
  d.labels.clear();
  for (int32_t i = 0; i < 5; ++i)
    for (int32_t k = 0; k < 3; ++k)
      d.labels.push_back(i == 1 && k == 2 ? -100 : (10 * i + k) % 7);
  EXPECT_EQ(d.size(), 5);
  DataSpec spec;
  spec.numClasses = 7;
  spec.labelsPerExample = 2;
  EXPECT_EQ(checkDataset(d, spec, "f.npy").message(),
            "f.npy: error: has 3 label(s) per example, the model's output has "
            "2 position(s) to label");
  spec.labelsPerExample = 3;
  EXPECT_EQ(checkDataset(d, spec, "f.npy").message(),
            "f.npy: error: label -100 at position 2 of example 1 is out of "
            "range for a model with 7 classes (labels must be 0..6)");
  spec.ignoreIndex = -100;
  ASSERT_TRUE(checkDataset(d, spec, "f.npy").ok());
  EXPECT_EQ(d.labels[5], -1); // ignored: counted out like padding

  auto split = splitValidation(d, 0.4);
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(split->train.size(), 3);
  EXPECT_EQ(
      split->validation.labels,
      (std::vector<int32_t>{30 % 7, 31 % 7, 32 % 7, 40 % 7, 41 % 7, 42 % 7}));
  // Batches of 2: the partial last one's padding row is 3 labels of -1,
  // and counted() leaves them and the ignored label out.
  BatchOptions o{2, false, 0, false};
  auto it = BatchIterator::create(split->train, o);
  ASSERT_TRUE(it.ok());
  BatchPipeline pipeline(*it);
  ASSERT_TRUE(pipeline.next());
  EXPECT_EQ(std::vector<int32_t>(pipeline.labels(), pipeline.labels() + 6),
            (std::vector<int32_t>{0, 1, 2, 3, 4, -1}));
  EXPECT_EQ(pipeline.counted(), 5);
  ASSERT_TRUE(pipeline.next());
  EXPECT_EQ(pipeline.count(), 1);
  EXPECT_EQ(std::vector<int32_t>(pipeline.labels(), pipeline.labels() + 6),
            (std::vector<int32_t>{20 % 7, 21 % 7, 22 % 7, -1, -1, -1}));
  EXPECT_EQ(pipeline.counted(), 3);
}

/// Every batch of an epoch, concatenated.
std::vector<float> epoch(const Dataset &d, const BatchOptions &o, int64_t e) {
  auto it = BatchIterator::create(d, o);
  EXPECT_TRUE(it.ok());
  EXPECT_TRUE(it->seek(e, 0).ok());
  std::vector<float> all, x(o.batchSize * d.exampleSize());
  std::vector<int32_t> labels(o.batchSize);
  while (int64_t n = it->next(x.data(), labels.data()))
    all.insert(all.end(), x.begin(), x.begin() + n * d.exampleSize());
  return all;
}

TEST(Augmentation, DeterministicPerSeedAndVisible) {
  Dataset d = ramp(16, 6, 5, 2);
  BatchOptions plain{4, true, 7, false};
  BatchOptions augmented = plain;
  augmented.augment.horizontalFlip = true;
  augmented.augment.cropPadding = 2;
  std::vector<float> a = epoch(d, augmented, 0);
  // The same seed and epoch give the same batches ...
  EXPECT_EQ(a, epoch(d, augmented, 0));
  // ... another epoch or seed others, and the images do change.
  EXPECT_NE(a, epoch(d, augmented, 1));
  BatchOptions otherSeed = augmented;
  otherSeed.seed = 8;
  EXPECT_NE(a, epoch(d, otherSeed, 0));
  std::vector<float> p = epoch(d, plain, 0);
  ASSERT_EQ(a.size(), p.size());
  int64_t changed = 0;
  for (size_t i = 0; i < a.size(); i += d.exampleSize())
    changed += !std::equal(a.begin() + i, a.begin() + i + d.exampleSize(),
                           p.begin() + i);
  EXPECT_GT(changed, 8) << "of 16 examples";
  // Every augmented value is a pixel of the same example or padding (0).
  for (size_t i = 0; i < a.size(); ++i) {
    int64_t example = int64_t(p[i - i % d.exampleSize()]) / 100;
    EXPECT_TRUE(a[i] == 0 || int64_t(a[i]) / 100 == example) << i;
  }
}

TEST(Augmentation, FlipMirrorsEachRowChannelsKept) {
  Dataset d = ramp(64, 2, 3, 2);
  BatchOptions o{64, false, 3, false};
  o.augment.horizontalFlip = true;
  std::vector<float> a = epoch(d, o, 0);
  int64_t flipped = 0;
  for (int64_t i = 0; i < 64; ++i) {
    const float *x = a.data() + i * 12;
    bool same = x[0] == float(i * 100);
    flipped += !same;
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t col = 0; col < 3; ++col)
        for (int64_t ch = 0; ch < 2; ++ch) {
          int64_t src = same ? col : 2 - col;
          EXPECT_EQ(x[(r * 3 + col) * 2 + ch],
                    float(i * 100 + (r * 3 + src) * 2 + ch));
        }
  }
  // About half of the examples are flipped.
  EXPECT_GT(flipped, 16);
  EXPECT_LT(flipped, 48);
}

TEST(BatchPipeline, SameBatchesAsTheIteratorPaddingLabelledMinusOne) {
  Dataset d = ramp(11, 2, 2, 1);
  d.targetWidth = 1;
  for (int64_t i = 0; i < 11; ++i)
    d.targets.push_back(float(i) / 2);
  BatchOptions o{4, true, 5, false};
  auto it = BatchIterator::create(d, o);
  ASSERT_TRUE(it.ok());
  ASSERT_TRUE(it->seek(2, 1).ok()); // starts where the iterator is
  auto reference = *it;
  BatchPipeline pipeline(*it);
  std::vector<float> x(16), t(4);
  std::vector<int32_t> labels(4);
  int64_t steps = 0;
  while (pipeline.next()) {
    int64_t n = pipeline.count();
    int64_t want = reference.next(x.data(), labels.data(), t.data());
    ASSERT_EQ(n, want);
    const float *px = static_cast<const float *>(pipeline.x());
    EXPECT_EQ(std::vector<float>(px, px + 16), x);
    EXPECT_EQ(std::vector<float>(pipeline.targets(), pipeline.targets() + 4),
              t);
    for (int64_t r = 0; r < 4; ++r)
      EXPECT_EQ(pipeline.labels()[r], r < n ? labels[r] : -1);
    ++steps;
  }
  EXPECT_EQ(steps, 2); // batches 1 and 2 of 3
  EXPECT_EQ(it->step(), 1);
  EXPECT_GE(pipeline.assembleSeconds(), 0.0);
}

} // namespace
