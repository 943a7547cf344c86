//===- Gradients.cpp - gradient rules of the nn ops -----------------------===//
//
// DifferentiableOpInterface for every forward and loss op: given the
// gradient of the op's result, build the gradients of its operands. The
// rules build backward ops (conv2d_grad_input, max_pool2d_grad, ...) where a
// composition of existing ops would not do.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"

using namespace mlir;
using namespace gradc::nn;

LogicalResult Conv2DOp::buildGradients(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  // The fused activation's output has the sign of its input (alpha >= 0), so
  // its gradient can be taken from the output.
  if (getActivation() != "none")
    dy = b.create<ActivationGradOp>(loc, dy, getOutput(), getActivationAttr(),
                                    getAlphaAttr());
  operandGrads.push_back(b.create<Conv2DGradInputOp>(
      loc, getInput().getType(), dy, getFilter(), getStridesAttr(),
      getPadsAttr(), getDilationsAttr(), getGroupsAttr()));
  operandGrads.push_back(b.create<Conv2DGradFilterOp>(
      loc, getFilter().getType(), getInput(), dy, getStridesAttr(),
      getPadsAttr(), getDilationsAttr(), getGroupsAttr()));
  if (getBias())
    operandGrads.push_back(
        b.create<BiasGradOp>(loc, getBias().getType(), dy));
  return success();
}

LogicalResult MaxPool2DOp::buildGradients(
    OpBuilder &b, ArrayRef<Value> resultGrads,
    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(b.create<MaxPool2DGradOp>(
      getLoc(), getInput().getType(), getInput(), resultGrads[0],
      getWindowAttr(), getStridesAttr(), getPadsAttr()));
  return success();
}

LogicalResult AvgPool2DOp::buildGradients(
    OpBuilder &b, ArrayRef<Value> resultGrads,
    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(b.create<AvgPool2DGradOp>(
      getLoc(), getInput().getType(), getInput(), resultGrads[0],
      getWindowAttr(), getStridesAttr(), getPadsAttr()));
  return success();
}

LogicalResult DenseOp::buildGradients(OpBuilder &b,
                                      ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  // dx = dy W^T, dW = x^T dy, db = sum over the batch of dy.
  operandGrads.push_back(b.create<MatmulOp>(loc, getInput().getType(), dy,
                                            getWeight(), /*transpose_lhs=*/false,
                                            /*transpose_rhs=*/true));
  operandGrads.push_back(b.create<MatmulOp>(loc, getWeight().getType(),
                                            getInput(), dy,
                                            /*transpose_lhs=*/true,
                                            /*transpose_rhs=*/false));
  if (getBias())
    operandGrads.push_back(
        b.create<BiasGradOp>(loc, getBias().getType(), dy));
  return success();
}

LogicalResult FlattenOp::buildGradients(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      b.create<ReshapeOp>(getLoc(), getInput().getType(), resultGrads[0]));
  return success();
}

LogicalResult ReshapeOp::buildGradients(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      b.create<ReshapeOp>(getLoc(), getInput().getType(), resultGrads[0]));
  return success();
}

namespace {
/// Gradient of an activation through nn.activation_grad; `value` is the
/// forward input or output, whichever the rule of `kind` needs.
Value activationGrad(OpBuilder &b, Location loc, Value dy, Value value,
                     StringRef kind, double alpha = 0.0) {
  return b.create<ActivationGradOp>(loc, dy, value, b.getStringAttr(kind),
                                    b.getF64FloatAttr(alpha));
}
} // namespace

LogicalResult ReluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      activationGrad(b, getLoc(), resultGrads[0], getInput(), "relu"));
  return success();
}

LogicalResult LeakyReluOp::buildGradients(
    OpBuilder &b, ArrayRef<Value> resultGrads,
    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(activationGrad(b, getLoc(), resultGrads[0],
                                        getInput(), "leaky_relu",
                                        getAlpha().convertToDouble()));
  return success();
}

#define GRADC_OUTPUT_ACTIVATION_GRAD(Op, kind)                                 \
  LogicalResult Op::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,  \
                                   SmallVectorImpl<Value> &operandGrads) {     \
    operandGrads.push_back(                                                    \
        activationGrad(b, getLoc(), resultGrads[0], getOutput(), kind));       \
    return success();                                                          \
  }
GRADC_OUTPUT_ACTIVATION_GRAD(SigmoidOp, "sigmoid")
GRADC_OUTPUT_ACTIVATION_GRAD(TanhOp, "tanh")
GRADC_OUTPUT_ACTIVATION_GRAD(SoftmaxOp, "softmax")
GRADC_OUTPUT_ACTIVATION_GRAD(LogSoftmaxOp, "log_softmax")
#undef GRADC_OUTPUT_ACTIVATION_GRAD

LogicalResult PReluOp::buildGradients(OpBuilder &b,
                                      ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  auto grad = b.create<PReluGradOp>(getLoc(), getInput().getType(),
                                    getAlpha().getType(), resultGrads[0],
                                    getInput(), getAlpha());
  operandGrads.push_back(grad.getGradInput());
  operandGrads.push_back(grad.getGradAlpha());
  return success();
}

LogicalResult DropoutOp::buildGradients(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  // The mask is a function of (seed, step, index): applying the same dropout
  // to the gradient multiplies it by the same mask and scale.
  Value dx = resultGrads[0];
  if (getStep())
    dx = b.create<DropoutOp>(getLoc(), dx.getType(), dx, getStep(),
                             getRateAttr(), getSeedAttr());
  operandGrads.push_back(dx);
  if (getStep())
    operandGrads.push_back(Value());
  return success();
}

LogicalResult AddOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(resultGrads[0]);
  operandGrads.push_back(resultGrads[0]);
  return success();
}

#define GRADC_LOSS_GRAD(Op, kind)                                              \
  LogicalResult Op::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,  \
                                   SmallVectorImpl<Value> &operandGrads) {     \
    operandGrads.push_back(b.create<LossGradOp>(                               \
        getLoc(), getPredictions().getType(), getPredictions(), getLabels(),   \
        resultGrads[0], b.getStringAttr(kind), getDeltaAttr()));                                \
    operandGrads.push_back(Value());                                           \
    return success();                                                          \
  }
GRADC_LOSS_GRAD(CrossEntropyOp, "cross_entropy")
GRADC_LOSS_GRAD(SoftmaxCrossEntropyOp, "softmax_cross_entropy")
GRADC_LOSS_GRAD(BinaryCrossEntropyOp, "binary_cross_entropy")
GRADC_LOSS_GRAD(MseOp, "mse")
GRADC_LOSS_GRAD(MaeOp, "mae")
GRADC_LOSS_GRAD(HuberOp, "huber")
GRADC_LOSS_GRAD(HingeOp, "hinge")
GRADC_LOSS_GRAD(SquaredHingeOp, "squared_hinge")
GRADC_LOSS_GRAD(CategoricalHingeOp, "categorical_hinge")
#undef GRADC_LOSS_GRAD
