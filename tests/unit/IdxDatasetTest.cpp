//===- IdxDatasetTest.cpp - IDX loading, splitting and batching -----------===//
//
// Writes small IDX files (raw and gzip) into a temporary directory and checks
// the loader on good and broken files, the Keras validation split, the
// deterministic per-epoch shuffle and batching with a partial last batch.
// One test reads the real MNIST test digits when the shared data directory
// is present next to the repository.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/IdxDataset.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace gradc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<uint8_t> idxHeader(uint32_t magic,
                               const std::vector<uint32_t> &dims) {
  std::vector<uint8_t> bytes;
  auto put = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(uint8_t(v >> shift));
  };
  put(magic);
  for (uint32_t d : dims)
    put(d);
  return bytes;
}

std::vector<uint8_t> imageFile(uint32_t n, uint32_t h, uint32_t w,
                               const std::vector<uint8_t> &pixels) {
  std::vector<uint8_t> bytes = idxHeader(0x803, {n, h, w});
  bytes.insert(bytes.end(), pixels.begin(), pixels.end());
  return bytes;
}

std::vector<uint8_t> labelFile(const std::vector<uint8_t> &labels) {
  std::vector<uint8_t> bytes = idxHeader(0x801, {uint32_t(labels.size())});
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

/// Pixels of `n` images of h x w: image i, pixel p has value (i * 7 + p) %
/// 256, so every image differs and the values cover the byte range.
std::vector<uint8_t> patternPixels(uint32_t n, uint32_t h, uint32_t w) {
  std::vector<uint8_t> pixels(size_t(n) * h * w);
  for (size_t i = 0; i < n; ++i)
    for (size_t p = 0; p < size_t(h) * w; ++p)
      pixels[i * h * w + p] = uint8_t((i * 7 + p) % 256);
  return pixels;
}

class IdxDatasetTest : public ::testing::Test {
protected:
  void SetUp() override {
    const ::testing::TestInfo *info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("gradc_idx_") + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string &name) const {
    return (dir_ / name).string();
  }

  std::string writeRaw(const std::string &name,
                       const std::vector<uint8_t> &bytes) {
    std::ofstream out(path(name), std::ios::binary);
    out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    return path(name);
  }

  std::string writeGzip(const std::string &name,
                        const std::vector<uint8_t> &bytes) {
    gzFile file = gzopen(path(name).c_str(), "wb");
    EXPECT_NE(file, nullptr);
    EXPECT_EQ(gzwrite(file, bytes.data(), unsigned(bytes.size())),
              int(bytes.size()));
    gzclose(file);
    return path(name);
  }

  /// A complete data directory: `nTrain` / `nTest` images of 4x3, labels
  /// i % 10.
  void writeDirectory(uint32_t nTrain, uint32_t nTest, bool gzip) {
    auto write = [&](const std::string &name,
                     const std::vector<uint8_t> &bytes) {
      if (gzip)
        writeGzip(name + ".gz", bytes);
      else
        writeRaw(name, bytes);
    };
    for (auto [prefix, n] :
         {std::pair<std::string, uint32_t>{"train", nTrain}, {"t10k", nTest}}) {
      std::vector<uint8_t> labels(n);
      for (uint32_t i = 0; i < n; ++i)
        labels[i] = uint8_t(i % 10);
      write(prefix + "-images-idx3-ubyte",
            imageFile(n, 4, 3, patternPixels(n, 4, 3)));
      write(prefix + "-labels-idx1-ubyte", labelFile(labels));
    }
  }

  fs::path dir_;
};

// --- Reading files ---------------------------------------------------------

TEST_F(IdxDatasetTest, LoadsRawAndGzipAndScalesToUnitRange) {
  std::vector<uint8_t> pixels = {0, 255, 51, 102, 1, 2, // image 0 (2x3)
                                 3, 4,   5,  6,   7, 254};
  std::vector<uint8_t> labels = {3, 9};
  for (bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzip" : "raw");
    auto write = [&](const std::string &name, const std::vector<uint8_t> &b) {
      return gzip ? writeGzip(name + ".gz", b) : writeRaw(name, b);
    };
    std::string images = write("img", imageFile(2, 2, 3, pixels));
    std::string labelPath = write("lab", labelFile(labels));
    absl::StatusOr<Dataset> data =
        loadIdxDataset(images, labelPath, {2, 3, 1, 10});
    ASSERT_TRUE(data.ok()) << data.status();
    EXPECT_EQ(data->size(), 2);
    EXPECT_EQ(data->height, 2);
    EXPECT_EQ(data->width, 3);
    EXPECT_EQ(data->channels, 1);
    EXPECT_EQ(data->exampleSize(), 6);
    // Kept as bytes; floats in [0, 1] when read out.
    EXPECT_EQ(data->pixels.size(), 12u);
    EXPECT_TRUE(data->images.empty());
    std::vector<float> all = data->examples(0, 2);
    ASSERT_EQ(all.size(), 12u);
    for (size_t i = 0; i < pixels.size(); ++i)
      EXPECT_FLOAT_EQ(all[i], pixels[i] / 255.0f) << i;
    EXPECT_EQ(all[0], 0.0f);
    EXPECT_EQ(all[1], 1.0f);
    EXPECT_EQ(data->labels, (std::vector<int32_t>{3, 9}));
    EXPECT_EQ(data->examples(1, 1)[5], 254 / 255.0f);
  }
}

TEST_F(IdxDatasetTest, ReadsIdx4ImagesWithChannels) {
  std::vector<uint8_t> bytes = idxHeader(0x804, {2, 2, 2, 3});
  std::vector<uint8_t> pixels = patternPixels(2, 2, 6);
  bytes.insert(bytes.end(), pixels.begin(), pixels.end());
  absl::StatusOr<IdxImages> images = readIdxImages(writeRaw("img4", bytes));
  ASSERT_TRUE(images.ok()) << images.status();
  EXPECT_EQ(images->rank, 4);
  EXPECT_EQ(images->count, 2);
  EXPECT_EQ(images->channels, 3);
  EXPECT_EQ(images->pixels, pixels);
}

TEST_F(IdxDatasetTest, RejectsWrongMagic) {
  std::string labels = writeRaw("labels", labelFile({1, 2, 3}));
  absl::StatusOr<IdxImages> images = readIdxImages(labels);
  ASSERT_FALSE(images.ok());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(images.status().message()),
              HasSubstr(labels + ": wrong magic number 0x00000801 (an IDX "
                                 "label file), expected 0x00000803 or "
                                 "0x00000804"));

  std::string imgs = writeGzip("images.gz", imageFile(1, 2, 2, {1, 2, 3, 4}));
  absl::StatusOr<std::vector<uint8_t>> asLabels = readIdxLabels(imgs);
  ASSERT_FALSE(asLabels.ok());
  EXPECT_THAT(std::string(asLabels.status().message()),
              HasSubstr("wrong magic number 0x00000803 (an IDX image file), "
                        "expected 0x00000801"));

  std::string text = writeRaw("text", {'h', 'e', 'l', 'l', 'o', '\n'});
  absl::StatusOr<IdxImages> fromText = readIdxImages(text);
  ASSERT_FALSE(fromText.ok());
  EXPECT_THAT(std::string(fromText.status().message()),
              HasSubstr("(not an IDX file)"));

  std::vector<uint8_t> floats = idxHeader(0xD03, {1, 1, 1});
  floats.insert(floats.end(), 4, 0);
  absl::StatusOr<IdxImages> fromFloats = readIdxImages(writeRaw("f", floats));
  ASSERT_FALSE(fromFloats.ok());
  EXPECT_THAT(std::string(fromFloats.status().message()),
              HasSubstr("(an IDX file of 32-bit floats with 3 dimensions)"));

  absl::StatusOr<IdxImages> tiny = readIdxImages(writeRaw("tiny", {0, 0}));
  ASSERT_FALSE(tiny.ok());
  EXPECT_THAT(std::string(tiny.status().message()),
              HasSubstr("too short for an IDX file (2 bytes)"));
}

