//===- OnnxImporter.cpp - the ONNX importer's driver ----------------------===//
//
// The one job of this file: the import of one ONNX file, in order. Read the
// model; take its opset (lifting opsets below kMinOnnxOpset with ONNX's
// version converter); check what ONNX's checker and shape inference would
// not say clearly or would crash on (external data outside the model's
// directory, inputs not defined before their node, outputs not computed,
// unsupported operators, windows of the wrong rank or size); run ONNX's
// checker and shape inference; read the graph's input; convert node by
// node through the operator table (OnnxOperators.cpp); check the output.
// Also the public entry points of frontend/OnnxImporter.h.
//
//===----------------------------------------------------------------------===//

#include "frontend/OnnxImporter.h"
#include "frontend/onnx/OnnxImport.h"
#include "support/Files.h"
#include "support/ProtoParse.h"

#include "absl/strings/str_join.h"

#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <algorithm>
#include <unordered_map>

namespace gradc::onnximport {
namespace {

std::string dirOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

/// The error of a node whose operator is not in the table.
std::string unsupportedOperator(const std::string &op) {
  return absl::StrCat("operator ", op, " is not supported (gradc imports ",
                      absl::StrJoin(supportedOnnxOps(), ", "), ")");
}

bool defaultDomain(const onnx::NodeProto &n) {
  return n.domain().empty() || n.domain() == "ai.onnx";
}

} // namespace

OnnxImport::OnnxImport(const std::string &path, ModelFile &file)
    : path(path), dir(dirOf(path)), file(file) {}

bool OnnxImport::readOpset() {
  for (const auto &o : proto.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset >= 1 && opset < kMinOnnxOpset) {
    // An older file is lifted to the lowest opset gradc reads by ONNX's own
    // version converter (one adapter per operator and version step).
    int64_t from = opset;
    try {
      proto =
          onnx::version_conversion::ConvertVersion(proto, int(kMinOnnxOpset));
    } catch (const std::exception &e) {
      std::string what = e.what();
      error(absl::StrCat("opset ", from,
                         " of the default domain: ONNX's version converter "
                         "cannot lift it to opset ",
                         kMinOnnxOpset, ": ", what.substr(0, what.find('\n'))));
      return false;
    }
    opset = kMinOnnxOpset;
    return true;
  }
  if (opset < kMinOnnxOpset || opset > kMaxOnnxOpset) {
    error(absl::StrCat("opset ", opset,
                       " of the default domain is not "
                       "supported (gradc reads opsets 1 to ",
                       kMaxOnnxOpset, ", lifting those below ", kMinOnnxOpset,
                       " with ONNX's version converter)"));
    return false;
  }
  return true;
}

/// External data first: ONNX's checker would look for files anywhere.
void OnnxImport::checkExternalData() {
  for (const auto &t : proto.graph().initializer())
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      std::string location;
      for (const auto &kv : t.external_data())
        if (kv.key() == "location")
          location = kv.value();
      externalPath(location, absl::StrCat("initializer '", t.name(), "'"));
    }
}

void OnnxImport::checkNames() {
  // Every input defined before its node: a missing initializer or a cycle
  // named here, before ONNX's checker prints the node.
  std::set<std::string> defined;
  for (const auto &in : proto.graph().input())
    defined.insert(in.name());
  for (const auto &t : proto.graph().initializer())
    defined.insert(t.name());
  for (const auto &n : proto.graph().node()) {
    for (const std::string &in : n.input())
      if (!in.empty() && !defined.count(in))
        error(absl::StrCat("node '", nodeName(n), "' (", n.op_type(),
                           "): input '", in,
                           "' is neither an initializer, a graph input nor "
                           "an earlier node's output (missing, or a cycle)"));
    for (const std::string &out : n.output())
      defined.insert(out);
  }
  // ONNX's IR converter (under the version converter) crashed on a graph
  // output that nothing defines (fuzz/).
  for (const auto &out : proto.graph().output())
    if (!defined.count(out.name()))
      error(absl::StrCat("graph output '", out.name(),
                         "' is neither a graph input, an initializer nor a "
                         "node's output"));
  // A graph output that is also a graph input or an initializer is not
  // computed by the network (and its declared type would stand for the
  // input's in ONNX's shape inference, which crashed on such a file: fuzz/).
  std::set<std::string> given;
  for (const auto &in : proto.graph().input())
    given.insert(in.name());
  for (const auto &t : proto.graph().initializer())
    given.insert(t.name());
  for (const auto &out : proto.graph().output())
    if (given.count(out.name()))
      error(absl::StrCat("graph output '", out.name(),
                         "' is a graph input or an initializer, not computed "
                         "by a node"));
}

