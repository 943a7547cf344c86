//===- OptimizerOps.cpp - optimizer updates: verifiers
//----------------------===//
//
// An update's state operands and results have the parameter's type.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"
#include "ir/ShapeRules.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

namespace {
/// An update's state operands and all its results have the parameter's type.
LogicalResult verifyUpdate(Operation *op, Value param, ValueRange sameAsParam,
                           double lr) {
  if (failed(expectSameElementType(op)))
    return failure();
  SmallVector<Value> values(sameAsParam);
  llvm::append_range(values, op->getResults());
  for (Value v : values)
    if (!sameShape(shapeOf(v), shapeOf(param)))
      return op->emitOpError()
             << "expects every operand and result to have "
                "the parameter's shape "
             << shapeStr(shapeOf(param)) << ", got " << shapeStr(shapeOf(v));
  if (!(lr > 0))
    return op->emitOpError() << "expects a positive learning rate, got " << lr;
  return success();
}
} // namespace

LogicalResult SgdUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad()},
                      getLearningRate().convertToDouble());
}
LogicalResult MomentumUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad(), getVelocity()},
                      getLearningRate().convertToDouble());
}
LogicalResult RmspropUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad(), getMeanSquare()},
                      getLearningRate().convertToDouble());
}
LogicalResult AdamUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad(), getM(), getV()},
                      getLearningRate().convertToDouble());
}
