//===- ImageDataTest.cpp - PNG/JPEG decoding, image folders and CIFAR -----===//
//
// Writes images with ImageMagick's `convert` from raw pixel bytes (so the
// expected pixels are known exactly: PNG is lossless, JPEG is compared
// within a tolerance) and CIFAR files byte by byte into a temporary
// directory, and checks the decoders, the bilinear resize against
// hand-computed values, Keras's folder conventions and every error,
// including truncated and corrupt files, which must fail with one line and
// print nothing. The image tests are skipped when `convert` is missing.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Cifar.h"
#include "runtime/data/ImageDecode.h"
#include "runtime/data/ImageFolder.h"
#include "runtime/data/ImageResize.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace gradc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

bool haveConvert() {
  static bool have = std::system("convert -version > /dev/null 2>&1") == 0;
  return have;
}

#define REQUIRE_CONVERT()                                                      \
  do {                                                                         \
    if (!haveConvert())                                                        \
      GTEST_SKIP() << "ImageMagick's convert is not installed";                \
  } while (0)

std::vector<uint8_t> iota(size_t n, int start, int step) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = uint8_t((start + int(i) * step) % 256);
  return v;
}

class ImageDataTest : public ::testing::Test {
protected:
  void SetUp() override {
    const ::testing::TestInfo *info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("gradc_image_") + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string &name) const {
    return (dir_ / name).string();
  }

  std::string write(const std::string &name, const std::string &bytes) {
    std::string p = path(name);
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    return p;
  }
  std::string write(const std::string &name,
                    const std::vector<uint8_t> &bytes) {
    return write(name, std::string(bytes.begin(), bytes.end()));
  }

  std::string read(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  /// Writes `pixels` (h x w, `layout` "gray", "rgb" or "rgba") as the image
  /// `name` with `convert`, `options` going before the output (a format
  /// prefix such as "PNG24:" belongs in `prefix`).
  std::string convertImage(const std::string &name, int h, int w,
                           const std::string &layout,
                           const std::vector<uint8_t> &pixels,
                           const std::string &options = "",
                           const std::string &prefix = "") {
    std::string raw = write(name + ".raw", pixels);
    std::string out = path(name);
    fs::create_directories(fs::path(out).parent_path());
    std::string command = "convert -size " + std::to_string(w) + "x" +
                          std::to_string(h) + " -depth 8 " + layout + ":'" +
                          raw + "' " + options + " " + prefix + "'" + out + "'";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    fs::remove(raw);
    return out;
  }

  /// A solid grey h x w PNG or JPEG (by the name's extension) of `value`.
  std::string solid(const std::string &name, int h, int w, uint8_t value) {
    return convertImage(name, h, w, "gray", std::vector<uint8_t>(h * w, value),
                        "-quality 90");
  }

  fs::path dir_;
};

void expectNear(const std::vector<uint8_t> &got,
                const std::vector<uint8_t> &want, int tolerance) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(int(got[i]), int(want[i]), tolerance) << "byte " << i;
}

/// Runs `f` and checks that it printed nothing to stderr.
template <typename F> auto silently(F f) {
  ::testing::internal::CaptureStderr();
  auto result = f();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  return result;
}

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

TEST_F(ImageDataTest, PngRgbIsExact) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> pixels = iota(3 * 4 * 3, 5, 7);
  auto image =
      decodeImage(convertImage("rgb.png", 3, 4, "rgb", pixels, "", "PNG24:"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->height, 3);
  EXPECT_EQ(image->width, 4);
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, pixels);
}

TEST_F(ImageDataTest, PngGreyIsExact) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> pixels = iota(2 * 5, 3, 25);
  auto image = decodeImage(convertImage("grey.png", 2, 5, "gray", pixels));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 1);
  EXPECT_EQ(image->height, 2);
  EXPECT_EQ(image->width, 5);
  EXPECT_EQ(image->pixels, pixels);
}

