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
