//===- NpyTest.cpp - the .npy reader --------------------------------------===//
//
// .npy files are written by Debian's python3 with numpy (np.save,
// np.lib.format.write_array) into a temporary directory and read back value
// by value; broken ones (Fortran order, big-endian and bool dtypes,
// truncated data, headers that claim huge shapes, malformed header dicts)
// must give one-line errors naming the file.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/NpyFormat.h"
#include "runtime/data/Numpy.h"

#include "tests/unit/TempDirTest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <cmath>
#include <string>
#include <vector>

namespace gradc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class NpyTest : public TempDirTest {};

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

TEST_F(NpyTest, NpyReadsEveryAcceptedTypeExactly) {
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

TEST_F(NpyTest, NpyReadsFormatVersions2And3) {
  python(R"(
a = np.array([[1.5, 2.5]], dtype=np.float32)
for v in [(2, 0), (3, 0)]:
    with open('v%d.npy' % v[0], 'wb') as f:
        np.lib.format.write_array(f, a, version=v)
)");
  for (const char *name : {"v2.npy", "v3.npy"}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(read(path(name))[6], name[1] - '0');
    absl::StatusOr<NpyArray> a = readNpy(path(name));
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_THAT(a->shape, ElementsAre(1, 2));
    EXPECT_EQ(a->at(0), 1.5);
    EXPECT_EQ(a->at(1), 2.5);
  }
}

TEST_F(NpyTest, NpyRefusesFortranOrderBigEndianAndBool) {
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

TEST_F(NpyTest, NpyHeaderThatLiesAboutTheDataSize) {
  python("np.save('a.npy', np.zeros((4, 4), dtype=np.float32))");
  std::string good = read(path("a.npy"));
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

TEST_F(NpyTest, NpyMalformedHeaders) {
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

TEST_F(NpyTest, NpyRefusesDirectoriesAndMissingFiles) {
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

} // namespace
} // namespace gradc