TEST_F(IdxDatasetTest, RejectsTruncatedImages) {
  // Header for 100 images of 28x28, data for only a few.
  std::vector<uint8_t> bytes = idxHeader(0x803, {100, 28, 28});
  bytes.insert(bytes.end(), 1234, 7);
  for (bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzip" : "raw");
    std::string file =
        gzip ? writeGzip("img.gz", bytes) : writeRaw("img", bytes);
    absl::StatusOr<IdxImages> images = readIdxImages(file);
    ASSERT_FALSE(images.ok());
    EXPECT_EQ(images.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(images.status().message(),
              file + ": truncated: expected 78400 bytes of pixels, got 1234");
  }
  // A header cut inside the dimension sizes.
  std::vector<uint8_t> cut = idxHeader(0x803, {100, 28, 28});
  cut.resize(9);
  absl::StatusOr<IdxImages> images = readIdxImages(writeRaw("cut", cut));
  ASSERT_FALSE(images.ok());
  EXPECT_THAT(std::string(images.status().message()),
              HasSubstr("truncated: expected 12 bytes of dimension sizes in "
                        "the header, got 5"));
}

TEST_F(IdxDatasetTest, RejectsTruncatedGzipStream) {
  // A gzip file cut in the middle of its compressed data.
  std::vector<uint8_t> pixels(50 * 28 * 28);
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = uint8_t((i * 2654435761u) >> 13);
  std::string file = writeGzip("img.gz", imageFile(50, 28, 28, pixels));
  fs::resize_file(file, fs::file_size(file) / 2);
  absl::StatusOr<IdxImages> images = readIdxImages(file);
  ASSERT_FALSE(images.ok());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(images.status().message()),
              HasSubstr(file + ": truncated: expected 39200 bytes of pixels"));
}

