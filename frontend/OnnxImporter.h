//===- OnnxImporter.h - ONNX graphs as gradc models -------------*- C++ -*-===//
//
// An ONNX model's graph becomes the input and layers of a gradc model: each
// node a layer named after it, NCHW tensors held as NHWC (OIHW kernels as
// HWIO, Gemm's B as [in, out]), the initializers the starting values of the
// parameters and buffers under their ONNX names. The rest of gradc (checker,
// importer to nn, training, checkpoints, summary, report) sees an ordinary
// model. Every unsupported node or attribute and every malformed part is
// reported at once, one line each.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_ONNXIMPORTER_H
#define GRADC_FRONTEND_ONNXIMPORTER_H

#include "frontend/ModelLoader.h"

#include "absl/status/statusor.h"

#include <memory>
#include <string>

namespace gradc {

/// The ONNX opsets (of the default domain) gradc converts from; an older
/// file (opset 1 and up) is lifted to kMinOnnxOpset by ONNX's version
/// converter first.
constexpr int64_t kMinOnnxOpset = 9, kMaxOnnxOpset = 17;
/// The largest ONNX file read (protobuf's own limit).
constexpr int64_t kMaxOnnxFileBytes = (int64_t(2) << 30) - 1;

/// The ONNX operators gradc imports, in the order the README lists them.
const std::vector<std::string> &supportedOnnxOps();

/// Reads the ONNX model at `path` into `file`'s input and layers and its
/// given tensors (file.model's loss, optimizer, training and data are left
/// alone). The batch (first) dimension may be anything; it is the run's.
absl::Status importOnnxNetwork(const std::string &path, ModelFile &file);

/// For a cross-entropy loss (or none, which becomes sparse categorical
/// cross-entropy): a network ending in logits gets a softmax layer, and one
/// ending in LogSoftmax ends in Softmax instead (the same loss; predictions
/// are probabilities).
void completeOnnxModel(ModelFile &file);

/// A bare .onnx model: the network with the defaults of completeOnnxModel
/// and of the model format (Adam, batch 32, one epoch).
absl::StatusOr<std::unique_ptr<ModelFile>>
loadOnnxModelFile(const std::string &path);

} // namespace gradc

#endif // GRADC_FRONTEND_ONNXIMPORTER_H
