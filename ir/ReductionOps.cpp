//===- ReductionOps.cpp - nn.reduce: shape rule, verifier, gradient -------===//
//
// nn.reduce drops its axes, as nn.reduce_sum does. Its gradient is composed
// of primitives: the output gradient repeated over the reduced axes (scaled
// by 1 / count for the mean); for the maximum and the minimum, masked to
// the elements equal to the result and divided by how many there are
// (PyTorch's torch.amax / torch.amin split the gradient evenly among ties).
//
//===----------------------------------------------------------------------===//

#include "ir/GradientBuilder.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return pushInferred(
      reduceOutputShape(locErrors(loc), adaptor.getInput(), adaptor.getAxes()),
      adaptor.getInput(), types);
}

LogicalResult ReduceOp::verify() {
  auto shape = reduceOutputShape(opErrors(*this), getInput(), getAxes());
  if (failed(shape) || failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getOutput(), *shape, "output");
}

LogicalResult ReduceOp::buildGradients(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(b, getLoc());
  Value x = getInput(), dy = resultGrads[0];
  ArrayRef<int64_t> axes = getAxes();
  auto in = shapeOf(x);
  SmallVector<int64_t> kept;
  int64_t count = 1;
  for (int64_t d = 0; d < int64_t(in.size()); ++d) {
    if (llvm::is_contained(axes, d))
      count *= in[d];
    else
      kept.push_back(d);
  }
  Value spread = g.broadcast(dy, x, kept);
  switch (getKind()) {
  case ReduceKind::Sum:
    operandGrads.push_back(spread);
    break;
  case ReduceKind::Mean:
    operandGrads.push_back(g.scale(spread, 1.0 / double(count)));
    break;
  case ReduceKind::Max:
  case ReduceKind::Min: {
    // dx = [x == y] * dy / (how many x equal y).
    Value hit =
        g.compare(x, ComparePredicate::Eq, g.broadcast(getOutput(), x, kept));
    Value ties = g.broadcast(g.reduceSum(hit, axes), x, kept);
    operandGrads.push_back(g.div(g.mul(hit, spread), ties));
    break;
  }
  }
  return success();
}
