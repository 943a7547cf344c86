//===- Autodiff.cpp - reverse-mode differentiation of nn functions --------===//
//
// A reverse walk over one block: seed the loss with 1, visit ops last to
// first, ask each op that carries a gradient for its operands' gradients
// (DifferentiableOpInterface), and sum the gradients of values with several
// users. Only ops between the differentiated arguments and the loss are
// visited; an op there without a rule is an error that names it.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseSet.h"

namespace gradc {
#define GEN_PASS_DEF_AUTODIFF
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;

namespace gradc {

/// Builds, before the block's terminator, the gradients of the 0-D `loss`
/// with respect to each of `wrt` (block arguments or values of the block).
/// A value the loss does not depend on gets a zero gradient.
FailureOr<SmallVector<Value>> buildGradients(Block &block, Value loss,
                                             ArrayRef<Value> wrt) {
  // Values that depend on a differentiated value: only these need gradients.
  llvm::DenseSet<Value> active(wrt.begin(), wrt.end());
  for (Operation &op : block.without_terminator())
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return active.contains(v); }))
      active.insert(op.result_begin(), op.result_end());

  OpBuilder b(block.getTerminator());
  Location loc = block.getTerminator()->getLoc();
  DenseMap<Value, Value> grads;
  auto accumulate = [&](Value v, Value g) {
    auto [it, inserted] = grads.try_emplace(v, g);
    if (!inserted)
      it->second = b.create<nn::AddOp>(g.getLoc(), it->second, g);
  };
  grads[loss] =
      b.create<nn::ConstantOp>(loc, loss.getType(), b.getF64FloatAttr(1.0));

  SmallVector<Operation *> forward;
  for (Operation &op : block.without_terminator())
    forward.push_back(&op);
  for (Operation *op : llvm::reverse(forward)) {
    if (!active.contains(op->getResult(0)))
      continue;
    SmallVector<Value> resultGrads;
    bool any = false;
    for (Value r : op->getResults()) {
      resultGrads.push_back(grads.lookup(r));
      any |= bool(resultGrads.back());
    }
    if (!any)
      continue;
    auto diff = dyn_cast<nn::DifferentiableOpInterface>(op);
    if (!diff)
      return op->emitError() << "no gradient rule for '" << op->getName()
                             << "': cannot differentiate through it";
    for (auto [r, g] : llvm::zip(op->getResults(), resultGrads))
      if (!g)
        g = b.create<nn::ConstantOp>(loc, r.getType(), b.getF64FloatAttr(0.0));
    SmallVector<Value> operandGrads;
    if (failed(diff.buildGradients(b, resultGrads, operandGrads)))
      return failure();
    assert(operandGrads.size() == op->getNumOperands() &&
           "a gradient rule must give one entry per operand");
    for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads))
      if (g && active.contains(operand))
        accumulate(operand, g);
  }

  SmallVector<Value> result;
  for (Value v : wrt) {
    Value g = grads.lookup(v);
    if (!g)
      g = b.create<nn::ConstantOp>(loc, v.getType(), b.getF64FloatAttr(0.0));
    result.push_back(g);
  }
  return result;
}

/// Erases the pure ops of `block` whose results are unused (gradients of
/// inputs nobody asked for, such as the first layer's input gradient).
void eraseDeadOps(Block &block) {
  SmallVector<Operation *> ops;
  for (Operation &op : block.without_terminator())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops))
    if (isOpTriviallyDead(op))
      op->erase();
}

LogicalResult differentiateFunction(func::FuncOp fn, ArrayRef<unsigned> wrt) {
  Block &block = fn.getBody().front();
  auto ret = cast<func::ReturnOp>(block.getTerminator());
  if (ret.getNumOperands() == 0 ||
      cast<RankedTensorType>(ret.getOperand(0).getType()).getRank() != 0)
    return fn.emitError() << "expects the first result to be a 0-D loss";
  SmallVector<Value> wrtValues;
  for (unsigned i : wrt)
    wrtValues.push_back(block.getArgument(i));
  auto grads = buildGradients(block, ret.getOperand(0), wrtValues);
  if (failed(grads))
    return failure();
  SmallVector<Value> results(ret.getOperands());
  results.append(grads->begin(), grads->end());
  ret->setOperands(results);
  fn.setFunctionType(FunctionType::get(fn.getContext(), fn.getArgumentTypes(),
                                       ValueRange(results).getTypes()));
  eraseDeadOps(block);
  return success();
}

} // namespace gradc

namespace {

struct Autodiff : gradc::impl::AutodiffBase<Autodiff> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (!fn->hasAttr("nn.differentiate") || fn.isExternal())
        continue;
      SmallVector<unsigned> wrt;
      for (auto [i, t] : llvm::enumerate(fn.getArgumentTypes()))
        if (isa<FloatType>(cast<ShapedType>(t).getElementType()))
          wrt.push_back(i);
      if (failed(differentiateFunction(fn, wrt)))
        return signalPassFailure();
      fn->removeAttr("nn.differentiate");
    }
  }
};

} // namespace
