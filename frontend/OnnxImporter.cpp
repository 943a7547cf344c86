//===- OnnxImporter.cpp - ONNX graphs as gradc models ---------------------===//
//
// Reads the model with Debian's ONNX protobuf definitions, validates it with
// ONNX's checker and shape inference, then converts node by node through a
// table of operators (one function each). Layout: a rank-4 tensor is NCHW in
// ONNX and NHWC in gradc; kernels are converted when read. A flatten of an
// NCHW tensor orders its features C, H, W while gradc's orders them H, W, C:
// the tensor remembers it, and the dense layer it feeds takes its kernel
// rows in gradc's order, so no transpose runs.
//
//===----------------------------------------------------------------------===//

#include "frontend/OnnxImporter.h"
#include "frontend/ModelChecker.h"
#include "support/Files.h"
#include "support/ProtoParse.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace gradc {

const std::vector<std::string> &supportedOnnxOps() {
  static const std::vector<std::string> ops = {
      "Conv",          "BatchNormalization",
      "Relu",          "LeakyRelu",
      "PRelu",         "Sigmoid",
      "Tanh",          "Softmax",
      "LogSoftmax",    "MaxPool",
      "AveragePool",   "GlobalAveragePool",
      "GlobalMaxPool", "Gemm",
      "MatMul",        "Add",
      "Flatten",       "Reshape",
      "Concat",        "Dropout",
      "Identity",      "Constant",
      "Pad",           "Unsqueeze",
      "Squeeze"};
  return ops;
}

namespace {

std::string dirOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

/// A value of the graph as the conversion sees it.
struct Tensor {
  /// The layer that produces it ("" for the graph input).
  std::string layer;
  /// ONNX dims, the batch first (-1 when unknown).
  std::vector<int64_t> dims;
  /// Flattened from an NCHW [C, H, W] (C > 1, H * W > 1): gradc holds the
  /// features in H, W, C order, ONNX in C, H, W order.
  std::vector<int64_t> flatFromCHW;
  /// A global pooling's [N, C, 1, 1], held by gradc as [N, C].
  bool squeezed = false;
  /// Zero padding [top, bottom, left, right] of a Pad node, for the Conv
  /// that reads it to take over.
  std::vector<int64_t> pads;
  /// An earlier node failed: no further error about it.
  bool failed = false;
};

class OnnxImport {
public:
  OnnxImport(const std::string &path, ModelFile &file)
      : path(path), dir(dirOf(path)), file(file) {}

  absl::Status run();

private:
  using Node = onnx::NodeProto;

  // Errors: one line each, all collected.
  void error(const std::string &msg) {
    errors.push_back(absl::StrCat(path, ": error: ", msg));
  }
  bool fail(const Node &n, const std::string &msg) {
    error(absl::StrCat("node '", nodeName(n), "' (", n.op_type(), ", opset ",
                       opset, "): ", msg));
    return false;
  }
  static std::string nodeName(const Node &n) {
    return n.name().empty() && n.output_size() ? n.output(0) : n.name();
  }

  // Reading tensors.
  std::optional<int64_t> elementCount(const onnx::TensorProto &t,
                                      const std::string &what);
  std::optional<std::string> externalPath(const std::string &location,
                                          const std::string &what);
  std::optional<std::string> externalBytes(const onnx::TensorProto &t,
                                           const std::string &what,
                                           int64_t bytes);
  /// A FLOAT (INT64) tensor's values, from its field, raw data or external
  /// data, checked against its dims.
  template <typename T, typename Field>
  std::optional<std::vector<T>>
  values(const onnx::TensorProto &t, const std::string &what,
         onnx::TensorProto::DataType type, const Field &field);
  std::optional<std::vector<float>> floats(const onnx::TensorProto &t,
                                           const std::string &what) {
    return values<float>(t, what, onnx::TensorProto::FLOAT, t.float_data());
  }
  std::optional<std::vector<int64_t>> int64s(const onnx::TensorProto &t,
                                             const std::string &what) {
    return values<int64_t>(t, what, onnx::TensorProto::INT64, t.int64_data());
  }

  // The graph.
  bool readOpset();
  bool readInput();
  void convert(const Node &n);
  void readOutput();

  // What a node's conversion uses.
  const onnx::AttributeProto *attr(const Node &n, const char *name) const;
  int64_t attrInt(const Node &n, const char *name, int64_t d) const;
  float attrFloat(const Node &n, const char *name, float d) const;
  std::vector<int64_t> attrInts(const Node &n, const char *name) const;
  std::string attrString(const Node &n, const char *name, const char *d) const;
  bool onlyAttrs(const Node &n, std::initializer_list<const char *> known);
  bool onlyFirstOutput(const Node &n);
  /// Input `i` as an activation (the graph input or a layer's output), or
  /// null after an error.
  const Tensor *activation(const Node &n, int i);
  /// Input `i` as a constant (an initializer or a Constant node's value),
  /// or null after an error; optional inputs give null without an error.
  const onnx::TensorProto *constant(const Node &n, int i, bool optional);
  bool hasInput(const Node &n, int i) const {
    return i < n.input_size() && !n.input(i).empty();
  }
  /// Appends `layer` for `n` (name, inputs), its output a new tensor.
  Tensor &addLayer(const Node &n, Layer layer,
                   const std::vector<const Tensor *> &inputs);
  /// Gives `layer.role` the name and values of a constant; a constant read
  /// by two nodes is refused (gradc trains one parameter per layer).
  bool give(const Node &n, const std::string &layer, const char *role,
            const std::string &onnxName, std::vector<float> values) {
    if (uses[onnxName] > 1)
      return fail(n, absl::StrCat("initializer '", onnxName,
                                  "' is read by more than one node; gradc "
                                  "trains one parameter per layer"));
    file.given[absl::StrCat(layer, ".", role)] = {onnxName, std::move(values)};
    return true;
  }
  /// An unused, unique layer name for `n`.
  std::string layerName(const Node &n);
  /// The explicit [top, bottom, left, right] pads of a conv or pool window
  /// (ONNX: begins then ends), auto_pad resolved; nullopt after an error.
  std::optional<std::vector<int64_t>>
  windowPads(const Node &n, const Tensor &x, const std::vector<int64_t> &k,
             const std::vector<int64_t> &strides,
             const std::vector<int64_t> &dilations);

  // The operators, one function each.
  bool conv(const Node &n);
  bool batchNorm(const Node &n);
  bool activationOp(const Node &n);
  bool prelu(const Node &n);
  bool softmax(const Node &n);
  bool pool(const Node &n);
  bool globalPool(const Node &n);
  bool gemm(const Node &n);
  bool add(const Node &n);
  bool flatten(const Node &n);
  bool reshape(const Node &n);
  bool concat(const Node &n);
  bool dropout(const Node &n);
  bool identity(const Node &n);
  bool constantOp(const Node &n);
  bool pad(const Node &n);
  /// Unsqueeze, Squeeze, Reshape of a constant (PyTorch shapes PReLU's
  /// slope so): a constant of the new shape under the source's name.
  bool reshapeConstant(const Node &n);

