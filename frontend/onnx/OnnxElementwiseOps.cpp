//===- OnnxElementwiseOps.cpp - activations, Add, Dropout -----------------===//
//
// The one job of this file: the converters of the operators that keep
// their input's shape: Relu, LeakyRelu, Sigmoid, Tanh, Gelu (the one node
// OnnxPatterns.cpp makes of PyTorch's GELU), PRelu (one slope per
// channel), the elementwise functions of ir/UnaryFunctions.def (Exp, Log,
// Sqrt, Abs, Neg, Reciprocal, Erf, Softplus, Softsign, Elu, Selu,
// HardSigmoid, HardSwish), Softmax and LogSoftmax (over the channel axis),
// the binary operators (Add Sub Mul Div Pow Max Min Sum of activations and
// constants, NumPy-broadcast; or a bias taken into the layer before it) and
// Dropout.
//
//===----------------------------------------------------------------------===//

#include "frontend/LayerDef.h"
#include "frontend/onnx/OnnxImport.h"
#include "ir/UnaryFunctions.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cmath>
#include <limits>

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
  out.holdAs(*x);
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
    return composedActivation(n); // gamma * elu_alpha(x)
  if (op == "Swish" && attrFloat(n, "alpha", 1.0f) != 1.0f)
    return fail(n, absl::StrCat("alpha ", attrFloat(n, "alpha", 1.0f),
                                " is not supported (only 1: SiLU)"));
  if (hard && attrFloat(n, "beta", 0.5f) != 0.5f)
    return composedActivation(n);
  Layer layer;
  ActivationLayer &a = *layer.mutable_activation();
  a.set_kind(activationOf(fn->fn));
  if (elu)
    a.set_alpha(attrFloat(n, "alpha", 1.0f));
  if (hard)
    a.set_alpha(attrFloat(n, "alpha", 0.2f));
  Tensor &out = addLayer(n, std::move(layer), {x});
  out.holdAs(*x);
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
  int64_t axis = channelAxis(*x);
  int64_t channels = x->dims[axis];
  int64_t offset = int64_t(x->dims.size()) - slope->dims_size();
  bool perChannel = offset >= 0;
  for (int i = 0; i < slope->dims_size() && perChannel; ++i)
    perChannel = slope->dims(i) == (i + offset == axis ? channels : 1) ||
                 (i + offset == axis && slope->dims(i) == 1 && channels == 1);
  if (!perChannel && !x->squeezed && x->flatFromCHW.empty())
    return preluOfAnySlope(n, *x);
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
  addLayer(n, std::move(layer), {x}).holdAs(*x);
  return true;
}

namespace {
/// A binary layer of the value so far and a constant (add or multiply).
ChainStep withConstant(bool multiply, float c) {
  ChainStep step;
  if (multiply)
    step.layer.mutable_multiply();
  else
    step.layer.mutable_add();
  step.constant = c;
  return step;
}

ChainStep activationStep(Activation kind, float alpha) {
  ChainStep step;
  step.layer.mutable_activation()->set_kind(kind);
  step.layer.mutable_activation()->set_alpha(alpha);
  return step;
}
} // namespace

std::string OnnxImport::chainLayers(const Node &n, const Tensor &x,
                                    std::vector<ChainStep> chain,
                                    const std::string &suffix, bool last) {
  std::string base = (nodeName(n).empty() ? n.op_type() : nodeName(n)) + suffix;
  Tensor in = x;
  for (size_t k = 0; k < chain.size(); ++k) {
    std::vector<Tensor> ins{in};
    if (chain[k].constant) { // the constant is a layer of its own
      Layer c;
      c.mutable_constant()->add_shape(1);
      c.mutable_constant()->set_value(*chain[k].constant);
      ins.push_back(in);
      ins.back().layer = appendLayer(absl::StrCat(base, "/c", k), c, {});
    }
    if (last && k + 1 == chain.size()) {
      std::vector<const Tensor *> ptrs;
      for (const Tensor &t : ins)
        ptrs.push_back(&t);
      addLayer(n, std::move(chain[k].layer), ptrs).holdAs(x);
      return tensors[n.output(0)].layer;
    }
    std::vector<std::string> names;
    for (const Tensor &t : ins)
      names.push_back(t.layer);
    in.layer = appendLayer(absl::StrCat(base, "/", k),
                           std::move(chain[k].layer), names);
  }
  return in.layer;
}

