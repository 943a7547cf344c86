//===- LinearOps.cpp - dense, matmul: verifiers and gradients -------------===//
//
// dense's gradients are matmuls (dx = dy W^T, dW = x^T dy) and a reduce_sum.
//
//===----------------------------------------------------------------------===//

#include "ir/GradientBuilder.h"
#include "ir/ShapeRules.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

namespace {
/// The shape rule of dense: input [N, K] x weight [K, M] is [N, M].
FailureOr<SmallVector<int64_t>> denseOutputShape(EmitErrorFn emitError,
                                                 Value input, Value weight) {
  if (failed(expectRank(emitError, input, 2, "input [N, K]")) ||
      failed(expectRank(emitError, weight, 2, "weight [K, M]")))
    return failure();
  auto in = shapeOf(input), w = shapeOf(weight);
  if (!sameDim(w[0], in[1]))
    return emitError() << "expects weight rows " << w[0]
                       << " to equal input features " << in[1];
  return SmallVector<int64_t>{in[0], w[1]};
}
} // namespace

LogicalResult DenseOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  return pushInferred(
      denseOutputShape(locErrors(loc), adaptor.getInput(), adaptor.getWeight()),
      adaptor.getInput(), types);
}

LogicalResult DenseOp::verify() {
  if (failed(expectSameElementType(*this)))
    return failure();
  auto shape = denseOutputShape(opErrors(*this), getInput(), getWeight());
  if (failed(shape))
    return failure();
  if (getBias() && failed(expectShape(*this, getBias(), {(*shape)[1]}, "bias")))
    return failure();
  return expectShape(*this, getOutput(), *shape, "output");
}

LogicalResult MatmulOp::verify() {
  if (failed(expectRank(*this, getLhs(), 2, "lhs")) ||
      failed(expectRank(*this, getRhs(), 2, "rhs")) ||
      failed(expectSameElementType(*this)))
    return failure();
  auto a = shapeOf(getLhs()), b = shapeOf(getRhs());
  int64_t m = getTransposeLhs() ? a[1] : a[0];
  int64_t ka = getTransposeLhs() ? a[0] : a[1];
  int64_t kb = getTransposeRhs() ? b[1] : b[0];
  int64_t n = getTransposeRhs() ? b[0] : b[1];
  if (!sameDim(ka, kb))
    return emitOpError() << "expects contracted sizes to match, got " << ka
                         << " and " << kb;
  return expectShape(*this, getOutput(), {m, n}, "output");
}

LogicalResult DenseOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  // dx = dy W^T, dW = x^T dy, db = sum over the batch of dy.
  operandGrads.push_back(b.create<MatmulOp>(
      loc, getInput().getType(), dy, getWeight(), /*transpose_lhs=*/false,
      /*transpose_rhs=*/true));
  operandGrads.push_back(b.create<MatmulOp>(loc, getWeight().getType(),
                                            getInput(), dy,
                                            /*transpose_lhs=*/true,
                                            /*transpose_rhs=*/false));
  if (getBias())
    operandGrads.push_back(GradientBuilder(b, loc).sumToLast(dy));
  return success();
}
