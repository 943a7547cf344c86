//===- PoolingOps.cpp - global pooling: verifiers and gradients -----------===//
//
// nn.global_avg_pool2d and nn.global_max_pool2d pool [N, H, W, C] to
// [N, C]. Their gradients are compositions: the output gradient reshaped to
// [N, 1, 1, C] through the windowed pooling gradient with an H x W window.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc::nn;

namespace {

LogicalResult verifyGlobalPool(Operation *op, Value input, Value output) {
  if (failed(expectRank(op, input, 4, "input (NHWC)")) ||
      failed(expectSameElementType(op)))
    return failure();
  auto in = shapeOf(input);
  return expectShape(op, output, {in[0], in[3]}, "output");
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
