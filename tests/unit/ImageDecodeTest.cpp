//===- ImageDecodeTest.cpp - PNG and JPEG decoding ------------------------===//
//
// Decodes images written with ImageMagick's `convert` from raw pixel bytes:
// PNG of every colour type exactly (it is lossless), JPEG within a
// tolerance; then files that are not images, truncated and corrupt files
// and headers that claim huge images, which must fail with one line and
// print nothing. Tests that need `convert` are skipped when it is missing.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/ImageDecode.h"

#include "tests/unit/ImageTestFiles.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

namespace gradc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ImageDecodeTest : public ImageFilesTest {};

void expectNear(const std::vector<uint8_t> &got,
                const std::vector<uint8_t> &want, int tolerance) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(int(got[i]), int(want[i]), tolerance) << "byte " << i;
}

TEST_F(ImageDecodeTest, PngRgbIsExact) {
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

TEST_F(ImageDecodeTest, PngGreyIsExact) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> pixels = iota(2 * 5, 3, 25);
  auto image = decodeImage(convertImage("grey.png", 2, 5, "gray", pixels));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 1);
  EXPECT_EQ(image->height, 2);
  EXPECT_EQ(image->width, 5);
  EXPECT_EQ(image->pixels, pixels);
}

TEST_F(ImageDecodeTest, PngOneBitGreyBecomesBytes) {
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

TEST_F(ImageDecodeTest, PngPaletteBecomesRgb) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> pixels = iota(2 * 3 * 3, 10, 13);
  auto image = decodeImage(
      convertImage("palette.png", 2, 3, "rgb", pixels, "", "PNG8:"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, pixels);
}

TEST_F(ImageDecodeTest, PngPaletteWithTransparencyHasAlpha) {
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

TEST_F(ImageDecodeTest, Png16BitKeepsTheHighByte) {
  REQUIRE_CONVERT();
  // convert scales 8-bit v to 16-bit v * 257, whose high byte is v.
  std::vector<uint8_t> pixels = iota(3 * 2 * 3, 1, 41);
  auto image = decodeImage(
      convertImage("deep.png", 3, 2, "rgb", pixels, "-depth 16", "PNG48:"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, pixels);
}

TEST_F(ImageDecodeTest, PngAlphaChannelsAreKept) {
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

TEST_F(ImageDecodeTest, PngInterlacedIsExact) {
  REQUIRE_CONVERT();
  std::vector<uint8_t> pixels = iota(9 * 11 * 3, 2, 3);
  auto image = decodeImage(convertImage("adam7.png", 9, 11, "rgb", pixels,
                                        "-interlace PNG", "PNG24:"));
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->pixels, pixels);
}

TEST_F(ImageDecodeTest, JpegRgbAndGreyAreClose) {
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

TEST_F(ImageDecodeTest, JpegCmykIsRefused) {
  REQUIRE_CONVERT();
  std::string p = convertImage("cmyk.jpg", 2, 2, "rgb", iota(12, 0, 20),
                               "-colorspace CMYK");
  auto image = silently([&] { return decodeImage(p); });
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(),
            p + ": error: CMYK JPEG images are not supported (convert the "
                "image to RGB)");
}

TEST_F(ImageDecodeTest, FormatComesFromTheBytesNotTheName) {
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

TEST_F(ImageDecodeTest, OtherFilesAreNotImages) {
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

TEST_F(ImageDecodeTest, TruncatedAndCorruptFilesFailQuietly) {
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

TEST_F(ImageDecodeTest, HugeImagesAreRefusedBeforeDecoding) {
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

} // namespace
} // namespace gradc