TEST_F(IdxDatasetTest, RejectsTruncatedLabels) {
  std::vector<uint8_t> bytes = idxHeader(0x801, {10});
  bytes.insert(bytes.end(), {1, 2, 3});
  for (bool gzip : {false, true}) {
    std::string file =
        gzip ? writeGzip("lab.gz", bytes) : writeRaw("lab", bytes);
    absl::StatusOr<std::vector<uint8_t>> labels = readIdxLabels(file);
    ASSERT_FALSE(labels.ok());
    EXPECT_EQ(labels.status().message(),
              file + ": truncated: expected 10 bytes of labels, got 3");
  }
}

TEST_F(IdxDatasetTest, RejectsTrailingBytes) {
  std::vector<uint8_t> bytes = labelFile({1, 2, 3});
  bytes.push_back(9);
  bytes.push_back(9);
  absl::StatusOr<std::vector<uint8_t>> labels =
      readIdxLabels(writeGzip("lab.gz", bytes));
  ASSERT_FALSE(labels.ok());
  EXPECT_THAT(std::string(labels.status().message()),
              HasSubstr("2 bytes after the 3 bytes of labels"));
}

TEST_F(IdxDatasetTest, RejectsImplausibleHeader) {
  // 4e9 images of 4e9 x 4e9 pixels: refused before any allocation.
  std::vector<uint8_t> bytes =
      idxHeader(0x803, {4000000000u, 4000000000u, 4000000000u});
  absl::StatusOr<IdxImages> images = readIdxImages(writeRaw("huge", bytes));
  ASSERT_FALSE(images.ok());
  EXPECT_THAT(std::string(images.status().message()),
              HasSubstr("not plausible"));
}

TEST_F(IdxDatasetTest, RejectsLabelCountMismatch) {
  std::string images =
      writeRaw("img", imageFile(3, 2, 2, patternPixels(3, 2, 2)));
  std::string labels = writeRaw("lab", labelFile({1, 2}));
  absl::StatusOr<Dataset> data = loadIdxDataset(images, labels);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().message(),
            labels + ": 2 labels for 3 images in " + images);
}

TEST_F(IdxDatasetTest, RejectsImageSizeMismatch) {
  std::string images =
      writeRaw("img", imageFile(1, 32, 32, patternPixels(1, 32, 32)));
  std::string labels = writeRaw("lab", labelFile({1}));
  absl::StatusOr<Dataset> data =
      loadIdxDataset(images, labels, {28, 28, 1, 10});
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().message(),
            images + ": image size 32x32 does not match the model input "
                     "28x28x1");

  // Right height and width, but the model wants colour.
  std::string small =
      writeRaw("small", imageFile(1, 28, 28, patternPixels(1, 28, 28)));
  data = loadIdxDataset(small, labels, {28, 28, 3, 10});
  ASSERT_FALSE(data.ok());
  EXPECT_THAT(std::string(data.status().message()),
              HasSubstr("image size 28x28x1 does not match the model input "
                        "28x28x3"));
}

TEST_F(IdxDatasetTest, RejectsLabelsOutOfRange) {
  std::string images = writeRaw("img", imageFile(3, 1, 1, {1, 2, 3}));
  std::string labels = writeRaw("lab", labelFile({0, 9, 10}));
  EXPECT_TRUE(loadIdxDataset(images, labels, {1, 1, 1, 11}).ok());
  absl::StatusOr<Dataset> data = loadIdxDataset(images, labels, {1, 1, 1, 10});
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().message(),
            labels + ": label 10 of example 2 is out of range for a model "
                     "with 10 classes (labels must be 0..9)");
}