  /// Makes `t` the output of a flatten (or of a reshape that flattens) of `x`.
  Tensor &flattenLayer(const Node &n, const Tensor &x);

  const std::string path, dir;
  ModelFile &file;
  onnx::ModelProto proto;
  int64_t opset = 0;
  std::vector<std::string> errors;
  std::map<std::string, const onnx::TensorProto *> constants;
  std::vector<std::unique_ptr<onnx::TensorProto>> ownedConstants;
  std::map<std::string, Tensor> tensors;
  std::map<std::string, int> uses;
  std::map<std::string, const onnx::TypeProto *> inferred;
  std::set<std::string> layerNames;
  std::map<std::string, int> layerIndex;
  std::string inputName;
};

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

std::optional<int64_t> OnnxImport::elementCount(const onnx::TensorProto &t,
                                                const std::string &what) {
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && n > kMaxElements / d)) {
      error(absl::StrCat(what, ": dims [", absl::StrJoin(t.dims(), ", "),
                         "] are negative or above ", kMaxElements,
                         " elements"));
      return std::nullopt;
    }
    n *= d;
  }
  return n;
}

/// The path of external data at `location`: only inside the model's
/// directory (no absolute path, no "..", no symlink out), as ONNX's security
/// guidance asks.
std::optional<std::string> OnnxImport::externalPath(const std::string &location,
                                                    const std::string &what) {
  if (location.empty()) {
    error(absl::StrCat(what, ": external data without a location"));
    return std::nullopt;
  }
  bool escapes = location[0] == '/';
  for (absl::string_view part : absl::StrSplit(location, '/'))
    escapes |= part == "..";
  char realDir[PATH_MAX], realFile[PATH_MAX];
  std::string full = absl::StrCat(dir, "/", location);
  if (!escapes && realpath(dir.c_str(), realDir) &&
      realpath(full.c_str(), realFile)) {
    std::string prefix = absl::StrCat(realDir, "/");
    escapes = std::strncmp(realFile, prefix.c_str(), prefix.size()) != 0;
  }
  if (escapes) {
    error(absl::StrCat(what, ": external data '", location,
                       "' is outside the model's directory (only files "
                       "inside it are read)"));
    return std::nullopt;
  }
  return full;
}

/// The bytes of an external tensor: from a regular file inside the model's
/// directory, its offset and length inside the file and equal to what the
/// dims need.
std::optional<std::string> OnnxImport::externalBytes(const onnx::TensorProto &t,
                                                     const std::string &what,
                                                     int64_t bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    auto number = [&](int64_t &v) {
      char *end = nullptr;
      errno = 0;
      long long x = std::strtoll(kv.value().c_str(), &end, 10);
      if (kv.value().empty() || *end || errno || x < 0)
        return false;
      v = x;
      return true;
    };
    if (kv.key() == "location")
      location = kv.value();
    else if ((kv.key() == "offset" && !number(offset)) ||
             (kv.key() == "length" && !number(length))) {
      error(absl::StrCat(what, ": external data ", kv.key(), " '", kv.value(),
                         "' is not a byte count"));
      return std::nullopt;
    }
  }
  auto full = externalPath(location, what);
  if (!full)
    return std::nullopt;
  auto data = readRegularFile(*full, "external data", kMaxOnnxFileBytes);
  if (!data.ok()) {
    error(absl::StrCat(what, ": ", data.status().message()));
    return std::nullopt;
  }
  if (length < 0)
    length = int64_t(data->size()) - std::min<int64_t>(offset, data->size());
  if (offset > int64_t(data->size()) ||
      length > int64_t(data->size()) - offset || length != bytes) {
    error(absl::StrCat(what, ": external data '", location, "' at offset ",
                       offset, " length ", length, " does not hold the ", bytes,
                       " bytes its dims need (the file has ", data->size(),
                       ")"));
    return std::nullopt;
  }
  return data->substr(offset, length);
}

template <typename T, typename Field>
std::optional<std::vector<T>>
OnnxImport::values(const onnx::TensorProto &t, const std::string &what,
                   onnx::TensorProto::DataType type, const Field &field) {
  if (t.data_type() != type) {
    error(absl::StrCat(what, ": a tensor of type ",
                       onnx::TensorProto::DataType_Name(
                           onnx::TensorProto::DataType(t.data_type())),
                       ", expected ", onnx::TensorProto::DataType_Name(type)));
    return std::nullopt;
  }
  auto n = elementCount(t, what);
  if (!n)
    return std::nullopt;
  int64_t bytes = *n * int64_t(sizeof(T));
  std::optional<std::string> raw;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    if (!(raw = externalBytes(t, what, bytes)))
      return std::nullopt;
  } else if (t.has_raw_data()) {
    raw = t.raw_data();
  }
  std::vector<T> v;
  if (raw) {
    if (int64_t(raw->size()) != bytes) {
      error(absl::StrCat(what, ": ", raw->size(),
                         " bytes of data, its dims need ", bytes));
      return std::nullopt;
    }
    v.resize(*n);
    std::memcpy(v.data(), raw->data(), raw->size());
    return v;
  }
  if (int64_t(field.size()) != *n) {
    error(
        absl::StrCat(what, ": ", field.size(), " values, its dims need ", *n));
    return std::nullopt;
  }
  v.assign(field.begin(), field.end());
  return v;
}

