//===- LossOps.cpp - losses: verifiers and gradients ----------------------===//
//
// Every loss maps predictions [N, C] and labels [N] to a 0-D mean; its
// gradient rule is a composition of primitive ops.
//
//===----------------------------------------------------------------------===//

#include "ir/GradientBuilder.h"
#include "ir/ShapeRules.h"
#include "ir/VerifierUtils.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

namespace {

LogicalResult verifyLossShapes(Operation *op, Value predictions, Value labels,
                               Value targets, StringRef kind, double delta) {
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
  if (targets) {
    if (kind != "mse" && kind != "mae" && kind != "huber")
      return op->emitOpError()
             << "takes value targets only as mse, mae or huber";
    if (getElementTypeOrSelf(targets) != getElementTypeOrSelf(predictions))
      return op->emitOpError()
             << "expects targets of the predictions' element type";
    return expectShape(op, targets, p, "targets");
  }
  return success();
}

} // namespace

#define GRADC_LOSS_VERIFIER(Op, kind)                                          \
  LogicalResult Op::verify() {                                                 \
    return verifyLossShapes(*this, getPredictions(), getLabels(),              \
                            getTargets(), kind, getDelta().convertToDouble()); \
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

LogicalResult CorrectCountOp::verify() {
  if (failed(expectRank(*this, getPredictions(), 2, "predictions [N, C]")) ||
      failed(expectRank(*this, getLabels(), 1, "labels [N]")))
    return failure();
  int64_t n = shapeOf(getPredictions())[0];
  return expectShape(*this, getLabels(), {n}, "labels");
}

namespace {

/// The probability clamp of cross_entropy and binary_cross_entropy.
constexpr double kProbEps = 1e-7;

/// d loss / d p for a loss of `kind` over predictions p [N, C] and labels,
/// scaled by the incoming 0-D gradient `dloss`: the gradient rules of the
/// losses, from primitive ops. t are the one-hot targets (the label itself
/// for C = 1), or `targets` when given (regression; the labels then only
/// mark padding rows).
Value lossGradient(GradientBuilder &g, LossKind kind, Value p, Value labels,
                   Value targets, Value dloss, double delta) {
  int64_t classes = shapeOf(p)[1];
  Value zero = g.constant(0, p), one = g.constant(1, p);
  auto cmp = [&](Value x, ComparePredicate pr, double v) {
    return g.compare(x, pr, g.constant(v, x));
  };
  if (targets) {
    // rows: 1 on the rows that count (label 0), 0 on padding rows (-1),
    // from the labels as a one-column target (the label itself).
    auto column = RankedTensorType::get({shapeOf(p)[0], 1},
                                        getElementTypeOrSelf(p.getType()));
    Value label = g.b.create<OneHotOp>(g.loc, column, labels);
    Value rowMask = g.reduceRows(cmp(label, ComparePredicate::Ge, 0));
    Value counted = g.scale(g.reduceSum(rowMask, {0}), double(classes));
    counted = g.maximum(counted, g.constant(1, counted));
    Value scale = g.mul(g.broadcast(g.div(dloss, counted), p, {}),
                        g.broadcastRows(rowMask, p));
    Value d = g.sub(p, targets);
    if (kind == LossKind::Mse)
      d = g.scale(d, 2);
    else if (kind == LossKind::Mae)
      d = g.sign(d);
    else // Huber: clamp(p - t, -delta, delta)
      d = g.maximum(g.minimum(d, g.constant(delta, p)), g.constant(-delta, p));
    return g.mul(d, scale);
  }
  Value t = g.oneHot(labels, p);
  // Per-row losses are means over the rows that count (label >= 0; -1
  // marks a padding row), per-element losses over their elements: rows is
  // 1 for a row that counts, and the scale is dloss / their number (at
  // least 1), zero on padding rows.
  bool perRow = kind == LossKind::CrossEntropy ||
                kind == LossKind::SoftmaxCrossEntropy ||
                kind == LossKind::CategoricalHinge;
  Value rowMask = classes == 1 ? Value() : g.reduceRows(t);
  Value rows = classes == 1 ? cmp(t, ComparePredicate::Ge, 0)
                            : g.broadcastRows(rowMask, p);
  Value counted =
      classes == 1 ? g.reduceSum(rows, {0, 1}) : g.reduceSum(rowMask, {0});
  if (!perRow)
    counted = g.scale(counted, double(classes));
  counted = g.maximum(counted, g.constant(1, counted));
  Value scale = g.mul(g.broadcast(g.div(dloss, counted), p, {}), rows);
  Value d;
  switch (kind) {
  case LossKind::SoftmaxCrossEntropy: // softmax(p) - t
    d = g.sub(g.b.create<SoftmaxOp>(g.loc, p), t);
    break;
  case LossKind::CrossEntropy: { // -t / p where p is in [eps, 1]
    Value inRange = g.mul(cmp(p, ComparePredicate::Ge, kProbEps),
                          cmp(p, ComparePredicate::Le, 1));
    d = g.select(inRange, g.sub(zero, g.div(t, p)), zero);
    break;
  }
  case LossKind::BinaryCrossEntropy: { // -t / p + (1 - t) / (1 - p)
    Value inRange = g.mul(cmp(p, ComparePredicate::Ge, kProbEps),
                          cmp(p, ComparePredicate::Le, 1 - kProbEps));
    Value gr =
        g.add(g.sub(zero, g.div(t, p)), g.div(g.sub(one, t), g.sub(one, p)));
    d = g.select(inRange, gr, zero);
    break;
  }
  case LossKind::Mse:
    d = g.scale(g.sub(p, t), 2);
    break;
  case LossKind::Mae:
    d = g.sign(g.sub(p, t));
    break;
  case LossKind::Huber: // clamp(p - t, -delta, delta)
    d = g.maximum(g.minimum(g.sub(p, t), g.constant(delta, p)),
                  g.constant(-delta, p));
    break;
  case LossKind::Hinge:
  case LossKind::SquaredHinge: { // with s = 2t - 1 and m = 1 - s p, if m > 0:
    Value s = g.sub(g.scale(t, 2), one);
    Value m = g.sub(one, g.mul(s, p));
    Value gr = kind == LossKind::Hinge ? g.sub(zero, s)            // -s
                                       : g.scale(g.mul(s, m), -2); // -2 s m
    d = g.select(cmp(m, ComparePredicate::Gt, 0), gr, zero);
    break;
  }
  case LossKind::CategoricalHinge: {
    // With pos = p[y] and neg = max over c != y of p[c] at column k, if
    // neg - pos + 1 > 0: onehot(k) - t.
    Value others = g.select(t, g.constant(-INFINITY, p), p);
    Value pos = g.reduceRows(g.mul(t, p));
    Value neg = g.reduceRows(others, /*max=*/true);
    Value margin = g.add(g.sub(neg, pos), g.constant(1, neg));
    Value active = g.broadcastRows(cmp(margin, ComparePredicate::Gt, 0), p);
    Value gr = g.sub(g.oneHot(g.argmax(others), p), t);
    d = g.select(active, gr, zero);
    break;
  }
  }
  return g.mul(d, scale);
}

} // namespace

#define GRADC_LOSS_GRAD(Op, kind)                                              \
  LogicalResult Op::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,  \
                                   SmallVectorImpl<Value> &operandGrads) {     \
    GradientBuilder g(b, getLoc());                                            \
    Value dp =                                                                 \
        lossGradient(g, kind, getPredictions(), getLabels(), getTargets(),     \
                     resultGrads[0], getDelta().convertToDouble());            \
    operandGrads.push_back(dp);                                                \
    operandGrads.push_back(Value());                                           \
    /* Value targets enter as p - t: their gradient is -dp. */                 \
    if (getTargets())                                                          \
      operandGrads.push_back(g.scale(dp, -1));                                 \
    return success();                                                          \
  }
GRADC_LOSS_GRAD(CrossEntropyOp, LossKind::CrossEntropy)
GRADC_LOSS_GRAD(SoftmaxCrossEntropyOp, LossKind::SoftmaxCrossEntropy)
GRADC_LOSS_GRAD(BinaryCrossEntropyOp, LossKind::BinaryCrossEntropy)
GRADC_LOSS_GRAD(MseOp, LossKind::Mse)
GRADC_LOSS_GRAD(MaeOp, LossKind::Mae)
GRADC_LOSS_GRAD(HuberOp, LossKind::Huber)
GRADC_LOSS_GRAD(HingeOp, LossKind::Hinge)
GRADC_LOSS_GRAD(SquaredHingeOp, LossKind::SquaredHinge)
GRADC_LOSS_GRAD(CategoricalHingeOp, LossKind::CategoricalHinge)
#undef GRADC_LOSS_GRAD
