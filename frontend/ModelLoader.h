//===- ModelLoader.h - read a model file with source locations -*- C++ -*-===//
//
// Loads a .pbtxt (text) or .pb (binary) model file and keeps where each
// layer and section starts, so every later error can say file:line:col.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_MODELLOADER_H
#define GRADC_FRONTEND_MODELLOADER_H

#include "model.pb.h"

#include "absl/status/statusor.h"
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace gradc {

/// The largest model file read (a model this large is far beyond every
/// other limit; it keeps /dev/zero-like inputs from being read forever).
constexpr int64_t kMaxModelFileBytes = int64_t(64) << 20;

/// A 1-based position in a model file; line 0 means unknown (binary files).
struct SourceLoc {
  int line = 0;
  int col = 0;
};

/// A parsed model file and the locations of its parts.
struct ModelFile {
  std::string path;
  Model model;
  SourceLoc modelLoc{1, 1};
  std::vector<SourceLoc> inputLocs, layerLocs;
  SourceLoc lossLoc, optimizerLoc, trainingLoc, dataLoc;
  /// Where the network came from when it is not the file itself (an ONNX
  /// file named by `network { onnx: ... }`, or the file itself for a bare
  /// .onnx): errors about layers name it.
  std::string networkPath;
  /// Parameters and buffers that the file gives names and values of (an ONNX
  /// model's initializers), by the layer's "layer.role": the name they take
  /// and their starting values in gradc's layout (HWIO, [in, out]).
  struct GivenTensor {
    std::string name;
    std::vector<float> values;
  };
  std::map<std::string, GivenTensor> given;
  /// The ONNX inputs that gradc holds channels last (an NCHW input as HWC
  /// images, NCW as [1, W, C]): those that flow into a convolution,
  /// pooling, batch normalization or a flatten. The others keep ONNX's
  /// order.
  std::set<std::string> channelsLastInputs;

  /// "file:line:col: error: message" (or "file: error: message" when the
  /// location is unknown).
  std::string error(SourceLoc loc, const std::string &message) const;
};

/// Reads and parses `path`: an ONNX model when it ends in ".onnx", a binary
/// gradc model when it ends in ".pb", text otherwise; a text model may name
/// an ONNX network (`network { onnx: "net.onnx" }`).
/// Syntax errors, unknown fields and unknown enum values come back as one
/// "file:line:col: error: ..." line each.
absl::StatusOr<std::unique_ptr<ModelFile>>
loadModelFile(const std::string &path);

/// Parses model text already in memory (tests); `path` names it in errors.
absl::StatusOr<std::unique_ptr<ModelFile>>
parseModelText(const std::string &text, const std::string &path);

} // namespace gradc

#endif // GRADC_FRONTEND_MODELLOADER_H
