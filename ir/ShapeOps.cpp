//===- ShapeOps.cpp - concat and slice: verifiers and gradients -----------===//
//
// nn.concat joins tensors along one axis; its gradient is one nn.slice of
// the output gradient per input.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"
#include "ir/ShapeRules.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "expects at least one input";
  auto first = shapeOf(getInputs()[0]);
  int64_t rank = first.size(), axis = getAxis();
  if (axis < 0 || axis >= rank)
    return emitOpError() << "expects axis in [0, " << rank << "), got " << axis;
  SmallVector<int64_t> out(first);
  for (Value v : getInputs().drop_front()) {
    auto s = shapeOf(v);
    if (int64_t(s.size()) != rank)
      return emitOpError() << "expects inputs of one rank, got "
                           << shapeStr(first) << " and " << shapeStr(s);
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis) {
        out[d] = ShapedType::isDynamic(out[d]) || ShapedType::isDynamic(s[d])
                     ? ShapedType::kDynamic
                     : out[d] + s[d];
      } else if (!sameDim(s[d], first[d])) {
        return emitOpError()
               << "expects inputs to agree except on axis " << axis << ", got "
               << shapeStr(first) << " and " << shapeStr(s);
      }
    }
  }
  if (failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getOutput(), out, "output");
}

LogicalResult ConcatOp::buildGradients(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  int64_t offset = 0, axis = getAxis();
  for (Value v : getInputs()) {
    int64_t size = shapeOf(v)[axis];
    operandGrads.push_back(b.create<SliceOp>(
        getLoc(), v.getType(), resultGrads[0], b.getI64IntegerAttr(axis),
        b.getI64IntegerAttr(offset), b.getI64IntegerAttr(size)));
    offset += size;
  }
  return success();
}

LogicalResult SliceOp::verify() {
  auto in = shapeOf(getInput());
  int64_t rank = in.size(), axis = getAxis();
  if (axis < 0 || axis >= rank)
    return emitOpError() << "expects axis in [0, " << rank << "), got " << axis;
  int64_t offset = getOffset(), size = getSize();
  if (offset < 0 || size < 1 ||
      (!ShapedType::isDynamic(in[axis]) && offset + size > in[axis]))
    return emitOpError() << "expects slice [" << offset << ", " << offset + size
                         << ") within axis " << axis << " of size " << in[axis];
  SmallVector<int64_t> out(in);
  out[axis] = size;
  if (failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getOutput(), out, "output");
}

LogicalResult FlattenOp::verify() {
  auto in = shapeOf(getInput());
  if (in.size() < 2)
    return emitOpError() << "expects input of rank >= 2, got " << shapeStr(in);
  int64_t features = 1;
  for (int64_t d : in.drop_front()) {
    if (ShapedType::isDynamic(d)) {
      features = ShapedType::kDynamic;
      break;
    }
    features *= d;
  }
  if (failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getOutput(), {in[0], features}, "output");
}

LogicalResult ReshapeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getOutput().getType());
  if (in.hasStaticShape() && out.hasStaticShape() &&
      in.getNumElements() != out.getNumElements())
    return emitOpError() << "expects " << in.getNumElements()
                         << " elements in the output ("
                         << shapeStr(in.getShape()) << "), got "
                         << out.getNumElements() << " ("
                         << shapeStr(out.getShape()) << ")";
  return expectSameElementType(*this);
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
