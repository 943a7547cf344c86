//===- OnnxExporter.cpp - gradc models as ONNX inference graphs -----------===//

#include "frontend/OnnxExporter.h"
#include "frontend/LayerDef.h"
#include "support/Files.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "onnx/onnx_pb.h"

namespace gradc {

size_t OnnxEmit::inputRank(int i) const {
  int producer = l.inputs[i];
  const Shape &s = model.shapeOf(producer);
  return s.size() + 1;
}

std::string OnnxEmit::toNchw(const std::string &x, const std::string &suffix) {
  onnx::NodeProto &t = node("Transpose", {x}, suffix);
  attr(t, "perm", std::vector<int64_t>{0, 3, 1, 2});
  return t.output(0);
}

onnx::NodeProto &OnnxEmit::node(const char *op, std::vector<std::string> ins,
                                const std::string &suffix) {
  onnx::NodeProto &n = *g.add_node();
  n.set_op_type(op);
  std::string name = l.layer->name();
  n.set_name(absl::StrCat(name, "/", op, suffix, "_", counter));
  for (std::string &s : ins)
    n.add_input(std::move(s));
  n.add_output(absl::StrCat(name, "/", op, suffix, "_", counter++));
  return n;
}

void OnnxEmit::attr(onnx::NodeProto &n, const char *name, int64_t v) {
  auto &a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
}

void OnnxEmit::attr(onnx::NodeProto &n, const char *name, float v) {
  auto &a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(v);
}

void OnnxEmit::attr(onnx::NodeProto &n, const char *name,
                    const std::vector<int64_t> &v) {
  auto &a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v)
    a.add_ints(x);
}

std::string OnnxEmit::input(int i) {
  OnnxValue &v = in[i];
  if (v.chw.empty())
    return v.name;
  // ONNX holds the features in C, H, W order: flatten NHWC instead.
  onnx::NodeProto &t = node("Transpose", {v.unflattened}, "_nhwc");
  attr(t, "perm", std::vector<int64_t>{0, 2, 3, 1});
  onnx::NodeProto &f = node("Flatten", {t.output(0)}, "_nhwc");
  v = {f.output(0), {}, ""};
  return v.name;
}

std::string OnnxEmit::tensor(const ParamSpec &spec,
                             const std::vector<float> &values,
                             std::vector<int64_t> dims,
                             const std::function<int64_t(int64_t)> &at) {
  onnx::TensorProto &t = *g.add_initializer();
  t.set_name(spec.name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims)
    t.add_dims(d);
  std::string raw(values.size() * sizeof(float), '\0');
  float *out = reinterpret_cast<float *>(raw.data());
  for (size_t k = 0; k < values.size(); ++k)
    out[k] = values[at ? at(int64_t(k)) : int64_t(k)];
  t.set_raw_data(std::move(raw));
  return spec.name;
}

std::string OnnxEmit::param(const std::string &role, std::vector<int64_t> dims,
                            const std::function<int64_t(int64_t)> &at) {
  int i = l.param(role);
  return i < 0 ? std::string()
               : tensor(model.params[i], *w.params[i], std::move(dims), at);
}

std::string OnnxEmit::buffer(const std::string &role, std::vector<int64_t> dims,
                             const std::function<int64_t(int64_t)> &at) {
  int i = l.buffer(role);
  return i < 0 ? std::string()
               : tensor(model.buffers[i], *w.buffers[i], std::move(dims), at);
}

std::string OnnxEmit::constant(const std::string &name,
                               std::vector<int64_t> dims,
                               std::vector<float> values) {
  ParamSpec spec;
  spec.name = absl::StrCat(l.layer->name(), ".", name);
  return tensor(spec, values, std::move(dims), nullptr);
}

std::string OnnxEmit::int64s(const std::string &name,
                             const std::vector<int64_t> &v) {
  onnx::TensorProto &t = *g.add_initializer();
  t.set_name(absl::StrCat(l.layer->name(), ".", name, "_", counter++));
  t.set_data_type(onnx::TensorProto::INT64);
  t.add_dims(int64_t(v.size()));
  for (int64_t x : v)
    t.add_int64_data(x);
  return t.name();
}