TEST_F(ImageDataTest, PngOneBitGreyBecomesBytes) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> pixels;
  for (int i = 0; i < 16; ++i)
    pixels.push_back(i % 3 == 0 ? 255 : 0);
  auto image = decodeImage(
      convertImage("bw.png", 2, 8, "gray", pixels, "-depth 1", "PNG:"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 1);
  EXPECT_EQ(image->pixels, pixels);
}

TEST_F(ImageDataTest, PngPaletteBecomesRgb) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> pixels = iota(2 * 3 * 3, 10, 13);
  auto image = decodeImage(
      convertImage("palette.png", 2, 3, "rgb", pixels, "", "PNG8:"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, pixels);
}

TEST_F(ImageDataTest, PngPaletteWithTransparencyHasAlpha) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> pixels = {255, 0, 0,   255, 0,   255, 0, 0,
                                 0,   0, 255, 255, 255, 0,   0, 255};
  auto image = decodeImage(
      convertImage("palette_t.png", 2, 2, "rgba", pixels, "", "PNG8:"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 4);
  ASSERT_EQ(image->pixels.size(), 16u);
  for (int p = 0; p < 4; ++p)
    EXPECT_EQ(image->pixels[p * 4 + 3], pixels[p * 4 + 3]) << "pixel " << p;
  EXPECT_EQ(image->pixels[0], 255);
  EXPECT_EQ(image->pixels[10], 255);
}

TEST_F(ImageDataTest, Png16BitKeepsTheHighByte) {
  REQUIRE_CONVERT();
  // convert scales 8-bit v to 16-bit v * 257, whose high byte is v.
  std::vector<uint8_t> pixels = iota(3 * 2 * 3, 1, 41);
  auto image = decodeImage(
      convertImage("deep.png", 3, 2, "rgb", pixels, "-depth 16", "PNG48:"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, pixels);
}

TEST_F(ImageDataTest, PngAlphaChannelsAreKept) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> rgba = iota(2 * 2 * 4, 0, 17);
  auto image =
      decodeImage(convertImage("rgba.png", 2, 2, "rgba", rgba, "", "PNG32:"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 4);
  EXPECT_EQ(image->pixels, rgba);

  std::vector<uint8_t> grey = iota(2 * 3, 7, 40);
  image = decodeImage(convertImage("ga.png", 2, 3, "gray", grey,
                                   "-alpha on -define png:color-type=4"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 2);
  ASSERT_EQ(image->pixels.size(), 12u);
  for (int p = 0; p < 6; ++p) {
    EXPECT_EQ(image->pixels[2 * p], grey[p]);
    EXPECT_EQ(image->pixels[2 * p + 1], 255);
  }
}

TEST_F(ImageDataTest, PngInterlacedIsExact) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> pixels = iota(9 * 11 * 3, 2, 3);
  auto image = decodeImage(convertImage("adam7.png", 9, 11, "rgb", pixels,
                                        "-interlace PNG", "PNG24:"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->pixels, pixels);
}

TEST_F(ImageDataTest, JpegRgbAndGreyAreClose) {
  REQUIRE_CONVERT();
  // A smooth image: JPEG at quality 90 keeps it within a few levels.
  // (Not above ~93: TensorFlow's fast IDCT, used here too, then errs by up
  // to 6 levels.)
  std::vector<uint8_t> rgb(8 * 8 * 3);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) {
      rgb[(y * 8 + x) * 3 + 0] = uint8_t(40 + 10 * x);
      rgb[(y * 8 + x) * 3 + 1] = uint8_t(60 + 8 * y);
      rgb[(y * 8 + x) * 3 + 2] = 128;
    }
  auto image =
      decodeImage(convertImage("rgb.jpg", 8, 8, "rgb", rgb, "-quality 90"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->height, 8);
  expectNear(image->pixels, rgb, 4);

  auto progressive = decodeImage(convertImage(
      "progressive.jpg", 8, 8, "rgb", rgb, "-quality 90 -interlace JPEG"));
  ASSERT_TRUE(progressive.ok()) << progressive.status();
  expectNear(progressive->pixels, rgb, 4);

  std::vector<uint8_t> grey(6 * 5);
  for (size_t i = 0; i < grey.size(); ++i)
    grey[i] = uint8_t(50 + 5 * i);
  auto g =
      decodeImage(convertImage("grey.jpg", 6, 5, "gray", grey, "-quality 90"));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->channels, 1);
  EXPECT_EQ(g->width, 5);
  expectNear(g->pixels, grey, 4);
}

TEST_F(ImageDataTest, JpegCmykIsRefused) {
  REQUIRE_CONVERT();
  std::string p = convertImage("cmyk.jpg", 2, 2, "rgb", iota(12, 0, 20),
                               "-colorspace CMYK");
  auto image = silently([&] { return decodeImage(p); });
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(),
            p + ": error: CMYK JPEG images are not supported (convert the "
                "image to RGB)");
}

