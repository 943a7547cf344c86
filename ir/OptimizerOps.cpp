//===- OptimizerOps.cpp - optimizer updates: verifiers --------------------===//
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
                           std::optional<APFloat> lrAttr, Value lr) {
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
  if (bool(lrAttr) == bool(lr))
    return op->emitOpError() << "expects the learning rate either as the "
                                "attribute learning_rate or as the operand "
                                "lr, not "
                             << (lr ? "both" : "neither");
  if (lrAttr && !(lrAttr->convertToDouble() > 0))
    return op->emitOpError() << "expects a positive learning rate, got "
                             << lrAttr->convertToDouble();
  return success();
}
} // namespace

LogicalResult SgdUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad()}, getLearningRate(),
                      getLr());
}
LogicalResult MomentumUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad(), getVelocity()},
                      getLearningRate(), getLr());
}
LogicalResult RmspropUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad(), getMeanSquare()},
                      getLearningRate(), getLr());
}
LogicalResult AdamUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad(), getM(), getV()},
                      getLearningRate(), getLr());
}
