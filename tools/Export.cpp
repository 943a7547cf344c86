//===- Export.cpp - gradc export ------------------------------------------===//
//
// Writes a model's inference graph with trained weights as an ONNX model
// (frontend/OnnxExporter.h); gradc train --export-onnx does the same at the
// end of training.
//
//===----------------------------------------------------------------------===//

#include "frontend/OnnxExporter.h"
#include "runtime/params/Parameters.h"
#include "support/Files.h"
#include "tools/Commands.h"
#include "tools/Session.h"

#include <iostream>

using namespace llvm;

namespace gradc {

cl::SubCommand &exportCommand() {
  static cl::SubCommand sub(
      "export", "Write a model with trained weights as an ONNX model");
  return sub;
}

namespace {
cl::opt<std::string> exportModel(cl::Positional, cl::desc("MODEL"),
                                 cl::Required, cl::sub(exportCommand()));
cl::opt<std::string> exportWeights(
    "weights",
    cl::desc("Checkpoint with the weights (default: the model file's own, "
             "for an ONNX model)"),
    cl::value_desc("FILE"), cl::sub(exportCommand()));
cl::opt<std::string> exportOut("o", cl::desc("ONNX file to write"),
                               cl::value_desc("FILE"), cl::Required,
                               cl::sub(exportCommand()));
} // namespace

absl::Status exportOnnxWeights(const ResolvedModel &model,
                               const ParameterStore &params,
                               const std::string &path) {
  Weights w;
  for (const Buffer &b : params.params)
    w.params.push_back(&b.data);
  for (const Buffer &b : params.buffers)
    w.buffers.push_back(&b.data);
  w.vocabulary = &params.vocabulary;
  return exportOnnx(model, w, path);
}

bool givesAllWeights(const ResolvedModel &model) {
  for (const auto *list : {&model.params, &model.buffers})
    for (const ParamSpec &p : *list)
      if (!p.values)
        return false;
  return !model.params.empty() || !model.buffers.empty();
}

int runExport() {
  Session session;
  const ResolvedModel *model = session.load(exportModel);
  if (!model)
    return 1;
  if (exportWeights.empty() && !givesAllWeights(*model)) {
    std::cerr << "gradc export: error: --weights FILE is required (the model "
                 "file gives no weights)\n";
    return 1;
  }
  auto fail = [](const absl::Status &s) {
    std::cerr << s.message() << "\n";
    return 1;
  };
  if (absl::Status s = checkOutputPath(exportOut, "ONNX"); !s.ok())
    return fail(s);
  ParameterStore params = ParameterStore::initialize(*model, 0);
  if (!exportWeights.empty())
    if (absl::Status s = params.load(exportWeights, /*weightsOnly=*/true);
        !s.ok())
      return fail(s);
  if (absl::Status s = exportOnnxWeights(*model, params, exportOut); !s.ok())
    return fail(s);
  std::cout << "gradc: wrote " << std::string(exportOut) << "\n";
  return 0;
}

} // namespace gradc
