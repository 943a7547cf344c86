//===- NpyTest.cpp - the .npy reader and writer ---------------------------===//
//
// .npy files are written by Debian's python3 with numpy (np.save,
// np.lib.format.write_array) into a temporary directory and read back value
// by value; broken ones (Fortran order, big-endian and bool dtypes,
// truncated data, headers that claim huge shapes, malformed header dicts)
// must give one-line errors naming the file. Arrays written by writeNpy
// read back exactly, through readNpy and through numpy.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/NpyFormat.h"
#include "runtime/data/Numpy.h"

#include "tests/unit/TempDirTest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
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

// --- writeNpy ---------------------------------------------------------------

/// The bytes of `v` in the host's order (little-endian, as .npy data).
template <typename T> std::vector<uint8_t> bytesOf(const std::vector<T> &v) {
  std::vector<uint8_t> bytes(v.size() * sizeof(T));
  if (!v.empty())
    std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

TEST_F(NpyTest, WrittenArraysReadBackExactly) {
  using T = NpyArray::Type;
  struct Case {
    std::string name;
    T type;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<Case> cases = {
      {"f_scalar.npy", T::F32, {}, bytesOf<float>({-2.5f})},
      {"f_vector.npy",
       T::F32,
       {5},
       bytesOf<float>({0, 1.5f, -0.0f, 3e38f, 1e-40f})},
      {"f_matrix.npy", T::F32, {2, 3}, bytesOf<float>({1, 2, 3, 4, 5, 6})},
      {"f_cube.npy",
       T::F32,
       {2, 1, 3},
       bytesOf<float>({.5f, .25f, 8, 9, -1, 7})},
      {"f_empty.npy", T::F32, {0, 4}, {}},
      {"i_vector.npy", T::I32, {1}, bytesOf<int32_t>({-7})},
      {"i_matrix.npy",
       T::I32,
       {3, 2},
       bytesOf<int32_t>({0, -1, 2147483647, -2147483647 - 1, 5, 6})},
      {"i_rank4.npy", T::I32, {1, 2, 2, 1}, bytesOf<int32_t>({1, 2, 3, 4})},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    NpyArray a;
    a.type = c.type;
    a.shape = c.shape;
    a.bytes = c.bytes;
    absl::Status written = writeNpy(path(c.name), a);
    ASSERT_TRUE(written.ok()) << written;
    std::string file = read(path(c.name));
    // np.save's layout: format 1.0, the data at a multiple of 64 bytes.
    ASSERT_GE(file.size(), 10u);
    EXPECT_EQ(file[6], 1);
    EXPECT_EQ((file.size() - c.bytes.size()) % 64, 0u);
    EXPECT_EQ(file, encodeNpy(a));
    absl::StatusOr<NpyArray> back = readNpy(path(c.name));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->type, c.type);
    EXPECT_EQ(back->shape, c.shape);
    EXPECT_EQ(back->bytes, c.bytes);
  }
  // numpy reads them as the same arrays.
  python(R"(
import math
assert np.load('f_scalar.npy').dtype == np.float32
assert np.load('f_scalar.npy').shape == () and np.load('f_scalar.npy') == -2.5
v = np.load('f_vector.npy')
assert v.shape == (5,) and v[1] == 1.5 and math.copysign(1, v[2]) == -1
assert np.load('f_matrix.npy').tolist() == [[1, 2, 3], [4, 5, 6]]
assert np.load('f_cube.npy').shape == (2, 1, 3)
assert np.load('f_empty.npy').shape == (0, 4)
m = np.load('i_matrix.npy')
assert m.dtype == np.int32 and m.shape == (3, 2)
assert m.tolist() == [[0, -1], [2**31 - 1, -2**31], [5, 6]]
assert np.load('i_rank4.npy').shape == (1, 2, 2, 1)
)");
}

TEST_F(NpyTest, WrittenFilesAreWhatNpSaveWrites) {
  // The probabilities of `gradc predict -o`: [examples, classes] of float32.
  NpyArray a;
  a.type = NpyArray::Type::F32;
  a.shape = {3, 10};
  a.bytes.assign(3 * 10 * 4, 0);
  std::string bytes = encodeNpy(a);
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 10), }";
  // The header is padded with spaces to 118 bytes (0x76), so that the
  // data start at byte 128, and ends with a newline, as np.save does.
  EXPECT_EQ(bytes.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(bytes.substr(10, 118), dict + std::string(57, ' ') + "\n");
  EXPECT_EQ(bytes.size(), 128u + 120u);

  // Byte for byte what np.save writes, for both types and a few shapes.
  python(R"(
np.save('np_f.npy', np.zeros((3, 10), np.float32))
np.save('np_i.npy', np.arange(5, dtype=np.int32))
np.save('np_s.npy', np.array(7, np.int32))
np.save('np_4.npy', np.ones((1, 2, 3, 1), np.float32))
)");
  EXPECT_EQ(bytes, read(path("np_f.npy")));
  a.type = NpyArray::Type::I32;
  a.shape = {5};
  a.bytes = bytesOf<int32_t>({0, 1, 2, 3, 4});
  EXPECT_EQ(encodeNpy(a), read(path("np_i.npy")));
  a.shape = {};
  a.bytes = bytesOf<int32_t>({7});
  EXPECT_EQ(encodeNpy(a), read(path("np_s.npy")));
  a.type = NpyArray::Type::F32;
  a.shape = {1, 2, 3, 1};
  a.bytes = bytesOf<float>(std::vector<float>(6, 1.0f));
  EXPECT_EQ(encodeNpy(a), read(path("np_4.npy")));
}

TEST_F(NpyTest, WriteRefusesArraysThatDoNotMatchTheirShape) {
  NpyArray a;
  a.type = NpyArray::Type::I32;
  a.shape = {2, 3};
  a.bytes.assign(20, 0);
  absl::Status s = writeNpy(path("bad.npy"), a, "probabilities");
  EXPECT_EQ(std::string(s.message()),
            path("bad.npy") + ": error: cannot write probabilities: the shape "
                              "(2, 3) of int32 takes 24 bytes, the array "
                              "holds 20");
  EXPECT_FALSE(std::filesystem::exists(path("bad.npy")));

  a.shape.assign(65, 1);
  a.bytes.assign(4, 0);
  s = writeNpy(path("deep.npy"), a);
  EXPECT_THAT(std::string(s.message()),
              StartsWith(path("deep.npy") + ": error: cannot write NumPy "
                                            "file: the array has 65 "
                                            "dimensions"));
}

} // namespace
} // namespace gradc
