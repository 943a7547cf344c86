//===- ImageResize.h - bilinear resizing as tf.image.resize -----*- C++ -*-===//
//
// Resizes decoded images to a model's input size with the bilinear
// interpolation of tf.image.resize, the resize of Keras's
// image_dataset_from_directory.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_IMAGERESIZE_H
#define GRADC_RUNTIME_DATA_IMAGERESIZE_H

#include "runtime/data/ImageDecode.h"

#include "absl/status/statusor.h"

#include <cstdint>

namespace gradc {

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

} // namespace gradc

#endif // GRADC_RUNTIME_DATA_IMAGERESIZE_H
