//===- ImageFolderTest.cpp - Keras image folders --------------------------===//
//
// Image folders written with ImageMagick's `convert` (each image a solid
// grey level or known pixels, so the order and the resize show in the
// pixels): Keras's class and file order, the training folder's classes for
// a test folder, resizing, channel counts and every folder error, with the
// first bad image reported whatever the thread count. Tests that need
// `convert` are skipped when it is missing.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/ImageFolder.h"
#include "runtime/data/ImageResize.h"

#include "tests/unit/ImageTestFiles.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace gradc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ImageFolderTest : public ImageFilesTest {};

ImageFolderOptions greyInput(int64_t h, int64_t w, bool resize = false) {
  ImageFolderOptions o;
  o.height = h;
  o.width = w;
  o.channels = 1;
  o.resize = resize;
  return o;
}

TEST_F(ImageFolderTest, FolderFollowsKerasOrder) {
  REQUIRE_CONVERT();
  // Each image is a solid grey level, so the order shows in the pixels.
  solid("data/cat/a.png", 2, 2, 30);
  solid("data/cat/B.PNG", 2, 2, 20); // 'B' sorts before 'a'
  solid("data/ant/y.png", 2, 2, 10);
  solid("data/ant/sub/z.jpeg", 2, 2, 11); // nested: after the folder's files
  solid("data/dog/x.jpg", 2, 2, 40);
  write("data/cat/notes.txt", "ignored");
  write("data/cat/.hidden.png", "ignored, not even decoded");
  write("data/.git/HEAD.png", "a hidden folder is not a class");
  write("data/readme.md", "files at the top are ignored");

  std::vector<std::string> classes;
  auto data = loadImageFolder(path("data"), greyInput(2, 2), &classes);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(classes, (std::vector<std::string>{"ant", "cat", "dog"}));
  EXPECT_EQ(data->height, 2);
  EXPECT_EQ(data->width, 2);
  EXPECT_EQ(data->channels, 1);
  EXPECT_EQ(data->labels, (std::vector<int32_t>{0, 0, 1, 1, 2}));
  ASSERT_EQ(data->pixels.size(), 5u * 4);
  std::vector<int> want = {10, 11, 20, 30, 40};
  for (size_t i = 0; i < want.size(); ++i)
    for (int p = 0; p < 4; ++p)
      EXPECT_NEAR(data->pixels[i * 4 + p], want[i], 1) << "example " << i;
}

TEST_F(ImageFolderTest, TestFolderUsesTheTrainingClasses) {
  REQUIRE_CONVERT();
  solid("test/dog/1.png", 2, 2, 40);
  solid("test/cat/1.png", 2, 2, 30);
  std::vector<std::string> classes = {"ant", "cat", "dog"};
  auto data = loadImageFolder(path("test"), greyInput(2, 2), &classes);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->labels, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(data->pixels[0], 30);
  EXPECT_EQ(classes.size(), 3u);

  solid("test/eel/1.png", 2, 2, 50);
  auto bad = loadImageFolder(path("test"), greyInput(2, 2), &classes);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            path("test") + ": error: class folder 'eel' is not one of the "
                           "training folder's classes (ant, cat, dog)");
}

TEST_F(ImageFolderTest, FolderResizesBilinearly) {
  REQUIRE_CONVERT();
  convertImage("data/a/1.png", 2, 2, "gray", {0, 100, 200, 40});
  std::vector<std::string> classes;
  auto data =
      loadImageFolder(path("data"), greyInput(4, 4, /*resize=*/true), &classes);
  ASSERT_TRUE(data.ok()) << data.status();
  auto want = resizeBilinear(makeImage(2, 2, 1, {0, 100, 200, 40}), 4, 4);
  EXPECT_EQ(data->pixels, want->pixels);

  auto off = loadImageFolder(path("data"), greyInput(4, 4), &classes);
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.status().message(),
            path("data/a/1.png") + ": error: image is 2x2, the model input is "
                                   "4x4 (resizing is off)");
}