/// ONNX's own shape inference (Debian's 1.12) crashes on some malformed
/// nodes (fuzz/ found a zero stride and a Conv of a 3-D input): it runs
/// only on operators gradc imports, whose windows are checked first by the
/// rules of their rows in the operator table.
void OnnxImport::checkOperators(
    const google::protobuf::RepeatedPtrField<Node> &nodes) {
  std::map<std::string, int64_t> rank; // -1: unknown, -2: after an error
  for (const auto &in : proto.graph().input())
    rank[in.name()] = in.type().tensor_type().has_shape()
                          ? in.type().tensor_type().shape().dim_size()
                          : -1;
  // The length of 1-D constants: a Reshape's shape gives its output's rank.
  std::map<std::string, int64_t> length;
  for (const auto &t : proto.graph().initializer()) {
    rank[t.name()] = t.dims_size();
    if (t.dims_size() == 1)
      length[t.name()] = t.dims(0);
  }
  for (const auto &n : nodes) {
    const std::string &op = n.op_type();
    const OnnxOperator *o = findOnnxOperator(op);
    if (!o || !defaultDomain(n)) {
      fail(n, unsupportedOperator(op));
      continue;
    }
    auto rankOf = [&](int i) -> int64_t {
      auto it = i < n.input_size() ? rank.find(n.input(i)) : rank.end();
      // Not found: an undefined input or an unsupported producer, both
      // reported already.
      return it == rank.end() ? -2 : it->second;
    };
    // A window's input (and weight) is NCW or NCHW, of known rank; its
    // attributes give one value per spatial axis (pads two).
    int64_t windowRank = o->fourDInputs ? rankOf(0) : -2;
    bool badRank = o->fourDInputs && windowRank != 3 && windowRank != 4 &&
                   windowRank != -2;
    for (int i = 1; i < o->fourDInputs; ++i)
      badRank |= rankOf(i) != windowRank && rankOf(i) != -2;
    if (badRank)
      error(
          absl::StrCat("node '", nodeName(n), "' (", op,
                       "): gradc imports 1-D and 2-D windows only: an "
                       "input of known rank 3 (NCW) or 4 (NCHW)",
                       o->fourDInputs > 1 ? ", and a weight of its rank" : ""));
    size_t spatial = windowRank == 3 ? 1 : 2;
    // A window's attributes, on whichever node has them.
    for (const auto &a : n.attribute()) {
      bool window = a.name() == "strides" || a.name() == "dilations" ||
                    a.name() == "kernel_shape";
      bool bad =
          (window && ((a.ints_size() != 1 && a.ints_size() != 2) ||
                      (windowRank > 0 && size_t(a.ints_size()) != spatial) ||
                      std::any_of(a.ints().begin(), a.ints().end(),
                                  [](int64_t v) { return v < 1; }))) ||
          (a.name() == "pads" && o->windowPads &&
           ((a.ints_size() != 2 && a.ints_size() != 4) ||
            (windowRank > 0 && size_t(a.ints_size()) != 2 * spatial) ||
            std::any_of(a.ints().begin(), a.ints().end(),
                        [](int64_t v) { return v < 0; }))) ||
          (a.name() == "group" && a.i() < 1);
      if (bad)
        error(absl::StrCat("node '", nodeName(n), "' (", op, "): attribute '",
                           a.name(),
                           "' must be positive, one value per spatial axis "
                           "(pads two)"));
    }
    bool keptRank = o->outputRank == OutputRank::OfInput ||
                    (o->outputRank == OutputRank::OfInputIfKeepdims &&
                     attrInt(n, "keepdims", 1) != 0);
    int64_t out = o->outputRank == OutputRank::Two ? 2
                  : keptRank                       ? rankOf(0)
                                                   : -1;
    if (o->outputRank == OutputRank::Broadcast) {
      out = rankOf(0);
      for (int i = 1; i < n.input_size() && out >= 0; ++i)
        out = rankOf(i) < 0 ? rankOf(i) : std::max(out, rankOf(i));
    }
    if (op == "Reshape" && n.input_size() == 2 && length.count(n.input(1)))
      out = length[n.input(1)];
    for (const auto &a : n.attribute())
      if (op == "Constant" && a.name() == "value" && a.t().dims_size() == 1)
        length[n.output(0)] = a.t().dims(0);
    for (const std::string &output : n.output())
      rank[output] = out;
  }
}

