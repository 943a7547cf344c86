//===- Numpy.h - NumPy .npz archives and arrays as data sets ---*- C++ -*-===//
//
// Reads the archives of np.savez and np.savez_compressed (.npz: a ZIP
// archive of .npy files, stored or deflated) and turns an x array and a y
// array into a Dataset: images [N, H, W, C] or [N, H, W], tabular rows
// [N, F]; class labels [N] or value targets [N] / [N, K]. The arrays
// themselves and single .npy files are NpyFormat.h's; the ZIP reading is
// ZipArchive.h's.
//
// Errors are one line naming the file (and the archive entry or the array)
// and what to do instead.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_DATA_NUMPY_H
#define GRADC_RUNTIME_DATA_NUMPY_H

#include "runtime/data/Dataset.h"
#include "runtime/data/NpyFormat.h"

#include "absl/status/statusor.h"

#include <map>
#include <string>

namespace gradc {

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