TEST_F(ImageDataTest, FormatComesFromTheBytesNotTheName) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> pixels = iota(4, 0, 60);
  std::string png = convertImage("a.png", 2, 2, "gray", pixels);
  std::string jpg = convertImage("b.jpg", 2, 2, "gray", pixels, "-quality 90");
  fs::rename(png, path("png_named.jpg"));
  fs::rename(jpg, path("jpeg_named.png"));
  auto fromPng = decodeImage(path("png_named.jpg"));
  ASSERT_TRUE(fromPng.ok()) << fromPng.status();
  EXPECT_EQ(fromPng->pixels, pixels);
  auto fromJpeg = decodeImage(path("jpeg_named.png"));
  ASSERT_TRUE(fromJpeg.ok()) << fromJpeg.status();
  expectNear(fromJpeg->pixels, pixels, 4);
}

TEST_F(ImageDataTest, OtherFilesAreNotImages) {
  std::string text = write("text.png", "hello, not an image\n");
  auto image = decodeImage(text);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(),
            text + ": error: not a PNG or JPEG image");

  std::string gif = write("anim.png", "GIF89a\x01\x00\x01\x00");
  EXPECT_EQ(decodeImage(gif).status().message(),
            gif + ": error: not a PNG or JPEG image (a GIF image)");
  std::string empty = write("empty.jpg", "");
  EXPECT_EQ(decodeImage(empty).status().message(),
            empty + ": error: not a PNG or JPEG image (an empty file)");

  auto missing = decodeImage(path("missing.png"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              StartsWith(path("missing.png") + ": error: cannot open image"));
  auto directory = decodeImage(dir_.string());
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(std::string(directory.status().message()),
              HasSubstr("is a directory"));
}

TEST_F(ImageDataTest, TruncatedAndCorruptFilesFailQuietly) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> noise(64 * 64 * 3);
  uint32_t state = 12345;
  for (uint8_t &b : noise) {
    state = state * 1664525u + 1013904223u;
    b = uint8_t(state >> 24);
  }
  std::string png = read(convertImage("noise.png", 64, 64, "rgb", noise));
  std::string jpg = read(convertImage("noise.jpg", 64, 64, "rgb", noise));
  std::string progressive = read(
      convertImage("noise_p.jpg", 64, 64, "rgb", noise, "-interlace JPEG"));
  ASSERT_GT(png.size(), 1000u);
  ASSERT_GT(jpg.size(), 1000u);

  struct Case {
    std::string name, bytes, message;
  };
  std::string corrupt = png;
  corrupt[png.size() / 2] ^= 0x55; // in IDAT: a CRC or inflate error
  std::vector<Case> cases = {
      {"half.png", png.substr(0, png.size() / 2), "cannot decode PNG"},
      {"header.png", png.substr(0, 20), "cannot decode PNG"},
      {"signature.png", png.substr(0, 8), "cannot decode PNG"},
      {"flipped.png", corrupt, "cannot decode PNG"},
      {"half.jpg", jpg.substr(0, jpg.size() / 2),
       "cannot decode JPEG: file truncated"},
      {"head.jpg", jpg.substr(0, 40), "cannot decode JPEG"},
      {"magic.jpg", jpg.substr(0, 3), "cannot decode JPEG"},
      {"half_p.jpg", progressive.substr(0, progressive.size() / 2),
       "cannot decode JPEG: file truncated"},
  };
  for (const Case &c : cases) {
    std::string p = write(c.name, c.bytes);
    auto image = silently([&] { return decodeImage(p); });
    ASSERT_FALSE(image.ok()) << c.name;
    EXPECT_THAT(std::string(image.status().message()),
                StartsWith(p + ": error: "));
    EXPECT_THAT(std::string(image.status().message()), HasSubstr(c.message));
    EXPECT_EQ(image.status().message().find('\n'), std::string::npos);
  }
}

