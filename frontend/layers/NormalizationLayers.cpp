//===- NormalizationLayers.cpp - batch_norm, normalization, layer_norm ----===//
//
// Keras's BatchNormalization over the channel axis: gamma and beta are
// trainable (unless scale/center are off), the running mean and variance
// are buffers updated by training and read by eval and predict.
// Keras's Normalization: a fixed per-channel (x - shift) * scale whose
// buffers are computed from the training data before training
// (runtime/trainer/Normalization.cpp).
// PyTorch's LayerNorm over the last axis: statistics per example and row,
// trainable gamma and beta (unless scale/center are off), no buffers.
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

bool checkLayerNorm(LayerCheck &c) {
  const LayerNorm &ln = c.layer.layer_norm();
  if (!c.oneInput())
    return false;
  double epsilon = ln.has_epsilon() ? fromFloat(ln.epsilon()) : 1e-5;
  if (!(epsilon > 0 && std::isfinite(epsilon)))
    return c.fail(
        absl::StrCat("layer_norm epsilon must be positive, got ", epsilon));
  c.out.attrs["epsilon"] = epsilon;
  int64_t features = c.in[0].back();
  if (!ln.has_scale() || ln.scale()) {
    Initializer ones;
    ones.mutable_ones();
    c.param("gamma", {features}, ones, 1, 1);
  }
  if (!ln.has_center() || ln.center())
    c.param("beta", {features}, Initializer(), 1, 1);
  c.out.shape = c.in[0];
  // Per element: the mean's add, the variance's sub, mul and add, and the
  // normalization's sub, mul, mul and add.
  c.out.flops = 8.0 * double(elementsOf(c.out.shape));
  // Machine code, at least (bench/code_size.py): the row statistics, the
  // normalization and its fused gradient took 7.9-25.6 KiB.
  c.out.codeBytes = int64_t(7) << 10;
  return true;
}

mlir::Value emitLayerNorm(const LayerEmit &e) {
  // Without scale (center), gamma (beta) is the constant 1 (0).
  auto features =
      mlir::RankedTensorType::get({e.l.shape.back()}, e.b.getF32Type());
  auto orConstant = [&](mlir::Value v, double c) -> mlir::Value {
    return v ? v
             : e.b.create<nn::ConstantOp>(e.loc, features,
                                          e.b.getF64FloatAttr(c));
  };
  return e.b.create<nn::LayerNormOp>(e.loc, e.inputs[0],
                                     orConstant(e.param("gamma"), 1.0),
                                     orConstant(e.param("beta"), 0.0),
                                     e.b.getF64FloatAttr(e.l.attr("epsilon")));
}

/// Opset 13 has no LayerNormalization (opset 17), and an NCHW tensor's
/// channels are not its last axis: ReduceMean over the normalized axis (1
/// for NCHW, the last otherwise), Sub, Mul, ReduceMean, Add, Sqrt, Div, then
/// Mul by gamma and Add of beta ([C, 1, 1] against NCHW) when learned.
OnnxValue layerNormToOnnx(OnnxEmit &e) {
  int64_t c = e.l.shape.back();
  size_t rank = e.inputRank(0);
  std::vector<int64_t> axes{rank == 4 ? 1 : int64_t(rank) - 1};
  std::vector<int64_t> dims{c};
  if (rank == 4)
    dims = {c, 1, 1};
  auto mean = [&](const std::string &v) {
    onnx::NodeProto &n = e.node("ReduceMean", {v});
    OnnxEmit::attr(n, "axes", axes);
    OnnxEmit::attr(n, "keepdims", int64_t(1));
    return n.output(0);
  };
  std::string x = e.input(0);
  std::string centred = e.node("Sub", {x, mean(x)}).output(0);
  std::string var = mean(e.node("Mul", {centred, centred}).output(0));
  std::string eps = e.constant("epsilon", {}, {float(e.l.attr("epsilon"))});
  std::string stddev =
      e.node("Sqrt", {e.node("Add", {var, eps}).output(0)}).output(0);
  std::string y = e.node("Div", {centred, stddev}).output(0);
  std::string gamma = e.param("gamma", dims), beta = e.param("beta", dims);
  if (!gamma.empty())
    y = e.node("Mul", {y, gamma}).output(0);
  if (!beta.empty())
    y = e.node("Add", {y, beta}).output(0);
  return {y};
}

const LayerDef kNormalizationLayers[] = {
    {Layer::kBatchNorm, checkBatchNorm, emitBatchNorm, batchNormToOnnx},
    {Layer::kNormalization, checkNormalization, emitNormalization,
     normalizationToOnnx},
    {Layer::kLayerNorm, checkLayerNorm, emitLayerNorm, layerNormToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getNormalizationLayerDefs() {
  return kNormalizationLayers;
}

} // namespace gradc