//===----------------------------------------------------------------------===//
// Attributes and inputs
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *OnnxImport::attr(const Node &n,
                                             const char *name) const {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t OnnxImport::attrInt(const Node &n, const char *name, int64_t d) const {
  const auto *a = attr(n, name);
  return a ? a->i() : d;
}

float OnnxImport::attrFloat(const Node &n, const char *name, float d) const {
  const auto *a = attr(n, name);
  return a ? a->f() : d;
}

std::vector<int64_t> OnnxImport::attrInts(const Node &n,
                                          const char *name) const {
  const auto *a = attr(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end())
           : std::vector<int64_t>();
}

std::string OnnxImport::attrString(const Node &n, const char *name,
                                   const char *d) const {
  const auto *a = attr(n, name);
  return a ? a->s() : d;
}

bool OnnxImport::onlyAttrs(const Node &n,
                           std::initializer_list<const char *> known) {
  bool ok = true;
  for (const auto &a : n.attribute())
    if (std::none_of(known.begin(), known.end(),
                     [&](const char *k) { return a.name() == k; }))
      ok = fail(n, absl::StrCat("attribute '", a.name(), "' is not supported"));
  return ok;
}

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
    fail(n, absl::StrCat("input ", i, " ('", n.input(i),
                         "') is zero-padded by a Pad node: gradc takes "
                         "padding only into a Conv"));
    return nullptr;
  }
  if (it != tensors.end() && !it->second.failed && it->second.dims.empty()) {
    fail(n, absl::StrCat("input ", i, " ('", n.input(i),
                         "') has no shape that ONNX's shape inference could "
                         "give"));
    return nullptr;
  }
  if (it != tensors.end())
    return it->second.failed ? nullptr : &it->second;
  if (constants.count(n.input(i)))
    fail(n, absl::StrCat("input ", i, " ('", n.input(i),
                         "') is a constant; gradc needs it computed from the "
                         "model's input"));
  else
    fail(n, absl::StrCat("input ", i, " ('", n.input(i),
                         "') is not produced by an earlier node (a cycle, or "
                         "a missing initializer)"));
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
  if (it != constants.end())
    return it->second;
  if (tensors.count(n.input(i)) && tensors[n.input(i)].failed)
    return nullptr;
  if (tensors.count(n.input(i)))
    fail(n, absl::StrCat("input ", i, " ('", n.input(i),
                         "') must be an initializer (a constant); gradc "
                         "does not take it computed"));
  else
    fail(n, absl::StrCat("input ", i, " ('", n.input(i),
                         "') is not an initializer or an earlier node's "
                         "output"));
  return nullptr;
}

std::string OnnxImport::layerName(const Node &n) {
  std::string base = nodeName(n);
  if (base.empty())
    base = n.op_type();
  std::string name = base;
  for (int k = 2; layerNames.count(name) || name == inputName; ++k)
    name = absl::StrCat(base, "_", k);
  layerNames.insert(name);
  return name;
}

Tensor &OnnxImport::addLayer(const Node &n, Layer layer,
                             const std::vector<const Tensor *> &inputs) {
  if (layer.name().empty())
    layer.set_name(layerName(n));
  for (const Tensor *t : inputs)
    layer.add_inputs(t->layer.empty() ? inputName : t->layer);
  layerIndex[layer.name()] = file.model.layer_size();
  Tensor &out = tensors[n.output(0)];
  out = Tensor();
  out.layer = layer.name();
  auto it = inferred.find(n.output(0));
  if (it != inferred.end() && it->second->has_tensor_type() &&
      it->second->tensor_type().has_shape())
    for (const auto &d : it->second->tensor_type().shape().dim())
      out.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  *file.model.add_layer() = std::move(layer);
  return out;
}

std::optional<std::vector<int64_t>>
OnnxImport::windowPads(const Node &n, const Tensor &x,
                       const std::vector<int64_t> &k,
                       const std::vector<int64_t> &strides,
                       const std::vector<int64_t> &dilations) {
  std::string autoPad = attrString(n, "auto_pad", "NOTSET");
  std::vector<int64_t> pads = attrInts(n, "pads");
  if (autoPad == "NOTSET") {
    if (pads.empty())
      pads.assign(4, 0);
    if (pads.size() != 4) {
      fail(n, absl::StrCat("pads has ", pads.size(), " values, expected 4"));
      return std::nullopt;
    }
    // ONNX: [top, left, bottom, right]; gradc: [top, bottom, left, right].
    return std::vector<int64_t>{pads[0], pads[2], pads[1], pads[3]};
  }
  if (autoPad == "VALID")
    return std::vector<int64_t>{0, 0, 0, 0};
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER") {
    fail(n, absl::StrCat("auto_pad '", autoPad, "' is not supported"));
    return std::nullopt;
  }
  std::vector<int64_t> out;
  for (int a = 0; a < 2; ++a) {
    int64_t in = x.dims[2 + a];
    int64_t o = (in + strides[a] - 1) / strides[a];
    int64_t total = std::max<int64_t>(
        (o - 1) * strides[a] + (k[a] - 1) * dilations[a] + 1 - in, 0);
    int64_t small = total / 2, big = total - small;
    out.push_back(autoPad == "SAME_UPPER" ? small : big);
    out.push_back(autoPad == "SAME_UPPER" ? big : small);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Operators
//===----------------------------------------------------------------------===//

bool OnnxImport::conv(const Node &n) {
  if (!onlyAttrs(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads",
                     "strides"}))
    return false;
  const Tensor *x = activation(n, 0);
  const onnx::TensorProto *w = constant(n, 1, false);
  const onnx::TensorProto *b = constant(n, 2, true);
  if (!x || !w)
    return false;
  if (x->dims.size() != 4 || w->dims_size() != 4)
    return fail(n, absl::StrCat("only 2-D convolutions are supported (a 4-D "
                                "NCHW input and OIHW weight), got a ",
                                x->dims.size(), "-D input"));
  int64_t m = w->dims(0), cg = w->dims(1), kh = w->dims(2), kw = w->dims(3);
  std::vector<int64_t> k{kh, kw};
  std::vector<int64_t> ks = attrInts(n, "kernel_shape");
  if (!ks.empty() && ks != k)
    return fail(n, absl::StrCat("kernel_shape [", absl::StrJoin(ks, ", "),
                                "] differs from the weight's [", kh, ", ", kw,
                                "]"));
  std::vector<int64_t> strides = attrInts(n, "strides"),
                       dilations = attrInts(n, "dilations");
  if (strides.empty())
    strides = {1, 1};
  if (dilations.empty())
    dilations = {1, 1};
  if (strides.size() != 2 || dilations.size() != 2)
    return fail(n, "strides and dilations need 2 values");
  auto pads = windowPads(n, *x, k, strides, dilations);
  auto weights = floats(*w, absl::StrCat("initializer '", w->name(), "'"));
  if (!pads || !weights)
    return false;
  for (size_t i = 0; i < x->pads.size(); ++i)
    (*pads)[i] += x->pads[i];
  std::optional<std::vector<float>> bias;
  if (b && !(bias = floats(*b, absl::StrCat("initializer '", b->name(), "'"))))
    return false;

  Layer layer;
  layer.set_name(layerName(n));
  Conv2D &c = *layer.mutable_conv2d();
  c.set_filters(m);
  c.add_kernel_size(kh);
  c.add_kernel_size(kw);
  for (int64_t s : strides)
    c.add_strides(s);
  for (int64_t d : dilations)
    c.add_dilations(d);
  for (int64_t p : *pads)
    c.add_pads(p);
  c.set_groups(attrInt(n, "group", 1));
  c.set_use_bias(b != nullptr);
  // OIHW to HWIO.
  std::vector<float> hwio(weights->size());
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < cg; ++i)
      for (int64_t h = 0; h < kh; ++h)
        for (int64_t v = 0; v < kw; ++v)
          hwio[((h * kw + v) * cg + i) * m + o] =
              (*weights)[((o * cg + i) * kh + h) * kw + v];
  give(n, layer.name(), "kernel", w->name(), std::move(hwio));
  if (bias)
    give(n, layer.name(), "bias", b->name(), std::move(*bias));
  addLayer(n, std::move(layer), {x});
  return true;
}