/// ONNX's checker and shape inference: types, topological order, each
/// node's inputs and attributes against its schema.
absl::Status OnnxImport::runOnnxChecker() {
  try {
    onnx::checker::CheckerContext ctx;
    std::unordered_map<std::string, int> opsets;
    for (const auto &o : proto.opset_import())
      opsets[o.domain()] = int(o.version());
    ctx.set_ir_version(int(proto.ir_version()));
    ctx.set_opset_imports(opsets);
    ctx.set_model_dir(dir);
    onnx::checker::LexicalScopeContext scope;
    onnx::checker::check_graph(proto.graph(), ctx, scope);
    onnx::shape_inference::InferShapes(proto);
  } catch (const std::exception &e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": error: invalid ONNX model: ", what));
  }
  return absl::OkStatus();
}

bool OnnxImport::readInputs() {
  const onnx::GraphProto &g = proto.graph();
  bool ok = true;
  for (const auto &in : g.input()) {
    if (constants.count(in.name()))
      continue;
    const auto &type = in.type().tensor_type();
    // INT64 and INT32 inputs are ids for an embedding (Gather).
    bool ids = type.elem_type() == onnx::TensorProto::INT64 ||
               type.elem_type() == onnx::TensorProto::INT32;
    // A FLOAT input [N] (one value per example) is gradc's [N, 1].
    if ((type.elem_type() != onnx::TensorProto::FLOAT && !ids) ||
        !type.has_shape() || type.shape().dim_size() < 1 + int(ids) ||
        type.shape().dim_size() > 4) {
      error(absl::StrCat("input '", in.name(),
                         "' must be a FLOAT tensor of rank 1 to 4 [N, ...] "
                         "(or INT64 or INT32 ids of rank 2 to 4)"));
      ok = false;
      continue;
    }
    Tensor t;
    t.layer = in.name();
    t.ids = ids;
    std::vector<int64_t> perExample;
    for (int d = 0; d < type.shape().dim_size() && ok; ++d) {
      const auto &dim = type.shape().dim(d);
      int64_t v = dim.has_dim_value() ? dim.dim_value() : -1;
      if (d > 0 && v <= 0) {
        error(absl::StrCat("input '", in.name(), "': dimension ", d, " is ",
                           dim.has_dim_param() ? "'" + dim.dim_param() + "'"
                                               : std::to_string(v),
                           "; only the batch (first) dimension may be "
                           "dynamic"));
        ok = false;
      }
      t.dims.push_back(d == 0 ? -1 : v);
      if (d > 0)
        perExample.push_back(v);
    }
    if (!ok)
      continue;
    // An image (NCHW) that a window or flatten reads comes as gradc's image
    // formats give it: HWC; so does one of a single channel, whose two
    // orders are the same bytes. Other inputs (an NCW sequence too) keep
    // ONNX's order.
    if (perExample.size() == 3 && !ids &&
        (perExample[0] == 1 || feedsWindows(in.name()))) {
      t.layout = Layout::ChannelsLast;
      perExample = {perExample[1], perExample[2], perExample[0]};
      file.channelsLastInputs.insert(in.name());
    }
    if (perExample.empty()) {
      perExample = {1};
      t.dims.push_back(1);
      t.batchOnly = true;
    }
    Input &input = *file.model.add_input();
    input.set_name(in.name());
    if (ids)
      input.set_dtype(type.elem_type() == onnx::TensorProto::INT64
                          ? Input::INT64
                          : Input::INT32);
    for (int64_t v : perExample)
      input.add_shape(v);
    inputNames.insert(in.name());
    tensors[in.name()] = t;
  }
  if (ok && inputNames.empty())
    error("the graph has no input that is not an initializer");
  return ok && !inputNames.empty();
}

