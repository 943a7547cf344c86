//===- OnnxValues.cpp - a node's inputs and outputs -----------------------===//
//
// The one job of this file: what a node reads and writes. Its inputs as
// activations (the graph input or a layer's output) or as constants
// (initializers and the values of constant nodes), each refused with the
// reason when it is the other kind; its output as a new layer of the model,
// under a unique name, or as a new constant; and the constants a layer takes
// as its parameters.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"
#include "ir/UnaryFunctions.h"

#include "absl/strings/str_join.h"

namespace gradc::onnximport {

bool OnnxImport::onlyFirstOutput(const Node &n) {
  for (int i = 1; i < n.output_size(); ++i)
    if (!n.output(i).empty() && uses[n.output(i)] > 0)
      return fail(n, absl::StrCat("output ", i, " ('", n.output(i),
                                  "') is used; gradc computes only output 0"));
  return true;
}

const Tensor *OnnxImport::activation(const Node &n, int i) {
  if (!hasInput(n, i)) {
    fail(n, absl::StrCat("input ", i, " is missing"));
    return nullptr;
  }
  auto it = tensors.find(n.input(i));
  if (it != tensors.end() && !it->second.failed && !it->second.pads.empty() &&
      n.op_type() != "Conv") {
    failInput(n, i,
              "is zero-padded by a Pad node: gradc takes padding "
              "only into a Conv");
    return nullptr;
  }
  if (it != tensors.end() && !it->second.failed && it->second.dims.empty()) {
    failInput(n, i, "has no shape that ONNX's shape inference could give");
    return nullptr;
  }
  // A tensor whose batch is not ONNX's first axis (OnnxBatchViews.cpp).
  static const std::set<std::string> batchMovers{
      "Transpose",  "Reshape", "Shape",   "MatMul", "Gemm", "Softmax",
      "LogSoftmax", "Slice",   "Squeeze", "LSTM",   "GRU",  "Gather"};
  if (it != tensors.end() && !it->second.failed && !it->second.batchFirst() &&
      !elementwiseOps().count(n.op_type()) && !batchMovers.count(n.op_type())) {
    failInput(n, i,
              absl::StrCat("holds the batch in ONNX's axis ",
                           it->second.batchAxis,
                           " (after a Transpose or Reshape that moved it); ",
                           n.op_type(), " needs it first"));
    return nullptr;
  }
  // (Unsqueeze reshapes the [N, 1] as ONNX's [N].)
  if (it != tensors.end() && !it->second.failed && it->second.batchOnly &&
      !elementwiseOps().count(n.op_type()) && n.op_type() != "Unsqueeze") {
    failInput(n, i,
              "has one value per example (ONNX's [N]); gradc holds it as "
              "[N, 1], which only elementwise operators may read");
    return nullptr;
  }
  if (it != tensors.end())
    return it->second.failed ? nullptr : &it->second;
  if (zeroStates.count(n.input(i)))
    failInput(n, i,
              "is zeros of a shape holding the batch size (a "
              "ConstantOfShape); only an LSTM's or GRU's initial state may "
              "read it");
  else if (batchMarks.count(n.input(i)))
    failInput(n, i,
              "holds the batch size (from a Shape), which gradc leaves "
              "open until run time; only a Reshape may read it, as its "
              "dimension 0");
  else if (constants.count(n.input(i)))
    failInput(n, i,
              "is a constant; gradc needs it computed from the "
              "model's input");
  else
    failInput(n, i,
              "is not produced by an earlier node (a cycle, or a "
              "missing initializer)");
  return nullptr;
}

const onnx::TensorProto *OnnxImport::constant(const Node &n, int i,
                                              bool optional) {
  if (!hasInput(n, i)) {
    if (!optional)
      fail(n, absl::StrCat("input ", i, " is missing"));
    return nullptr;
  }
  auto it = constants.find(n.input(i));
  // The batch size is left open until run time: only the folding operators
  // move it, and only a Reshape reads it.
  static const std::set<std::string> batchReaders{
      "Slice",   "Gather", "Concat",    "Unsqueeze", "Squeeze", "Identity",
      "Reshape", "Cast",   "Transpose", "Mul",       "Div"};
  // As data only: not as axes (Unsqueeze), a shape of a constant
  // (Reshape), or a factor of an activation (Mul, Div).
  const std::string &op = n.op_type();
  bool asData = i == 0 || op == "Concat" || op == "Mul" || op == "Div" ||
                (op == "Reshape" && tensors.count(n.input(0)));
  if ((op == "Mul" || op == "Div") && n.input_size() == 2)
    asData = asData && constants.count(n.input(1 - i));
  if (it != constants.end() && batchMarks.count(n.input(i)) &&
      (!batchReaders.count(op) || !asData)) {
    failInput(n, i,
              "holds the batch size (from a Shape), which gradc leaves "
              "open until run time; only a Reshape may read it, as its "
              "dimension 0");
    return nullptr;
  }
  if (it != constants.end())
    return it->second;
  if (tensors.count(n.input(i)) && tensors[n.input(i)].failed)
    return nullptr;
  if (tensors.count(n.input(i)))
    failInput(n, i,
              "must be an initializer (a constant); gradc does not "
              "take it computed");
  else
    failInput(n, i, "is not an initializer or an earlier node's output");
  return nullptr;
}

bool OnnxImport::failInput(const Node &n, int i, const std::string &problem) {
  return fail(n, absl::StrCat("input ", i, " ('", n.input(i), "') ", problem));
}

std::string OnnxImport::layerName(const Node &n) {
  std::string base = nodeName(n);
  return uniqueLayerName(base.empty() ? n.op_type() : base);
}

std::string OnnxImport::uniqueLayerName(const std::string &base) {
  std::string name = base;
  for (int k = 2; layerNames.count(name) || inputNames.count(name); ++k)
    name = absl::StrCat(base, "_", k);
  layerNames.insert(name);
  return name;
}

std::string OnnxImport::appendLayer(const std::string &base, Layer layer,
                                    const std::vector<std::string> &inputs) {
  layer.set_name(uniqueLayerName(base));
  for (const std::string &in : inputs)
    layer.add_inputs(in);
  layerIndex[layer.name()] = file.model.layer_size();
  *file.model.add_layer() = std::move(layer);
  return file.model.layer(file.model.layer_size() - 1).name();
}

namespace {
Layer permuteLayer(std::initializer_list<int64_t> dims) {
  Layer l;
  for (int64_t d : dims)
    l.mutable_permute()->add_dims(d);
  return l;
}
Layer reshapeLayer(std::initializer_list<int64_t> shape) {
  Layer l;
  for (int64_t d : shape)
    l.mutable_reshape()->add_target_shape(d);
  return l;
}
} // namespace

const Tensor *OnnxImport::inOnnxOrder(const Tensor *x) {
  if (!x || !x->channelsLast())
    return x;
  std::string key =
      absl::StrCat(x->layer, "@onnx", absl::StrJoin(x->pads, ","));
  if (auto it = relaid.find(key); it != relaid.end())
    return &it->second;
  Tensor t = *x;
  t.layout = Layout::Onnx;
  // [H, W, C] to [C, H, W]; NCW's [1, W, C] to [C, 1, W] to [C, W].
  t.layer =
      appendLayer(x->layer + "/to_onnx", permuteLayer({3, 1, 2}), {x->layer});
  if (x->dims.size() == 3)
    t.layer = appendLayer(x->layer + "/to_ncw",
                          reshapeLayer({x->dims[1], x->dims[2]}), {t.layer});
  return &(relaid[key] = t);
}

const Tensor *OnnxImport::inChannelsLast(const Tensor *x) {
  if (!x || x->channelsLast())
    return x;
  std::string key =
      absl::StrCat(x->layer, "@nhwc", absl::StrJoin(x->pads, ","));
  if (auto it = relaid.find(key); it != relaid.end())
    return &it->second;
  Tensor t = *x;
  t.layout = Layout::ChannelsLast;
  if (x->dims.size() == 4) { // [C, H, W] to [H, W, C]
    t.layer =
        appendLayer(x->layer + "/to_nhwc", permuteLayer({2, 3, 1}), {x->layer});
  } else { // [C, W] to [W, C] to [1, W, C]
    t.layer =
        appendLayer(x->layer + "/to_nwc", permuteLayer({2, 1}), {x->layer});
    t.layer = appendLayer(x->layer + "/to_n1wc",
                          reshapeLayer({1, x->dims[2], x->dims[1]}), {t.layer});
  }
  return &(relaid[key] = t);
}

const std::set<std::string> &elementwiseOps() {
  static const std::set<std::string> ops = [] {
    std::set<std::string> s{"Relu",  "LeakyRelu", "Sigmoid",  "Tanh",  "Gelu",
                            "Swish", "Dropout",   "Identity", "Add",   "Sub",
                            "Mul",   "Div",       "Pow",      "Max",   "Min",
                            "Sum",   "Clip",      "Celu",     "Shrink"};
    for (const nn::UnaryFnInfo &f : nn::unaryFns())
      if (f.onnxIn && *f.onnxIn)
        s.insert(f.onnxIn);
    return s;
  }();
  return ops;
}

bool OnnxImport::feedsWindows(const std::string &name) const {
  // The window operators, and those that take a channels-last input at no
  // cost (a Flatten's features are reordered in the dense layer after it;
  // a Reshape to [N, -1] is a Flatten).
  static const std::set<std::string> windows{
      "Conv",          "MaxPool", "AveragePool",        "GlobalAveragePool",
      "GlobalMaxPool", "Pad",     "BatchNormalization", "Flatten",
      "Reshape"};
  static const std::set<std::string> blind = [] {
    std::set<std::string> s = elementwiseOps();
    s.insert("PRelu"); // its slope follows the channels' layout
    return s;
  }();
  std::set<std::string> seen{name};
  std::vector<std::string> todo{name};
  while (!todo.empty()) {
    std::string v = todo.back();
    todo.pop_back();
    for (const Node &n : proto.graph().node()) {
      if (std::find(n.input().begin(), n.input().end(), v) == n.input().end())
        continue;
      // (A Flatten that is the output must order its features as ONNX.)
      bool output =
          std::any_of(proto.graph().output().begin(),
                      proto.graph().output().end(), [&](const auto &o) {
                        return n.output_size() && o.name() == n.output(0);
                      });
      if (windows.count(n.op_type()) &&
          !(output && (n.op_type() == "Flatten" || n.op_type() == "Reshape")))
        return true;
      if (blind.count(n.op_type()) && n.output_size() &&
          seen.insert(n.output(0)).second)
        todo.push_back(n.output(0));
    }
  }
  return false;
}

Tensor &OnnxImport::addLayer(const Node &n, Layer layer,
                             const std::vector<const Tensor *> &inputs) {
  if (layer.name().empty())
    layer.set_name(layerName(n));
  for (const Tensor *t : inputs)
    layer.add_inputs(t->layer);
  layerIndex[layer.name()] = file.model.layer_size();
  Tensor &out = tensors[n.output(0)];
  out = Tensor();
  out.layer = layer.name();
  auto it = inferred.find(n.output(0));
  if (it != inferred.end() && it->second->has_tensor_type() &&
      it->second->tensor_type().has_shape())
    for (const auto &d : it->second->tensor_type().shape().dim())
      out.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  if (out.dims.size() == 1) { // [N]: gradc's [N, 1]
    out.dims.push_back(1);
    out.batchOnly = true;
  }
  *file.model.add_layer() = std::move(layer);
  return out;
}

void OnnxImport::addConstant(const std::string &name,
                             std::unique_ptr<onnx::TensorProto> t) {
  constants[name] = t.get();
  ownedConstants.push_back(std::move(t));
}

bool OnnxImport::give(const Node &n, const std::string &layer, const char *role,
                      const std::string &onnxName, std::vector<float> values,
                      bool fixed) {
  if (uses[onnxName] > 1 && !fixed)
    return fail(n, absl::StrCat("initializer '", onnxName,
                                "' is read by more than one node; gradc "
                                "trains one parameter per layer"));
  file.given[absl::StrCat(layer, ".", role)] = {onnxName, std::move(values)};
  return true;
}

} // namespace gradc::onnximport
