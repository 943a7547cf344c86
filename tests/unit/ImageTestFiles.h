//===- ImageTestFiles.h - images for the image reader tests -----*- C++ -*-===//
//
// What the image tests share: images written with ImageMagick's `convert`
// from raw pixel bytes (so the expected pixels are known exactly), a skip
// when `convert` is missing, decoded images built by hand, and a check that
// a call printed nothing.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TESTS_UNIT_IMAGETESTFILES_H
#define GRADC_TESTS_UNIT_IMAGETESTFILES_H

#include "runtime/data/ImageDecode.h"

#include "tests/unit/TempDirTest.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace gradc {

inline bool haveConvert() {
  static bool have = std::system("convert -version > /dev/null 2>&1") == 0;
  return have;
}

#define REQUIRE_CONVERT()                                                      \
  do {                                                                         \
    if (!haveConvert())                                                        \
      GTEST_SKIP() << "ImageMagick's convert is not installed";                \
  } while (0)

/// `n` bytes counting from `start` in steps of `step`, modulo 256.
inline std::vector<uint8_t> iota(size_t n, int start, int step) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = uint8_t((start + int(i) * step) % 256);
  return v;
}

/// A decoded image of h x w x c `pixels`.
inline DecodedImage makeImage(int64_t h, int64_t w, int64_t c,
                              std::vector<uint8_t> pixels) {
  DecodedImage image;
  image.height = h;
  image.width = w;
  image.channels = c;
  image.pixels = std::move(pixels);
  return image;
}

/// Runs `f` and checks that it printed nothing to stderr.
template <typename F> auto silently(F f) {
  ::testing::internal::CaptureStderr();
  auto result = f();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  return result;
}

/// The fixture of the image tests: a temporary folder and `convert`.
class ImageFilesTest : public TempDirTest {
protected:
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
    std::filesystem::create_directories(
        std::filesystem::path(out).parent_path());
    std::string command = "convert -size " + std::to_string(w) + "x" +
                          std::to_string(h) + " -depth 8 " + layout + ":'" +
                          raw + "' " + options + " " + prefix + "'" + out + "'";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    std::filesystem::remove(raw);
    return out;
  }

  /// A solid grey h x w PNG or JPEG (by the name's extension) of `value`.
  std::string solid(const std::string &name, int h, int w, uint8_t value) {
    return convertImage(name, h, w, "gray", std::vector<uint8_t>(h * w, value),
                        "-quality 90");
  }
};

} // namespace gradc

#endif // GRADC_TESTS_UNIT_IMAGETESTFILES_H