std::string pngChunk(const std::string &type, const std::string &data) {
  std::string bytes;
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes += char(data.size() >> shift);
  std::string body = type + data;
  uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef *>(body.data()),
                                uInt(body.size())));
  bytes += body;
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes += char(crc >> shift);
  return bytes;
}

/// A PNG claiming an 8-bit RGB image of w x h, with 6 bytes of image data.
std::string pngHeader(uint32_t w, uint32_t h) {
  std::string ihdr;
  for (uint32_t v : {w, h})
    for (int shift = 24; shift >= 0; shift -= 8)
      ihdr += char(v >> shift);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) +
         pngChunk("IDAT", std::string(6, '\0'));
}

TEST_F(ImageDataTest, HugeImagesAreRefusedBeforeDecoding) {
  std::string wide = write("wide.png", pngHeader(20000, 10));
  EXPECT_EQ(decodeImage(wide).status().message(),
            wide + ": error: PNG image of 10x20000 pixels is larger than the "
                   "limit of 16384x16384");
  // Past libpng's own limit of a million: still this message.
  std::string wider = write("wider.png", pngHeader(2000000, 1));
  EXPECT_EQ(decodeImage(wider).status().message(),
            wider + ": error: PNG image of 1x2000000 pixels is larger than "
                    "the limit of 16384x16384");
  // Within the limit, but far more pixels than the file can hold.
  std::string big = write("big.png", pngHeader(16000, 16000));
  auto image = silently([&] { return decodeImage(big); });
  EXPECT_EQ(image.status().message(),
            big + ": error: truncated or corrupt PNG: a 16000x16000 image "
                  "cannot be stored in 51 bytes");

  REQUIRE_CONVERT();
  // A JPEG whose frame header claims 20000 rows.
  std::string jpg = read(convertImage(
      "small.jpg", 8, 8, "gray", std::vector<uint8_t>(64, 9), "-quality 90"));
  size_t sof = jpg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  jpg[sof + 5] = char(20000 >> 8);
  jpg[sof + 6] = char(20000 & 0xFF);
  std::string tall = write("tall.jpg", jpg);
  EXPECT_EQ(decodeImage(tall).status().message(),
            tall + ": error: JPEG image of 20000x8 pixels is larger than the "
                   "limit of 16384x16384");
}

//===----------------------------------------------------------------------===//
// Resizing
//===----------------------------------------------------------------------===//

DecodedImage makeImage(int64_t h, int64_t w, int64_t c,
                       std::vector<uint8_t> pixels) {
  DecodedImage image;
  image.height = h;
  image.width = w;
  image.channels = c;
  image.pixels = std::move(pixels);
  return image;
}

