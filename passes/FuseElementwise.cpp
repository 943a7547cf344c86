//===- FuseElementwise.cpp - elementwise fusion that keeps named ops ------===//
//
// The patterns of upstream's linalg-fuse-elementwise-ops, with a control
// function that keeps named linalg ops (matmuls, convolutions, poolings)
// out of reshape folding so that they reach TileAndVectorize as such.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gradc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;

namespace {

/// Fused bodies stop growing at this many ops: each fusion clones both
/// bodies, so fusing a chain of n elementwise ops into one loop would take
/// time quadratic in n (a model of 3,000 ReLU layers spent 4 s here). Real
/// bodies are far smaller; a longer chain becomes several loops.
constexpr size_t kMaxFusedBodyOps = 256;

size_t bodyOps(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  return generic ? generic.getBody()->getOperations().size() : 0;
}

/// Upstream's condition (the producer has no other user), within the body
/// size bound.
bool producerHasOneUse(OpOperand *fused) {
  Operation *producer = fused->get().getDefiningOp();
  return producer && producer->hasOneUse() &&
         bodyOps(producer) + bodyOps(fused->getOwner()) <= kMaxFusedBodyOps;
}

/// A reshape folds into (or out of) a linalg op only when that op is a
/// linalg.generic.
bool foldsIntoGeneric(OpOperand *fused) {
  if (!producerHasOneUse(fused))
    return false;
  for (Operation *op : {fused->getOwner(), fused->get().getDefiningOp()})
    if (isa<linalg::LinalgOp>(op) && !isa<linalg::GenericOp>(op))
      return false;
  return true;
}

struct FuseElementwise : gradc::impl::FuseElementwiseBase<FuseElementwise> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, producerHasOneUse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns,
                                                      foldsIntoGeneric);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(
        patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, producerHasOneUse);
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns),
                                            config)))
      return signalPassFailure();
  }
};

} // namespace
