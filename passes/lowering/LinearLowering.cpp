//===- LinearLowering.cpp - dense and matmul to linalg --------------------===//
//
// dense and matmul become linalg.matmul (or matmul_transpose_b) with the
// bias broadcast into the init tensor.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

Value lowerMatmul(Emitter &e, Value a, Value b, bool ta, bool tb, Value init) {
  Type resultType = init.getType();
  // A transposed lhs is materialized: its vectorized form (a contraction
  // over the outer dimension of both operands) crashed in the JIT-compiled
  // code, and the transpose is cheap next to the product.
  if (ta) {
    a = e.transpose(a, {1, 0});
    ta = false;
  }
  if (tb)
    return e.b
        .create<linalg::MatmulTransposeBOp>(e.loc, resultType, ValueRange{a, b},
                                            init)
        ->getResult(0);
  return e.b
      .create<linalg::MatmulOp>(e.loc, resultType, ValueRange{a, b}, init)
      ->getResult(0);
}

/// Sum over every dimension but the last.
} // namespace

void populateLinearLoweringPatterns(RewritePatternSet &patterns) {
  using R = FailureOr<SmallVector<Value>>;
  addLowering<nn::DenseOp>(
      patterns, [](nn::DenseOp o, ValueRange ops, Emitter &e) -> R {
        auto rt = cast<RankedTensorType>(o.getType());
        Value init = o.getBias()
                         ? e.broadcastLast(ops[2], rt.getShape())
                         : e.fill(rt.getShape(), rt.getElementType(), 0.0);
        return one(lowerMatmul(e, ops[0], ops[1], false, false, init));
      });
  addLowering<nn::MatmulOp>(
      patterns, [](nn::MatmulOp o, ValueRange ops, Emitter &e) -> R {
        auto rt = cast<RankedTensorType>(o.getType());
        Value init = e.fill(rt.getShape(), rt.getElementType(), 0.0);
        return one(lowerMatmul(e, ops[0], ops[1], o.getTransposeLhs(),
                               o.getTransposeRhs(), init));
      });
}

} // namespace gradc::lowering
