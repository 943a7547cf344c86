//===- FoldBatchNorm.cpp - conv2d + batch_norm into one op ----------------===//
//
// In @predict (and so @eval_step), a batch norm with running statistics is
// an affine map per channel; after a convolution it folds into the filter
// and bias. nn.conv2d_batch_norm keeps both parts' operands, so the
// train-step builder can unfold it (TrainingFormOpInterface).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gradc {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;

namespace {

struct FoldBatchNormPattern : OpRewritePattern<nn::BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    auto conv = bn.getInput().getDefiningOp<nn::Conv2DOp>();
    if (!conv || conv.getActivation() != nn::ActivationKind::None ||
        !conv->hasOneUse())
      return rewriter.notifyMatchFailure(
          bn, "input is not a single-use conv2d without activation");
    Value bias = conv.getBias();
    if (!bias)
      bias = rewriter.create<nn::ConstantOp>(
          conv.getLoc(), bn.getMean().getType(), rewriter.getF64FloatAttr(0.0));
    auto fused = rewriter.create<nn::Conv2DBatchNormOp>(
        rewriter.getFusedLoc({conv.getLoc(), bn.getLoc()}), bn.getType(),
        conv.getInput(), conv.getFilter(), bias, bn.getGamma(), bn.getBeta(),
        bn.getMean(), bn.getVariance(), conv.getStridesAttr(),
        conv.getPadsAttr(), conv.getDilationsAttr(), conv.getGroupsAttr(),
        nn::ActivationKindAttr::get(rewriter.getContext(),
                                    nn::ActivationKind::None),
        rewriter.getF64FloatAttr(0.0), bn.getEpsilonAttr(),
        bn.getMomentumAttr());
    rewriter.replaceOp(bn, fused.getOutput());
    rewriter.eraseOp(conv);
    return success();
  }
};

struct FoldBatchNorm : gradc::impl::FoldBatchNormBase<FoldBatchNorm> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldBatchNormPattern>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
