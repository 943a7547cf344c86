//===- FuseConvActivation.cpp - conv2d + relu into one op -----------------===//
//
// The fused conv applies its activation while the result is still in
// registers, and its backward pass takes the activation's gradient from the
// conv output (which has the sign of the pre-activation for alpha >= 0).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gradc {
#define GEN_PASS_DEF_FUSECONVACTIVATION
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;

namespace {

/// The conv2d (or conv2d_batch_norm) that `act` can absorb: no activation
/// yet, and `act` its only user.
Operation *fusableConv(Value actInput) {
  Operation *conv = actInput.getDefiningOp();
  if (!conv || !isa<nn::Conv2DOp, nn::Conv2DBatchNormOp>(conv) ||
      conv->getAttrOfType<nn::ActivationKindAttr>("activation").getValue() !=
          nn::ActivationKind::None ||
      !conv->hasOneUse())
    return nullptr;
  return conv;
}

template <typename ActOp>
struct FuseConvActivationPattern : OpRewritePattern<ActOp> {
  using OpRewritePattern<ActOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(ActOp act,
                                PatternRewriter &rewriter) const override {
    Operation *conv = fusableConv(act.getInput());
    if (!conv)
      return rewriter.notifyMatchFailure(act,
                                         "input is not a single-use conv2d");
    double alpha = 0.0;
    nn::ActivationKind kind = nn::ActivationKind::Relu;
    if constexpr (std::is_same_v<ActOp, nn::LeakyReluOp>) {
      alpha = act.getAlpha().convertToDouble();
      kind = nn::ActivationKind::LeakyRelu;
      if (alpha < 0)
        return rewriter.notifyMatchFailure(act, "negative alpha");
    }
    rewriter.modifyOpInPlace(conv, [&] {
      conv->setAttr("activation",
                    nn::ActivationKindAttr::get(rewriter.getContext(), kind));
      conv->setAttr("alpha", rewriter.getF64FloatAttr(alpha));
      conv->setLoc(rewriter.getFusedLoc({conv->getLoc(), act.getLoc()}));
    });
    rewriter.replaceOp(act, conv->getResult(0));
    return success();
  }
};

struct FuseConvActivation
    : gradc::impl::FuseConvActivationBase<FuseConvActivation> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseConvActivationPatterns(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void gradc::populateFuseConvActivationPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseConvActivationPattern<nn::ReluOp>,
               FuseConvActivationPattern<nn::LeakyReluOp>>(
      patterns.getContext());
}