TEST(ResizeTest, UpscaleMatchesHandComputedBilinear) {
  // Half-pixel centers: output x samples input (x + 0.5) / 2 - 0.5, i.e.
  // -0.25, 0.25, 0.75, 1.25, clamped at the edges: weights of the right
  // neighbour 0, 0.25, 0.75, 1.
  auto out = resizeBilinear(makeImage(2, 2, 1, {0, 100, 200, 40}), 4, 4);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->height, 4);
  EXPECT_EQ(out->width, 4);
  EXPECT_EQ(out->channels, 1);
  // Row 1: top row [0, 25, 75, 100] + 0.25 * (bottom [200, 160, 80, 40] -
  // top) = [50, 58.75, 76.25, 85]; row 2 with 0.75: [150, 126.25, 78.75, 55].
  std::vector<uint8_t> want = {0,   25,  75, 100, //
                               50,  59,  76, 85,  //
                               150, 126, 79, 55,  //
                               200, 160, 80, 40};
  EXPECT_EQ(out->pixels, want);
}

TEST(ResizeTest, RoundsHalfUp) {
  // [0, 2] to 4 pixels: 0, 0.5, 1.5, 2.
  auto out = resizeBilinear(makeImage(1, 2, 1, {0, 2}), 1, 4);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->pixels, (std::vector<uint8_t>{0, 1, 2, 2}));
}

TEST(ResizeTest, NonIntegerScaleAndChannels) {
  // 3 -> 2: scale 1.5, sources 0.25 and 1.75.
  auto out =
      resizeBilinear(makeImage(1, 3, 2, {0, 255, 100, 155, 200, 55}), 1, 2);
  ASSERT_TRUE(out.ok()) << out.status();
  // Channel 0: 0 + 0.25 * 100 = 25, 100 + 0.75 * 100 = 175.
  // Channel 1: 255 - 0.25 * 100 = 230, 155 - 0.75 * 100 = 80.
  EXPECT_EQ(out->pixels, (std::vector<uint8_t>{25, 230, 175, 80}));
}

TEST(ResizeTest, DownscaleByTwoAveragesBlocks) {
  // 4x4 -> 2x2: sources 0.5 and 2.5, halfway between two pixels.
  std::vector<uint8_t> in(4 * 4 * 3);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c)
        in[(y * 4 + x) * 3 + c] = uint8_t(10 * y + 2 * x + 100 * c);
  auto out = resizeBilinear(makeImage(4, 4, 3, in), 2, 2);
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<uint8_t> want;
  for (int y : {0, 2})
    for (int x : {0, 2})
      for (int c = 0; c < 3; ++c)
        want.push_back(uint8_t(10 * y + 5 + 2 * x + 1 + 100 * c));
  EXPECT_EQ(out->pixels, want);
}

TEST(ResizeTest, SameSizeIsTheIdentityAndErrors) {
  DecodedImage image = makeImage(2, 3, 1, iota(6, 1, 50));
  auto same = resizeBilinear(image, 2, 3);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->pixels, image.pixels);
  EXPECT_FALSE(resizeBilinear(image, 0, 3).ok());
  EXPECT_FALSE(resizeBilinear(image, 3, 16385).ok());
  EXPECT_FALSE(resizeBilinear(makeImage(2, 3, 1, {1, 2}), 4, 4).ok());
}

//===----------------------------------------------------------------------===//
// Image folders
//===----------------------------------------------------------------------===//

ImageFolderOptions greyInput(int64_t h, int64_t w, bool resize = false) {
  ImageFolderOptions o;
  o.height = h;
  o.width = w;
  o.channels = 1;
  o.resize = resize;
  return o;
}

TEST_F(ImageDataTest, FolderFollowsKerasOrder) {
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

TEST_F(ImageDataTest, TestFolderUsesTheTrainingClasses) {
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

TEST_F(ImageDataTest, FolderResizesBilinearly) {
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

TEST_F(ImageDataTest, FolderChannelsMustMatch) {
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

TEST_F(ImageDataTest, FolderErrors) {
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

TEST_F(ImageDataTest, FolderReportsTheFirstBadImage) {
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

//===----------------------------------------------------------------------===//
// CIFAR
//===----------------------------------------------------------------------===//

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

TEST_F(ImageDataTest, Cifar10) {
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

TEST_F(ImageDataTest, Cifar100UsesTheFineLabel) {
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

TEST_F(ImageDataTest, CifarErrors) {
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
