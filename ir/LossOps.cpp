//===- LossOps.cpp - losses: verifiers and gradients
//------------------------===//
//
// Every loss maps predictions [N, C] and labels [N] to a 0-D mean; its
// gradient is one nn.loss_grad of the same kind.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"
#include "ir/ShapeRules.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

namespace {

LogicalResult verifyLossShapes(Operation *op, Value predictions, Value labels,
                               StringRef kind, double delta) {
  if (failed(expectRank(op, predictions, 2, "predictions [N, C]")) ||
      failed(expectRank(op, labels, 1, "labels [N]")) ||
      failed(expectSameElementType(op)))
    return failure();
  auto p = shapeOf(predictions);
  if (!sameDim(shapeOf(labels)[0], p[0]))
    return op->emitOpError()
           << "expects " << p[0] << " labels to match " << p[0]
           << " predictions, got " << shapeOf(labels)[0];
  bool needsClasses = kind == "cross_entropy" ||
                      kind == "softmax_cross_entropy" ||
                      kind == "categorical_hinge";
  if (needsClasses && !ShapedType::isDynamic(p[1]) && p[1] < 2)
    return op->emitOpError() << "expects at least 2 classes, got " << p[1];
  if (kind == "huber" && !(delta > 0))
    return op->emitOpError() << "expects a positive delta, got " << delta;
  return success();
}

} // namespace

#define GRADC_LOSS_VERIFIER(Op, kind)                                          \
  LogicalResult Op::verify() {                                                 \
    return verifyLossShapes(*this, getPredictions(), getLabels(), kind,        \
                            getDelta().convertToDouble());                     \
  }
GRADC_LOSS_VERIFIER(CrossEntropyOp, "cross_entropy")
GRADC_LOSS_VERIFIER(SoftmaxCrossEntropyOp, "softmax_cross_entropy")
GRADC_LOSS_VERIFIER(BinaryCrossEntropyOp, "binary_cross_entropy")
GRADC_LOSS_VERIFIER(MseOp, "mse")
GRADC_LOSS_VERIFIER(MaeOp, "mae")
GRADC_LOSS_VERIFIER(HuberOp, "huber")
GRADC_LOSS_VERIFIER(HingeOp, "hinge")
GRADC_LOSS_VERIFIER(SquaredHingeOp, "squared_hinge")
GRADC_LOSS_VERIFIER(CategoricalHingeOp, "categorical_hinge")
#undef GRADC_LOSS_VERIFIER

LogicalResult LossGradOp::verify() {
  if (failed(verifyLossShapes(*this, getPredictions(), getLabels(),
                              stringifyLossKind(getKind()),
                              getDelta().convertToDouble())))
    return failure();
  return expectShape(*this, getGrad(), shapeOf(getPredictions()), "gradient");
}

LogicalResult CorrectCountOp::verify() {
  if (failed(expectRank(*this, getPredictions(), 2, "predictions [N, C]")) ||
      failed(expectRank(*this, getLabels(), 1, "labels [N]")))
    return failure();
  int64_t n = shapeOf(getPredictions())[0];
  return expectShape(*this, getLabels(), {n}, "labels");
}

#define GRADC_LOSS_GRAD(Op, kind)                                              \
  LogicalResult Op::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,  \
                                   SmallVectorImpl<Value> &operandGrads) {     \
    operandGrads.push_back(b.create<LossGradOp>(                               \
        getLoc(), getPredictions().getType(), getPredictions(), getLabels(),   \
        resultGrads[0],                                                        \
        LossKindAttr::get(b.getContext(), *symbolizeLossKind(kind)),           \
        getDeltaAttr()));                                                      \
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