TEST_F(IdxDatasetTest, RejectsEmptyImageFile) {
  std::string images = writeRaw("img", imageFile(0, 2, 2, {}));
  std::string labels = writeRaw("lab", labelFile({}));
  absl::StatusOr<Dataset> data = loadIdxDataset(images, labels);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().message(), images + ": contains no images");
}

TEST_F(IdxDatasetTest, RefusesAGzipBombBeforeReadingIt) {
  // 20,000 images of 64x64 zeros: 82 MB that deflate to about 80 KB, a
  // ratio no image data set has. Refused from the header, without
  // decompressing the body.
  uint32_t n = 20000;
  std::vector<uint8_t> header = imageFile(0, 64, 64, {});
  header[4] = uint8_t(n >> 24);
  header[5] = uint8_t(n >> 16);
  header[6] = uint8_t(n >> 8);
  header[7] = uint8_t(n);
  std::vector<uint8_t> bytes = header;
  bytes.resize(header.size() + size_t(n) * 64 * 64, 0);
  std::string images = writeGzip("bomb.gz", bytes);
  absl::StatusOr<IdxImages> read = readIdxImages(images);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find(
                "the header announces 81920000 bytes of pixels in a "),
            std::string::npos)
      << read.status().message();
  EXPECT_NE(read.status().message().find("more than 100 times its size when "
                                         "compressed); refused"),
            std::string::npos);
  // The same data raw is read as it is.
  EXPECT_TRUE(readIdxImages(writeRaw("raw", bytes)).ok());
}

// --- Finding files -----------------------------------------------------------

TEST_F(IdxDatasetTest, MissingFilesNameThePathsTried) {
  absl::StatusOr<IdxImages> images = readIdxImages(path("nothing"));
  ASSERT_FALSE(images.ok());
  EXPECT_EQ(images.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(images.status().message(), path("nothing") + ": no such file");

  absl::StatusOr<IdxPaths> paths = findIdxFiles(path("absent"), IdxPart::Train);
  ASSERT_FALSE(paths.ok());
  EXPECT_EQ(paths.status().message(),
            "data directory '" + path("absent") + "' does not exist");

  // Only the test set: the training images are missing.
  writeGzip("t10k-images-idx3-ubyte.gz", imageFile(1, 1, 1, {0}));
  writeGzip("t10k-labels-idx1-ubyte.gz", labelFile({0}));
  paths = findIdxFiles(dir_.string(), IdxPart::Train);
  ASSERT_FALSE(paths.ok());
  EXPECT_EQ(paths.status().code(), absl::StatusCode::kNotFound);
  std::string message(paths.status().message());
  EXPECT_THAT(message, HasSubstr("cannot find the training images in '" +
                                 dir_.string() + "': tried "));
  EXPECT_THAT(message, HasSubstr(path("train-images-idx3-ubyte") + ", "));
  EXPECT_THAT(message, HasSubstr(path("train-images-idx3-ubyte.gz")));
  absl::StatusOr<DataSplits> all = loadIdxDirectory(dir_.string(), {});
  ASSERT_FALSE(all.ok());
  EXPECT_THAT(std::string(all.status().message()),
              HasSubstr("cannot find the training images"));

  // The test set alone is usable.
  paths = findIdxFiles(dir_.string(), IdxPart::Test);
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->images, path("t10k-images-idx3-ubyte.gz"));
  EXPECT_EQ(paths->labels, path("t10k-labels-idx1-ubyte.gz"));

  // Images present, labels missing.
  writeRaw("train-images-idx3-ubyte", imageFile(1, 1, 1, {0}));
  paths = findIdxFiles(dir_.string(), IdxPart::Train);
  ASSERT_FALSE(paths.ok());
  EXPECT_THAT(std::string(paths.status().message()),
              HasSubstr("cannot find the training labels in '" + dir_.string() +
                        "': tried " + path("train-labels-idx1-ubyte")));
}

