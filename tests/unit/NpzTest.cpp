//===- NpzTest.cpp - .npz archives and arrays as data sets ----------------===//
//
// Arrays become data sets (images, tabular rows, class labels, value
// targets) or one-line errors naming the array. .npz archives are written
// by Debian's python3 with numpy (np.savez, np.savez_compressed, zipfile)
// into a temporary directory and loaded as Keras's mnist.npz layout or as x
// and y; broken ones (missing or mismatched arrays, a bad CRC, archives cut
// short or patched to lie about sizes, other compression methods) must
// give one-line errors naming the file and the entry.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Numpy.h"

#include "tests/unit/TempDirTest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace gradc {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

class NpzTest : public TempDirTest {};

// --- datasetFromArrays ------------------------------------------------------

/// An array of `type` and `shape` holding `values`.
NpyArray array(NpyArray::Type type, std::vector<int64_t> shape,
               const std::vector<double> &values) {
  NpyArray a;
  a.type = type;
  a.shape = std::move(shape);
  for (double v : values) {
    uint8_t bytes[8];
    switch (type) {
    case NpyArray::Type::U8:
      bytes[0] = uint8_t(v);
      break;
    case NpyArray::Type::I32: {
      int32_t i = int32_t(v);
      std::memcpy(bytes, &i, 4);
      break;
    }
    case NpyArray::Type::I64: {
      int64_t i = int64_t(v);
      std::memcpy(bytes, &i, 8);
      break;
    }
    case NpyArray::Type::F32: {
      float f = float(v);
      std::memcpy(bytes, &f, 4);
      break;
    }
    case NpyArray::Type::F64:
      std::memcpy(bytes, &v, 8);
      break;
    }
    a.bytes.insert(a.bytes.end(), bytes, bytes + a.itemSize());
  }
  return a;
}

TEST(NumpyDatasetTest, ArraysBecomeDatasets) {
  using T = NpyArray::Type;
  // uint8 images [N, H, W] stay bytes, one channel.
  absl::StatusOr<Dataset> d =
      datasetFromArrays(array(T::U8, {2, 1, 2}, {0, 255, 51, 1}),
                        array(T::I64, {2}, {3, 0}), "w", false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->height, 1);
  EXPECT_EQ(d->width, 2);
  EXPECT_EQ(d->channels, 1);
  EXPECT_THAT(d->pixels, ElementsAre(0, 255, 51, 1));
  EXPECT_TRUE(d->images.empty());
  EXPECT_THAT(d->labels, ElementsAre(3, 0));
  float ex[2];
  d->example(0, ex);
  EXPECT_EQ(ex[1], 1.0f);

  // float64 tabular [N, F] becomes float32, labels [N, 1] of int32.
  d = datasetFromArrays(array(T::F64, {2, 3}, {0.1, 2, 3, 4, 5, 1e300}),
                        array(T::I32, {2, 1}, {1, 7}), "w", false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->height, 1);
  EXPECT_EQ(d->width, 1);
  EXPECT_EQ(d->channels, 3);
  EXPECT_EQ(d->images[0], 0.1f);
  EXPECT_TRUE(std::isinf(d->images[5])); // checkDataset reports it later
  EXPECT_THAT(d->labels, ElementsAre(1, 7));

  // int32 arrays [N, H, W, C] stay integers (ids, exact, 4 bytes each in a
  // batch until the model says otherwise); value targets [N, 2].
  d = datasetFromArrays(array(T::I32, {1, 1, 1, 2}, {-3, 9}),
                        array(T::F32, {1, 2}, {0.25, -8}), "w", true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->channels, 2);
  EXPECT_TRUE(d->images.empty());
  EXPECT_THAT(d->ids, ElementsAre(-3, 9));
  EXPECT_EQ(d->idBytes, 4);
  EXPECT_EQ(d->targetWidth, 2);
  EXPECT_THAT(d->targets, ElementsAre(0.25f, -8.0f));
  EXPECT_THAT(d->labels, ElementsAre(0));

  // Value targets [N] of integers: width 1.
  d = datasetFromArrays(array(T::F32, {2, 1}, {1, 2}),
                        array(T::I64, {2}, {10, -20}), "w", true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->targetWidth, 1);
  EXPECT_THAT(d->targets, ElementsAre(10.0f, -20.0f));
}

