//===- PrimitiveOps.cpp - the ops gradient rules are composed of ----------===//
//
// Elementwise arithmetic, comparisons and selection need no verifier beyond
// their traits; reductions, broadcasts, one-hot targets and argmax check
// their axes and shapes here. GradientBuilder creates them for the rules.
//
//===----------------------------------------------------------------------===//

#include "ir/GradientBuilder.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

#define GRADC_REDUCE_OP(Op)                                                    \
  LogicalResult Op::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &types) {                                          \
    return pushInferred(reduceOutputShape(locErrors(loc), adaptor.getInput(),  \
                                          adaptor.getAxes()),                  \
                        adaptor.getInput(), types);                            \
  }                                                                            \
  LogicalResult Op::verify() {                                                 \
    auto shape = reduceOutputShape(opErrors(*this), getInput(), getAxes());    \
    if (failed(shape) || failed(expectSameElementType(*this)))                 \
      return failure();                                                        \
    return expectShape(*this, getOutput(), *shape, "output");                  \
  }
GRADC_REDUCE_OP(ReduceSumOp)
GRADC_REDUCE_OP(ReduceMaxOp)
#undef GRADC_REDUCE_OP

LogicalResult BroadcastOp::verify() {
  auto in = shapeOf(getInput()), out = shapeOf(getOutput());
  ArrayRef<int64_t> dims = getDims();
  if (int64_t(dims.size()) != int64_t(in.size()))
    return emitOpError() << "expects one entry of dims per input dimension ("
                         << in.size() << "), got " << dims.size();
  if (failed(checkAxes(opErrors(*this), dims, out.size(), "dims")) ||
      failed(expectSameElementType(*this)))
    return failure();
  for (size_t i = 0; i < dims.size(); ++i)
    if (!sameDim(in[i], out[dims[i]]))
      return emitOpError() << "expects input dimension " << i << " (" << in[i]
                           << ") to equal output dimension " << dims[i] << " ("
                           << out[dims[i]] << ")";
  return success();
}

LogicalResult OneHotOp::verify() {
  if (failed(expectRank(*this, getOutput(), 2, "output [N, C]")))
    return failure();
  return expectShape(*this, getLabels(), {shapeOf(getOutput())[0]}, "labels");
}

LogicalResult ArgmaxOp::verify() {
  if (failed(expectRank(*this, getInput(), 2, "input [N, C]")))
    return failure();
  return expectShape(*this, getOutput(), {shapeOf(getInput())[0]}, "output");
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValueAttr(); }

//===----------------------------------------------------------------------===//
// GradientBuilder
//===----------------------------------------------------------------------===//

Value GradientBuilder::constant(double value, Value like) {
  return b.create<ConstantOp>(loc, like.getType(), b.getF64FloatAttr(value));
}

Value GradientBuilder::compare(Value lhs, ComparePredicate p, Value rhs) {
  return b.create<CompareOp>(loc, lhs, rhs,
                             ComparePredicateAttr::get(b.getContext(), p));
}

Value GradientBuilder::reduceSum(Value x, ArrayRef<int64_t> axes) {
  return b.create<ReduceSumOp>(loc, x, b.getDenseI64ArrayAttr(axes));
}

Value GradientBuilder::reduceMax(Value x, ArrayRef<int64_t> axes) {
  return b.create<ReduceMaxOp>(loc, x, b.getDenseI64ArrayAttr(axes));
}

Value GradientBuilder::broadcast(Value x, Value like, ArrayRef<int64_t> dims) {
  return b.create<BroadcastOp>(loc, like.getType(), x,
                               b.getDenseI64ArrayAttr(dims));
}

Value GradientBuilder::sumToLast(Value x) {
  SmallVector<int64_t> axes;
  for (int64_t d = 0; d + 1 < int64_t(shapeOf(x).size()); ++d)
    axes.push_back(d);
  return reduceSum(x, axes);
}

Value GradientBuilder::broadcastFromLast(Value v, Value like) {
  return broadcast(v, like, {int64_t(shapeOf(like).size()) - 1});
}

Value GradientBuilder::reduceRows(Value x, bool max) {
  int64_t last = int64_t(shapeOf(x).size()) - 1;
  return max ? reduceMax(x, {last}) : reduceSum(x, {last});
}

Value GradientBuilder::broadcastRows(Value v, Value like) {
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d + 1 < int64_t(shapeOf(like).size()); ++d)
    dims.push_back(d);
  return broadcast(v, like, dims);
}

Value GradientBuilder::oneHot(Value labels, Value like) {
  return b.create<OneHotOp>(loc, like.getType(), labels);
}

Value GradientBuilder::argmax(Value x) {
  auto shape = cast<RankedTensorType>(x.getType()).getShape();
  return b.create<ArgmaxOp>(
      loc, RankedTensorType::get({shape[0]}, b.getI32Type()), x);
}

