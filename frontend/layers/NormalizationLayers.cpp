//===- NormalizationLayers.cpp - batch_norm, normalization ----------------===//
//
// Keras's BatchNormalization over the channel axis: gamma and beta are
// trainable (unless scale/center are off), the running mean and variance
// are buffers updated by training and read by eval and predict.
// Keras's Normalization: a fixed per-channel (x - shift) * scale whose
// buffers are computed from the training data before training
// (runtime/trainer/Normalization.cpp).
//
//===----------------------------------------------------------------------===//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
#include "ir/GradientBuilder.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"

#include <cmath>

namespace gradc {
namespace {

bool checkBatchNorm(LayerCheck &c) {
  const BatchNorm &bn = c.layer.batch_norm();
  if (!c.oneInput())
    return false;
  double momentum = bn.has_momentum() ? fromFloat(bn.momentum()) : 0.99;
  double epsilon = bn.has_epsilon() ? fromFloat(bn.epsilon()) : 1e-3;
  if (!(momentum >= 0 && momentum < 1))
    return c.fail(
        absl::StrCat("batch_norm momentum must be in [0, 1), got ", momentum));
  if (!(epsilon > 0 && std::isfinite(epsilon)))
    return c.fail(
        absl::StrCat("batch_norm epsilon must be positive, got ", epsilon));
  c.out.attrs["momentum"] = momentum;
  c.out.attrs["epsilon"] = epsilon;
  int64_t channels = c.in[0].back();
  if (!bn.has_scale() || bn.scale()) {
    Initializer init = bn.gamma_initializer();
    if (init.kind_case() == Initializer::KIND_NOT_SET)
      init.mutable_ones();
    c.param("gamma", {channels}, init, 1, 1);
  }
  if (!bn.has_center() || bn.center())
    c.param("beta", {channels}, bn.beta_initializer(), 1, 1);
  c.buffer("moving_mean", {channels}, 0.0f);
  c.buffer("moving_variance", {channels}, 1.0f);
  c.out.shape = c.in[0];
  c.out.flops = 2.0 * double(elementsOf(c.out.shape)); // x * scale + shift
  // Machine code, at least (bench/code_size.py): the statistics'
  // reductions, the normalization and its gradient took 5.9-36.1 KiB.
  c.out.codeBytes = int64_t(5) << 10;
  return true;
}

mlir::Value emitBatchNorm(const LayerEmit &e) {
  // Without scale (center), gamma (beta) is the constant 1 (0).
  auto channels =
      mlir::RankedTensorType::get({e.l.shape.back()}, e.b.getF32Type());
  auto orConstant = [&](mlir::Value v, double c) -> mlir::Value {
    return v ? v
             : e.b.create<nn::ConstantOp>(e.loc, channels,
                                          e.b.getF64FloatAttr(c));
  };
  return e.b.create<nn::BatchNormOp>(
      e.loc, e.inputs[0], orConstant(e.param("gamma"), 1.0),
      orConstant(e.param("beta"), 0.0), e.buffer("moving_mean"),
      e.buffer("moving_variance"), e.b.getF64FloatAttr(e.l.attr("epsilon")),
      e.b.getF64FloatAttr(e.l.attr("momentum")));
}

/// ONNX's BatchNormalization in inference form (the running statistics).
/// Without scale (center) gamma (beta) is written as the constant 1 (0).
OnnxValue batchNormToOnnx(OnnxEmit &e) {
  int64_t c = e.l.shape.back();
  std::string gamma = e.param("gamma", {c}), beta = e.param("beta", {c});
  if (gamma.empty())
    gamma = e.constant("gamma", {c}, std::vector<float>(c, 1.0f));
  if (beta.empty())
    beta = e.constant("beta", {c}, std::vector<float>(c, 0.0f));
  onnx::NodeProto &n =
      e.node("BatchNormalization",
             {e.input(0), gamma, beta, e.buffer("moving_mean", {c}),
              e.buffer("moving_variance", {c})});
  OnnxEmit::attr(n, "epsilon", float(e.l.attr("epsilon")));
  OnnxEmit::attr(n, "momentum", float(e.l.attr("momentum")));
  return {n.output(0)};
}

bool checkNormalization(LayerCheck &c) {
  if (!c.oneInput())
    return false;
  if (c.out.inputs != std::vector<int>{-1})
    return c.fail("normalization adapts to the data: it takes the model "
                  "input");
  int64_t channels = c.in[0].back();
  c.out.attrs["mode"] = double(c.layer.normalization().mode());
  c.buffer("shift", {channels}, 0.0f);
  c.buffer("scale", {channels}, 1.0f);
  c.out.shape = c.in[0];
  c.out.flops = 2.0 * double(elementsOf(c.out.shape));
  return true;
}

mlir::Value emitNormalization(const LayerEmit &e) {
  nn::GradientBuilder g(e.b, e.loc);
  mlir::Value x = e.inputs[0];
  mlir::Value shift = g.broadcastFromLast(e.buffer("shift"), x);
  mlir::Value scale = g.broadcastFromLast(e.buffer("scale"), x);
  return g.mul(g.sub(x, shift), scale);
}

/// Sub and Mul by per-channel initializers ([C, 1, 1] against NCHW).
OnnxValue normalizationToOnnx(OnnxEmit &e) {
  int64_t c = e.l.shape.back();
  std::vector<int64_t> dims{c};
  if (e.inputRank(0) == 4)
    dims = {c, 1, 1};
  std::string centered =
      e.node("Sub", {e.input(0), e.buffer("shift", dims)}).output(0);
  return {e.node("Mul", {centered, e.buffer("scale", dims)}).output(0)};
}

const LayerDef kNormalizationLayers[] = {
    {Layer::kBatchNorm, checkBatchNorm, emitBatchNorm, batchNormToOnnx},
    {Layer::kNormalization, checkNormalization, emitNormalization,
     normalizationToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getNormalizationLayerDefs() { return kNormalizationLayers; }

} // namespace gradc