bool OnnxImport::batchNorm(const Node &n) {
  if (!onlyAttrs(n, {"epsilon", "momentum", "spatial", "training_mode"}) ||
      !onlyFirstOutput(n))
    return false;
  if (attrInt(n, "spatial", 1) != 1)
    return fail(n, "spatial 0 (per-activation statistics) is not supported");
  const Tensor *x = activation(n, 0);
  const onnx::TensorProto *t[4];
  for (int i = 0; i < 4; ++i)
    t[i] = constant(n, i + 1, false);
  if (!x || !t[0] || !t[1] || !t[2] || !t[3])
    return false;
  if (x->dims.size() != 4 && x->dims.size() != 2)
    return fail(n, absl::StrCat("expects an [N, C, H, W] or [N, C] input, got "
                                "rank ",
                                x->dims.size()));
  if (!x->flatFromCHW.empty())
    return fail(n, "the input is a Flatten of an NCHW tensor, whose features "
                   "gradc orders H, W, C; only a Gemm or MatMul may read it");
  Layer layer;
  layer.set_name(layerName(n));
  BatchNorm &bn = *layer.mutable_batch_norm();
  bn.set_epsilon(attrFloat(n, "epsilon", 1e-5f));
  bn.set_momentum(attrFloat(n, "momentum", 0.9f));
  const char *roles[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
  for (int i = 0; i < 4; ++i) {
    auto v = floats(*t[i], absl::StrCat("initializer '", t[i]->name(), "'"));
    if (!v)
      return false;
    give(n, layer.name(), roles[i], t[i]->name(), std::move(*v));
  }
  addLayer(n, std::move(layer), {x});
  return true;
}

/// Relu, LeakyRelu, Sigmoid, Tanh.
bool OnnxImport::activationOp(const Node &n) {
  bool leaky = n.op_type() == "LeakyRelu";
  if (!(leaky ? onlyAttrs(n, {"alpha"}) : onlyAttrs(n, {})))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  Layer layer;
  ActivationLayer &a = *layer.mutable_activation();
  a.set_kind(n.op_type() == "Relu"      ? RELU
             : leaky                    ? LEAKY_RELU
             : n.op_type() == "Sigmoid" ? SIGMOID
                                        : TANH);
  if (leaky)
    a.set_alpha(attrFloat(n, "alpha", 0.01f));
  Tensor &out = addLayer(n, std::move(layer), {x});
  out.flatFromCHW = x->flatFromCHW;
  out.squeezed = x->squeezed;
  return true;
}

/// The channel axis of an ONNX tensor of `rank` as gradc holds it: axis 1
/// for NCHW, the last otherwise.
int64_t channelAxis(size_t rank) { return rank == 4 ? 1 : int64_t(rank) - 1; }

bool OnnxImport::prelu(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  const Tensor *x = activation(n, 0);
  const onnx::TensorProto *slope = constant(n, 1, false);
  if (!x || !slope)
    return false;
  // gradc learns one slope per channel: the slope must vary along the
  // channel axis alone (right-aligned broadcasting).
  int64_t axis = channelAxis(x->dims.size());
  int64_t channels = x->dims[axis];
  int64_t offset = int64_t(x->dims.size()) - slope->dims_size();
  bool perChannel = offset >= 0;
  for (int i = 0; i < slope->dims_size() && perChannel; ++i)
    perChannel = slope->dims(i) == (i + offset == axis ? channels : 1) ||
                 (i + offset == axis && slope->dims(i) == 1 && channels == 1);
  if (!perChannel || x->squeezed || !x->flatFromCHW.empty())
    return fail(n, absl::StrCat("slope of shape [",
                                absl::StrJoin(slope->dims(), ", "),
                                "] is not one per channel (gradc learns one "
                                "slope per channel)"));
  auto v = floats(*slope, absl::StrCat("initializer '", slope->name(), "'"));
  if (!v)
    return false;
  Layer layer;
  layer.set_name(layerName(n));
  layer.mutable_activation()->set_kind(PRELU);
  give(n, layer.name(), "alpha", slope->name(), std::move(*v));
  addLayer(n, std::move(layer), {x});
  return true;
}

bool OnnxImport::softmax(const Node &n) {
  if (!onlyAttrs(n, {"axis"}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  int64_t rank = x->dims.size();
  int64_t axis = attrInt(n, "axis", opset >= 13 ? -1 : 1);
  if (axis < 0)
    axis += rank;
  // Before opset 13 the input is coerced to 2-D at `axis`: the same as the
  // last axis only when it is the last, and never for NCHW, whose last axis
  // (W) is not gradc's last (C).
  bool ok = opset >= 13 ? axis == channelAxis(rank)
                        : axis == rank - 1 && rank != 4;
  if (!ok || x->squeezed || !x->flatFromCHW.empty())
    return fail(n, absl::StrCat("axis ", attrInt(n, "axis", 0), " of a rank-",
                                rank,
                                " input is not supported (gradc normalizes "
                                "over the channel axis, the last of NHWC)"));
  Layer layer;
  layer.mutable_activation()->set_kind(n.op_type() == "Softmax" ? SOFTMAX
                                                                : LOG_SOFTMAX);
  addLayer(n, std::move(layer), {x});
  return true;
}

bool OnnxImport::pool(const Node &n) {
  bool isMax = n.op_type() == "MaxPool";
  if (!(isMax
            ? onlyAttrs(n, {"auto_pad", "ceil_mode", "dilations",
                            "kernel_shape", "pads", "storage_order", "strides"})
            : onlyAttrs(n, {"auto_pad", "ceil_mode", "count_include_pad",
                            "kernel_shape", "pads", "strides"})) ||
      !onlyFirstOutput(n))
    return false;
  // Attributes first: reported even when the input failed.
  std::vector<int64_t> k = attrInts(n, "kernel_shape"),
                       strides = attrInts(n, "strides"),
                       dilations = attrInts(n, "dilations");
  if (strides.empty())
    strides = {1, 1};
  if (dilations.empty())
    dilations = {1, 1};
  if (dilations != std::vector<int64_t>{1, 1})
    return fail(n, "dilations other than 1 are not supported");
  if (attrInt(n, "storage_order", 0) != 0)
    return fail(n, "storage_order 1 is not supported");
  if (strides.size() != 2 || k.size() != 2)
    return fail(n, "only 2-D pooling is supported (2 kernel_shape and "
                   "strides values)");
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  if (x->dims.size() != 4)
    return fail(n, "only 2-D pooling is supported (a 4-D NCHW input)");
  auto pads = windowPads(n, *x, k, strides, dilations);
  if (!pads)
    return false;
  if (attrInt(n, "ceil_mode", 0) != 0)
    for (int a = 0; a < 2; ++a) {
      int64_t span =
          x->dims[2 + a] + (*pads)[2 * a] + (*pads)[2 * a + 1] - k[a];
      if (span % strides[a] != 0)
        return fail(n, "ceil_mode 1 gives a larger output here than gradc's "
                       "pooling (which rounds down); it is not supported");
    }
  if (!isMax && attrInt(n, "count_include_pad", 0) != 0 &&
      std::any_of(pads->begin(), pads->end(), [](int64_t p) { return p; }))
    return fail(n, "count_include_pad 1 with padding is not supported (gradc "
                   "averages over the window's input elements)");
  Layer layer;
  Pool2D &p = isMax ? *layer.mutable_max_pool2d() : *layer.mutable_avg_pool2d();
  for (int a = 0; a < 2; ++a) {
    p.add_pool_size(k[a]);
    p.add_strides(strides[a]);
  }
  for (int64_t v : *pads)
    p.add_pads(v);
  addLayer(n, std::move(layer), {x});
  return true;
}

bool OnnxImport::globalPool(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  if (x->dims.size() != 4)
    return fail(n, "only 2-D global pooling (a 4-D NCHW input) is supported");
  Layer layer;
  if (n.op_type() == "GlobalAveragePool")
    layer.mutable_global_avg_pool2d();
  else
    layer.mutable_global_max_pool2d();
  addLayer(n, std::move(layer), {x}).squeezed = true;
  return true;
}

/// Gemm and MatMul: a dense layer whose kernel is B ([in, out]).
bool OnnxImport::gemm(const Node &n) {
  bool isGemm = n.op_type() == "Gemm";
  if (!(isGemm ? onlyAttrs(n, {"alpha", "beta", "transA", "transB"})
               : onlyAttrs(n, {})))
    return false;
  const Tensor *a = activation(n, 0);
  const onnx::TensorProto *b = constant(n, 1, false);
  const onnx::TensorProto *c = isGemm ? constant(n, 2, true) : nullptr;
  if (!a || !b)
    return false;
  if (attrInt(n, "transA", 0) != 0)
    return fail(n, "transA 1 is not supported (the input is [N, features])");
  if (a->dims.size() != 2 || b->dims_size() != 2)
    return fail(n, absl::StrCat("expects a 2-D input [N, features] and a 2-D "
                                "weight, got ranks ",
                                a->dims.size(), " and ", b->dims_size()));
  bool transB = attrInt(n, "transB", 0) != 0;
  int64_t in = b->dims(transB ? 1 : 0), units = b->dims(transB ? 0 : 1);
  auto weights = floats(*b, absl::StrCat("initializer '", b->name(), "'"));
  if (!weights)
    return false;
  float alpha = attrFloat(n, "alpha", 1.0f), beta = attrFloat(n, "beta", 1.0f);
  // gradc's kernel is [in, out], its rows in the order gradc holds the
  // input's features.
  const std::vector<int64_t> &chw = a->flatFromCHW;
  std::vector<float> kernel(weights->size());
  for (int64_t r = 0; r < in; ++r) {
    int64_t src = r; // the ONNX feature of gradc's feature r
    if (!chw.empty()) {
      int64_t ch = r % chw[0], hw = r / chw[0];
      src = ch * chw[1] * chw[2] + hw;
    }
    for (int64_t u = 0; u < units; ++u)
      kernel[r * units + u] =
          alpha * (*weights)[transB ? u * in + src : src * units + u];
  }
  Layer layer;
  layer.set_name(layerName(n));
  Dense &d = *layer.mutable_dense();
  d.set_units(units);
  d.set_use_bias(c && beta != 0.0f);
  if (c && beta != 0.0f) {
    auto bias = floats(*c, absl::StrCat("initializer '", c->name(), "'"));
    if (!bias)
      return false;
    if (bias->size() == 1)
      bias->assign(units, (*bias)[0]);
    if (int64_t(bias->size()) != units || c->dims_size() > 2 ||
        (c->dims_size() == 2 && c->dims(0) != 1))
      return fail(n,
                  absl::StrCat("C of shape [", absl::StrJoin(c->dims(), ", "),
                               "] is not a bias of ", units,
                               " values (one per output)"));
    for (float &v : *bias)
      v *= beta;
    give(n, layer.name(), "bias", c->name(), std::move(*bias));
  }
  give(n, layer.name(), "kernel", b->name(), std::move(kernel));
  addLayer(n, std::move(layer), {a});
  return true;
}

/// Two activations of one shape; or a bias added to a MatMul, Gemm or Conv
/// without one (PyTorch's Linear on some inputs), which becomes its bias.
bool OnnxImport::add(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  for (int i = 0; i < 2; ++i) {
    if (!hasInput(n, i) || !constants.count(n.input(i)))
      continue;
    const Tensor *x = activation(n, 1 - i);
    const onnx::TensorProto *bias = constant(n, i, false);
    if (!x || !bias)
      return false;
    auto at = layerIndex.find(x->layer);
    Layer *producer =
        at == layerIndex.end() ? nullptr : file.model.mutable_layer(at->second);
    bool biasless =
        producer && uses[n.input(1 - i)] == 1 &&
        ((producer->has_dense() && !producer->dense().use_bias()) ||
         (producer->has_conv2d() && !producer->conv2d().use_bias()));
    int64_t axis = channelAxis(x->dims.size());
    int64_t offset = int64_t(x->dims.size()) - bias->dims_size();
    bool perChannel = biasless && offset >= 0 && x->dims[axis] > 0;
    for (int d = 0; d < bias->dims_size() && perChannel; ++d)
      perChannel = bias->dims(d) == (d + offset == axis ? x->dims[axis] : 1);
    if (!perChannel)
      return fail(n, "adding a constant is supported only as the bias of the "
                     "MatMul, Gemm or Conv without one before it");
    auto v = floats(*bias, absl::StrCat("initializer '", bias->name(), "'"));
    if (!v)
      return false;
    if (producer->has_dense())
      producer->mutable_dense()->set_use_bias(true);
    else
      producer->mutable_conv2d()->set_use_bias(true);
    give(n, producer->name(), "bias", bias->name(), std::move(*v));
    tensors[n.output(0)] = *x;
    return true;
  }
  const Tensor *x = activation(n, 0), *y = activation(n, 1);
  if (!x || !y)
    return false;
  if (x->flatFromCHW != y->flatFromCHW)
    return fail(n, "one input is a Flatten of an NCHW tensor and the other "
                   "is not (gradc orders their features differently)");
  if (x->dims != y->dims)
    return fail(n, absl::StrCat("broadcasting [", absl::StrJoin(x->dims, ", "),
                                "] and [", absl::StrJoin(y->dims, ", "),
                                "] is not supported (only equal shapes, or "
                                "a bias)"));
  Layer layer;
  layer.mutable_add();
  Tensor &out = addLayer(n, std::move(layer), {x, y});
  out.flatFromCHW = x->flatFromCHW;
  out.squeezed = x->squeezed;
  return true;
}

Tensor &OnnxImport::flattenLayer(const Node &n, const Tensor &x) {
  Layer layer;
  layer.mutable_flatten();
  Tensor in = x; // addLayer may move the map's nodes' contents
  Tensor &out = addLayer(n, std::move(layer), {&x});
  if (in.dims.size() == 4 && !in.squeezed && in.dims[1] > 1 &&
      in.dims[2] * in.dims[3] > 1)
    out.flatFromCHW = {in.dims[1], in.dims[2], in.dims[3]};
  else
    out.flatFromCHW = in.flatFromCHW;
  return out;
}

bool OnnxImport::flatten(const Node &n) {
  if (!onlyAttrs(n, {"axis"}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  int64_t axis = attrInt(n, "axis", 1);
  if (axis < 0)
    axis += x->dims.size();
  if (axis != 1)
    return fail(n, absl::StrCat("axis ", attrInt(n, "axis", 1),
                                " is not supported (only 1: [N, features])"));
  flattenLayer(n, *x);
  return true;
}

bool OnnxImport::reshape(const Node &n) {
  if (hasInput(n, 0) && constants.count(n.input(0)))
    return reshapeConstant(n);
  if (!onlyAttrs(n, {"allowzero"}))
    return false;
  const Tensor *x = activation(n, 0);
  const onnx::TensorProto *s = constant(n, 1, false);
  if (!x || !s)
    return false;
  auto shape = int64s(*s, absl::StrCat("shape '", s->name(), "'"));
  if (!shape)
    return false;
  int64_t features = 1;
  for (size_t d = 1; d < x->dims.size(); ++d)
    features *= x->dims[d];
  int64_t batch = x->dims.empty() ? -1 : x->dims[0];
  const std::vector<int64_t> &t = *shape;
  bool keepsBatch = !t.empty() && (t[0] == -1 || t[0] == 0 || t[0] == batch);
  if (keepsBatch && t.size() == 2 && (t[1] == -1 || t[1] == features) &&
      features > 0) {
    flattenLayer(n, *x);
    return true;
  }
  bool same = keepsBatch && t.size() == x->dims.size();
  for (size_t d = 1; d < t.size() && same; ++d)
    same = t[d] == x->dims[d] || (t[d] == 0 && !attrInt(n, "allowzero", 0));
  if (same) {
    tensors[n.output(0)] = *x;
    return true;
  }
  return fail(n, absl::StrCat("shape [", absl::StrJoin(t, ", "),
                              "] is not supported (only [N, -1], a flatten, "
                              "or the input's own shape)"));
}

bool OnnxImport::concat(const Node &n) {
  if (!onlyAttrs(n, {"axis"}))
    return false;
  std::vector<const Tensor *> in;
  for (int i = 0; i < n.input_size(); ++i)
    if (const Tensor *t = activation(n, i))
      in.push_back(t);
    else
      return false;
  if (in.size() < 2)
    return fail(n, "expects at least 2 inputs");
  int64_t rank = in[0]->dims.size();
  int64_t axis = attrInt(n, "axis", 1);
  if (axis < 0)
    axis += rank;
  if (axis != channelAxis(rank) || rank < 2 || in[0]->squeezed ||
      !in[0]->flatFromCHW.empty())
    return fail(n,
                absl::StrCat("axis ", attrInt(n, "axis", 1), " of rank-", rank,
                             " inputs is not supported (only the channel "
                             "axis)"));
  Layer layer;
  layer.mutable_concat();
  addLayer(n, std::move(layer), in);
  return true;
}

bool OnnxImport::dropout(const Node &n) {
  if (!onlyAttrs(n, {"ratio", "seed"}) || !onlyFirstOutput(n))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  float rate = attrFloat(n, "ratio", 0.5f);
  if (const onnx::TensorProto *r = constant(n, 1, true)) {
    auto v = floats(*r, absl::StrCat("ratio '", r->name(), "'"));
    if (!v || v->size() != 1)
      return v ? fail(n, "ratio must be a scalar") : false;
    rate = (*v)[0];
  }
  // training_mode true applies dropout at inference; gradc's prediction
  // never does (training always does).
  if (const onnx::TensorProto *t = constant(n, 2, true)) {
    bool on =
        t->data_type() == onnx::TensorProto::BOOL &&
        ((t->has_raw_data() && !t->raw_data().empty() && t->raw_data()[0]) ||
         (t->int32_data_size() && t->int32_data(0)));
    if (on)
      return fail(n, "training_mode true (dropout at inference) is not "
                     "supported");
  }
  Layer layer;
  layer.mutable_dropout()->set_rate(rate);
  Tensor &out = addLayer(n, std::move(layer), {x});
  out.flatFromCHW = x->flatFromCHW;
  out.squeezed = x->squeezed;
  return true;
}

bool OnnxImport::identity(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  if (hasInput(n, 0) && constants.count(n.input(0))) {
    auto t = std::make_unique<onnx::TensorProto>(*constants[n.input(0)]);
    t->set_name(n.output(0));
    constants[n.output(0)] = t.get();
    ownedConstants.push_back(std::move(t));
    return true;
  }
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  tensors[n.output(0)] = *x;
  return true;
}

bool OnnxImport::constantOp(const Node &n) {
  if (!onlyAttrs(n, {"value"}))
    return false;
  const auto *a = attr(n, "value");
  if (!a || !a->has_t())
    return fail(n, "needs a tensor 'value'");
  auto t = std::make_unique<onnx::TensorProto>(a->t());
  t->set_name(n.output(0));
  constants[n.output(0)] = t.get();
  ownedConstants.push_back(std::move(t));
  return true;
}

/// Zero padding of H and W (constant mode, value 0): none is an identity,
/// some is taken over by the Conv that reads it.
bool OnnxImport::pad(const Node &n) {
  if (!onlyAttrs(n, {"mode", "pads", "value"}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  std::vector<int64_t> pads = attrInts(n, "pads");
  float value = attrFloat(n, "value", 0.0f);
  if (const onnx::TensorProto *p = constant(n, 1, true)) {
    auto v = int64s(*p, absl::StrCat("pads '", p->name(), "'"));
    if (!v)
      return false;
    pads = *v;
  }
  if (const onnx::TensorProto *c = constant(n, 2, true)) {
    auto v = floats(*c, absl::StrCat("constant_value '", c->name(), "'"));
    if (!v || v->size() != 1)
      return v ? fail(n, "constant_value must be a scalar") : false;
    value = (*v)[0];
  }
  if (hasInput(n, 3))
    return fail(n, "input 'axes' is not supported");
  if (attrString(n, "mode", "constant") != "constant" || value != 0.0f)
    return fail(n, "only zero padding (mode constant, value 0) is supported");
  size_t rank = x->dims.size();
  if (pads.size() != 2 * rank)
    return fail(n, absl::StrCat("pads has ", pads.size(), " values, expected ",
                                2 * rank));
  bool any = false, spatialOnly = rank == 4;
  for (size_t d = 0; d < rank; ++d) {
    any |= pads[d] != 0 || pads[d + rank] != 0;
    if (d < 2)
      spatialOnly &= pads[d] == 0 && pads[d + rank] == 0;
  }
  Tensor out = *x;
  if (any) {
    if (!spatialOnly ||
        std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; }))
      return fail(n, "only zero padding of H and W is supported");
    std::vector<int64_t> add{pads[2], pads[6], pads[3], pads[7]};
    if (out.pads.empty())
      out.pads.assign(4, 0);
    for (int i = 0; i < 4; ++i)
      out.pads[i] += add[i];
    if (out.dims.size() == 4) {
      out.dims[2] += add[0] + add[1];
      out.dims[3] += add[2] + add[3];
    }
  }
  tensors[n.output(0)] = out;
  return true;
}

bool OnnxImport::reshapeConstant(const Node &n) {
  if (!onlyAttrs(n, {"axes", "allowzero"}))
    return false;
  const onnx::TensorProto *t = constant(n, 0, false);
  if (!t)
    return false;
  std::vector<int64_t> dims(t->dims().begin(), t->dims().end()), arg;
  if (const onnx::TensorProto *a = constant(n, 1, true)) {
    auto v = int64s(*a, absl::StrCat("input '", a->name(), "'"));
    if (!v)
      return false;
    arg = *v;
  } else {
    arg = attrInts(n, "axes");
  }
  auto count = elementCount(*t, absl::StrCat("initializer '", t->name(), "'"));
  if (!count)
    return false;
  std::vector<int64_t> out;
  if (n.op_type() == "Reshape") {
    int64_t known = 1, infer = -1;
    for (size_t d = 0; d < arg.size(); ++d) {
      int64_t v = arg[d] == 0 && d < dims.size() ? dims[d] : arg[d];
      if (v == -1 && infer < 0)
        infer = int64_t(d);
      else if (v < 0)
        return fail(n, "a shape of more than one -1 or a negative size");
      else
        known *= v;
      out.push_back(v);
    }
    if (infer >= 0 && known > 0)
      out[infer] = *count / known;
  } else if (n.op_type() == "Unsqueeze") {
    out = dims;
    std::vector<int64_t> axes = arg;
    int64_t rank = int64_t(dims.size() + axes.size());
    for (int64_t &a : axes)
      a = a < 0 ? a + rank : a;
    std::sort(axes.begin(), axes.end());
    for (int64_t a : axes) {
      if (a < 0 || a > int64_t(out.size()))
        return fail(n, "axes out of range");
      out.insert(out.begin() + a, 1);
    }
  } else { // Squeeze
    for (size_t d = 0; d < dims.size(); ++d) {
      bool listed = arg.empty()
                        ? dims[d] == 1
                        : std::count(arg.begin(), arg.end(), int64_t(d)) +
                              std::count(arg.begin(), arg.end(),
                                         int64_t(d) - int64_t(dims.size()));
      if (!listed)
        out.push_back(dims[d]);
    }
  }
  int64_t total = 1;
  for (int64_t v : out)
    total *= v;
  if (total != *count)
    return fail(n, absl::StrCat("shape [", absl::StrJoin(out, ", "),
                                "] does not hold the ", *count, " values of '",
                                t->name(), "'"));
  auto copy = std::make_unique<onnx::TensorProto>(*t);
  copy->clear_dims();
  for (int64_t v : out)
    copy->add_dims(v);
  constants[n.output(0)] = copy.get();
  ownedConstants.push_back(std::move(copy));
  return true;
}

//===----------------------------------------------------------------------===//
// The graph
//===----------------------------------------------------------------------===//

using Convert = bool (OnnxImport::*)(const onnx::NodeProto &);

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

bool OnnxImport::readInput() {
  const onnx::GraphProto &g = proto.graph();
  std::vector<const onnx::ValueInfoProto *> inputs;
  for (const auto &in : g.input())
    if (!constants.count(in.name()))
      inputs.push_back(&in);
  if (inputs.size() != 1) {
    std::vector<std::string> names;
    for (auto *in : inputs)
      names.push_back(in->name());
    error(absl::StrCat("the graph has ", inputs.size(), " inputs (",
                       absl::StrJoin(names, ", "), "); a gradc model has one"));
    return false;
  }
  const onnx::ValueInfoProto &in = *inputs[0];
  inputName = in.name();
  const auto &type = in.type().tensor_type();
  if (type.elem_type() != onnx::TensorProto::FLOAT || !type.has_shape() ||
      type.shape().dim_size() < 2 || type.shape().dim_size() > 4) {
    error(absl::StrCat("input '", in.name(),
                       "' must be a FLOAT tensor of rank 2 to 4 [N, ...]"));
    return false;
  }
  Tensor t;
  std::vector<int64_t> perExample;
  for (int d = 0; d < type.shape().dim_size(); ++d) {
    const auto &dim = type.shape().dim(d);
    int64_t v = dim.has_dim_value() ? dim.dim_value() : -1;
    if (d > 0 && v <= 0) {
      error(absl::StrCat("input '", in.name(), "': dimension ", d, " is ",
                         dim.has_dim_param() ? "'" + dim.dim_param() + "'"
                                             : std::to_string(v),
                         "; only the batch (first) dimension may be dynamic"));
      return false;
    }
    t.dims.push_back(d == 0 ? -1 : v);
    if (d > 0)
      perExample.push_back(v);
  }
  if (perExample.size() == 3) // CHW to HWC
    perExample = {perExample[1], perExample[2], perExample[0]};
  Input &input = *file.model.add_input();
  input.set_name(inputName);
  for (int64_t v : perExample)
    input.add_shape(v);
  tensors[inputName] = t;
  return true;
}

void OnnxImport::convert(const Node &n) {
  static const std::map<std::string, Convert> table = {
      {"Conv", &OnnxImport::conv},
      {"BatchNormalization", &OnnxImport::batchNorm},
      {"Relu", &OnnxImport::activationOp},
      {"LeakyRelu", &OnnxImport::activationOp},
      {"Sigmoid", &OnnxImport::activationOp},
      {"Tanh", &OnnxImport::activationOp},
      {"PRelu", &OnnxImport::prelu},
      {"Softmax", &OnnxImport::softmax},
      {"LogSoftmax", &OnnxImport::softmax},
      {"MaxPool", &OnnxImport::pool},
      {"AveragePool", &OnnxImport::pool},
      {"GlobalAveragePool", &OnnxImport::globalPool},
      {"GlobalMaxPool", &OnnxImport::globalPool},
      {"Gemm", &OnnxImport::gemm},
      {"MatMul", &OnnxImport::gemm},
      {"Add", &OnnxImport::add},
      {"Flatten", &OnnxImport::flatten},
      {"Reshape", &OnnxImport::reshape},
      {"Concat", &OnnxImport::concat},
      {"Dropout", &OnnxImport::dropout},
      {"Identity", &OnnxImport::identity},
      {"Constant", &OnnxImport::constantOp},
      {"Pad", &OnnxImport::pad},
      {"Unsqueeze", &OnnxImport::reshapeConstant},
      {"Squeeze", &OnnxImport::reshapeConstant},
  };
  bool ok = false;
  auto it = table.find(n.op_type());
  // An input that failed before fails this node without another line about
  // it (its other problems, such as attributes, are still reported).
  bool inputFailed = false;
  for (const std::string &in : n.input())
    inputFailed |= tensors.count(in) && tensors[in].failed;
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    fail(n, absl::StrCat("operators of domain '", n.domain(),
                         "' are not supported"));
  else if (it == table.end())
    fail(n, absl::StrCat("operator ", n.op_type(),
                         " is not supported (gradc imports ",
                         absl::StrJoin(supportedOnnxOps(), ", "), ")"));
  else if (n.output_size() == 0 || n.output(0).empty())
    fail(n, "has no output");
  else
    ok = (this->*(it->second))(n) && !inputFailed;
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
  if (it == tensors.end() || it->second.layer.empty()) {
    error(absl::StrCat("output '", g.output(0).name(),
                       "' is not computed by a node from the input"));
    return;
  }
  if (it->second.failed)
    return;
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
  if (!readOpset())
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  // External data first: ONNX's checker would look for files anywhere.
  for (const auto &t : proto.graph().initializer())
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      std::string location;
      for (const auto &kv : t.external_data())
        if (kv.key() == "location")
          location = kv.value();
      externalPath(location, absl::StrCat("initializer '", t.name(), "'"));
    }
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
  // ONNX's own shape inference (Debian's 1.12) crashes on some malformed
  // nodes (fuzz/ found a zero stride and a Conv of a 3-D input): it runs
  // only on operators gradc imports, whose windows are checked first.
  std::set<std::string> known(supportedOnnxOps().begin(),
                              supportedOnnxOps().end());
  std::map<std::string, int64_t> rank; // -1: unknown, -2: after an error
  for (const auto &in : proto.graph().input())
    rank[in.name()] = in.type().tensor_type().has_shape()
                          ? in.type().tensor_type().shape().dim_size()
                          : -1;
  for (const auto &t : proto.graph().initializer())
    rank[t.name()] = t.dims_size();
  for (const auto &n : proto.graph().node()) {
    const std::string &op = n.op_type();
    if (!known.count(op) || !(n.domain().empty() || n.domain() == "ai.onnx")) {
      error(absl::StrCat("node '", nodeName(n), "' (", op, ", opset ", opset,
                         "): operator ", op,
                         " is not supported (gradc imports ",
                         absl::StrJoin(supportedOnnxOps(), ", "), ")"));
      continue;
    }
    auto rankOf = [&](int i) -> int64_t {
      auto it = i < n.input_size() ? rank.find(n.input(i)) : rank.end();
      // Not found: an undefined input or an unsupported producer, both
      // reported already.
      return it == rank.end() ? -2 : it->second;
    };
    auto notFour = [](int64_t r) { return r != 4 && r != -2; };
    bool windowed = op == "Conv" || op == "MaxPool" || op == "AveragePool";
    bool global = op == "GlobalAveragePool" || op == "GlobalMaxPool";
    if ((windowed || global) &&
        (notFour(rankOf(0)) || (op == "Conv" && notFour(rankOf(1)))))
      error(absl::StrCat("node '", nodeName(n), "' (", op,
                         "): gradc imports 2-D windows only: a 4-D NCHW "
                         "input",
                         op == "Conv" ? " and a 4-D OIHW weight" : "",
                         " of known rank"));
    for (const auto &a : n.attribute()) {
      bool window = a.name() == "strides" || a.name() == "dilations" ||
                    a.name() == "kernel_shape";
      bool bad = (window && (a.ints_size() != 2 ||
                             std::any_of(a.ints().begin(), a.ints().end(),
                                         [](int64_t v) { return v < 1; }))) ||
                 (a.name() == "pads" && windowed &&
                  (a.ints_size() != 4 ||
                   std::any_of(a.ints().begin(), a.ints().end(),
                               [](int64_t v) { return v < 0; }))) ||
                 (a.name() == "group" && a.i() < 1);
      if (bad)
        error(absl::StrCat("node '", nodeName(n), "' (", op, "): attribute '",
                           a.name(), "' must be positive, 2 values (4 pads)"));
    }
    int64_t out = op == "Flatten" || op == "Gemm" || op == "MatMul" ? 2
                  : op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" ||
                          op == "Constant"
                      ? -1
                      : rankOf(0);
    for (const std::string &o : n.output())
      rank[o] = out;
  }
  if (!errors.empty())
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  // ONNX's checker and shape inference: types, topological order, each
  // node's inputs and attributes against its schema.
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
  if (!readInput())
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  for (const auto &n : g.node())
    convert(n);
  if (errors.empty() && file.model.layer_size() == 0)
    error("the graph has no node that computes from the input");
  if (errors.empty())
    readOutput();
  if (!errors.empty())
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  if (file.model.name().empty())
    file.model.set_name(g.name().empty() ? "onnx_model" : g.name());
  file.networkPath = path;
  file.inputLocs.resize(file.model.input_size());
  file.layerLocs.resize(file.model.layer_size());
  return absl::OkStatus();
}

} // namespace

absl::Status importOnnxNetwork(const std::string &path, ModelFile &file) {
  return OnnxImport(path, file).run();
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
  std::set<std::string> names{m.input_size() ? m.input(0).name() : ""};
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
