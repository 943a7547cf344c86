//===- FuseSoftmaxCrossEntropy.cpp - softmax + CE on logits ---------------===//
//
// cross_entropy(softmax(x)) computed as log-sum-exp on the logits never
// overflows and has the simple gradient softmax(x) - onehot(labels).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gradc {
#define GEN_PASS_DEF_FUSESOFTMAXCROSSENTROPY
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;

namespace {

struct FuseSoftmaxCrossEntropyPattern : OpRewritePattern<nn::CrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::CrossEntropyOp ce,
                                PatternRewriter &rewriter) const override {
    // Per-token predictions [N, T, C] reach the loss as [N * T, C]: the
    // reshape keeps the last axis, over which the softmax normalizes.
    auto reshape = ce.getPredictions().getDefiningOp<nn::ReshapeOp>();
    Value probs = reshape ? reshape.getInput() : ce.getPredictions();
    auto softmax = probs.getDefiningOp<nn::SoftmaxOp>();
    if (!softmax)
      return rewriter.notifyMatchFailure(ce, "predictions are not a softmax");
    auto in = cast<RankedTensorType>(probs.getType());
    auto out = cast<RankedTensorType>(ce.getPredictions().getType());
    if (in.getShape().back() != out.getShape().back())
      return rewriter.notifyMatchFailure(ce, "the reshape moves the classes");
    // The softmax itself stays while something else (e.g. the returned
    // probabilities) uses it; the loss no longer does.
    Value logits = softmax.getInput();
    if (reshape)
      logits = rewriter.create<nn::ReshapeOp>(reshape.getLoc(), out, logits);
    rewriter.replaceOpWithNewOp<nn::SoftmaxCrossEntropyOp>(
        ce, ce.getType(), logits, ce.getLabels(),
        /*targets=*/Value(), ce.getDeltaAttr());
    return success();
  }
};

struct FuseSoftmaxCrossEntropy
    : gradc::impl::FuseSoftmaxCrossEntropyBase<FuseSoftmaxCrossEntropy> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseSoftmaxCrossEntropyPatterns(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void gradc::populateFuseSoftmaxCrossEntropyPatterns(
    RewritePatternSet &patterns) {
  patterns.add<FuseSoftmaxCrossEntropyPattern>(patterns.getContext());
}
