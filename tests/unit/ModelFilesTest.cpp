//===- ModelFilesTest.cpp - model files on disk ---------------------------===//
//
// Binary .pb files load like text ones (an example round-trips; errors name
// the file without a line; garbage is refused with where parsing stopped);
// a missing file, a FIFO, a device or a directory is refused without
// blocking; a text file keeps the locations of its parts.
//
//===----------------------------------------------------------------------===//

#include "ExampleFiles.h"
#include "ModelCheckerHelpers.h"

#include "frontend/Importer.h"
#include "ir/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "gtest/gtest.h"

#include <cstdio>
#include <fstream>
#include <sys/stat.h>

using namespace gradc;
using namespace gradc::test;

namespace {

//===----------------------------------------------------------------------===//
// Binary files
//===----------------------------------------------------------------------===//

std::string tempPath(const std::string &name) {
  return testing::TempDir() + "/gradc_checker_" + name;
}

TEST(CheckerBinary, RoundTripsAnExample) {
  Checked text = check(readFile(examplePath("lenet.pbtxt")));
  ASSERT_TRUE(text.model.ok());
  std::string path = tempPath("lenet.pb");
  {
    std::ofstream out(path, std::ios::binary);
    ASSERT_TRUE(text.file->model.SerializeToOstream(&out));
  }
  auto file = loadModelFile(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ((*file)->path, path);
  EXPECT_EQ((*file)->model.SerializeAsString(),
            text.file->model.SerializeAsString());
  auto binary = checkModel(**file);
  ASSERT_TRUE(binary.ok()) << binary.status().message();
  ASSERT_EQ(binary->layers.size(), text.model->layers.size());
  for (size_t i = 0; i < binary->layers.size(); ++i)
    EXPECT_EQ(binary->layers[i].shape, text.model->layers[i].shape);
  ASSERT_EQ(binary->params.size(), text.model->params.size());
  for (size_t i = 0; i < binary->params.size(); ++i)
    EXPECT_EQ(binary->params[i].shape, text.model->params[i].shape);

  mlir::MLIRContext ctx;
  ctx.loadDialect<gradc::nn::NNDialect, mlir::func::FuncDialect>();
  auto module = importModelFile(ctx, path, 2);
  ASSERT_TRUE(module.ok()) << module.status().message();
  EXPECT_TRUE(mlir::succeeded(mlir::verify(**module)));
  std::remove(path.c_str());
}

TEST(CheckerBinary, ErrorsNameTheFileWithoutALine) {
  Checked text = check(
      model("layer { name: \"c\" conv2d { filters: 2 kernel_size: [99] } }\n"
            "layer { name: \"out\" dense { units: 0 activation: SOFTMAX } "
            "inputs: [\"image\"] }\n"));
  ASSERT_NE(text.file, nullptr);
  std::string path = tempPath("bad.pb");
  {
    std::ofstream out(path, std::ios::binary);
    ASSERT_TRUE(text.file->model.SerializeToOstream(&out));
  }
  auto file = loadModelFile(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  auto checked = checkModel(**file);
  ASSERT_FALSE(checked.ok());
  std::vector<std::string> errs = lines(checked.status().message());
  ASSERT_EQ(errs.size(), 2u) << checked.status().message();
  EXPECT_EQ(errs[0], path + ": error: layer 'c': expects window 99x99 "
                            "(dilation 1x1) to fit input 8x8 (padding "
                            "0,0,0,0)");
  EXPECT_EQ(errs[1].rfind(path + ": error: layer 'out': units must be in [1, ",
                          0),
            0u)
      << errs[1];
  std::remove(path.c_str());
}

TEST(CheckerBinary, GarbageIsRejected) {
  std::string path = tempPath("garbage.pb");
  {
    std::ofstream out(path, std::ios::binary);
    out << "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
  }
  auto file = loadModelFile(path);
  ASSERT_FALSE(file.ok());
  // Where parsing stopped: the first tag, a varint of 0xff bytes, never
  // ends.
  EXPECT_EQ(file.status().message(),
            path + ": error: not a binary gradc model (protobuf parsing "
                   "stopped at byte 11 of 11: the file ends inside a field, "
                   "truncated?)");
  std::remove(path.c_str());
}

TEST(CheckerFiles, MissingFile) {
  auto file = loadModelFile(tempPath("does_not_exist.pbtxt"));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(file.status().message(),
            tempPath("does_not_exist.pbtxt") +
                ": error: cannot open model file: No such file or directory");
}

TEST(CheckerFiles, OnlyRegularFilesAreRead) {
  // A FIFO without a writer, a device that never ends and a directory are
  // refused at once, without blocking or reading.
  std::string fifo = tempPath("model_fifo.pbtxt");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto f = loadModelFile(fifo);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            fifo + ": error: model file is a FIFO, expected a regular file");
  std::remove(fifo.c_str());
  auto zero = loadModelFile("/dev/zero");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(
      zero.status().message(),
      "/dev/zero: error: model file is a device, expected a regular file");
  auto dir = loadModelFile(testing::TempDir());
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("model file is a directory"),
            std::string::npos);
}

TEST(CheckerFiles, TextFileKeepsLocations) {
  auto file = loadModelFile(examplePath("fashion_mnist_cnn.pbtxt"));
  ASSERT_TRUE(file.ok()) << file.status().message();
  ASSERT_EQ((*file)->layerLocs.size(), 7u);
  EXPECT_EQ((*file)->inputLocs[0].line, 3);
  EXPECT_EQ((*file)->layerLocs[0].line, 4);
  EXPECT_EQ((*file)->layerLocs[6].line, 10);
  EXPECT_EQ((*file)->lossLoc.line, 11);
  EXPECT_EQ((*file)->optimizerLoc.line, 12);
  EXPECT_EQ((*file)->trainingLoc.line, 13);
  EXPECT_EQ((*file)->dataLoc.line, 14);
}

} // namespace
