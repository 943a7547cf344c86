//===- ImageDecode.h - PNG and JPEG decoded to 8-bit pixels -----*- C++ -*-===//
//
// Decodes PNG (libpng) and JPEG (libjpeg-turbo) files to 8-bit pixels the
// way TensorFlow's decode_png and decode_jpeg do when they keep the file's
// channels, so that the pixels are those Keras would train on. An image is
// never converted between grey, RGB and alpha here: the caller decides what
// a channel count it did not expect means.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_IMAGEDECODE_H
#define GRADC_RUNTIME_DATA_IMAGEDECODE_H

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gradc {

/// Images wider or taller than this are refused before any pixel memory is
/// allocated.
constexpr int64_t kMaxImageSide = 16384;
/// Image files larger than this are refused without being read.
constexpr int64_t kMaxImageFileBytes = int64_t(1) << 30;

/// A decoded image: height x width x channels bytes in HWC order (rows top to
/// bottom, pixels left to right, channels interleaved).
struct DecodedImage {
  int64_t height = 0;
  int64_t width = 0;
  /// 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
  int64_t channels = 0;
  std::vector<uint8_t> pixels;
};

/// "grey", "grey and alpha", "RGB" or "RGBA" for 1 to 4 channels.
const char *channelsName(int64_t channels);

/// Decodes the PNG or JPEG file `path`, recognized by its first bytes (not
/// its name), to 8-bit pixels, as TensorFlow's decode_png / decode_jpeg do
/// when they keep the file's channels:
///  - PNG: palette images become RGB, grey images of 1, 2 or 4 bits become
///    8-bit grey, 16-bit samples keep their high byte (png_set_strip_16, as
///    TensorFlow), a tRNS chunk becomes an alpha channel; grey + alpha and
///    RGBA images keep their alpha channel (2 and 4 channels) so that the
///    caller can refuse them. Gamma and colour profiles are ignored.
///    Interlaced images are supported.
///  - JPEG: grey (1 channel) or YCbCr / RGB (3 channels), with libjpeg's
///    fast integer IDCT and fancy upsampling, TensorFlow's defaults (so the
///    pixels are Keras's; that IDCT errs by up to about 6 levels on JPEGs
///    saved above quality ~93, as in TensorFlow). CMYK
///    and YCCK images are refused. EXIF orientation is ignored (as
///    TensorFlow). A file that ends before its last scanline is an error.
/// Errors are one line starting with the path; libpng and libjpeg never
/// print anything. Dimensions above kMaxImageSide are refused before
/// decoding.
absl::StatusOr<DecodedImage> decodeImage(const std::string &path);

/// decodeImage on bytes already in memory; `path` only names them in
/// errors.
absl::StatusOr<DecodedImage> decodeImageBytes(std::string_view bytes,
                                              const std::string &path);

/// "HxW", the size of an image as errors print it.
std::string imageSizeString(int64_t height, int64_t width);

} // namespace gradc

#endif // GRADC_RUNTIME_DATA_IMAGEDECODE_H