TEST(NumpyDatasetTest, ArrayErrors) {
  using T = NpyArray::Type;
  auto error = [](const NpyArray &x, const NpyArray &y, bool value) {
    absl::StatusOr<Dataset> d =
        datasetFromArrays(x, y, "f.npz", value, "x_train", "y_train");
    EXPECT_FALSE(d.ok());
    return std::string(d.status().message());
  };
  NpyArray x = array(T::F32, {2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(error(x, array(T::F32, {2}, {0, 1}), false),
            "f.npz: error: y_train holds floats; class labels must be "
            "integers (for regression set values: true in the loss)");
  // A negative label is the model's to judge (an ignore_index), checked
  // with the data against it (DatasetTest).
  EXPECT_EQ(error(x, array(T::I64, {2}, {0, 4294967296.0}), false),
            "f.npz: error: y_train[1] is 4294967296; class labels must fit "
            "in 32 bits");
  EXPECT_EQ(error(x, array(T::I64, {3}, {0, 1, 2}), false),
            "f.npz: error: x_train has 2 examples, y_train has 3");
  EXPECT_THAT(error(array(T::F32, {4}, {1, 2, 3, 4}),
                    array(T::I64, {4}, {0, 1, 0, 1}), false),
              StartsWith("f.npz: error: x_train has shape (4,), one value per "
                         "example"));
  EXPECT_THAT(error(array(T::F32, {1, 1, 1, 1, 1}, {1}),
                    array(T::I64, {1}, {0}), false),
              StartsWith("f.npz: error: x_train has shape (1, 1, 1, 1, 1); "
                         "expected"));
  EXPECT_EQ(error(array(T::F32, {2, 0}, {}), array(T::I64, {2}, {0, 1}), false),
            "f.npz: error: x_train has shape (2, 0): its examples hold no "
            "values");
  EXPECT_EQ(error(x, array(T::F32, {2, 1, 1}, {0, 1}), true),
            "f.npz: error: y_train has shape (2, 1, 1); value targets are "
            "[N] or [N, K]");
}

// --- .npz -------------------------------------------------------------------

TEST_F(NpzTest, NpzKerasLayoutStoredAndCompressed) {
  python(R"(
x = np.arange(3 * 2 * 2, dtype=np.uint8).reshape(3, 2, 2) * 20
y = np.array([2, 0, 1], dtype=np.int64)
xt = np.array([[[255, 1], [2, 3]]], dtype=np.uint8)
yt = np.array([9], dtype=np.uint8)
np.savez('mnist.npz', x_train=x, y_train=y, x_test=xt, y_test=yt)
np.savez_compressed('mnistz.npz', x_train=x, y_train=y, x_test=xt, y_test=yt)
)");
  for (const char *name : {"mnist.npz", "mnistz.npz"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<std::map<std::string, NpyArray>> arrays =
        readNpz(path(name));
    ASSERT_TRUE(arrays.ok()) << arrays.status();
    ASSERT_EQ(arrays->size(), 4u);
    EXPECT_THAT(arrays->at("y_train").shape, ElementsAre(3));

    absl::StatusOr<DataSplits> s = loadNumpy(path(name), false);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->train.height, 2);
    EXPECT_EQ(s->train.width, 2);
    EXPECT_EQ(s->train.channels, 1);
    EXPECT_EQ(s->train.pixels.size(), 12u);
    EXPECT_EQ(s->train.pixels[11], 220);
    EXPECT_THAT(s->train.labels, ElementsAre(2, 0, 1));
    EXPECT_THAT(s->test.pixels, ElementsAre(255, 1, 2, 3));
    EXPECT_THAT(s->test.labels, ElementsAre(9));
    EXPECT_EQ(s->validation.size(), 0);
    EXPECT_EQ(s->validation.height, 2);
    EXPECT_TRUE(s->classNames.empty());
  }
}

TEST_F(NpzTest, NpzXYRegressionWithoutTestSet) {
  python(R"(
x = np.array([[0.5, 1.5], [2.5, -3.5], [4.0, 5.0]], dtype=np.float64)
y = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32)
np.savez_compressed('reg.npz', x=x, y=y)
)");
  absl::StatusOr<DataSplits> s = loadNumpy(path("reg.npz"), true);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->train.channels, 2);
  EXPECT_THAT(s->train.images,
              ElementsAre(0.5f, 1.5f, 2.5f, -3.5f, 4.0f, 5.0f));
  EXPECT_EQ(s->train.targetWidth, 2);
  EXPECT_THAT(s->train.targets, ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(s->train.labels, ElementsAre(0, 0, 0));
  EXPECT_EQ(s->test.size(), 0);
  EXPECT_EQ(s->test.targetWidth, 2);
  EXPECT_EQ(s->test.channels, 2);

  // The same file with class labels: y holds floats.
  s = loadNumpy(path("reg.npz"), false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string(s.status().message()),
            path("reg.npz") + ": error: y holds floats; class labels must be "
                              "integers (for regression set values: true in "
                              "the loss)");
}

TEST_F(NpzTest, NpzMissingKeysAndMismatchedParts) {
  python(R"(
np.savez('ab.npz', a=np.zeros(2), b=np.zeros(2))
np.savez('half.npz', x_train=np.zeros((2, 2), np.float32), y_train=np.zeros(2, np.int64), x_test=np.zeros((1, 2), np.float32))
np.savez('mixed.npz', x_train=np.zeros((2, 2), np.uint8), y_train=np.zeros(2, np.int64), x_test=np.zeros((1, 2), np.float32), y_test=np.zeros(1, np.int64))
np.savez('shape.npz', x_train=np.zeros((2, 2), np.float32), y_train=np.zeros(2, np.int64), x_test=np.zeros((1, 3), np.float32), y_test=np.zeros(1, np.int64))
np.save('single.npy', np.zeros(3))
)");
  auto error = [&](const std::string &name) {
    absl::StatusOr<DataSplits> s = loadNumpy(path(name), false);
    EXPECT_FALSE(s.ok());
    return std::string(s.status().message());
  };
  EXPECT_EQ(error("ab.npz"),
            path("ab.npz") + ": error: expected arrays x_train and y_train "
                             "(and x_test and y_test for a test set) or x and "
                             "y; the file has 'a', 'b'");
  EXPECT_THAT(error("half.npz"),
              StartsWith(path("half.npz") + ": error: the file has x_test but "
                                            "no y_test"));
  EXPECT_THAT(error("mixed.npz"),
              StartsWith(path("mixed.npz") +
                         ": error: x_train is uint8 and x_test is float32"));
  EXPECT_EQ(error("shape.npz"), path("shape.npz") +
                                    ": error: x_test's examples are 1x1x3, "
                                    "x_train's are 1x1x2");
  EXPECT_THAT(error("single.npy"),
              StartsWith(path("single.npy") +
                         ": error: this is a single .npy array, not an .npz "
                         "archive"));
}

/// Offset of the first central directory header in a ZIP file.
size_t centralDirectory(const std::string &zip) {
  return zip.find(std::string("PK\x01\x02", 4));
}

void put32(std::string &s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    s[at + i] = char(v >> (8 * i));
}
uint32_t get32(const std::string &s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t(uint8_t(s[at + i])) << (8 * i);
  return v;
}

TEST_F(NpzTest, NpzCorruptArchives) {
  python(R"(
np.savez('s.npz', x=np.arange(100, dtype=np.float32), y=np.zeros(100, np.int64))
np.savez_compressed('c.npz', x=np.arange(100, dtype=np.float32), y=np.zeros(100, np.int64))
import zipfile
with zipfile.ZipFile('bz.npz', 'w', compression=zipfile.ZIP_BZIP2) as z:
    with z.open('x.npy', 'w') as f:
        np.lib.format.write_array(f, np.zeros(3))
with zipfile.ZipFile('txt.npz', 'w') as z:
    z.writestr('readme.txt', 'hello')
)");
  auto error = [&](const std::string &name) {
    absl::StatusOr<std::map<std::string, NpyArray>> a = readNpz(path(name));
    EXPECT_FALSE(a.ok());
    return std::string(a.status().message());
  };
  std::string stored = read(path("s.npz"));
  // Flip the last data byte of x.npy (the last float): the CRC catches it.
  std::string bad = stored;
  size_t yHeader = bad.find(std::string("PK\x03\x04", 4), 4);
  ASSERT_NE(yHeader, std::string::npos);
  bad[yHeader - 1] ^= 0x40;
  write("badcrc.npz", bad);
  EXPECT_THAT(error("badcrc.npz"),
              StartsWith(path("badcrc.npz") +
                         ": error: entry 'x.npy': CRC-32 mismatch: the "
                         "archive says "));

  write("cut.npz", stored.substr(0, stored.size() / 2));
  EXPECT_EQ(error("cut.npz"),
            path("cut.npz") + ": error: not a ZIP archive (no end of central "
                              "directory record); expected an .npz file from "
                              "np.savez");

  // Cut inside the central directory but keep the end record.
  size_t cd = centralDirectory(stored);
  std::string end = stored.substr(stored.size() - 22);
  write("cdcut.npz", stored.substr(0, cd + 10) + end);
  EXPECT_THAT(error("cdcut.npz"),
              StartsWith(path("cdcut.npz") + ": error: corrupt archive"));

  // The encryption flag set in the central directory.
  std::string enc = stored;
  enc[cd + 8] |= 1;
  write("enc.npz", enc);
  EXPECT_EQ(error("enc.npz"), path("enc.npz") +
                                  ": error: entry 'x.npy': is encrypted; "
                                  "encryption is not supported");

  EXPECT_THAT(error("bz.npz"),
              StartsWith(path("bz.npz") + ": error: entry 'x.npy': "
                                          "compression method 12 (bzip2) is "
                                          "not supported"));
  EXPECT_THAT(error("txt.npz"),
              StartsWith(path("txt.npz") + ": error: entry 'readme.txt': is "
                                           "not a .npy array"));

  // Deflated entries: a declared size beyond deflate's ratio is refused
  // before inflating; a smaller lie is caught after.
  std::string compressed = read(path("c.npz"));
  size_t ccd = centralDirectory(compressed);
  uint32_t packed = get32(compressed, ccd + 20);
  uint32_t size = get32(compressed, ccd + 24);
  std::string bomb = compressed;
  put32(bomb, ccd + 24, packed * 1033);
  write("bomb.npz", bomb);
  EXPECT_THAT(error("bomb.npz"),
              StartsWith(path("bomb.npz") +
                         ": error: entry 'x.npy': "
                         "declares " +
                         std::to_string(packed * 1033) + " bytes from " +
                         std::to_string(packed) + " compressed ones"));
  std::string lie = compressed;
  put32(lie, ccd + 24, size + 100);
  write("lie.npz", lie);
  EXPECT_EQ(error("lie.npz"),
            path("lie.npz") + ": error: entry 'x.npy': inflates to " +
                std::to_string(size) + " bytes, the archive declares " +
                std::to_string(size + 100));
  std::string small = compressed;
  put32(small, ccd + 24, size - 1);
  write("small.npz", small);
  EXPECT_EQ(error("small.npz"), path("small.npz") +
                                    ": error: entry 'x.npy': inflates to more "
                                    "than the " +
                                    std::to_string(size - 1) +
                                    " bytes it declares");
  // Garbage in the deflate stream.
  std::string garbage = compressed;
  size_t data =
      30 + 5 +
      uint16_t(uint8_t(compressed[28]) | (uint8_t(compressed[29]) << 8));
  for (size_t i = data; i < data + 8; ++i)
    garbage[i] = char(0xFF);
  write("garbage.npz", garbage);
  EXPECT_THAT(error("garbage.npz"),
              StartsWith(path("garbage.npz") + ": error: entry 'x.npy': "));
  // Two central entries pointing at the same data.
  std::string twice = stored;
  size_t second = twice.find(std::string("PK\x01\x02", 4), cd + 4);
  put32(twice, second + 42, get32(twice, cd + 42));
  write("twice.npz", twice);
  EXPECT_THAT(error("twice.npz"),
              StartsWith(path("twice.npz") + ": error: entry 'y.npy': "
                                             "corrupt archive"));
}

} // namespace
} // namespace gradc
