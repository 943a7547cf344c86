//===- ModelLoader.cpp - read a model file with source locations ----------===//
//
// Text files go through protobuf's TextFormat parser with a ParseInfoTree
// (for locations) and an error collector (for file:line:col messages).
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelLoader.h"
#include "frontend/OnnxImporter.h"
#include "support/Files.h"
#include "support/ProtoParse.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace gradc {

/// Keeps an error on its one line whatever the names in it ("a\nb" is a
/// valid layer name).
static std::string oneLine(const std::string &message) {
  return absl::StrReplaceAll(message, {{"\n", "\\n"}, {"\r", "\\r"}});
}

std::string ModelFile::error(SourceLoc loc, const std::string &message) const {
  if (loc.line <= 0)
    return absl::StrCat(path, ": error: ", oneLine(message));
  return absl::StrCat(path, ":", loc.line, ":", loc.col,
                      ": error: ", oneLine(message));
}

namespace {

class CollectErrors : public google::protobuf::io::ErrorCollector {
public:
  explicit CollectErrors(const std::string &path) : path(path) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string &message) override {
    lines.push_back(absl::StrCat(path, ":", line + 1, ":", column + 1,
                                 ": error: ", oneLine(message)));
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber,
                  const std::string &) override {}

  std::string path;
  std::vector<std::string> lines;
};

SourceLoc locOf(const google::protobuf::TextFormat::ParseInfoTree &tree,
                const char *field, int index) {
  const auto *desc = Model::descriptor()->FindFieldByName(field);
  auto loc = tree.GetLocation(desc, index);
  if (loc.line < 0)
    return {};
  return {loc.line + 1, loc.column + 1};
}

} // namespace

absl::StatusOr<std::unique_ptr<ModelFile>>
parseModelText(const std::string &text, const std::string &path) {
  auto file = std::make_unique<ModelFile>();
  file->path = path;
  google::protobuf::TextFormat::Parser parser;
  google::protobuf::TextFormat::ParseInfoTree tree;
  CollectErrors errors(path);
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &file->model)) {
    if (errors.lines.empty())
      errors.lines.push_back(absl::StrCat(path, ": error: cannot parse"));
    return absl::InvalidArgumentError(absl::StrJoin(errors.lines, "\n"));
  }
  for (int i = 0; i < file->model.input_size(); ++i)
    file->inputLocs.push_back(locOf(tree, "input", i));
  for (int i = 0; i < file->model.layer_size(); ++i)
    file->layerLocs.push_back(locOf(tree, "layer", i));
  file->lossLoc = locOf(tree, "loss", -1);
  file->optimizerLoc = locOf(tree, "optimizer", -1);
  file->trainingLoc = locOf(tree, "training", -1);
  file->dataLoc = locOf(tree, "data", -1);
  return file;
}

namespace {

bool endsWith(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

/// `network { onnx: "net.onnx" }`: the ONNX graph (a path relative to the
/// model file) becomes the input and layers.
absl::Status importNetwork(ModelFile &file) {
  const Model &m = file.model;
  if (!m.has_network() || m.network().onnx().empty())
    return absl::OkStatus();
  if (m.input_size() || m.layer_size())
    return absl::InvalidArgumentError(file.error(
        file.modelLoc, "network { onnx } gives the input and layers; remove "
                       "the input and layer entries"));
  std::string onnx = m.network().onnx();
  size_t slash = file.path.rfind('/');
  if (onnx[0] != '/' && slash != std::string::npos)
    onnx = file.path.substr(0, slash + 1) + onnx;
  if (absl::Status s = importOnnxNetwork(onnx, file); !s.ok())
    return s;
  completeOnnxModel(file);
  return absl::OkStatus();
}

} // namespace

absl::StatusOr<std::unique_ptr<ModelFile>>
loadModelFile(const std::string &path) {
  if (endsWith(path, ".onnx"))
    return loadOnnxModelFile(path);
  auto read = readRegularFile(path, "model file", kMaxModelFileBytes);
  if (!read.ok())
    return read.status();
  std::string bytes = std::move(*read);
  if (!endsWith(path, ".pb")) {
    auto file = parseModelText(bytes, path);
    if (file.ok())
      if (absl::Status s = importNetwork(**file); !s.ok())
        return s;
    return file;
  }

  auto file = std::make_unique<ModelFile>();
  file->path = path;
  file->modelLoc = {};
  if (absl::Status s =
          parseBinaryProto(bytes, file->model, path, "a binary gradc model");
      !s.ok())
    return s;
  if (absl::Status s = importNetwork(*file); !s.ok())
    return s;
  file->inputLocs.resize(file->model.input_size());
  file->layerLocs.resize(file->model.layer_size());
  return file;
}

} // namespace gradc