void OnnxImport::convert(const Node &n) {
  bool ok = false;
  const OnnxOperator *o = findOnnxOperator(n.op_type());
  // An input that failed before fails this node without another line about
  // it (its other problems, such as attributes, are still reported).
  bool inputFailed = false;
  for (const std::string &in : n.input())
    inputFailed |= tensors.count(in) && tensors[in].failed;
  if (!defaultDomain(n))
    fail(n, absl::StrCat("operators of domain '", n.domain(),
                         "' are not supported"));
  else if (!o)
    fail(n, unsupportedOperator(n.op_type()));
  else if (n.output_size() == 0 ||
           (n.output(0).empty() && o->convert != &OnnxImport::recurrent))
    fail(n, "has no output"); // (an LSTM's Y_h may be its only output)
  else
    ok = (this->*(o->convert))(n) && !inputFailed;
  if (!ok)
    for (const std::string &out : n.output())
      if (!out.empty())
        tensors[out].failed = true;
}

void OnnxImport::readOutput() {
  const onnx::GraphProto &g = proto.graph();
  if (g.output_size() != 1) {
    error(absl::StrCat("the graph has ", g.output_size(),
                       " outputs; a gradc model has one"));
    return;
  }
  auto it = tensors.find(g.output(0).name());
  if (it == tensors.end() || inputNames.count(it->second.layer)) {
    error(absl::StrCat("output '", g.output(0).name(),
                       "' is not computed by a node from the input"));
    return;
  }
  if (it->second.failed)
    return;
  // The output in ONNX's order, as the file gives its shape.
  if (it->second.channelsLast())
    it->second = *inOnnxOrder(&it->second);
  if (!it->second.batchFirst())
    error(absl::StrCat(
        "output '", g.output(0).name(), "' holds the batch in ONNX's axis ",
        it->second.batchAxis, "; gradc's outputs hold it first"));
  if (!it->second.flatFromCHW.empty())
    error(absl::StrCat("output '", g.output(0).name(),
                       "' is a Flatten of an NCHW tensor; gradc's flatten "
                       "orders the features H, W, C (a Gemm or MatMul may "
                       "read it, the output may not)"));
  if (it->second.layer != file.model.layer(file.model.layer_size() - 1).name())
    error(absl::StrCat("output '", g.output(0).name(),
                       "' is not computed by the graph's last node; gradc "
                       "models end in their output"));
}

void OnnxImport::dropUnread() {
  Model &m = file.model;
  std::set<std::string> read{m.layer(m.layer_size() - 1).name()};
  for (int i = m.layer_size() - 1; i >= 0; --i)
    if (read.count(m.layer(i).name()))
      read.insert(m.layer(i).inputs().begin(), m.layer(i).inputs().end());
  google::protobuf::RepeatedPtrField<Layer> kept;
  for (Layer &l : *m.mutable_layer())
    if (read.count(l.name()))
      *kept.Add() = std::move(l);
  m.mutable_layer()->Swap(&kept);
  layerIndex.clear();
}

absl::Status OnnxImport::run() {
  auto bytes = readRegularFile(path, "ONNX model", kMaxOnnxFileBytes);
  if (!bytes.ok())
    return bytes.status();
  if (absl::Status s = parseBinaryProto(*bytes, proto, path, "an ONNX model");
      !s.ok())
    return s;
  if (!proto.has_graph())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": error: not an ONNX model (no graph)"));
  // The names first: ONNX's version converter, which readOpset may run,
  // crashes on dangling ones.
  checkNames();
  if (!errors.empty() || !readOpset())
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return importGraph();
}

absl::Status OnnxImport::importGraph() {
  checkExternalData();
  original = proto;
  // The operators are checked and converted with PyTorch's multi-node
  // patterns as one node each; ONNX's checker sees the file as it is.
  google::protobuf::RepeatedPtrField<Node> nodes =
      fuseExportedPatterns(proto.graph());
  checkOperators(nodes);
  if (!errors.empty())
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  if (absl::Status s = runOnnxChecker(); !s.ok())
    return s;
  *proto.mutable_graph()->mutable_node() = std::move(nodes);
  const onnx::GraphProto &g = proto.graph();
  for (const auto &t : g.initializer())
    constants[t.name()] = &t;
  for (const auto &v : g.value_info())
    inferred[v.name()] = &v.type();
  for (const auto &v : g.output())
    inferred[v.name()] = &v.type();
  // An Identity of an initializer is a copy of it under a new name (PyTorch
  // shares equal initializers that way): not a use of the initializer.
  for (const auto &n : g.node())
    if (!(n.op_type() == "Identity" && n.input_size() == 1 &&
          constants.count(n.input(0))))
      for (const std::string &in : n.input())
        ++uses[in];
  for (const auto &o : g.output())
    ++uses[o.name()];
  if (!readInputs())
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  for (const auto &n : g.node())
    convert(n);
  if (errors.empty() && file.model.layer_size() == 0)
    error("the graph has no node that computes from the input");
  if (errors.empty())
    readOutput();
  if (errors.empty())
    dropUnread();
  // Each import gives the next the shapes it folded (a Reshape after one
  // whose shape was folded gets its input's shape only in the next).
  if (!foldedShapes.empty() && reinferred < kMaxReinfers)
    return reinfer();
  if (!errors.empty())
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  if (file.model.name().empty())
    file.model.set_name(g.name().empty() ? "onnx_model" : g.name());
  file.networkPath = path;
  file.inputLocs.resize(file.model.input_size());
  file.layerLocs.resize(file.model.layer_size());
  return absl::OkStatus();
}

