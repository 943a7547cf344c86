//===- NumpyCsvTest.cpp - NumPy and CSV data readers
//-----------------------===//
//
// NumPy files are written by Debian's python3 with numpy (np.save, np.savez,
// np.savez_compressed, np.lib.format.write_array) into a temporary
// directory and read back value by value; broken ones (Fortran order,
// big-endian and bool dtypes, truncated data, headers that claim huge
// shapes, archives with a bad CRC, cut short, patched to lie about sizes)
// must give one-line errors naming the file. CSV files are written here:
// quoting, CRLF, a BOM, blank lines, string and integer classes, the test
// file's mapping, regression targets, and every cell error with its
// file:line:col.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Csv.h"
#include "runtime/data/Numpy.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

namespace gradc {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class NumpyCsvTest : public ::testing::Test {
protected:
  void SetUp() override {
    const ::testing::TestInfo *info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("gradc_npcsv_") + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string &name) const {
    return (dir_ / name).string();
  }

  /// Runs `code` with numpy imported as np, in the temporary directory.
  void python(const std::string &code) {
    std::string script = path("make.py");
    std::ofstream(script) << "import numpy as np\nimport os\nos.chdir(r'"
                          << dir_.string() << "')\n"
                          << code << "\n";
    int rc = std::system(("/usr/bin/python3 " + script).c_str());
    ASSERT_EQ(rc, 0) << code;
  }