//===----------------------------------------------------------------------===//
// Gradients of the arithmetic the binary layers use (PyTorch's rules)
//===----------------------------------------------------------------------===//

LogicalResult SubOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(b, getLoc());
  operandGrads.push_back(resultGrads[0]);
  operandGrads.push_back(g.scale(resultGrads[0], -1.0));
  return success();
}

LogicalResult MulOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(b, getLoc());
  operandGrads.push_back(g.mul(resultGrads[0], getRhs()));
  operandGrads.push_back(g.mul(resultGrads[0], getLhs()));
  return success();
}

LogicalResult DivOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // da = dz / b; db = -dz a / b^2 = -da z.
  GradientBuilder g(b, getLoc());
  Value da = g.div(resultGrads[0], getRhs());
  operandGrads.push_back(da);
  operandGrads.push_back(g.scale(g.mul(da, getOutput()), -1.0));
  return success();
}

namespace {
/// torch.maximum's (minimum's) rule: the larger (smaller) operand takes the
/// gradient; on a tie each takes half.
LogicalResult extremumGradients(Operation *op, ComparePredicate wins, Value dz,
                                Value a, Value bv, OpBuilder &b,
                                SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(b, op->getLoc());
  Value zero = g.constant(0, dz), half = g.scale(dz, 0.5);
  Value tie = g.compare(a, ComparePredicate::Eq, bv);
  Value aWins = g.compare(a, wins, bv), bWins = g.compare(bv, wins, a);
  operandGrads.push_back(g.select(aWins, dz, g.select(tie, half, zero)));
  operandGrads.push_back(g.select(bWins, dz, g.select(tie, half, zero)));
  return success();
}
} // namespace

LogicalResult MaximumOp::buildGradients(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  return extremumGradients(*this, ComparePredicate::Gt, resultGrads[0],
                           getLhs(), getRhs(), b, operandGrads);
}

LogicalResult MinimumOp::buildGradients(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  return extremumGradients(*this, ComparePredicate::Lt, resultGrads[0],
                           getLhs(), getRhs(), b, operandGrads);
}

LogicalResult PowOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // PyTorch's pow_backward: da = dz b a^(b - 1), 0 where b = 0; db = dz z
  // log(a), 0 where a = 0 and b >= 0 (where it would be 0 * -inf).
  GradientBuilder g(b, getLoc());
  Value dz = resultGrads[0], a = getLhs(), e = getRhs();
  Value one = g.constant(1, a), zero = g.constant(0, a);
  Value aPow = b.create<PowOp>(getLoc(), a, g.sub(e, one));
  Value eZero = g.compare(e, ComparePredicate::Eq, zero);
  operandGrads.push_back(g.select(eZero, zero, g.mul(dz, g.mul(e, aPow))));
  Value atZero = g.mul(g.compare(a, ComparePredicate::Eq, zero),
                       g.compare(e, ComparePredicate::Ge, zero));
  Value db = g.mul(dz, g.mul(getOutput(), b.create<LogOp>(getLoc(), a)));
  operandGrads.push_back(g.select(atZero, zero, db));
  return success();
}

LogicalResult
BroadcastOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  // The sum over the dimensions the broadcast added.
  GradientBuilder g(b, getLoc());
  SmallVector<int64_t> added;
  for (int64_t d = 0; d < int64_t(shapeOf(getOutput()).size()); ++d)
    if (!llvm::is_contained(getDims(), d))
      added.push_back(d);
  operandGrads.push_back(added.empty() ? resultGrads[0]
                                       : g.reduceSum(resultGrads[0], added));
  return success();
}

namespace {
/// The result dimensions of a reduction over `axes` of a rank-`rank` input,
/// as nn.broadcast's `dims`.
SmallVector<int64_t> keptDims(ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(axes, d))
      dims.push_back(d);
  return dims;
}
} // namespace

LogicalResult ReduceSumOp::buildGradients(OpBuilder &b,
                                          ArrayRef<Value> resultGrads,
                                          SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(b, getLoc());
  Value x = getInput();
  operandGrads.push_back(g.broadcast(
      resultGrads[0], x, keptDims(getAxes(), shapeOf(x).size())));
  return success();
}

LogicalResult ReduceMaxOp::buildGradients(OpBuilder &b,
                                          ArrayRef<Value> resultGrads,
                                          SmallVectorImpl<Value> &operandGrads) {
  // torch.amax's rule: the gradient split evenly among the maxima.
  GradientBuilder g(b, getLoc());
  Value x = getInput();
  SmallVector<int64_t> dims = keptDims(getAxes(), shapeOf(x).size());
  Value atMax = g.compare(x, ComparePredicate::Eq,
                          g.broadcast(getOutput(), x, dims));
  Value share = g.div(resultGrads[0], g.reduceSum(atMax, getAxes()));
  operandGrads.push_back(g.mul(atMax, g.broadcast(share, x, dims)));
  return success();
}
