//===- ElementwiseOps.cpp - activations, dropout, add ---------------------===//
//
// Activation gradients are compositions of primitive ops, from the forward
// input or output as each rule needs; dropout has a training form.
//
//===----------------------------------------------------------------------===//

#include "ir/GradientBuilder.h"
#include "ir/ShapeRules.h"
#include "ir/UnaryFunctions.h"
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

LogicalResult CausalMaskOp::verify() {
  auto in = shapeOf(getInput());
  if (in.size() < 2)
    return emitOpError() << "expects input of rank >= 2 (queries by keys)";
  return success();
}

FailureOr<SmallVector<Value>> DropoutOp::buildTrainingForm(
    OpBuilder &b, Value step, Value rows,
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

Value gradc::nn::activationGradient(GradientBuilder &g, ActivationKind kind,
                                    Value dy, Value value, double alpha) {
  switch (kind) {
  case ActivationKind::Relu:
  case ActivationKind::LeakyRelu: {
    Value zero = g.constant(0, dy);
    Value positive = g.compare(value, ComparePredicate::Gt, zero);
    Value slope = kind == ActivationKind::Relu ? zero : g.scale(dy, alpha);
    return g.select(positive, dy, slope);
  }
  case ActivationKind::Sigmoid: // dy y (1 - y)
    return g.mul(g.mul(dy, value), g.sub(g.constant(1, value), value));
  case ActivationKind::Tanh: // dy (1 - y^2)
    return g.mul(dy, g.sub(g.constant(1, value), g.mul(value, value)));
  case ActivationKind::Softmax: // y (dy - sum(dy y))
    return g.mul(
        value, g.sub(dy, g.broadcastRows(g.reduceRows(g.mul(dy, value)), dy)));
  case ActivationKind::LogSoftmax: // dy - exp(y) sum(dy)
    return g.sub(dy,
                 g.mul(g.exp(value), g.broadcastRows(g.reduceRows(dy), dy)));
  case ActivationKind::None:
    break;
  }
  return dy;
}

namespace {
LogicalResult pushActivationGradient(Operation *op, ActivationKind kind,
                                     Value dy, Value value, double alpha,
                                     OpBuilder &b,
                                     SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(b, op->getLoc());
  operandGrads.push_back(activationGradient(g, kind, dy, value, alpha));
  return success();
}
} // namespace

LogicalResult ReluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  return pushActivationGradient(*this, ActivationKind::Relu, resultGrads[0],
                                getInput(), 0.0, b, operandGrads);
}

LogicalResult
LeakyReluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  return pushActivationGradient(*this, ActivationKind::LeakyRelu,
                                resultGrads[0], getInput(),
                                getAlpha().convertToDouble(), b, operandGrads);
}

#define GRADC_OUTPUT_ACTIVATION_GRAD(Op, kind)                                 \
  LogicalResult Op::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,  \
                                   SmallVectorImpl<Value> &operandGrads) {     \
    return pushActivationGradient(*this, kind, resultGrads[0], getOutput(),    \
                                  0.0, b, operandGrads);                       \
  }
GRADC_OUTPUT_ACTIVATION_GRAD(SigmoidOp, ActivationKind::Sigmoid)
GRADC_OUTPUT_ACTIVATION_GRAD(TanhOp, ActivationKind::Tanh)
GRADC_OUTPUT_ACTIVATION_GRAD(SoftmaxOp, ActivationKind::Softmax)
GRADC_OUTPUT_ACTIVATION_GRAD(LogSoftmaxOp, ActivationKind::LogSoftmax)
#undef GRADC_OUTPUT_ACTIVATION_GRAD

LogicalResult PReluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  // dx = x > 0 ? dy : alpha dy; dalpha = sum of (x > 0 ? 0 : x dy) per channel.
  GradientBuilder g(b, getLoc());
  Value dy = resultGrads[0], x = getInput(), zero = g.constant(0, x);
  Value positive = g.compare(x, ComparePredicate::Gt, zero);
  Value alpha = g.broadcastFromLast(getAlpha(), x);
  operandGrads.push_back(g.select(positive, dy, g.mul(alpha, dy)));
  operandGrads.push_back(g.sumToLast(g.select(positive, zero, g.mul(x, dy))));
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

LogicalResult
CausalMaskOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                             SmallVectorImpl<Value> &operandGrads) {
  // The masked scores do not reach the output: their gradient is 0.
  operandGrads.push_back(b.create<CausalMaskOp>(
      getLoc(), resultGrads[0], b.getF64FloatAttr(0.0), getTransposedAttr()));
  return success();
}

LogicalResult GeluOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  // One fused elementwise op: the derivative needs erf (or tanh) of x again,
  // which the primitives do not have.
  operandGrads.push_back(b.create<GeluGradOp>(getLoc(), resultGrads[0],
                                              getInput(), getApproximate()));
  return success();
}

//===----------------------------------------------------------------------===//
// nn.unary: the functions of ir/UnaryFunctions.def
//===----------------------------------------------------------------------===//

llvm::ArrayRef<UnaryFnInfo> gradc::nn::unaryFns() {
  static const UnaryFnInfo table[] = {
#define GRADC_UNARY_FN(Name, name, PROTO, onnxIn, onnxOut, alpha, fwd, deriv)  \
  {UnaryFn::Name, name, onnxIn, onnxOut, alpha},
#include "ir/UnaryFunctions.def"
  };
  return table;
}

const UnaryFnInfo *gradc::nn::findUnaryFn(llvm::StringRef name) {
  for (const UnaryFnInfo &f : unaryFns())
    if (name == f.name)
      return &f;
  return nullptr;
}

const UnaryFnInfo &gradc::nn::unaryFnInfo(UnaryFn fn) {
  return unaryFns()[static_cast<size_t>(fn)];
}

namespace {
LogicalResult verifyUnaryFn(Operation *op, StringRef fn, APFloat alpha) {
  if (!findUnaryFn(fn)) {
    std::string names;
    for (const UnaryFnInfo &f : unaryFns())
      names += (names.empty() ? "" : ", ") + std::string(f.name);
    return op->emitOpError() << "unknown function \"" << fn
                             << "\" (expected one of " << names << ")";
  }
  if (!alpha.isFinite())
    return op->emitOpError()
           << "expects a finite alpha, got " << alpha.convertToDouble();
  return success();
}
} // namespace

LogicalResult UnaryFnOp::verify() {
  return verifyUnaryFn(*this, getFn(), getAlpha());
}

LogicalResult UnaryFnGradOp::verify() {
  return verifyUnaryFn(*this, getFn(), getAlpha());
}

LogicalResult UnaryFnOp::buildGradients(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  // One fused elementwise op dy * f'(x): the table's derivative, which the
  // primitives alone could not always express (erf, the selects of elu).
  operandGrads.push_back(b.create<UnaryFnGradOp>(
      getLoc(), resultGrads[0], getInput(), getFnAttr(), getAlphaAttr()));
  return success();
}
