//===- ReportPngTest.cpp - the report's PNGs decode to their pixels -------===//
//
// encodePng (runtime/report/Report.cpp, through libpng) against the data readers'
// PNG decoder: the size, the channels and every min-max scaled pixel.
//
//===----------------------------------------------------------------------===//

#include "runtime/report/Report.h"
#include "runtime/data/ImageDecode.h"

#include "gtest/gtest.h"

using namespace gradc;

namespace {

TEST(ReportPng, GreyScaledUpDecodesToItsPixels) {
  ReportImage image;
  image.height = 2;
  image.width = 3;
  image.channels = 1;
  image.pixels = {-1, 0, 1, 0.5f, 3, 1}; // min -1, max 3: (v + 1) * 63.75
  std::string png = encodePng(image, 2);
  ASSERT_FALSE(png.empty());
  auto decoded = decodeImageBytes(png, "report.png");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->height, 4);
  EXPECT_EQ(decoded->width, 6);
  EXPECT_EQ(decoded->channels, 1);
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 6; ++x) {
      float v = image.pixels[size_t((y / 2) * 3 + x / 2)];
      EXPECT_EQ(int(decoded->pixels[size_t(y * 6 + x)]),
                int(255 * (v + 1) / 4 + 0.5f))
          << y << ", " << x;
    }
}

TEST(ReportPng, RgbKeepsItsChannels) {
  ReportImage image;
  image.height = 1;
  image.width = 2;
  image.channels = 3;
  image.pixels = {0, 1, 0.5f, 1, 0, 0};
  auto decoded = decodeImageBytes(encodePng(image), "report.png");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->channels, 3);
  std::vector<uint8_t> want = {0, 255, 128, 255, 0, 0};
  EXPECT_EQ(decoded->pixels, want);
}

} // namespace
