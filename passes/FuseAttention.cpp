//===- FuseAttention.cpp - scaled dot-product attention as one op ---------===//
//
// batch_matmul(softmax([causal_mask](scale * batch_matmul(q, k^T))), v) ->
// nn.attention: the form the multi_head_attention layer produces. (PyTorch's
// ONNX export of MultiheadAttention arrives with k^T as a separate
// transpose and its causal mask as a fixed weight, and is not matched yet.)
// Decomposed before lowering (DecomposeAttention.cpp) into tiles of keys
// with an online softmax.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "ir/VerifierUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <optional>

namespace gradc {
#define GEN_PASS_DEF_FUSEATTENTION
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;
using gradc::nn::shapeOf;

namespace {

/// The value every element of `v` holds, when `v` is an nn.constant or a
/// broadcast of one.
std::optional<double> splatValue(Value v) {
  if (auto b = v.getDefiningOp<nn::BroadcastOp>())
    v = b.getInput();
  if (auto c = v.getDefiningOp<nn::ConstantOp>())
    return c.getValue().convertToDouble();
  return std::nullopt;
}

/// Peels a multiplication or division of `x` by a positive constant off
/// `x`, folding it into `scale`; false when `x` is neither.
bool peelScale(Value &x, double &scale) {
  if (auto mul = x.getDefiningOp<nn::MulOp>()) {
    for (auto [c, other] : {std::pair(mul.getRhs(), mul.getLhs()),
                            std::pair(mul.getLhs(), mul.getRhs())})
      if (auto value = splatValue(c); value && *value > 0) {
        scale *= *value;
        x = other;
        return true;
      }
  }
  if (auto div = x.getDefiningOp<nn::DivOp>())
    if (auto value = splatValue(div.getRhs()); value && *value > 0) {
      scale /= *value;
      x = div.getLhs();
      return true;
    }
  return false;
}

/// A fill low enough that the softmax gives the masked scores no weight.
constexpr double kMaskedBelow = -1e30;

struct FuseAttentionPattern : OpRewritePattern<nn::BatchMatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::BatchMatmulOp pv,
                                PatternRewriter &rewriter) const override {
    if (pv.getTransposeLhs() || pv.getTransposeRhs())
      return rewriter.notifyMatchFailure(pv, "a transposed product");
    auto softmax = pv.getLhs().getDefiningOp<nn::SoftmaxOp>();
    if (!softmax || !softmax->hasOneUse())
      return rewriter.notifyMatchFailure(pv, "not the only use of a softmax");
    // The scores: scale and mask in either order, then q k^T.
    Value x = softmax.getInput();
    double scale = 1.0;
    bool causal = false;
    for (;;) {
      // A scale applied after the mask scales its fill too.
      if (auto mask = x.getDefiningOp<nn::CausalMaskOp>();
          mask && !causal && !mask.getTransposed() &&
          mask.getFill().convertToDouble() * scale <= kMaskedBelow) {
        causal = true;
        x = mask.getInput();
        continue;
      }
      if (!peelScale(x, scale))
        break;
    }
    auto qk = x.getDefiningOp<nn::BatchMatmulOp>();
    if (!qk || qk.getTransposeLhs() || !qk.getTransposeRhs())
      return rewriter.notifyMatchFailure(pv, "the scores are not q k^T");
    Value q = qk.getLhs();
    while (peelScale(q, scale)) {
    }
    Value k = qk.getRhs(), v = pv.getRhs();
    // One rank, the same leading dimensions (no broadcasting), static.
    auto qs = shapeOf(q), ks = shapeOf(k), vs = shapeOf(v);
    if (qs.size() < 2 || ks.size() != qs.size() || vs.size() != qs.size())
      return rewriter.notifyMatchFailure(pv, "operands of different ranks");
    for (size_t d = 0; d < qs.size(); ++d)
      if (ShapedType::isDynamic(qs[d]) || ShapedType::isDynamic(ks[d]) ||
          ShapedType::isDynamic(vs[d]) ||
          (d + 2 < qs.size() && (qs[d] != ks[d] || qs[d] != vs[d])))
        return rewriter.notifyMatchFailure(pv, "broadcast or dynamic sizes");
    auto elem = cast<RankedTensorType>(q.getType()).getElementType();
    auto lse = RankedTensorType::get(qs.drop_back(), elem);
    auto attention = rewriter.create<nn::AttentionOp>(
        pv.getLoc(), TypeRange{pv.getType(), lse}, q, k, v,
        rewriter.getF64FloatAttr(scale),
        causal ? rewriter.getUnitAttr() : UnitAttr());
    rewriter.replaceOp(pv, attention.getOutput());
    return success();
  }
};

struct FuseAttention : gradc::impl::FuseAttentionBase<FuseAttention> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseAttentionPatterns(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void gradc::populateFuseAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseAttentionPattern>(patterns.getContext());
}
