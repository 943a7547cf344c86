//===- ImageFolder.h - PNG/JPEG decoding and Keras image folders -*- C++
//-*-===//
//
// Image files as training data, the way Keras's
// image_dataset_from_directory reads them: one subfolder per class, PNG and
// JPEG files decoded to 8-bit pixels (libpng, libjpeg-turbo) and resized
// bilinearly to the model input as tf.image.resize does. Unlike Keras, an
// image is never converted between grey, RGB and alpha: an image whose
// channel count differs from the model input is an error naming the file.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_IMAGEFOLDER_H
#define GRADC_RUNTIME_DATA_IMAGEFOLDER_H

#include "runtime/Dataset.h"

#include "absl/status/status.h"
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
/// An image folder may hold at most this many pixel bytes once every image
/// has the model's input size (N * H * W * C), and at most
/// kMaxImageFolderExamples images.
constexpr int64_t kMaxImageFolderBytes = int64_t(16) << 30;
constexpr int64_t kMaxImageFolderExamples = int64_t(1) << 30;

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

/// Resizes `image` to height x width with bilinear interpolation, exactly as
/// tf.image.resize(method="bilinear", antialias=False) (the resize of
/// Keras's image_dataset_from_directory with interpolation="bilinear"):
/// half-pixel centers, the source coordinate of output pixel x being
/// (x + 0.5) * in / out - 0.5, neighbours clamped to the image's edges, and
/// the arithmetic in single-precision floats in TensorFlow's order. Keras
/// keeps the resized floats; here they are rounded to bytes (round half
/// up, clamped to [0, 255]), so a resized pixel differs from Keras's by at
/// most 0.5 / 255 once scaled to [0, 1]. A same-size resize returns the
/// image unchanged. Errors: a target size outside [1, kMaxImageSide] or
/// pixels that do not match the image's shape.
absl::StatusOr<DecodedImage> resizeBilinear(const DecodedImage &image,
                                            int64_t height, int64_t width);

/// What an image folder is loaded into: the model input.
struct ImageFolderOptions {
  int64_t height = 0;
  int64_t width = 0;
  /// 1 (grey) or 3 (RGB). Images with another channel count are refused,
  /// never converted.
  int64_t channels = 3;
  /// Resize images of another size to height x width (resizeBilinear);
  /// when false, such an image is an error.
  bool resize = true;
};

/// Loads the image folder `dir` with Keras's image_dataset_from_directory
/// conventions:
///  - one subfolder per class; the classes are the subfolder names sorted
///    byte-wise (Python's sorted() on UTF-8 names), label = index. Hidden
///    entries (names starting with '.') are ignored everywhere, as are
///    files at the top level.
///  - a class's images are its files ending in .png, .jpg or .jpeg (any
///    case), including those in nested subfolders (as Keras, which walks
///    the class folder; symbolic links to folders are not followed),
///    ordered as Keras does: by folder path, then by file name. Other files
///    are ignored, except .bmp and .gif files, which Keras would load and
///    gradc cannot: they are an error rather than silently left out.
///  - examples come class by class, in label order (not shuffled).
/// If `classNames` is non-null and non-empty on entry (the training
/// folder's classes, when loading the test folder), labels follow that
/// list and a subfolder not in it is an error; a class of the list without
/// a subfolder simply has no examples. Otherwise the sorted subfolder names
/// are stored there (when non-null).
/// Errors (one line, starting with the path concerned): `dir` missing or
/// not a directory; no class subfolders; a class folder with no PNG or JPEG
/// image; an image that does not decode; an image whose channel count is
/// not options.channels; an image of another size when options.resize is
/// false; more than kMaxImageFolderBytes of pixels. Images are decoded on
/// several threads; the error reported is that of the first failing file in
/// the order above, so it does not depend on the thread count.
/// The result holds pixels (uint8, HWC) and labels.
absl::StatusOr<Dataset> loadImageFolder(const std::string &dir,
                                        const ImageFolderOptions &options,
                                        std::vector<std::string> *classNames);

} // namespace gradc

#endif // GRADC_RUNTIME_DATA_IMAGEFOLDER_H