TEST_F(IdxDatasetTest, FindsRawBeforeGzipAndTheDottedSpelling) {
  writeRaw("train-images-idx3-ubyte", imageFile(1, 1, 1, {0}));
  writeGzip("train-images-idx3-ubyte.gz", imageFile(1, 1, 1, {0}));
  writeRaw("train-labels.idx1-ubyte", labelFile({0}));
  absl::StatusOr<IdxPaths> paths = findIdxFiles(dir_.string(), IdxPart::Train);
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->images, path("train-images-idx3-ubyte"));
  EXPECT_EQ(paths->labels, path("train-labels.idx1-ubyte"));
}

TEST_F(IdxDatasetTest, LoadsDirectoryWithValidationSplit) {
  for (bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzip" : "raw");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    writeDirectory(25, 7, gzip);
    absl::StatusOr<DataSplits> splits =
        loadIdxDirectory(dir_.string(), {4, 3, 1, 10}, 0.2);
    ASSERT_TRUE(splits.ok()) << splits.status();
    EXPECT_EQ(splits->train.size(), 20);
    EXPECT_EQ(splits->validation.size(), 5);
    EXPECT_EQ(splits->test.size(), 7);
    EXPECT_EQ(splits->train.pixels.size(), 20u * 12);
    EXPECT_EQ(splits->validation.pixels.size(), 5u * 12);
    // The validation set is the tail of the training file.
    EXPECT_EQ(splits->validation.labels, (std::vector<int32_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(splits->validation.examples(0, 1)[0], ((20 * 7) % 256) / 255.0f);
    EXPECT_EQ(splits->train.examples(19, 1)[0], ((19 * 7) % 256) / 255.0f);
    EXPECT_EQ(splits->validation.height, 4);
    EXPECT_EQ(splits->validation.width, 3);

    absl::StatusOr<DataSplits> noSplit =
        loadIdxDirectory(dir_.string(), {4, 3, 1, 10});
    ASSERT_TRUE(noSplit.ok()) << noSplit.status();
    EXPECT_EQ(noSplit->train.size(), 25);
    EXPECT_EQ(noSplit->validation.size(), 0);
  }
}

TEST_F(IdxDatasetTest, ValidationSplitFollowsKeras) {
  auto sizes = [](int64_t n, double fraction) {
    Dataset data;
    data.height = data.width = 1;
    data.images.assign(n, 0.5f);
    data.labels.assign(n, 1);
    absl::StatusOr<TrainValidation> split =
        splitValidation(std::move(data), fraction);
    EXPECT_TRUE(split.ok()) << split.status();
    return std::make_pair(split->train.size(), split->validation.size());
  };
  EXPECT_EQ(sizes(60000, 0.1), std::make_pair(int64_t(54000), int64_t(6000)));
  EXPECT_EQ(sizes(60000, 0.2), std::make_pair(int64_t(48000), int64_t(12000)));
  // floor(10 * 0.75) = 7 training examples.
  EXPECT_EQ(sizes(10, 0.25), std::make_pair(int64_t(7), int64_t(3)));
  // floor(7 * 0.7) = 4.
  EXPECT_EQ(sizes(7, 0.3), std::make_pair(int64_t(4), int64_t(3)));
  EXPECT_EQ(sizes(10, 0.0), std::make_pair(int64_t(10), int64_t(0)));

  Dataset one;
  one.height = one.width = 1;
  one.images = {0.0f};
  one.labels = {0};
  EXPECT_FALSE(splitValidation(one, 0.5).ok());
  EXPECT_FALSE(splitValidation(one, 1.0).ok());
  absl::StatusOr<TrainValidation> negative = splitValidation(one, -0.1);
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(std::string(negative.status().message()),
              HasSubstr("validation_split must be in [0, 1)"));
}

// --- Shuffling and batching --------------------------------------------------

TEST(EpochPermutationTest, IsDeterministicAndAPermutation) {
  std::vector<int64_t> a = epochPermutation(1000, 42, 0);
  EXPECT_EQ(a, epochPermutation(1000, 42, 0));
  EXPECT_NE(a, epochPermutation(1000, 42, 1));
  EXPECT_NE(a, epochPermutation(1000, 43, 0));
  for (int64_t epoch : {0, 1, 7}) {
    std::vector<int64_t> p = epochPermutation(1000, 42, epoch);
    std::vector<int64_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < 1000; ++i)
      ASSERT_EQ(sorted[i], i);
  }
  EXPECT_TRUE(epochPermutation(0, 1, 0).empty());
  EXPECT_EQ(epochPermutation(1, 1, 0), std::vector<int64_t>{0});
}

TEST(EpochPermutationTest, IsTheSameOnEveryPlatform) {
  // Pinned values: mt19937_64 and the exact bounded draw are fully
  // specified, so any standard library must produce this order.
  EXPECT_EQ(epochPermutation(10, 42, 0),
            (std::vector<int64_t>{3, 6, 4, 0, 8, 5, 1, 2, 9, 7}));
  EXPECT_EQ(epochPermutation(10, 42, 3),
            (std::vector<int64_t>{0, 7, 5, 4, 3, 9, 6, 2, 1, 8}));
}

Dataset rowsDataset(int64_t n, int64_t rowSize) {
  // Example i holds the value i in every element, label i % 10.
  Dataset data;
  data.height = 1;
  data.width = rowSize;
  for (int64_t i = 0; i < n; ++i) {
    data.images.insert(data.images.end(), rowSize, float(i));
    data.labels.push_back(int32_t(i % 10));
  }
  return data;
}

TEST(BatchIteratorTest, KeepsThePartialLastBatch) {
  Dataset data = rowsDataset(10, 3);
  absl::StatusOr<BatchIterator> it =
      BatchIterator::create(data, {/*batchSize=*/4, /*shuffle=*/true, 5});
  ASSERT_TRUE(it.ok()) << it.status();
  EXPECT_EQ(it->stepsPerEpoch(), 3);
  std::vector<float> x(4 * 3, -1.0f);
  std::vector<int32_t> y(4, -1);
  std::multiset<int64_t> seen;
  std::vector<int64_t> counts;
  while (int64_t count = it->next(x.data(), y.data())) {
    counts.push_back(count);
    for (int64_t r = 0; r < count; ++r) {
      int64_t index = int64_t(x[r * 3]);
      EXPECT_EQ(x[r * 3 + 2], float(index));
      EXPECT_EQ(y[r], index % 10);
      seen.insert(index);
    }
    if (count < 4) {
      // Padding rows are zeros.
      for (int64_t r = count; r < 4; ++r) {
        EXPECT_EQ(y[r], 0);
        for (int k = 0; k < 3; ++k)
          EXPECT_EQ(x[r * 3 + k], 0.0f);
      }
    }
  }
  EXPECT_EQ(counts, (std::vector<int64_t>{4, 4, 2}));
  EXPECT_TRUE(it->endOfEpoch());
  EXPECT_EQ(it->next(x.data(), y.data()), 0);
  // Every example exactly once.
  EXPECT_EQ(seen.size(), 10u);
  for (int64_t i = 0; i < 10; ++i)
    EXPECT_EQ(seen.count(i), 1u) << i;
  EXPECT_EQ(it->order(), epochPermutation(10, 5, 0));

  it->nextEpoch();
  EXPECT_EQ(it->epoch(), 1);
  EXPECT_EQ(it->step(), 0);
  EXPECT_EQ(it->order(), epochPermutation(10, 5, 1));
}

TEST(BatchIteratorTest, DropsThePartialLastBatch) {
  Dataset data = rowsDataset(10, 2);
  BatchOptions options;
  options.batchSize = 4;
  options.dropRemainder = true;
  absl::StatusOr<BatchIterator> it = BatchIterator::create(data, options);
  ASSERT_TRUE(it.ok());
  EXPECT_EQ(it->stepsPerEpoch(), 2);
  std::vector<float> x(8);
  std::vector<int32_t> y(4);
  EXPECT_EQ(it->next(x.data(), y.data()), 4);
  EXPECT_EQ(it->next(x.data(), y.data()), 4);
  EXPECT_EQ(it->next(x.data(), y.data()), 0);

  // An exact multiple loses nothing either way.
  Dataset eight = rowsDataset(8, 2);
  it = BatchIterator::create(eight, options);
  ASSERT_TRUE(it.ok());
  EXPECT_EQ(it->stepsPerEpoch(), 2);
  options.dropRemainder = false;
  it = BatchIterator::create(eight, options);
  EXPECT_EQ(it->stepsPerEpoch(), 2);
}

TEST(BatchIteratorTest, WithoutShuffleFollowsFileOrder) {
  Dataset data = rowsDataset(5, 1);
  BatchOptions options;
  options.batchSize = 2;
  options.shuffle = false;
  absl::StatusOr<BatchIterator> it = BatchIterator::create(data, options);
  ASSERT_TRUE(it.ok());
  std::vector<float> x(2);
  std::vector<int32_t> y(2);
  std::vector<float> all;
  for (int epoch = 0; epoch < 2; ++epoch) {
    while (int64_t count = it->next(x.data(), y.data()))
      all.insert(all.end(), x.begin(), x.begin() + count);
    it->nextEpoch();
  }
  EXPECT_EQ(all, (std::vector<float>{0, 1, 2, 3, 4, 0, 1, 2, 3, 4}));
}

TEST(BatchIteratorTest, ResumesFromEpochAndStep) {
  Dataset data = rowsDataset(23, 2);
  BatchOptions options;
  options.batchSize = 5;
  options.seed = 1234;
  absl::StatusOr<BatchIterator> a = BatchIterator::create(data, options);
  ASSERT_TRUE(a.ok());
  std::vector<float> xa(10), xb(10);
  std::vector<int32_t> ya(5), yb(5);
  // Run through epoch 0 and two steps of epoch 1, then "checkpoint".
  while (a->next(xa.data(), ya.data()))
    ;
  a->nextEpoch();
  a->next(xa.data(), ya.data());
  a->next(xa.data(), ya.data());
  int64_t epoch = a->epoch(), step = a->step();
  EXPECT_EQ(epoch, 1);
  EXPECT_EQ(step, 2);

  absl::StatusOr<BatchIterator> b = BatchIterator::create(data, options);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->seek(epoch, step).ok());
  for (int i = 0; i < 10; ++i) {
    int64_t na = a->next(xa.data(), ya.data());
    int64_t nb = b->next(xb.data(), yb.data());
    ASSERT_EQ(na, nb);
    if (na == 0) {
      a->nextEpoch();
      b->nextEpoch();
      continue;
    }
    EXPECT_EQ(xa, xb);
    EXPECT_EQ(ya, yb);
  }
  // Random access agrees with sequential order.
  EXPECT_EQ(b->batch(0, xb.data(), yb.data()), 5);
  EXPECT_EQ(xb[0], float(b->order()[0]));

  EXPECT_FALSE(b->seek(0, 6).ok());
  EXPECT_TRUE(b->seek(0, 5).ok());
  EXPECT_TRUE(b->endOfEpoch());
  EXPECT_FALSE(b->seek(-1, 0).ok());
}

