//===- Numpy.h - NumPy .npy arrays and .npz archives as data sets -*- C++
//-*-===//
//
// Reads the arrays that np.save writes (.npy, format versions 1.0 to 3.0)
// and the archives of np.savez and np.savez_compressed (.npz: a ZIP archive
// of .npy files, stored or deflated), and turns an x array and a y array
// into a Dataset: images [N, H, W, C] or [N, H, W], tabular rows [N, F];
// class labels [N] or value targets [N] / [N, K].
//
// Only little-endian C-order arrays of uint8, int32, int64, float32 and
// float64 are accepted; anything else is refused with one line naming the
// file (and the archive entry) and what to do instead. Every size that a
// file claims is checked against the bytes that are really there before
// anything is allocated, so a lying header costs nothing.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_NUMPY_H
#define GRADC_RUNTIME_DATA_NUMPY_H

#include "runtime/Dataset.h"

#include "absl/status/statusor.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gradc {

/// One NumPy array: its element type, its shape and its data, little-endian
/// in C (row-major) order.
struct NpyArray {
  enum class Type { U8, I32, I64, F32, F64 };
  Type type = Type::U8;
  /// Empty for a scalar (one element).
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  /// The number of elements: the product of the shape (1 for a scalar).
  int64_t count() const;
  /// Bytes per element: 1, 4 or 8.
  int64_t itemSize() const;
  bool isInteger() const {
    return type == Type::U8 || type == Type::I32 || type == Type::I64;
  }
  /// Element `i` (C order) as a double; int64 values beyond 2^53 round.
  double at(int64_t i) const;
};

/// NumPy's name of a type: "uint8", "int32", "int64", "float32", "float64".
const char *npyTypeName(NpyArray::Type type);
/// "(2, 28, 28)", "(5,)", "()": a shape as Python prints it.
std::string npyShapeString(const std::vector<int64_t> &shape);

/// Parses the contents of a .npy file; `name` (a path) starts every error.
absl::StatusOr<NpyArray> parseNpy(std::string_view bytes,
                                  const std::string &name);

/// Reads a .npy file (a regular file of at most 16 GiB). The data are read
/// into the array directly, once the header has been checked against the
/// file's size.
absl::StatusOr<NpyArray> readNpy(const std::string &path);

/// Reads a .npz archive: every entry "NAME.npy" becomes the array NAME.
/// Stored and deflated entries are accepted, found through the central
/// directory and checked against their CRC-32; ZIP64, encrypted or
/// otherwise compressed entries and entries that are not .npy files are
/// refused. Errors name the path and, for an entry, the entry.
absl::StatusOr<std::map<std::string, NpyArray>>
readNpz(const std::string &path);

/// A Dataset from inputs `x` and targets `y`. `x` is [N, H, W, C],
/// [N, H, W] (one channel) or [N, F] (tabular: 1 x 1 x F); uint8 inputs stay
/// bytes (pixels, scaled by 1/255 in batches, like IDX), other types become
/// floats. Without `valueTargets`, `y` is [N] or [N, 1] of integer class
/// labels in [0, 2^31); with them, `y` is [N] or [N, K] of numbers of any
/// type, K targets per example. Errors start with `where` (the file) and
/// call the arrays `xName` and `yName`.
absl::StatusOr<Dataset> datasetFromArrays(const NpyArray &x, const NpyArray &y,
                                          const std::string &where,
                                          bool valueTargets,
                                          const std::string &xName = "x",
                                          const std::string &yName = "y");

/// Loads a .npz data set: x_train and y_train, with x_test and y_test for a
/// test set (Keras's mnist.npz), or x and y (training only). The test part
/// is empty (with the training part's shape) when the file has none; the
/// validation part is left empty for the caller's split, and no check
/// against the model is made (see checkDataset).
absl::StatusOr<DataSplits> loadNumpy(const std::string &path,
                                     bool valueTargets);

} // namespace gradc

#endif // GRADC_RUNTIME_DATA_NUMPY_H
