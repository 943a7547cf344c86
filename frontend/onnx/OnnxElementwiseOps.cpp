//===- OnnxElementwiseOps.cpp - activations, Add, Dropout -----------------===//
//
// The one job of this file: the converters of the operators that keep
// their input's shape: Relu, LeakyRelu, Sigmoid, Tanh, Gelu (the one node
// OnnxPatterns.cpp makes of PyTorch's GELU), PRelu (one slope per
// channel), the elementwise functions of ir/UnaryFunctions.def (Exp, Log,
// Sqrt, Abs, Neg, Reciprocal, Erf, Softplus, Softsign, Elu, Selu,
// HardSigmoid, HardSwish), Softmax and LogSoftmax (over the channel axis),
// Add (of two activations, or a bias taken into the layer before it) and
// Dropout.
//
//===----------------------------------------------------------------------===//

#include "frontend/LayerDef.h"
#include "frontend/onnx/OnnxImport.h"
#include "ir/UnaryFunctions.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gradc::onnximport {

/// Relu, LeakyRelu, Sigmoid, Tanh, Gelu.
bool OnnxImport::activationOp(const Node &n) {
  bool leaky = n.op_type() == "LeakyRelu", gelu = n.op_type() == "Gelu";
  if (!(leaky  ? onlyAttrs(n, {"alpha"})
        : gelu ? onlyAttrs(n, {"approximate"})
               : onlyAttrs(n, {})))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  std::string approximate = attrString(n, "approximate", "none");
  if (gelu && approximate != "none" && approximate != "tanh")
    return fail(n, "approximate must be \"none\" or \"tanh\", got \"" +
                       approximate + "\"");
  Layer layer;
  ActivationLayer &a = *layer.mutable_activation();
  a.set_kind(n.op_type() == "Relu"      ? RELU
             : leaky                    ? LEAKY_RELU
             : n.op_type() == "Sigmoid" ? SIGMOID
             : gelu ? (approximate == "tanh" ? GELU_TANH : GELU)
                    : TANH);
  if (leaky)
    a.set_alpha(attrFloat(n, "alpha", 0.01f));
  Tensor &out = addLayer(n, std::move(layer), {x});
  out.flatFromCHW = x->flatFromCHW;
  out.squeezed = x->squeezed;
  return true;
}

/// The operators of ir/UnaryFunctions.def's onnxIn column (Exp, Log, Sqrt,
/// Abs, Neg, Reciprocal, Erf, Softplus, Softsign, Elu, Selu, HardSigmoid,
/// HardSwish, and Swish, the one node OnnxPatterns.cpp makes of
/// Mul(x, Sigmoid(x))): an activation layer of that function.
bool OnnxImport::unaryOp(const Node &n) {
  const std::string &op = n.op_type();
  bool elu = op == "Elu", selu = op == "Selu", hard = op == "HardSigmoid";
  if (!(elu || op == "Swish" ? onlyAttrs(n, {"alpha"})
        : selu               ? onlyAttrs(n, {"alpha", "gamma"})
        : hard               ? onlyAttrs(n, {"alpha", "beta"})
                             : onlyAttrs(n, {})))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  const nn::UnaryFnInfo *fn = nullptr;
  for (const nn::UnaryFnInfo &f : nn::unaryFns())
    if (op == f.onnxIn)
      fn = &f;
  // gradc's SELU has PyTorch's constants, ONNX's defaults; its hard sigmoid
  // is centred at 0 (beta 0.5), as PyTorch's and Keras's.
  constexpr float kSeluAlpha = 1.67326319217681884765625f,
                  kSeluGamma = 1.05070102214813232421875f;
  float seluAlpha = attrFloat(n, "alpha", kSeluAlpha),
        seluGamma = attrFloat(n, "gamma", kSeluGamma);
  if (selu && (seluAlpha != kSeluAlpha || seluGamma != kSeluGamma))
    return fail(n, absl::StrCat("alpha ", seluAlpha, " gamma ", seluGamma,
                                " is not supported (only SELU's defaults)"));
  if (op == "Swish" && attrFloat(n, "alpha", 1.0f) != 1.0f)
    return fail(n, absl::StrCat("alpha ", attrFloat(n, "alpha", 1.0f),
                                " is not supported (only 1: SiLU)"));
  if (hard && attrFloat(n, "beta", 0.5f) != 0.5f)
    return fail(n, absl::StrCat("beta ", attrFloat(n, "beta", 0.5f),
                                " is not supported (only 0.5)"));
  Layer layer;
  ActivationLayer &a = *layer.mutable_activation();
  a.set_kind(activationOf(fn->fn));
  if (elu)
    a.set_alpha(attrFloat(n, "alpha", 1.0f));
  if (hard)
    a.set_alpha(attrFloat(n, "alpha", 0.2f));
  Tensor &out = addLayer(n, std::move(layer), {x});
  out.flatFromCHW = x->flatFromCHW;
  out.squeezed = x->squeezed;
  return true;
}

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
  int64_t axis = attrAxis(n, opset >= 13 ? -1 : 1, rank);
  // Before opset 13 the input is coerced to 2-D at `axis`: the same as the
  // last axis only when it is the last, and never for NCHW, whose last axis
  // (W) is not gradc's last (C).
  bool ok =
      opset >= 13 ? axis == channelAxis(rank) : axis == rank - 1 && rank != 4;
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

} // namespace gradc::onnximport