TEST(BatchIteratorTest, RejectsNonPositiveBatchSize) {
  Dataset data = rowsDataset(3, 1);
  BatchOptions options;
  options.batchSize = 0;
  absl::StatusOr<BatchIterator> it = BatchIterator::create(data, options);
  ASSERT_FALSE(it.ok());
  EXPECT_THAT(std::string(it.status().message()),
              HasSubstr("batch size must be positive, got 0"));
}

// --- Real data ---------------------------------------------------------------

TEST(RealMnistTest, ReadsTheMnistTestDigits) {
  const std::string dir = GRADC_SOURCE_DIR "/../shared/data/mnist-t10k";
  if (!fs::is_directory(dir))
    GTEST_SKIP() << dir << " is absent";
  absl::StatusOr<Dataset> data =
      loadIdxPart(dir, IdxPart::Test, {28, 28, 1, 10});
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->size(), 10000);
  EXPECT_EQ(data->pixels.size(), 10000u * 784);
  // The first test digits of MNIST are 7, 2, 1, 0, 4.
  EXPECT_EQ(
      std::vector<int32_t>(data->labels.begin(), data->labels.begin() + 5),
      (std::vector<int32_t>{7, 2, 1, 0, 4}));
  std::vector<int> perClass(10);
  for (int32_t label : data->labels)
    ++perClass[label];
  EXPECT_EQ(perClass, (std::vector<int>{980, 1135, 1032, 1010, 982, 892, 958,
                                        1028, 974, 1009}));
  std::vector<float> floats = data->examples(0, data->size());
  auto [lo, hi] = std::minmax_element(floats.begin(), floats.end());
  EXPECT_EQ(*lo, 0.0f);
  EXPECT_EQ(*hi, 1.0f);
  // The training files are not there: the whole-directory loader says so.
  absl::StatusOr<DataSplits> all = loadIdxDirectory(dir, {28, 28, 1, 10});
  ASSERT_FALSE(all.ok());
  EXPECT_THAT(std::string(all.status().message()),
              HasSubstr("train-images-idx3-ubyte.gz"));
}

} // namespace
} // namespace gradc
