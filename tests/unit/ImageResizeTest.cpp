//===- ImageResizeTest.cpp - bilinear resizing ----------------------------===//
//
// resizeBilinear against values computed by hand from tf.image.resize's
// half-pixel centers: upscaling, downscaling, a non-integer scale with two
// channels, rounding half up, the identity and the errors.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/ImageResize.h"

#include "tests/unit/ImageTestFiles.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <vector>

namespace gradc {
namespace {

TEST(ImageResizeTest, UpscaleMatchesHandComputedBilinear) {
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

TEST(ImageResizeTest, RoundsHalfUp) {
  // [0, 2] to 4 pixels: 0, 0.5, 1.5, 2.
  auto out = resizeBilinear(makeImage(1, 2, 1, {0, 2}), 1, 4);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->pixels, (std::vector<uint8_t>{0, 1, 2, 2}));
}

TEST(ImageResizeTest, NonIntegerScaleAndChannels) {
  // 3 -> 2: scale 1.5, sources 0.25 and 1.75.
  auto out =
      resizeBilinear(makeImage(1, 3, 2, {0, 255, 100, 155, 200, 55}), 1, 2);
  ASSERT_TRUE(out.ok()) << out.status();
  // Channel 0: 0 + 0.25 * 100 = 25, 100 + 0.75 * 100 = 175.
  // Channel 1: 255 - 0.25 * 100 = 230, 155 - 0.75 * 100 = 80.
  EXPECT_EQ(out->pixels, (std::vector<uint8_t>{25, 230, 175, 80}));
}

TEST(ImageResizeTest, DownscaleByTwoAveragesBlocks) {
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

TEST(ImageResizeTest, SameSizeIsTheIdentityAndErrors) {
  DecodedImage image = makeImage(2, 3, 1, iota(6, 1, 50));
  auto same = resizeBilinear(image, 2, 3);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->pixels, image.pixels);
  EXPECT_FALSE(resizeBilinear(image, 0, 3).ok());
  EXPECT_FALSE(resizeBilinear(image, 3, 16385).ok());
  EXPECT_FALSE(resizeBilinear(makeImage(2, 3, 1, {1, 2}), 4, 4).ok());
}

} // namespace
} // namespace gradc