/// GELU as PyTorch 1.13 exports it (opsets before 20 have no Gelu), so
/// that importers that recognize PyTorch's pattern, gradc's among them, see
/// it: x * (1 + erf(x / sqrt 2)) * 0.5, or 0.5 * (x * (1 + tanh(beta *
/// (x + kappa * (x * (x * x)))))).
std::string OnnxEmit::gelu(const std::string &x) {
  auto scalar = [&](const char *name, double v) {
    return constant(absl::StrCat(name, "_", counter), {}, {float(v)});
  };
  auto out = [&](const char *op, std::vector<std::string> ins) {
    return node(op, std::move(ins)).output(0);
  };
  if (l.activation == GELU) {
    std::string erf =
        out("Erf", {out("Div", {x, scalar("sqrt2", 1.4142135623730951)})});
    std::string sum = out("Add", {erf, scalar("one", 1)});
    return out("Mul", {out("Mul", {x, sum}), scalar("half", 0.5)});
  }
  std::string cube = out("Mul", {x, out("Mul", {x, x})});
  std::string inner = out(
      "Mul", {scalar("beta", 0.7978845608028654),
              out("Add", {x, out("Mul", {scalar("kappa", 0.044715), cube})})});
  std::string sum = out("Add", {scalar("one", 1), out("Tanh", {inner})});
  return out("Mul", {scalar("half", 0.5), out("Mul", {x, sum})});
}

std::string OnnxEmit::activate(const std::string &x) {
  size_t rank = l.shape.size() + 1;
  switch (l.activation) {
  case RELU:
    return node("Relu", {x}).output(0);
  case LEAKY_RELU: {
    onnx::NodeProto &n = node("LeakyRelu", {x});
    attr(n, "alpha", float(l.alpha));
    return n.output(0);
  }
  case PRELU: {
    int64_t c = l.shape.back();
    std::vector<int64_t> dims{c};
    if (rank == 4)
      dims = {c, 1, 1};
    else
      dims = std::vector<int64_t>(rank - 2, 1), dims.push_back(c);
    return node("PRelu", {x, param("alpha", dims)}).output(0);
  }
  case SIGMOID:
    return node("Sigmoid", {x}).output(0);
  case TANH:
    return node("Tanh", {x}).output(0);
  case SOFTMAX:
  case LOG_SOFTMAX: {
    onnx::NodeProto &n =
        node(l.activation == SOFTMAX ? "Softmax" : "LogSoftmax", {x});
    attr(n, "axis", int64_t(rank == 4 ? 1 : rank - 1));
    return n.output(0);
  }
  case GELU:
  case GELU_TANH:
    return gelu(x);
  default:
    break;
  }
  if (const nn::UnaryFnInfo *fn = unaryFnOf(l.activation))
    return unary(*fn, x);
  return x;
}

/// The nodes of ir/UnaryFunctions.def's onnxOut: each op applied in turn,
/// "x*" multiplying the last by the input; Elu and HardSigmoid take alpha.
std::string OnnxEmit::unary(const nn::UnaryFnInfo &fn, const std::string &x) {
  absl::string_view spec = fn.onnxOut;
  bool timesX = absl::ConsumePrefix(&spec, "x*");
  std::string v = x;
  for (absl::string_view op : absl::StrSplit(spec, ' ')) {
    std::string name(op);
    onnx::NodeProto &n = node(name.c_str(), {v});
    if (op == "Elu")
      attr(n, "alpha", float(l.alpha));
    if (op == "HardSigmoid") {
      bool swish = fn.fn == nn::UnaryFn::HardSwish;
      attr(n, "alpha", float(swish ? 1.0 / 6.0 : l.alpha));
      attr(n, "beta", 0.5f);
    }
    v = n.output(0);
  }
  return timesX ? node("Mul", {x, v}).output(0) : v;
}

