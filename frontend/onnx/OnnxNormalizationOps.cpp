//===- OnnxNormalizationOps.cpp - batch normalization ---------------------===//
//
// The one job of this file: the converters of the normalization operators
// (the Normalization family of ir/OpFamilies.def): BatchNormalization, its
// scale, bias, mean and variance initializers the layer's parameters and
// buffers.
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

} // namespace gradc::onnximport
