//===- OnnxNormalizationOps.cpp - batch and layer normalization -----------===//
//
// The one job of this file: the converters of the normalization operators
// (the Normalization family of ir/OpFamilies.def): BatchNormalization, its
// scale, bias, mean and variance initializers the layer's parameters and
// buffers; LayerNormalization (opset 17) over the last axis of an
// [N, features] or [N, rows, features] input, its scale and bias
// initializers the layer's gamma and beta.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

namespace gradc::onnximport {

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
  if (x->dims.size() < 2 || x->dims.size() > 4)
    return fail(n, absl::StrCat("expects an [N, C, H, W], [N, C, W] or [N, C] "
                                "input, got rank ",
                                x->dims.size()));
  if (x->dims.size() > 2) // per channel: channels last
    x = inChannelsLast(x);
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
  addLayer(n, std::move(layer), {x}).holdAs(*x);
  return true;
}

bool OnnxImport::layerNorm(const Node &n) {
  if (!onlyAttrs(n, {"axis", "epsilon", "stash_type"}) || !onlyFirstOutput(n))
    return false;
  const Tensor *x = activation(n, 0);
  const onnx::TensorProto *scale = constant(n, 1, false);
  const onnx::TensorProto *bias = constant(n, 2, true);
  if (!x || !scale || (hasInput(n, 2) && !bias))
    return false;
  x = inOnnxOrder(x);
  int64_t rank = int64_t(x->dims.size()), axis = attrInt(n, "axis", -1);
  if (rank != 2 && rank != 3)
    return fail(n, absl::StrCat("expects an [N, features] or [N, rows, "
                                "features] input, got rank ",
                                rank));
  if (axis != -1 && axis != rank - 1)
    return fail(n, absl::StrCat("axis ", axis,
                                " is not supported: gradc normalizes over "
                                "the last axis only (axis -1)"));
  if (!x->flatFromCHW.empty())
    return fail(n, "the input is a Flatten of an NCHW tensor, whose features "
                   "gradc orders H, W, C; only a Gemm or MatMul may read it");
  Layer layer;
  layer.set_name(layerName(n));
  LayerNorm &ln = *layer.mutable_layer_norm();
  ln.set_epsilon(attrFloat(n, "epsilon", 1e-5f));
  if (!bias)
    ln.set_center(false);
  for (auto [t, role] : {std::pair{scale, "gamma"}, std::pair{bias, "beta"}}) {
    if (!t)
      continue;
    auto v = floats(*t, absl::StrCat("initializer '", t->name(), "'"));
    if (!v)
      return false;
    give(n, layer.name(), role, t->name(), std::move(*v));
  }
  addLayer(n, std::move(layer), {x});
  return true;
}

} // namespace gradc::onnximport
