//===- LoadData.h - a model's data, whatever its format ---------*- C++ -*-===//
//
// The glue between the model format's data { ... } (or --data PATH) and the
// readers of runtime/: picks the reader, loads the training and test parts,
// takes a test split when the data has no test part, the validation split,
// and checks every part against the model (shape, classes or value targets,
// finite values).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TOOLS_LOADDATA_H
#define GRADC_TOOLS_LOADDATA_H

#include "frontend/ModelChecker.h"
#include "runtime/data/Dataset.h"

#include "absl/status/statusor.h"

#include <string>

namespace gradc {

/// What the model expects of its data.
DataSpec dataSpecFor(const ResolvedModel &m);

/// The model's data with `dataPath` (--data; empty: none) replacing the
/// path of the model's data kind, or recognized by what it is when the model
/// names none: a directory of IDX files, of CIFAR binaries or of class
/// folders; an .npz or a .csv file. The validation split is applied (with
/// `validationSplit`); `testOnly` loads what the test part needs alone.
/// `source` receives the path the data came from (for messages).
absl::StatusOr<DataSplits> loadModelData(const ResolvedModel &m,
                                         const std::string &dataPath,
                                         bool testOnly, std::string *source);

/// The examples `gradc predict --input PATH` runs: an IDX image file (raw or
/// gzip), a .npy array of examples, or one PNG or JPEG image (resized to
/// the model input, bilinear). Checked against the model's input shape.
absl::StatusOr<Dataset> loadPredictInput(const ResolvedModel &m,
                                         const std::string &path);

} // namespace gradc

#endif // GRADC_TOOLS_LOADDATA_H
