//===- ElementwiseOps.cpp - activations, dropout, add
//-----------------------===//
//
// Activation gradients go through nn.activation_grad, from the forward
// input or output as each rule needs; dropout has a training form.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"
#include "ir/ShapeRules.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

LogicalResult PReluOp::verify() {
  auto in = shapeOf(getInput());
  if (in.empty())
    return emitOpError() << "expects input of rank >= 1";
  if (failed(expectShape(*this, getAlpha(), {in.back()}, "alpha")) ||
      failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getOutput(), in, "output");
}

FailureOr<SmallVector<Value>> DropoutOp::buildTrainingForm(
    OpBuilder &b, Value step,
    SmallVectorImpl<std::pair<Value, Value>> &bufferUpdates) {
  // The same op, driven by the step: its mask changes every step.
  auto train = b.create<DropoutOp>(getLoc(), getType(), getInput(), step,
                                   getRateAttr(), getSeedAttr());
  return SmallVector<Value>{train.getOutput()};
}

LogicalResult DropoutOp::verify() {
  double rate = getRate().convertToDouble();
  if (!(rate >= 0 && rate < 1))
    return emitOpError() << "expects rate in [0, 1), got " << rate;
  return success();
}

LogicalResult ActivationGradOp::verify() {
  if (getKind() == ActivationKind::None)
    return emitOpError() << "expects an activation kind other than none";
  return success();
}

LogicalResult PReluGradOp::verify() {
  auto in = shapeOf(getInput());
  if (in.empty())
    return emitOpError() << "expects input of rank >= 1";
  if (failed(expectShape(*this, getAlpha(), {in.back()}, "alpha")) ||
      failed(expectShape(*this, getGradOutput(), in, "output gradient")) ||
      failed(expectShape(*this, getGradInput(), in, "input gradient")) ||
      failed(expectShape(*this, getGradAlpha(), {in.back()}, "alpha gradient")))
    return failure();
  return expectSameElementType(*this);
}

namespace {
/// Gradient of an activation through nn.activation_grad; `value` is the
/// forward input or output, whichever the rule of `kind` needs.
Value activationGrad(OpBuilder &b, Location loc, Value dy, Value value,
                     ActivationKind kind, double alpha = 0.0) {
  return b.create<ActivationGradOp>(
      loc, dy, value, ActivationKindAttr::get(b.getContext(), kind),
      b.getF64FloatAttr(alpha));
}
} // namespace

LogicalResult ReluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(activationGrad(b, getLoc(), resultGrads[0], getInput(),
                                        ActivationKind::Relu));
  return success();
}

LogicalResult
LeakyReluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(activationGrad(b, getLoc(), resultGrads[0], getInput(),
                                        ActivationKind::LeakyRelu,
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
GRADC_OUTPUT_ACTIVATION_GRAD(SigmoidOp, ActivationKind::Sigmoid)
GRADC_OUTPUT_ACTIVATION_GRAD(TanhOp, ActivationKind::Tanh)
GRADC_OUTPUT_ACTIVATION_GRAD(SoftmaxOp, ActivationKind::Softmax)
GRADC_OUTPUT_ACTIVATION_GRAD(LogSoftmaxOp, ActivationKind::LogSoftmax)
#undef GRADC_OUTPUT_ACTIVATION_GRAD

LogicalResult PReluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
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
