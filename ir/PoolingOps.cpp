//===- PoolingOps.cpp - global pooling: verifiers and gradients -----------===//
//
// nn.global_avg_pool2d and nn.global_max_pool2d pool [N, H, W, C] to
// [N, C]. Their gradients are compositions: the output gradient reshaped to
// [N, 1, 1, C] through the windowed pooling gradient with an H x W window.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"
#include "ir/ShapeRules.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

namespace {

/// The shape rule of a windowed pooling: [N,H,W,C] to [N,OH,OW,C], pads
/// smaller than the window. Used by the verifiers and inferReturnTypes.
FailureOr<SmallVector<int64_t>>
poolOutputShape(EmitErrorFn emitError, Value input, ArrayRef<int64_t> window,
                ArrayRef<int64_t> strides, ArrayRef<int64_t> pads) {
  if (failed(expectRank(emitError, input, 4, "input (NHWC)")))
    return failure();
  FailureOr<Window2D> w = windowFrom(emitError, window, strides, pads, {1, 1});
  if (failed(w))
    return failure();
  for (int i = 0; i < 4; ++i)
    if (w->pads[i] >= w->size[i / 2])
      return emitError() << "expects pads smaller than the window " << window[0]
                         << "x" << window[1] << ", got " << pads[0] << ","
                         << pads[1] << "," << pads[2] << "," << pads[3];
  auto in = shapeOf(input);
  std::array<int64_t, 2> hw;
  if (failed(windowOutput(emitError, in.slice(1, 2), *w, hw)))
    return failure();
  return SmallVector<int64_t>{in[0], hw[0], hw[1], in[3]};
}

LogicalResult verifyPool(Operation *op, Value input, Value output,
                         ArrayRef<int64_t> window, ArrayRef<int64_t> strides,
                         ArrayRef<int64_t> pads) {
  if (failed(expectRank(op, output, 4, "output (NHWC)")))
    return failure();
  auto shape = poolOutputShape(opErrors(op), input, window, strides, pads);
  if (failed(shape) || failed(expectSameElementType(op)))
    return failure();
  return expectShape(op, output, *shape, "output");
}

/// The shape rule of global pooling: [N,H,W,C] to [N,C].
FailureOr<SmallVector<int64_t>> globalPoolOutputShape(EmitErrorFn emitError,
                                                      Value input) {
  if (failed(expectRank(emitError, input, 4, "input (NHWC)")))
    return failure();
  auto in = shapeOf(input);
  return SmallVector<int64_t>{in[0], in[3]};
}

LogicalResult verifyGlobalPool(Operation *op, Value input, Value output) {
  auto shape = globalPoolOutputShape(opErrors(op), input);
  if (failed(shape) || failed(expectSameElementType(op)))
    return failure();
  return expectShape(op, output, *shape, "output");
}

/// dy [N, C] -> [N, 1, 1, C], then the windowed gradient over the plane.
template <typename GradOp>
void globalPoolGrad(OpBuilder &b, Location loc, Value input, Value dy,
                    SmallVectorImpl<Value> &operandGrads) {
  auto in = shapeOf(input);
  auto elem = cast<RankedTensorType>(input.getType()).getElementType();
  auto dy4 = b.create<ReshapeOp>(
      loc, RankedTensorType::get({in[0], 1, 1, in[3]}, elem), dy);
  operandGrads.push_back(b.create<GradOp>(
      loc, input.getType(), input, dy4, b.getDenseI64ArrayAttr({in[1], in[2]}),
      b.getDenseI64ArrayAttr({1, 1}), b.getDenseI64ArrayAttr({0, 0, 0, 0})));
}

} // namespace

namespace {
template <typename Adaptor>
LogicalResult inferPool(std::optional<Location> loc, Adaptor a,
                        SmallVectorImpl<Type> &types) {
  return pushInferred(poolOutputShape(locErrors(loc), a.getInput(),
                                      a.getWindow(), a.getStrides(),
                                      a.getPads()),
                      a.getInput(), types);
}
template <typename Adaptor>
LogicalResult inferGlobalPool(std::optional<Location> loc, Adaptor a,
                              SmallVectorImpl<Type> &types) {
  return pushInferred(globalPoolOutputShape(locErrors(loc), a.getInput()),
                      a.getInput(), types);
}
} // namespace

#define GRADC_INFER(Op, rule)                                                  \
  LogicalResult Op::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc, Adaptor a,   \
                                     SmallVectorImpl<Type> &types) {           \
    return rule(loc, a, types);                                                \
  }
GRADC_INFER(MaxPool2DOp, inferPool)
GRADC_INFER(AvgPool2DOp, inferPool)
GRADC_INFER(GlobalAvgPool2DOp, inferGlobalPool)
GRADC_INFER(GlobalMaxPool2DOp, inferGlobalPool)
#undef GRADC_INFER

LogicalResult GlobalAvgPool2DOp::verify() {
  return verifyGlobalPool(*this, getInput(), getOutput());
}
LogicalResult GlobalMaxPool2DOp::verify() {
  return verifyGlobalPool(*this, getInput(), getOutput());
}

LogicalResult
GlobalAvgPool2DOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  globalPoolGrad<AvgPool2DGradOp>(b, getLoc(), getInput(), resultGrads[0],
                                  operandGrads);
  return success();
}

LogicalResult
GlobalMaxPool2DOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  globalPoolGrad<MaxPool2DGradOp>(b, getLoc(), getInput(), resultGrads[0],
                                  operandGrads);
  return success();
}

LogicalResult MaxPool2DOp::verify() {
  return verifyPool(*this, getInput(), getOutput(), getWindow(), getStrides(),
                    getPads());
}
LogicalResult AvgPool2DOp::verify() {
  return verifyPool(*this, getInput(), getOutput(), getWindow(), getStrides(),
                    getPads());
}

LogicalResult MaxPool2DGradOp::verify() {
  if (failed(
          expectShape(*this, getGradInput(), shapeOf(getInput()), "gradient")))
    return failure();
  return verifyPool(*this, getInput(), getGradOutput(), getWindow(),
                    getStrides(), getPads());
}
LogicalResult AvgPool2DGradOp::verify() {
  if (failed(
          expectShape(*this, getGradInput(), shapeOf(getInput()), "gradient")))
    return failure();
  return verifyPool(*this, getInput(), getGradOutput(), getWindow(),
                    getStrides(), getPads());
}

LogicalResult
MaxPool2DOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(b.create<MaxPool2DGradOp>(
      getLoc(), getInput().getType(), getInput(), resultGrads[0],
      getWindowAttr(), getStridesAttr(), getPadsAttr()));
  return success();
}

LogicalResult
AvgPool2DOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(b.create<AvgPool2DGradOp>(
      getLoc(), getInput().getType(), getInput(), resultGrads[0],
      getWindowAttr(), getStridesAttr(), getPadsAttr()));
  return success();
}