  std::string write(const std::string &name, const std::string &bytes) {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }
  std::string read(const std::string &name) {
    std::ifstream in(path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  /// Reads a CSV file that must load; classNames start empty.
  Dataset csv(const std::string &text, const CsvOptions &o,
              std::vector<std::string> *names = nullptr) {
    std::vector<std::string> local;
    absl::StatusOr<Dataset> d =
        readCsv(write("d.csv", text), o, names ? names : &local);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : Dataset();
  }
  /// The error message of reading `text` as a CSV file "d.csv".
  std::string csvError(const std::string &text, const CsvOptions &o,
                       std::vector<std::string> names = {}) {
    absl::StatusOr<Dataset> d = readCsv(write("d.csv", text), o, &names);
    EXPECT_FALSE(d.ok());
    return std::string(d.status().message());
  }

  fs::path dir_;
};

CsvOptions classes(const std::string &target = "y") {
  CsvOptions o;
  o.targets = {target};
  return o;
}

/// A .npy file's bytes with the given header dict and `dataBytes` of data.
std::string npyBytes(const std::string &dict, size_t dataBytes,
                     char major = 1) {
  std::string header = dict + "\n";
  std::string bytes("\x93NUMPY", 6);
  bytes += major;
  bytes += '\0';
  size_t n = header.size();
  bytes += char(n & 0xFF);
  bytes += char(n >> 8);
  if (major != 1) {
    bytes += '\0';
    bytes += '\0';
  }
  return bytes + header + std::string(dataBytes, '\0');
}

// --- .npy -------------------------------------------------------------------

TEST_F(NumpyCsvTest, NpyReadsEveryAcceptedTypeExactly) {
  python(R"(
np.save('u8.npy', np.arange(6, dtype=np.uint8).reshape(2, 3) * 51)
np.save('f4.npy', np.array([[0.5, -1.25, 3.0e38], [1e-30, 7.0, -0.0]], dtype=np.float32))
np.save('f8.npy', np.array([1/3, -2.5e300, 5e-324], dtype=np.float64))
np.save('i8.npy', np.array([[-5], [2**40]], dtype=np.int64))
np.save('i4.npy', np.array([-7, 123456, 2**31 - 1], dtype=np.int32))
)");
  absl::StatusOr<NpyArray> u8 = readNpy(path("u8.npy"));
  ASSERT_TRUE(u8.ok()) << u8.status();
  EXPECT_EQ(u8->type, NpyArray::Type::U8);
  EXPECT_THAT(u8->shape, ElementsAre(2, 3));
  EXPECT_THAT(u8->bytes, ElementsAre(0, 51, 102, 153, 204, 255));
  EXPECT_EQ(u8->at(5), 255.0);

  absl::StatusOr<NpyArray> f4 = readNpy(path("f4.npy"));
  ASSERT_TRUE(f4.ok()) << f4.status();
  EXPECT_EQ(f4->type, NpyArray::Type::F32);
  EXPECT_THAT(f4->shape, ElementsAre(2, 3));
  ASSERT_EQ(f4->count(), 6);
  const float f4Want[] = {0.5f,         -1.25f, float(3.0e38),
                          float(1e-30), 7.0f,   -0.0f};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(f4->at(i), double(f4Want[i])) << i;
  EXPECT_TRUE(std::signbit(f4->at(5)));

  absl::StatusOr<NpyArray> f8 = readNpy(path("f8.npy"));
  ASSERT_TRUE(f8.ok()) << f8.status();
  EXPECT_EQ(f8->type, NpyArray::Type::F64);
  EXPECT_THAT(f8->shape, ElementsAre(3));
  EXPECT_EQ(f8->at(0), 1.0 / 3.0);
  EXPECT_EQ(f8->at(1), -2.5e300);
  EXPECT_EQ(f8->at(2), 5e-324);

  absl::StatusOr<NpyArray> i8 = readNpy(path("i8.npy"));
  ASSERT_TRUE(i8.ok()) << i8.status();
  EXPECT_EQ(i8->type, NpyArray::Type::I64);
  EXPECT_THAT(i8->shape, ElementsAre(2, 1));
  EXPECT_EQ(i8->at(0), -5.0);
  EXPECT_EQ(i8->at(1), 1099511627776.0);

  absl::StatusOr<NpyArray> i4 = readNpy(path("i4.npy"));
  ASSERT_TRUE(i4.ok()) << i4.status();
  EXPECT_EQ(i4->type, NpyArray::Type::I32);
  EXPECT_EQ(i4->at(0), -7.0);
  EXPECT_EQ(i4->at(1), 123456.0);
  EXPECT_EQ(i4->at(2), 2147483647.0);
}

TEST_F(NumpyCsvTest, NpyReadsFormatVersions2And3) {
  python(R"(
a = np.array([[1.5, 2.5]], dtype=np.float32)
for v in [(2, 0), (3, 0)]:
    with open('v%d.npy' % v[0], 'wb') as f:
        np.lib.format.write_array(f, a, version=v)
)");
  for (const char *name : {"v2.npy", "v3.npy"}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(read(name)[6], name[1] - '0');
    absl::StatusOr<NpyArray> a = readNpy(path(name));
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_THAT(a->shape, ElementsAre(1, 2));
    EXPECT_EQ(a->at(0), 1.5);
    EXPECT_EQ(a->at(1), 2.5);
  }
}

TEST_F(NumpyCsvTest, NpyRefusesFortranOrderBigEndianAndBool) {
  python(R"(
np.save('fortran.npy', np.asfortranarray(np.ones((3, 2), dtype=np.float32)))
np.save('big.npy', np.ones(4, dtype='>f4'))
np.save('bool.npy', np.array([True, False]))
np.save('f2.npy', np.ones(4, dtype=np.float16))
)");
  absl::StatusOr<NpyArray> a = readNpy(path("fortran.npy"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(std::string(a.status().message()),
            path("fortran.npy") +
                ": error: Fortran order is not supported; save with "
                "np.ascontiguousarray");

  a = readNpy(path("big.npy"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              StartsWith(path("big.npy") +
                         ": error: dtype '>f4' is not supported (big-endian; "
                         "convert with a.astype('<f4')); accepted: '|u1' "
                         "(uint8), '<i4' (int32), '<i8' (int64), '<f4' "
                         "(float32), '<f8' (float64)"));

  a = readNpy(path("bool.npy"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              StartsWith(path("bool.npy") +
                         ": error: dtype '|b1' is not supported (bool"));

  a = readNpy(path("f2.npy"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              StartsWith(path("f2.npy") + ": error: dtype '<f2'"));
}

TEST_F(NumpyCsvTest, NpyHeaderThatLiesAboutTheDataSize) {
  python("np.save('a.npy', np.zeros((4, 4), dtype=np.float32))");
  std::string good = read("a.npy");
  write("short.npy", good.substr(0, good.size() - 8));
  absl::StatusOr<NpyArray> a = readNpy(path("short.npy"));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(std::string(a.status().message()),
            path("short.npy") + ": error: the header says 64 bytes of data "
                                "(shape (4, 4) of float32), the file has 56");

  write("long.npy", good + "xyz");
  a = readNpy(path("long.npy"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              HasSubstr("the header says 64 bytes of data (shape (4, 4) of "
                        "float32), the file has 67"));

  // A shape of 4 PB in a file of a few bytes must be refused, not allocated
  // (the test would die of memory otherwise), by readNpy and by parseNpy.
  std::string huge =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, "
               "1000000), }",
               16);
  write("huge.npy", huge);
  a = readNpy(path("huge.npy"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              HasSubstr("the header says 4000000000000000 bytes of data "
                        "(shape (1000000000, 1000000) of float32), the file "
                        "has 16"));
  a = parseNpy(huge, "mem.npy");
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()),
              StartsWith("mem.npy: error: the header says 4000000000000000"));

  // A product that overflows 64 bits.
  a = parseNpy(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': "
                        "(4611686018427387904, 4611686018427387904), }",
                        0),
               "mem.npy");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(std::string(a.status().message()),
            "mem.npy: error: the shape (4611686018427387904, "
            "4611686018427387904) is too large to be real");
}

TEST_F(NumpyCsvTest, NpyMalformedHeaders) {
  auto error = [](const std::string &bytes) {
    absl::StatusOr<NpyArray> a = parseNpy(bytes, "m.npy");
    EXPECT_FALSE(a.ok());
    return std::string(a.status().message());
  };
  EXPECT_THAT(error("PK\x03\x04 not numpy"),
              StartsWith("m.npy: error: not a NumPy .npy file"));
  EXPECT_THAT(error(std::string("\x93NUMPY\x01", 7)),
              StartsWith("m.npy: error: truncated"));
  std::string v4 = npyBytes("{}", 0);
  v4[6] = 4;
  EXPECT_THAT(error(v4),
              StartsWith("m.npy: error: NumPy format version 4.0 is not "
                         "supported"));
  EXPECT_THAT(error(npyBytes("{'descr': '<f4', 'shape': (2,), }", 8)),
              StartsWith("m.npy: error: the .npy header lacks "
                         "'fortran_order'"));
  EXPECT_THAT(error(npyBytes("{'descr': '<f4', 'fortran_order': False, "
                             "'shape': (2,), 'extra': 1}",
                             8)),
              StartsWith("m.npy: error: unknown key 'extra'"));
  EXPECT_THAT(error(npyBytes(
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", 8)),
              StartsWith("m.npy: error: 'shape' is not a tuple"));
  EXPECT_THAT(error(npyBytes("{'descr': '<f4', 'fortran_order': False, "
                             "'shape': (-2,)}",
                             8)),
              StartsWith("m.npy: error: malformed .npy header: expected a "
                         "non-negative integer"));
  EXPECT_THAT(error(npyBytes("{'descr': [('a', '<f4')], 'fortran_order': "
                             "False, 'shape': (2,)}",
                             8)),
              StartsWith("m.npy: error: structured arrays"));
  EXPECT_THAT(error(npyBytes("{'descr': '<f4', 'fortran_order': Maybe, "
                             "'shape': (2,)}",
                             8)),
              StartsWith("m.npy: error: malformed .npy header: expected True "
                         "or False"));
  // Version 2's 4-byte header length, written by hand; double quotes.
  absl::StatusOr<NpyArray> ok = parseNpy(
      npyBytes("{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": "
               "(1, 2)}",
               8, 2),
      "m.npy");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_THAT(ok->shape, ElementsAre(1, 2));
  // A scalar is an array, but not a data set.
  absl::StatusOr<NpyArray> scalar = parseNpy(
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8),
      "s.npy");
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  EXPECT_EQ(scalar->count(), 1);
  absl::StatusOr<Dataset> d =
      datasetFromArrays(*scalar, *scalar, "s.npy", /*valueTargets=*/true);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(std::string(d.status().message()),
              StartsWith("s.npy: error: x is a scalar"));
}

TEST_F(NumpyCsvTest, NpyRefusesDirectoriesAndMissingFiles) {
  absl::StatusOr<NpyArray> a = readNpy(dir_.string());
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(std::string(a.status().message()),
            dir_.string() +
                ": error: NumPy file is a directory, expected a regular file");
  a = readNpy(path("missing.npy"));
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(
      std::string(a.status().message()),
      StartsWith(path("missing.npy") + ": error: cannot open NumPy file"));
}

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

TEST_F(NumpyCsvTest, ArraysBecomeDatasets) {
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

  // int32 images [N, H, W, C] become floats; value targets [N, 2].
  d = datasetFromArrays(array(T::I32, {1, 1, 1, 2}, {-3, 9}),
                        array(T::F32, {1, 2}, {0.25, -8}), "w", true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->channels, 2);
  EXPECT_THAT(d->images, ElementsAre(-3.0f, 9.0f));
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

TEST_F(NumpyCsvTest, ArrayErrors) {
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
  EXPECT_EQ(error(x, array(T::I64, {2}, {0, -1}), false),
            "f.npz: error: y_train[1] is -1; class labels must be >= 0");
  EXPECT_EQ(error(x, array(T::I64, {2}, {0, 4294967296.0}), false),
            "f.npz: error: y_train[1] is 4294967296; class labels must be "
            "below 2^31");
  EXPECT_EQ(error(x, array(T::I64, {3}, {0, 1, 2}), false),
            "f.npz: error: x_train has 2 examples, y_train has 3");
  EXPECT_THAT(error(x, array(T::I64, {2, 3}, {0, 1, 0, 0, 0, 1}), false),
              StartsWith("f.npz: error: y_train has shape (2, 3); class "
                         "labels are [N] or [N, 1]"));
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

TEST_F(NumpyCsvTest, NpzKerasLayoutStoredAndCompressed) {
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

TEST_F(NumpyCsvTest, NpzXYRegressionWithoutTestSet) {
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

  // The same file with class labels: y is not one label per example.
  s = loadNumpy(path("reg.npz"), false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string(s.status().message()),
            path("reg.npz") + ": error: y has shape (3, 2); class labels are "
                              "[N] or [N, 1] (one-hot labels: "
                              "y.argmax(axis=1); for regression set values: "
                              "true in the loss)");
}

TEST_F(NumpyCsvTest, NpzMissingKeysAndMismatchedParts) {
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

TEST_F(NumpyCsvTest, NpzCorruptArchives) {
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
  std::string stored = read("s.npz");
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
  std::string compressed = read("c.npz");
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

// --- CSV --------------------------------------------------------------------

TEST_F(NumpyCsvTest, CsvIntegerClassesAndFeatureOrder) {
  std::vector<std::string> names;
  Dataset d = csv("a,b,y\n1,2.5,3\n-4,5e-1,0\n", classes(), &names);
  EXPECT_EQ(d.height, 1);
  EXPECT_EQ(d.width, 1);
  EXPECT_EQ(d.channels, 2);
  EXPECT_THAT(d.images, ElementsAre(1.0f, 2.5f, -4.0f, 0.5f));
  EXPECT_THAT(d.labels, ElementsAre(3, 0));
  EXPECT_TRUE(names.empty());
  EXPECT_TRUE(d.targets.empty());
  EXPECT_EQ(d.targetWidth, 0);

  CsvOptions o = classes();
  o.features = {"b", "a"};
  d = csv("a,b,y,ignored\n1,2,3,x\n4,5,6,\n", o);
  EXPECT_EQ(d.channels, 2);
  EXPECT_THAT(d.images, ElementsAre(2, 1, 5, 4));
  EXPECT_THAT(d.labels, ElementsAre(3, 6));
}

TEST_F(NumpyCsvTest, CsvQuotingCrlfBomAndBlankLines) {
  std::vector<std::string> names;
  Dataset d = csv("\xEF\xBB\xBF\"x,1\",\"y\"\r\n"
                  "\"1.5\",\"say \"\"hi\"\"\r\nthere\"\r\n"
                  "\r\n"
                  "  2 ,plain\r\n"
                  "\n"
                  "3,\"a,b\"",
                  classes(), &names);
  EXPECT_EQ(d.channels, 1);
  EXPECT_THAT(d.images, ElementsAre(1.5f, 2.0f, 3.0f));
  EXPECT_THAT(names, ElementsAre("a,b", "plain", "say \"hi\"\r\nthere"));
  EXPECT_THAT(d.labels, ElementsAre(2, 1, 0));

  // Lines count the line ends inside quotes: the bad cell is on line 6.
  std::string message =
      csvError("x,y\n1,\"multi\nline\"\n\n2,a\nbad,b\n", classes());
  EXPECT_EQ(message, path("d.csv") + ":6:1: error: column 'x': 'bad' is not "
                                     "a number");
  EXPECT_EQ(csvError("x,y\n1,\"open\n2,a\n", classes()),
            path("d.csv") + ":2:2: error: a quoted field is not closed "
                            "before the end of the file");
  EXPECT_THAT(csvError("x,y\n1,\"a\"b\n", classes()),
              StartsWith(path("d.csv") + ":2:2: error: 'b' after the closing "
                                         "quote of a field"));
}

TEST_F(NumpyCsvTest, CsvStringClassesSortedAndTestFileMapping) {
  std::vector<std::string> names;
  Dataset d = csv("f,species\n1,zebra\n2,ant\n3,moose\n4,ant\n",
                  classes("species"), &names);
  EXPECT_THAT(names, ElementsAre("ant", "moose", "zebra"));
  EXPECT_THAT(d.labels, ElementsAre(2, 0, 1, 0));

  // A test file keeps the training file's indices, even with one class.
  std::vector<std::string> test = names;
  d = csv("f,species\n1,moose\n", classes("species"), &test);
  EXPECT_THAT(d.labels, ElementsAre(1));
  EXPECT_EQ(test, names);
  EXPECT_EQ(csvError("f,species\n1,moose\n2,cat\n", classes("species"), names),
            path("d.csv") + ":3:2: error: class 'cat' is not one of the "
                            "training file's classes");
  // Mixed integers and strings are strings.
  names.clear();
  d = csv("f,y\n1,10\n2,9\n3,x\n", classes(), &names);
  EXPECT_THAT(names, ElementsAre("10", "9", "x"));
  EXPECT_THAT(d.labels, ElementsAre(0, 1, 2));
  // A test file whose training file had integer labels: a string class is
  // an error, not a mapping of its own.
  CsvOptions integers = classes();
  integers.integerLabels = true;
  d = csv("f,y\n1,3\n2,0\n", integers);
  EXPECT_THAT(d.labels, ElementsAre(3, 0));
  EXPECT_EQ(csvError("f,y\n1,3\n2,cat\n", integers),
            path("d.csv") + ":3:2: error: class 'cat' is not an integer, as "
                            "the training file's class labels are");
}

TEST_F(NumpyCsvTest, CsvRegressionWithTwoTargets) {
  CsvOptions o;
  o.targets = {"t2", "t1"};
  o.valueTargets = true;
  Dataset d = csv("t1,a,t2,b\n1,2,3,4\n-1.5,0,1e3,+7\n", o);
  EXPECT_EQ(d.channels, 2);
  EXPECT_THAT(d.images, ElementsAre(2, 4, 0, 7));
  EXPECT_EQ(d.targetWidth, 2);
  EXPECT_THAT(d.targets, ElementsAre(3, 1, 1000, -1.5f));
  EXPECT_THAT(d.labels, ElementsAre(0, 0));
  EXPECT_EQ(csvError("t1,a,t2,b\n1,2,x,4\n", o),
            path("d.csv") + ":2:3: error: column 't2': 'x' is not a number");
}

TEST_F(NumpyCsvTest, CsvCellErrors) {
  CsvOptions o = classes();
  EXPECT_EQ(csvError("a,b,y\n1,2,0\n3,abc,1\n", o),
            path("d.csv") + ":3:2: error: column 'b': 'abc' is not a number");
  for (const char *cell : {"nan", "NaN", "inf", "-inf", "1e999", "", "0x10",
                           "1,5", "--1", "+-1"}) {
    SCOPED_TRACE(cell);
    std::string quoted = std::string("\"") + cell + "\"";
    EXPECT_EQ(csvError("a,y\n1,0\n" + quoted + ",1\n", o),
              path("d.csv") + ":3:1: error: column 'a': '" + cell +
                  "' is not a number");
  }
  // Tiny numbers underflow to zero instead of failing.
  Dataset d = csv("a,y\n1e-400,0\n", o);
  EXPECT_THAT(d.images, ElementsAre(0.0f));

  EXPECT_EQ(csvError("a,b,y\n1,2,0\n3,4\n", o),
            path("d.csv") + ":3: error: 2 fields, the header has 3");
  EXPECT_EQ(csvError("a,b,y\n1,2,0,5,6\n", o),
            path("d.csv") + ":2: error: 5 fields, the header has 3");
  EXPECT_EQ(csvError("a,y\n1,-1\n", o),
            path("d.csv") + ":2:2: error: column 'y': class label -1 is "
                            "negative");
  EXPECT_EQ(csvError("a,y\n1,0\n2, \n", o),
            path("d.csv") + ":3:2: error: column 'y': empty class label");
}

TEST_F(NumpyCsvTest, CsvColumnAndFileErrors) {
  EXPECT_EQ(csvError("a,b,label\n1,2,0\n", classes("y")),
            path("d.csv") + ": error: no target column 'y'; the header has "
                            "'a', 'b', 'label'");
  CsvOptions o = classes();
  o.features = {"a", "c"};
  EXPECT_EQ(csvError("a,b,y\n1,2,0\n", o),
            path("d.csv") + ": error: no feature column 'c'; the header has "
                            "'a', 'b', 'y'");
  o.features = {"a", "y"};
  EXPECT_EQ(csvError("a,b,y\n1,2,0\n", o),
            path("d.csv") + ": error: column 'y' is both a feature and a "
                            "target");
  CsvOptions two;
  two.targets = {"a", "b"};
  EXPECT_THAT(csvError("a,b,y\n1,2,0\n", two),
              StartsWith(path("d.csv") + ": error: class labels come from "
                                         "one column, 2 target columns"));
  EXPECT_EQ(csvError("y\n1\n", classes()),
            path("d.csv") + ": error: no feature columns: the header has "
                            "only the target columns 'y'");
  EXPECT_EQ(csvError("a,b,a\n1,2,3\n", classes()),
            path("d.csv") + ":1:3: error: column 'a' appears twice in the "
                            "header (columns 1 and 3)");
  EXPECT_EQ(csvError("", classes()),
            path("d.csv") + ": error: the file is empty; expected a header "
                            "row of column names");
  EXPECT_EQ(csvError("\n\r\n\n", classes()),
            path("d.csv") + ": error: the file is empty; expected a header "
                            "row of column names");
  EXPECT_EQ(csvError("a,y\r\n", classes()),
            path("d.csv") + ":1: error: no data rows after the header");

  std::vector<std::string> names;
  absl::StatusOr<Dataset> d = readCsv(dir_.string(), classes(), &names);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(std::string(d.status().message()),
            dir_.string() +
                ": error: CSV file is a directory, expected a regular file");
}

} // namespace
} // namespace gradc
