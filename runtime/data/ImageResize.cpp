//===- ImageResize.cpp - bilinear resizing as tf.image.resize -------------===//
//
// TensorFlow's resize kernel with half-pixel centers: the interpolation
// weights of each output row and column computed once, then every output
// byte from its four neighbours in single-precision floats, rounded.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/ImageResize.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <cmath>

namespace gradc {

absl::StatusOr<DecodedImage> resizeBilinear(const DecodedImage &image,
                                            int64_t height, int64_t width) {
  if (height < 1 || width < 1 || height > kMaxImageSide ||
      width > kMaxImageSide)
    return absl::InvalidArgumentError(
        absl::StrCat("error: cannot resize to ", imageSizeString(height, width),
                     " (height and width must be 1 to ", kMaxImageSide, ")"));
  if (image.height < 1 || image.width < 1 || image.channels < 1 ||
      image.pixels.size() !=
          size_t(image.height) * size_t(image.width) * size_t(image.channels))
    return absl::InvalidArgumentError(absl::StrCat(
        "error: ", image.pixels.size(), " pixel bytes do not make an image of ",
        image.height, "x", image.width, "x", image.channels));
  if (height == image.height && width == image.width)
    return image;

  // TensorFlow's compute_interpolation_weights with HalfPixelScaler.
  struct Weight {
    int64_t lower, upper;
    float lerp;
  };
  auto weights = [](int64_t out, int64_t in) {
    std::vector<Weight> w(out);
    float scale = float(in) / float(out);
    for (int64_t i = 0; i < out; ++i) {
      float source = (float(i) + 0.5f) * scale - 0.5f;
      float floor = std::floor(source);
      w[i].lower = std::max<int64_t>(int64_t(floor), 0);
      w[i].upper = std::min<int64_t>(int64_t(std::ceil(source)), in - 1);
      w[i].lerp = source - floor;
    }
    return w;
  };
  std::vector<Weight> ys = weights(height, image.height);
  std::vector<Weight> xs = weights(width, image.width);

  DecodedImage out;
  out.height = height;
  out.width = width;
  out.channels = image.channels;
  out.pixels.resize(size_t(height) * size_t(width) * size_t(image.channels));
  const int64_t c = image.channels;
  const int64_t inRow = image.width * c;
  uint8_t *dst = out.pixels.data();
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t *top = image.pixels.data() + ys[y].lower * inRow;
    const uint8_t *bottom = image.pixels.data() + ys[y].upper * inRow;
    const float yLerp = ys[y].lerp;
    for (int64_t x = 0; x < width; ++x) {
      const int64_t left = xs[x].lower * c, right = xs[x].upper * c;
      const float xLerp = xs[x].lerp;
      for (int64_t k = 0; k < c; ++k) {
        const float topLeft = top[left + k], topRight = top[right + k];
        const float bottomLeft = bottom[left + k],
                    bottomRight = bottom[right + k];
        const float topValue = topLeft + (topRight - topLeft) * xLerp;
        const float bottomValue =
            bottomLeft + (bottomRight - bottomLeft) * xLerp;
        const float value = topValue + (bottomValue - topValue) * yLerp;
        *dst++ = uint8_t(std::clamp(std::floor(value + 0.5f), 0.0f, 255.0f));
      }
    }
  }
  return out;
}

} // namespace gradc