/// ONNX's shape inference does not compute values: a Reshape whose shape
/// was folded here (from a Shape) has an output of unknown shape, and so do
/// the nodes after it. The file is imported again with the folded shapes as
/// initializers, which the inference reads.
absl::Status OnnxImport::reinfer() {
  onnx::ModelProto completed = original;
  onnx::GraphProto &g = *completed.mutable_graph();
  std::set<std::string> names;
  for (const auto &t : g.initializer())
    names.insert(t.name());
  for (auto &[output, t] : foldedShapes) {
    std::string name = output + "/shape";
    for (int k = 2; names.count(name); ++k)
      name = absl::StrCat(output, "/shape_", k);
    names.insert(name);
    t.set_name(name);
    for (auto &n : *g.mutable_node())
      if (n.op_type() == "Reshape" && n.output_size() && n.output(0) == output)
        n.set_input(1, name);
    if (completed.ir_version() < 4) { // initializers are graph inputs there
      onnx::ValueInfoProto &in = *g.add_input();
      in.set_name(name);
      in.mutable_type()->mutable_tensor_type()->set_elem_type(t.data_type());
      in.mutable_type()
          ->mutable_tensor_type()
          ->mutable_shape()
          ->add_dim()
          ->set_dim_value(t.dims(0));
    }
    *g.add_initializer() = t;
  }
  file.model.clear_input();
  file.model.clear_layer();
  file.given.clear();
  file.channelsLastInputs.clear();
  OnnxImport again(path, file);
  again.proto = std::move(completed);
  again.opset = opset;
  again.reinferred = reinferred + 1;
  return again.importGraph();
}

} // namespace gradc::onnximport

namespace gradc {

absl::Status importOnnxNetwork(const std::string &path, ModelFile &file) {
  return onnximport::OnnxImport(path, file).run();
}

void completeOnnxModel(ModelFile &file) {
  Model &m = file.model;
  if (!m.has_loss() || m.loss().kind_case() == Loss::KIND_NOT_SET)
    m.mutable_loss()->mutable_sparse_categorical_crossentropy();
  bool ce = m.loss().has_sparse_categorical_crossentropy() ||
            m.loss().has_categorical_crossentropy();
  if (!ce || m.layer_size() == 0)
    return;
  Layer &last = *m.mutable_layer(m.layer_size() - 1);
  if (last.has_activation() && last.activation().kind() == SOFTMAX)
    return;
  if (last.has_activation() && last.activation().kind() == LOG_SOFTMAX) {
    last.mutable_activation()->set_kind(SOFTMAX);
    return;
  }
  std::set<std::string> names;
  for (const Input &in : m.input())
    names.insert(in.name());
  for (const Layer &l : m.layer())
    names.insert(l.name());
  std::string name = "softmax";
  for (int k = 2; names.count(name); ++k)
    name = absl::StrCat("softmax_", k);
  Layer &s = *m.add_layer();
  s.set_name(name);
  s.mutable_activation()->set_kind(SOFTMAX);
  file.layerLocs.resize(m.layer_size());
}

absl::StatusOr<std::unique_ptr<ModelFile>>
loadOnnxModelFile(const std::string &path) {
  auto file = std::make_unique<ModelFile>();
  file->path = path;
  file->modelLoc = {};
  if (absl::Status s = importOnnxNetwork(path, *file); !s.ok())
    return s;
  completeOnnxModel(*file);
  return file;
}

} // namespace gradc
