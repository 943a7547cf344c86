//===- CifarTest.cpp - the CIFAR-10 and CIFAR-100 reader ------------------===//
//
// CIFAR binary files written byte by byte into a temporary directory:
// CIFAR-10 batches with their class names, CIFAR-100 with its fine labels,
// and every error (record sizes, labels out of range, class names, a folder
// holding both or neither).
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Cifar.h"

#include "tests/unit/TempDirTest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gradc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CifarTest : public TempDirTest {};

/// A CIFAR record: `labels`, then the R, G and B planes of image `seed`:
/// plane c, position p holds (seed * 31 + c * 7 + p) % 256.
std::string cifarRecord(std::vector<uint8_t> labels, int seed) {
  std::string bytes(labels.begin(), labels.end());
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 1024; ++p)
      bytes += char((seed * 31 + c * 7 + p) % 256);
  return bytes;
}

/// Checks example `i` of `d` against cifarRecord's image `seed`, in HWC.
void expectCifarImage(const Dataset &d, int64_t i, int seed) {
  ASSERT_LT(i, d.size());
  const uint8_t *px = d.pixels.data() + i * 3072;
  int mismatches = 0;
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x)
      for (int c = 0; c < 3; ++c)
        if (px[(y * 32 + x) * 3 + c] != (seed * 31 + c * 7 + y * 32 + x) % 256)
          ++mismatches;
  EXPECT_EQ(mismatches, 0) << "example " << i;
}

TEST_F(CifarTest, Cifar10) {
  write("c10/data_batch_1.bin", cifarRecord({3}, 1) + cifarRecord({0}, 2));
  write("c10/data_batch_3.bin", cifarRecord({9}, 3)); // batch 2 missing
  write("c10/test_batch.bin", cifarRecord({5}, 4));
  write("c10/batches.meta.txt", "airplane\nautomobile\nbird\ncat\ndeer\ndog\n"
                                "frog\nhorse\nship\ntruck\n\n");
  auto splits = loadCifar(path("c10"));
  ASSERT_TRUE(splits.ok()) << splits.status();
  const Dataset &train = splits->train;
  EXPECT_EQ(train.height, 32);
  EXPECT_EQ(train.width, 32);
  EXPECT_EQ(train.channels, 3);
  EXPECT_EQ(train.labels, (std::vector<int32_t>{3, 0, 9}));
  expectCifarImage(train, 0, 1);
  expectCifarImage(train, 1, 2);
  expectCifarImage(train, 2, 3);
  EXPECT_EQ(splits->test.labels, (std::vector<int32_t>{5}));
  expectCifarImage(splits->test, 0, 4);
  EXPECT_EQ(splits->validation.size(), 0);
  ASSERT_EQ(splits->classNames.size(), 10u);
  EXPECT_EQ(splits->classNames[0], "airplane");
  EXPECT_EQ(splits->classNames[9], "truck");
  // The first pixel is R, G, B of position 0.
  EXPECT_EQ(train.pixels[0], 31);
  EXPECT_EQ(train.pixels[1], 38);
  EXPECT_EQ(train.pixels[2], 45);
  EXPECT_EQ(train.pixels[3], 32);
}

TEST_F(CifarTest, Cifar100UsesTheFineLabel) {
  write("c100/train.bin", cifarRecord({4, 99}, 7) + cifarRecord({19, 0}, 8));
  std::string names;
  for (int i = 0; i < 100; ++i)
    names += "class" + std::to_string(i) + "\r\n";
  write("c100/fine_label_names.txt", names);
  auto splits = loadCifar(path("c100"));
  ASSERT_TRUE(splits.ok()) << splits.status();
  EXPECT_EQ(splits->train.labels, (std::vector<int32_t>{99, 0}));
  expectCifarImage(splits->train, 0, 7);
  expectCifarImage(splits->train, 1, 8);
  EXPECT_EQ(splits->test.size(), 0); // no test.bin
  EXPECT_EQ(splits->test.channels, 3);
  ASSERT_EQ(splits->classNames.size(), 100u);
  EXPECT_EQ(splits->classNames[42], "class42");
}

TEST_F(CifarTest, CifarErrors) {
  std::string batch =
      write("size/data_batch_1.bin", cifarRecord({1}, 0) + "xx");
  EXPECT_EQ(loadCifar(path("size")).status().message(),
            batch + ": error: 3075 bytes is not a whole number of 3073-byte "
                    "CIFAR-10 records");
  std::string train = write("size100/train.bin", cifarRecord({1, 1}, 0) + "x");
  EXPECT_EQ(loadCifar(path("size100")).status().message(),
            train + ": error: 3075 bytes is not a whole number of 3074-byte "
                    "CIFAR-100 records");
  std::string empty = write("empty/data_batch_1.bin", "");
  EXPECT_THAT(std::string(loadCifar(path("empty")).status().message()),
              StartsWith(empty + ": error: empty file"));

  std::string label = write("label/data_batch_1.bin",
                            cifarRecord({1}, 0) + cifarRecord({10}, 1));
  EXPECT_EQ(loadCifar(path("label")).status().message(),
            label + ": error: record 1 (byte 3073) has label 10, CIFAR-10 "
                    "labels are 0..9");
  std::string test = write("label/test_batch.bin", cifarRecord({200}, 0));
  fs::remove(label);
  write("label/data_batch_1.bin", cifarRecord({1}, 0));
  EXPECT_EQ(loadCifar(path("label")).status().message(),
            test + ": error: record 0 (byte 0) has label 200, CIFAR-10 "
                   "labels are 0..9");
  std::string fine = write("fine/train.bin", cifarRecord({1, 100}, 0));
  EXPECT_EQ(loadCifar(path("fine")).status().message(),
            fine + ": error: record 0 (byte 0) has label 100, CIFAR-100 "
                   "labels are 0..99");
  std::string coarse = write("coarse/train.bin", cifarRecord({20, 1}, 0));
  EXPECT_EQ(loadCifar(path("coarse")).status().message(),
            coarse + ": error: record 0 (byte 0) has coarse label 20, "
                     "CIFAR-100 coarse labels are 0..19");

  std::string meta = write("meta/batches.meta.txt", "cat\ndog\n");
  write("meta/data_batch_1.bin", cifarRecord({1}, 0));
  EXPECT_EQ(loadCifar(path("meta")).status().message(),
            meta + ": error: 2 class names, CIFAR-10 has 10 classes");

  write("both/data_batch_1.bin", cifarRecord({1}, 0));
  write("both/train.bin", cifarRecord({1, 1}, 0));
  EXPECT_THAT(std::string(loadCifar(path("both")).status().message()),
              HasSubstr("holds both CIFAR-10"));

  write("parent/cifar-10-batches-bin/data_batch_1.bin", cifarRecord({1}, 0));
  write("parent/data_batch_2.bin", cifarRecord({1}, 0));
  EXPECT_EQ(loadCifar(path("parent")).status().message(),
            path("parent") +
                ": error: no CIFAR-10 (data_batch_1.bin) or "
                "CIFAR-100 (train.bin) binary files (did you "
                "mean " +
                path("parent/cifar-10-batches-bin") + "?)");

  fs::create_directories(path("dir/data_batch_1.bin"));
  EXPECT_THAT(std::string(loadCifar(path("dir")).status().message()),
              HasSubstr("is a directory"));
  EXPECT_EQ(loadCifar(path("missing")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(loadCifar(batch).status().message()),
              HasSubstr("is not a directory"));
}

} // namespace
} // namespace gradc
