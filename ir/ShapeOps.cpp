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

namespace {
/// The shape rule of concat: inputs that agree except on `axis`, whose
/// sizes add up.
FailureOr<SmallVector<int64_t>>
concatOutputShape(EmitErrorFn emitError, ValueRange inputs, int64_t axis) {
  if (inputs.empty())
    return emitError() << "expects at least one input";
  auto first = shapeOf(inputs[0]);
  int64_t rank = first.size();
  if (axis < 0 || axis >= rank)
    return emitError() << "expects axis in [0, " << rank << "), got " << axis;
  SmallVector<int64_t> out(first);
  for (Value v : inputs.drop_front()) {
    auto s = shapeOf(v);
    if (int64_t(s.size()) != rank)
      return emitError() << "expects inputs of one rank, got "
                         << shapeStr(first) << " and " << shapeStr(s);
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis) {
        out[d] = ShapedType::isDynamic(out[d]) || ShapedType::isDynamic(s[d])
                     ? ShapedType::kDynamic
                     : out[d] + s[d];
      } else if (!sameDim(s[d], first[d])) {
        return emitError() << "expects inputs to agree except on axis " << axis
                           << ", got " << shapeStr(first) << " and "
                           << shapeStr(s);
      }
    }
  }
  return out;
}

/// The shape rule of flatten: [N, d1, ...] to [N, d1 * ...].
FailureOr<SmallVector<int64_t>> flattenOutputShape(EmitErrorFn emitError,
                                                   Value input) {
  auto in = shapeOf(input);
  if (in.size() < 2)
    return emitError() << "expects input of rank >= 2, got " << shapeStr(in);
  int64_t features = 1;
  for (int64_t d : in.drop_front()) {
    if (ShapedType::isDynamic(d))
      return SmallVector<int64_t>{in[0], ShapedType::kDynamic};
    features *= d;
  }
  return SmallVector<int64_t>{in[0], features};
}
} // namespace

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return pushInferred(
      concatOutputShape(locErrors(loc), adaptor.getInputs(), adaptor.getAxis()),
      adaptor.getInputs()[0], types);
}

LogicalResult ConcatOp::verify() {
  auto shape = concatOutputShape(opErrors(*this), getInputs(), getAxis());
  if (failed(shape) || failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getOutput(), *shape, "output");
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return pushInferred(flattenOutputShape(locErrors(loc), adaptor.getInput()),
                      adaptor.getInput(), types);
}

LogicalResult SliceOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  auto type = cast<RankedTensorType>(getInput().getType());
  int64_t axis = getAxis(), offset = getOffset(), size = getSize();
  int64_t total = type.getShape()[axis];
  SmallVector<Value> parts;
  auto zeros = [&](int64_t n) {
    SmallVector<int64_t> shape(type.getShape());
    shape[axis] = n;
    parts.push_back(b.create<ConstantOp>(
        getLoc(), RankedTensorType::get(shape, type.getElementType()),
        b.getF64FloatAttr(0.0)));
  };
  if (offset > 0)
    zeros(offset);
  parts.push_back(resultGrads[0]);
  if (offset + size < total)
    zeros(total - offset - size);
  operandGrads.push_back(
      parts.size() == 1
          ? parts[0]
          : b.create<ConcatOp>(getLoc(), type, parts, b.getI64IntegerAttr(axis))
                .getResult());
  return success();
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
  auto shape = flattenOutputShape(opErrors(*this), getInput());
  if (failed(shape) || failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getOutput(), *shape, "output");
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

namespace {
/// The input's dimensions in the order of `perm`, a permutation of them.
FailureOr<SmallVector<int64_t>> transposeOutputShape(EmitErrorFn emitError,
                                                     Value input,
                                                     ArrayRef<int64_t> perm) {
  auto in = shapeOf(input);
  SmallVector<bool> seen(in.size(), false);
  bool ok = perm.size() == in.size();
  for (int64_t p : perm) {
    ok = ok && p >= 0 && p < int64_t(in.size()) && !seen[p];
    if (ok)
      seen[p] = true;
  }
  if (!ok) {
    std::string list;
    llvm::raw_string_ostream os(list);
    llvm::interleaveComma(perm, os);
    return emitError() << "expects perm to be a permutation of [0, "
                       << in.size() << "), got [" << list << "]";
  }
  SmallVector<int64_t> out;
  for (int64_t p : perm)
    out.push_back(in[p]);
  return out;
}
} // namespace

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return pushInferred(transposeOutputShape(locErrors(loc), adaptor.getInput(),
                                           adaptor.getPerm()),
                      adaptor.getInput(), types);
}

LogicalResult TransposeOp::verify() {
  auto shape = transposeOutputShape(opErrors(*this), getInput(), getPerm());
  if (failed(shape) || failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getOutput(), *shape, "output");
}

LogicalResult
TransposeOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[perm[i]] = int64_t(i);
  operandGrads.push_back(b.create<TransposeOp>(
      getLoc(), resultGrads[0], b.getDenseI64ArrayAttr(inverse)));
  return success();
}