TEST_F(ImageFolderTest, FolderChannelsMustMatch) {
  REQUIRE_CONVERT();
  convertImage("rgba/a/1.png", 2, 2, "rgba", iota(16, 0, 9), "", "PNG32:");
  ImageFolderOptions rgb;
  rgb.height = 2;
  rgb.width = 2;
  rgb.channels = 3;
  auto data = loadImageFolder(path("rgba"), rgb, nullptr);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().message(),
            path("rgba/a/1.png") +
                ": error: image has 4 channels (RGBA), the model input has 3");

  solid("grey/a/1.png", 2, 2, 7);
  data = loadImageFolder(path("grey"), rgb, nullptr);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().message(),
            path("grey/a/1.png") +
                ": error: image has 1 channel (grey), the model input has 3");
  data = loadImageFolder(path("grey"), greyInput(2, 2), nullptr);
  EXPECT_TRUE(data.ok()) << data.status();
}

TEST_F(ImageFolderTest, FolderErrors) {
  std::vector<std::string> classes;
  auto missing = loadImageFolder(path("nope"), greyInput(2, 2), &classes);
  EXPECT_EQ(missing.status().message(),
            path("nope") + ": error: no such image folder");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);

  std::string file = write("file.png", "x");
  EXPECT_THAT(
      std::string(
          loadImageFolder(file, greyInput(2, 2), &classes).status().message()),
      StartsWith(file + ": error: is not a directory"));

  fs::create_directories(path("flat"));
  write("flat/1.png", "x");
  EXPECT_EQ(loadImageFolder(path("flat"), greyInput(2, 2), &classes)
                .status()
                .message(),
            path("flat") + ": error: no class subfolders (an image folder "
                           "holds one subfolder of images per class; move "
                           "its images into them)");

  write("empty/a/notes.txt", "no images");
  EXPECT_EQ(loadImageFolder(path("empty"), greyInput(2, 2), &classes)
                .status()
                .message(),
            path("empty/a") +
                ": error: class folder holds no PNG or JPEG images");

  // A FIFO named like an image is refused, not waited on.
  fs::create_directories(path("fifo/a"));
  ASSERT_EQ(::mkfifo(path("fifo/a/1.png").c_str(), 0600), 0);
  EXPECT_EQ(loadImageFolder(path("fifo"), greyInput(2, 2), &classes)
                .status()
                .message(),
            path("fifo/a/1.png") +
                ": error: image is a FIFO, expected a regular file");

  write("gif/a/1.gif", "GIF89a");
  EXPECT_THAT(
      std::string(loadImageFolder(path("gif"), greyInput(2, 2), &classes)
                      .status()
                      .message()),
      StartsWith(path("gif/a/1.gif") +
                 ": error: BMP and GIF images are not supported"));

  ImageFolderOptions two = greyInput(2, 2);
  two.channels = 2;
  EXPECT_THAT(
      std::string(
          loadImageFolder(path("gif"), two, &classes).status().message()),
      HasSubstr("is not an image size an image folder can fill"));
}

TEST_F(ImageFolderTest, FolderReportsTheFirstBadImage) {
  REQUIRE_CONVERT();
  // Enough files for every decoding thread; two bad ones.
  for (int i = 0; i < 24; ++i)
    solid("data/a/" + std::to_string(100 + i) + ".png", 2, 2, uint8_t(i));
  write("data/a/110.png", "broken");
  write("data/a/120.png", "broken too");
  auto data = silently(
      [&] { return loadImageFolder(path("data"), greyInput(2, 2), nullptr); });
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().message(),
            path("data/a/110.png") + ": error: not a PNG or JPEG image");

  fs::remove(path("data/a/110.png"));
  fs::remove(path("data/a/120.png"));
  data = loadImageFolder(path("data"), greyInput(2, 2), nullptr);
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->size(), 22);
  std::vector<uint8_t> firsts;
  for (int64_t i = 0; i < data->size(); ++i)
    firsts.push_back(data->pixels[i * 4]);
  std::vector<uint8_t> want;
  for (int i = 0; i < 24; ++i)
    if (i != 10 && i != 20)
      want.push_back(uint8_t(i));
  EXPECT_EQ(firsts, want);
}

} // namespace
} // namespace gradc