namespace {

/// A graph input or output [N, perExample...]: floats (an image's HWC as
/// CHW), or integer ids as they are.
void setShape(onnx::ValueInfoProto &v, const std::vector<int64_t> &perExample,
              Input::DType dtype = Input::FLOAT) {
  auto &type = *v.mutable_type()->mutable_tensor_type();
  type.set_elem_type(dtype == Input::INT64   ? onnx::TensorProto::INT64
                     : dtype == Input::INT32 ? onnx::TensorProto::INT32
                                             : onnx::TensorProto::FLOAT);
  auto &shape = *type.mutable_shape();
  shape.add_dim()->set_dim_param("N");
  std::vector<int64_t> dims = perExample;
  if (dims.size() == 3 && dtype == Input::FLOAT) // HWC to CHW
    dims = {dims[2], dims[0], dims[1]};
  for (int64_t d : dims)
    shape.add_dim()->set_dim_value(d);
}

/// "BYTES" for the 256 bytes in order (a byte-level model's ids), else
/// the tokens as a JSON array of strings (UTF-8, quotes, backslashes and
/// control characters escaped).
std::string vocabularyMetadata(const std::vector<std::string> &vocabulary) {
  bool bytes = vocabulary.size() == 256;
  for (size_t k = 0; bytes && k < 256; ++k)
    bytes = vocabulary[k] == std::string(1, char(k));
  if (bytes)
    return "BYTES";
  std::string json = "[";
  for (size_t k = 0; k < vocabulary.size(); ++k) {
    json += k ? ",\"" : "\"";
    for (char c : vocabulary[k]) {
      if (c == '"' || c == '\\')
        json += {'\\', c};
      else if (uint8_t(c) < 0x20)
        json += absl::StrFormat("\\u%04x", int(c));
      else
        json += c;
    }
    json += '"';
  }
  return json + "]";
}

} // namespace

absl::Status exportOnnx(const ResolvedModel &model, const Weights &weights,
                        const std::string &path) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.set_producer_name("gradc");
  if (weights.vocabulary && !weights.vocabulary->empty()) {
    auto &entry = *m.add_metadata_props();
    entry.set_key("gradc.vocabulary");
    entry.set_value(vocabularyMetadata(*weights.vocabulary));
  }
  auto &opset = *m.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOnnxExportOpset);
  onnx::GraphProto &g = *m.mutable_graph();
  g.set_name(model.name);
  for (const ResolvedModel::Input &in : model.inputs) {
    onnx::ValueInfoProto &v = *g.add_input();
    setShape(v, in.shape, in.dtype);
    v.set_name(in.name);
  }

  std::vector<OnnxValue> values(model.layers.size());
  int counter = 0;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const ResolvedLayer &l = model.layers[i];
    std::vector<OnnxValue> ins;
    for (int p : l.inputs)
      ins.push_back(p < 0 ? OnnxValue{model.inputs[-1 - p].name, {}, ""}
                          : values[p]);
    const LayerDef *def = findLayerDef(l.kind);
    if (!def || !def->toOnnx)
      return absl::UnimplementedError(absl::StrCat(
          "layer '", l.layer->name(), "': this layer kind has no ONNX form"));
    OnnxEmit e(g, model, l, weights, std::move(ins), counter);
    values[i] = def->toOnnx(e);
  }
  // The output, named after the last layer, in gradc's feature order.
  OnnxEmit last(g, model, model.layers.back(), weights, {values.back()},
                counter);
  std::string out = last.input(0);
  onnx::NodeProto &id = *g.add_node();
  id.set_op_type("Identity");
  id.set_name("output");
  id.add_input(out);
  id.add_output(model.layers.back().layer->name());
  setShape(*g.add_output(), model.outputShape());
  g.mutable_output(0)->set_name(model.layers.back().layer->name());

  std::string bytes;
  if (!m.SerializeToString(&bytes))
    return absl::InternalError(
        absl::StrCat(path, ": error: the ONNX model does not serialize "
                           "(above protobuf's 2 GiB?)"));
  return writeFileAtomically(path, bytes, "ONNX model");
}

} // namespace gradc
