//===- ImageFolder.h - Keras image folders as data sets ---------*- C++ -*-===//
//
// Image files as training data, the way Keras's
// image_dataset_from_directory reads them: one subfolder per class, the
// classes sorted, the files of a class in Keras's order, each image decoded
// (ImageDecode.h) and resized to the model input (ImageResize.h). Unlike
// Keras, an image is never converted between grey, RGB and alpha: an image
// whose channel count differs from the model input is an error naming the
// file.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_IMAGEFOLDER_H
#define GRADC_RUNTIME_DATA_IMAGEFOLDER_H

#include "runtime/data/Dataset.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

/// An image folder may hold at most this many pixel bytes once every image
/// has the model's input size (N * H * W * C), and at most
/// kMaxImageFolderExamples images.
constexpr int64_t kMaxImageFolderBytes = int64_t(16) << 30;
constexpr int64_t kMaxImageFolderExamples = int64_t(1) << 30;

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