bool OnnxImport::composedActivation(const Node &n) {
  const std::string &op = n.op_type();
  if (!onlyAttrs(n, {"alpha", "beta", "gamma", "bias", "lambd"}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  Tensor in = *x;
  if (op == "HardSigmoid") { // max(0, min(1, alpha x + beta))
    float alpha = attrFloat(n, "alpha", 0.2f),
          beta = attrFloat(n, "beta", 0.5f);
    if (!(alpha > 0))
      return fail(n, absl::StrCat("alpha ", alpha, " is not supported (> 0)"));
    // gradc's is centred at beta 0.5: x shifted by (beta - 0.5) / alpha.
    chainLayers(n, in,
                {withConstant(false, (beta - 0.5f) / alpha),
                 activationStep(HARD_SIGMOID, alpha)});
    return true;
  }
  if (op == "Selu") { // gamma * elu_alpha(x), other constants than SELU's
    chainLayers(n, in,
                {activationStep(ELU, attrFloat(n, "alpha", 1.67326319f)),
                 withConstant(true, attrFloat(n, "gamma", 1.05070102f))});
    return true;
  }
  if (op == "Celu") { // alpha * elu(x / alpha)
    float alpha = attrFloat(n, "alpha", 1.0f);
    if (!(alpha > 0))
      return fail(n, absl::StrCat("alpha ", alpha, " is not supported (> 0)"));
    chainLayers(n, in,
                {withConstant(true, 1 / alpha), activationStep(ELU, 1.0f),
                 withConstant(true, alpha)});
    return true;
  }
  // Shrink with bias == lambd (soft shrinkage): relu(x - l) - relu(-x - l).
  float lambd = attrFloat(n, "lambd", 0.5f), bias = attrFloat(n, "bias", 0.0f);
  if (bias != lambd || lambd < 0)
    return fail(n, absl::StrCat("bias ", bias, " with lambd ", lambd,
                                " is not supported (only soft shrinkage: "
                                "bias equal to lambd)"));
  Tensor above = in, below = in;
  above.layer =
      chainLayers(n, in, {withConstant(false, -lambd), activationStep(RELU, 0)},
                  "/above", false);
  below.layer =
      chainLayers(n, in,
                  {withConstant(true, -1), withConstant(false, -lambd),
                   activationStep(RELU, 0)},
                  "/below", false);
  Layer sub;
  sub.mutable_subtract();
  addLayer(n, std::move(sub), {&above, &below}).holdAs(in);
  return true;
}

/// PRelu of a slope other than one per channel (one for all, or any shape
/// ONNX broadcasts): max(x, 0) + slope * min(x, 0), the slope a trained
/// weight of its shape.
bool OnnxImport::preluOfAnySlope(const Node &n, Tensor x) {
  std::string slope = sharedLayer(n, 1, x, /*parameter=*/true);
  if (slope.empty())
    return false;
  std::string base = nodeName(n).empty() ? n.op_type() : nodeName(n);
  Layer relu, zero, negative, scaled;
  relu.mutable_activation()->set_kind(RELU);
  zero.mutable_constant()->add_shape(1);
  negative.mutable_minimum();
  scaled.mutable_multiply();
  Tensor positive = x, product = x;
  positive.layer = appendLayer(base + "/positive", relu, {x.layer});
  std::string zeroName = appendLayer(base + "/zero", zero, {});
  std::string min =
      appendLayer(base + "/negative", negative, {x.layer, zeroName});
  product.layer = appendLayer(base + "/scaled", scaled, {min, slope});
  Layer add;
  add.mutable_add();
  addLayer(n, std::move(add), {&positive, &product}).holdAs(x);
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
  // gradc normalizes over the axis it holds last. Before opset 13 the input
  // is coerced to 2-D at `axis`: the same only when that is the last axis.
  if (x->channelsLast() && !(opset >= 13 && axis == 1))
    x = inOnnxOrder(x);
  bool ok = axis == channelAxis(*x) && axis > 0 && axis != x->batchAxis;
  if (!ok || x->squeezed || !x->flatFromCHW.empty())
    return fail(n, absl::StrCat("axis ", attrInt(n, "axis", 0), " of a rank-",
                                rank,
                                " input is not supported (gradc normalizes "
                                "over the last axis)"));
  Layer layer;
  layer.mutable_activation()->set_kind(n.op_type() == "Softmax" ? SOFTMAX
                                                                : LOG_SOFTMAX);
  addLayer(n, std::move(layer), {x}).holdAs(*x);
  return true;
}

/// A constant added to a MatMul, Gemm or Conv without a bias (PyTorch's
/// Linear on some inputs), read by nothing else and one value per channel,
/// becomes its bias: `folded` says whether it did.
bool OnnxImport::foldBias(const Node &n, bool &folded) {
  folded = false;
  if (n.op_type() != "Add" || n.input_size() != 2)
    return true;
  for (int i = 0; i < 2; ++i) {
    if (!constants.count(n.input(i)) || !tensors.count(n.input(1 - i)))
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
        bias->data_type() == onnx::TensorProto::FLOAT &&
        ((producer->has_dense() && !producer->dense().use_bias()) ||
         (producer->has_conv2d() && !producer->conv2d().use_bias()));
    int64_t axis = channelAxis(*x);
    int64_t offset = int64_t(x->dims.size()) - bias->dims_size();
    bool perChannel = biasless && offset >= 0 && x->dims[axis] > 0;
    for (int d = 0; d < bias->dims_size() && perChannel; ++d)
      perChannel = bias->dims(d) == (d + offset == axis ? x->dims[axis] : 1);
    if (!perChannel)
      return true;
    auto v = floats(*bias, absl::StrCat("initializer '", bias->name(), "'"));
    if (!v)
      return false;
    if (producer->has_dense())
      producer->mutable_dense()->set_use_bias(true);
    else
      producer->mutable_conv2d()->set_use_bias(true);
    give(n, producer->name(), "bias", bias->name(), std::move(*v));
    tensors[n.output(0)] = *x;
    folded = true;
    return true;
  }
  return true;
}

namespace {
/// Values in C, H, W order (ONNX's) reordered to H, W, C (gradc's).
std::vector<float> chwToHwc(const std::vector<float> &v, int64_t c, int64_t h,
                            int64_t w) {
  std::vector<float> hwc(v.size());
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        hwc[(y * w + x) * c + k] = v[(k * h + y) * w + x];
  return hwc;
}
} // namespace

std::string OnnxImport::sharedLayer(const Node &n, int i, const Tensor &like,
                                    bool parameter) {
  const onnx::TensorProto *t = constant(n, i, false);
  if (!t)
    return "";
  std::string what = absl::StrCat("constant '", t->name(), "'");
  std::optional<std::vector<float>> v;
  if (t->data_type() == onnx::TensorProto::INT64) {
    if (auto w = int64s(*t, what))
      v.emplace(w->begin(), w->end());
  } else {
    v = floats(*t, what);
  }
  if (!v)
    return "";
  size_t rank = like.dims.size();
  if (size_t(t->dims_size()) > rank) {
    failInput(n, i,
              absl::StrCat("has more dimensions (", t->dims_size(),
                           ") than the activations it is combined with (", rank,
                           ")"));
    return "";
  }
  bool single = v->size() == 1;
  if (like.batchOnly && !single) { // ONNX aligns it with the batch
    failInput(n, i,
              "varies along dimension 0, the batch (the activation is "
              "ONNX's [N]); gradc shares a constant across the examples");
    return "";
  }
  std::vector<int64_t> full(rank - t->dims_size(), 1);
  full.insert(full.end(), t->dims().begin(), t->dims().end());
  if (!like.batchFirst()) { // its held dims: 1 where ONNX's axis has the batch
    if (!single && full[like.batchAxis] != 1) {
      failInput(n, i,
                absl::StrCat("varies along ONNX's axis ", like.batchAxis,
                             ", which holds the batch; gradc shares a "
                             "constant across the examples"));
      return "";
    }
    std::vector<int64_t> held{1}; // the batch, first as gradc holds it
    for (int64_t a = 0; a < int64_t(rank); ++a) {
      if (a != like.batchAxis)
        held.push_back(full[a]);
      else
        held.insert(held.end(), (like.batchOuter != 1) + (like.batchInner != 1),
                    1);
    }
    full = held;
  }
  if (!single && full[0] != 1) {
    failInput(n, i,
              "varies along dimension 0, the batch; gradc shares a constant "
              "across the examples");
    return "";
  }
  std::vector<int64_t> per(full.begin() + 1, full.end());
  const std::vector<int64_t> &chw = like.flatFromCHW;
  if (!single && !chw.empty() && per.size() == 1 &&
      per[0] == chw[0] * chw[1] * chw[2]) {
    // Features of a Flatten of NCHW: ONNX's in C, H, W order, gradc's in
    // H, W, C order.
    *v = chwToHwc(*v, chw[0], chw[1], chw[2]);
  } else if (!single && (like.squeezed || !chw.empty())) {
    failInput(n, i,
              "is combined with a Flatten or global pooling of an NCHW "
              "tensor, whose features gradc orders differently");
    return "";
  }
  if (like.channelsLast() && !single) {
    // ONNX's [C, H, W] is gradc's [H, W, C]; [C, W] is [1, W, C].
    if (rank == 3)
      per.insert(per.begin() + 1, 1);
    *v = chwToHwc(*v, per[0], per[1], per[2]);
    per = {per[1], per[2], per[0]};
  }
  // Leading 1s change nothing in a broadcast against `like`.
  while (!per.empty() && (single || per[0] == 1))
    per.erase(per.begin());
  bool initializer = false;
  for (const auto &init : proto.graph().initializer())
    initializer |= init.name() == t->name();
  bool uniform =
      std::all_of(v->begin(), v->end(), [&](float x) { return x == (*v)[0]; });
  Layer layer;
  std::string node = nodeName(n).empty() ? n.op_type() : nodeName(n);
  layer.set_name(uniqueLayerName(absl::StrCat(node, "/", n.input(i))));
  bool finite = std::all_of(v->begin(), v->end(),
                            [](float x) { return std::isfinite(x); });
  // A computed constant may come from a parameter (a slice of a position
  // table), which gradc could not train: only a mask (an infinity) is taken
  // as a fixed tensor.
  if (!initializer && !uniform && finite) {
    failInput(n, i,
              "is a Constant node, or computed from constants, of distinct "
              "values; gradc takes such a tensor as an initializer (a "
              "trained parameter) or, holding an infinity, as a fixed mask");
    return "";
  }
  if (uniform && finite && !(initializer && (!single || parameter))) {
    Constant &c = *layer.mutable_constant();
    for (int64_t d : per)
      c.add_shape(d);
    c.set_value((*v)[0]);
  } else {
    // An initializer is a parameter, as PyTorch exports them; one with an
    // infinity (PyTorch's causal mask, or one computed from it) is a fixed
    // tensor, which several nodes may read.
    Weight &w = *layer.mutable_weight();
    if (per.empty()) // one value for every element
      per.push_back(1);
    for (int64_t d : per)
      w.add_shape(d);
    if (!finite)
      w.set_trainable(false);
    // An infinity is the largest finite float of its sign (as Hugging Face
    // writes masks): added to a score, softmax gives it the same 0, and
    // gradc's weights stay finite (training checks they do).
    for (float &x : *v)
      if (std::isinf(x))
        x = x < 0 ? std::numeric_limits<float>::lowest()
                  : std::numeric_limits<float>::max();
    if (!give(n, layer.name(), "weight", t->name(), std::move(*v), !finite))
      return "";
  }
  layerIndex[layer.name()] = file.model.layer_size();
  *file.model.add_layer() = std::move(layer);
  return file.model.layer(file.model.layer_size() - 1).name();
}

bool OnnxImport::binary(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  // Shape arithmetic of constants folds.
  bool allConstant = n.input_size() == 2;
  for (const std::string &in : n.input())
    allConstant = allConstant && constants.count(in);
  const std::string &op = n.op_type();
  if (allConstant && (op == "Add" || op == "Sub" || op == "Mul" || op == "Div"))
    return foldElementwise(n);
  bool folded = false;
  if (!foldBias(n, folded) || folded)
    return folded;
  // The activations set the rank and layout; constants follow them.
  // One value per example (a mean kept with keepdims) has no feature order
  // to match.
  auto oneValue = [](const Tensor *t) {
    return std::all_of(t->dims.begin() + 1, t->dims.end(),
                       [](int64_t d) { return d == 1; });
  };
  const Tensor *like = nullptr;
  std::vector<int> constantInputs;
  std::vector<const Tensor *> activations;
  for (int i = 0; i < n.input_size(); ++i) {
    if (constants.count(n.input(i))) {
      constantInputs.push_back(i);
      continue;
    }
    const Tensor *x = activation(n, i);
    if (!x)
      return false;
    activations.push_back(x);
    if (!like || (oneValue(like) && !oneValue(x)))
      like = x;
  }
  // Where ONNX's order holds the batch, all hold it.
  for (const Tensor *x : activations)
    if (!x->sameBatchAs(*like) ||
        (!x->batchFirst() && x->dims.size() != like->dims.size()))
      return fail(n, "its inputs hold the batch in different axes of "
                     "ONNX's order (after a Transpose or Reshape that moved "
                     "it in one of them)");
  // ONNX aligns an [N] with the last axis of a higher rank, not the batch.
  for (const Tensor *x : activations)
    if (x->batchOnly != like->batchOnly)
      return fail(n, "one input has one value per example (ONNX's [N]) and "
                     "another more; ONNX would broadcast the first along "
                     "the other's last axis, not its batch");
  // Activations held in different layouts meet in ONNX's order.
  bool mixed =
      std::any_of(activations.begin(), activations.end(),
                  [&](const Tensor *x) { return x->layout != like->layout; });
  if (mixed) {
    for (const Tensor *&x : activations)
      x = inOnnxOrder(x);
    like = inOnnxOrder(like);
  }
  for (const Tensor *x : activations) {
    if (x->dims.size() != like->dims.size())
      return fail(n, absl::StrCat("broadcasting [",
                                  absl::StrJoin(like->dims, ", "), "] and [",
                                  absl::StrJoin(x->dims, ", "),
                                  "] would repeat along the batch dimension "
                                  "(gradc broadcasts within each example)"));
    if (!oneValue(x) &&
        (x->flatFromCHW != like->flatFromCHW || x->squeezed != like->squeezed))
      return fail(n, "one input is a Flatten or global pooling of an NCHW "
                     "tensor and the other is not (gradc orders their "
                     "features differently)");
  }
  if (!like)
    return activation(n, 0) != nullptr; // reports that all are constants
  for (int i : constantInputs)
    if (size_t(constants[n.input(i)]->dims_size()) > like->dims.size())
      return failInput(n, i,
                       absl::StrCat("has more dimensions than the "
                                    "activations it is combined with (",
                                    like->dims.size(), ")"));
  if (n.input_size() == 1) { // Sum, Max, Min of one input
    tensors[n.output(0)] = *like;
    return true;
  }
  Tensor shape = *like;
  std::vector<Tensor> ins(n.input_size(), shape);
  for (int i = 0, a = 0; i < n.input_size(); ++i) {
    if (std::find(constantInputs.begin(), constantInputs.end(), i) ==
        constantInputs.end()) {
      ins[i] = *activations[a++];
      continue;
    }
    ins[i].layer = sharedLayer(n, i, *like);
    if (ins[i].layer.empty())
      return false;
  }
  Layer layer;
  if (op == "Add" || op == "Sum")
    layer.mutable_add();
  else if (op == "Sub")
    layer.mutable_subtract();
  else if (op == "Mul")
    layer.mutable_multiply();
  else if (op == "Div")
    layer.mutable_divide();
  else if (op == "Pow")
    layer.mutable_power();
  else if (op == "Max")
    layer.mutable_maximum();
  else
    layer.mutable_minimum();
  std::vector<const Tensor *> inputs;
  for (const Tensor &t : ins)
    inputs.push_back(&t);
  addLayer(n, std::move(layer), inputs).holdAs(shape);
  return true;
}

/// Clip: minimum(maximum(x, min), max), its bounds constant inputs (opset
/// 11 on) or attributes (before), each optional.
bool OnnxImport::clip(const Node &n) {
  if (!onlyAttrs(n, {"min", "max"}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  // The attributes' bounds as constants of a copy of the node, so that
  // sharedLayer reads both forms the same way.
  Node bounds = n;
  std::string base = nodeName(n).empty() ? n.op_type() : nodeName(n);
  for (const char *name : {"min", "max"}) {
    int i = std::string(name) == "min" ? 1 : 2;
    if (!attr(n, name))
      continue;
    auto t = std::make_unique<onnx::TensorProto>();
    t->set_name(absl::StrCat(base, "/", name));
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_float_data(attrFloat(n, name, 0.0f));
    while (bounds.input_size() <= i)
      bounds.add_input("");
    bounds.set_input(i, t->name());
    std::string constantName = t->name();
    addConstant(constantName, std::move(t));
  }
  Tensor out = *x;
  for (int i = 1; i <= 2; ++i) {
    if (!hasInput(bounds, i))
      continue;
    std::string bound = sharedLayer(bounds, i, *x);
    if (bound.empty())
      return false;
    Layer layer;
    if (i == 1)
      layer.mutable_maximum();
    else
      layer.mutable_minimum();
    out.layer = appendLayer(absl::StrCat(base, i == 1 ? "/min" : "/max"),
                            std::move(layer), {out.layer, bound});
  }
  tensors[n.output(0)] = out;
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
    if (on && rate != 0)
      return fail(n, "training_mode true (dropout at inference) is not "
                     "supported");
  }
  if (rate == 0) { // the identity, in training and at inference
    tensors[n.output(0)] = *x;
    return true;
  }
  Layer layer;
  layer.mutable_dropout()->set_rate(rate);
  Tensor &out = addLayer(n, std::move(layer), {x});
  out.holdAs(*x);
  return true;
}

} // namespace gradc::onnximport
