//===- LinearLowering.cpp - dense, matmul, batch_matmul to linalg ---------===//
//
// dense and matmul become linalg.matmul (or matmul_transpose_b) with the
// bias broadcast into the init tensor; batch_matmul becomes one
// linalg.batch_matmul (or batch_matmul_transpose_b) over its batch
// dimensions collapsed into one, or one linalg.matmul of all the rows when
// its rhs is a single matrix.
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

/// Groups [0, rank - 2) into one dimension and keeps the last two.
SmallVector<ReassociationIndices> batchGroups(int64_t rank) {
  ReassociationIndices batch;
  for (int64_t d = 0; d + 2 < rank; ++d)
    batch.push_back(d);
  return {batch, {rank - 2}, {rank - 1}};
}

/// `x` ([s..., r, c]) as [prod(batch), r, c]: repeated along the batch
/// dimensions it is broadcast along (its own aligned at the last of
/// `batch`, which is not empty), then collapsed.
Value batchOperand(Emitter &e, Value x, ArrayRef<int64_t> batch) {
  ArrayRef<int64_t> s = e.shape(x);
  int64_t rank = s.size(), outRank = batch.size() + 2;
  int64_t offset = outRank - rank;
  if (s.drop_back(2) != batch) {
    SmallVector<AffineExpr> in;
    for (int64_t j = 0; j < rank; ++j)
      in.push_back(j < rank - 2 && s[j] != batch[offset + j]
                       ? getAffineConstantExpr(0, e.ctx)
                       : getAffineDimExpr(offset + j, e.ctx));
    SmallVector<int64_t> full(batch);
    full.append({s[rank - 2], s[rank - 1]});
    x = e.generic(x, e.empty(full, e.elem(x)),
                  {AffineMap::get(outRank, 0, in, e.ctx), e.identity(outRank)},
                  SmallVector<IteratorType>(outRank, IteratorType::parallel),
                  [](OpBuilder &, Location, ValueRange a) {
                    return SmallVector<Value>{a[0]};
                  })[0];
  }
  if (outRank == 3)
    return x;
  return e.b.create<tensor::CollapseShapeOp>(e.loc, x, batchGroups(outRank));
}

Value lowerBatchMatmul(Emitter &e, Value a, Value b, bool ta, bool tb,
                       RankedTensorType rt) {
  ArrayRef<int64_t> out = rt.getShape();
  int64_t rank = out.size();
  Type elem = rt.getElementType();
  auto expand = [&](Value v, ArrayRef<ReassociationIndices> groups) -> Value {
    if (e.type(v) == rt)
      return v;
    return e.b.create<tensor::ExpandShapeOp>(e.loc, rt, v, groups);
  };
  if (e.shape(b).size() == 2 && (!ta || e.shape(a).size() == 2)) {
    // One rhs matrix for every batch index: one matmul of all of lhs's rows.
    ReassociationIndices rows;
    for (int64_t d = 0; d + 1 < rank; ++d)
      rows.push_back(d);
    SmallVector<ReassociationIndices> groups{rows, {rank - 1}};
    if (rank > 2)
      a = e.b.create<tensor::CollapseShapeOp>(e.loc, a, groups);
    int64_t n = e.shape(a)[ta ? 1 : 0];
    Value init = e.fill({n, out.back()}, elem, 0.0);
    return expand(lowerMatmul(e, a, b, ta, tb, init), groups);
  }
  ArrayRef<int64_t> batch = out.drop_back(2);
  a = batchOperand(e, a, batch);
  b = batchOperand(e, b, batch);
  // As for matmul, a transposed lhs is materialized.
  if (ta)
    a = e.transpose(a, {0, 2, 1});
  int64_t flat = e.shape(a)[0];
  Value init = e.fill({flat, out[rank - 2], out[rank - 1]}, elem, 0.0);
  Type t = init.getType();
  Value c =
      tb ? e.b.create<linalg::BatchMatmulTransposeBOp>(e.loc, t,
                                                       ValueRange{a, b}, init)
               ->getResult(0)
         : e.b.create<linalg::BatchMatmulOp>(e.loc, t, ValueRange{a, b}, init)
               ->getResult(0);
  return expand(c, batchGroups(rank));
}
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
  addLowering<nn::BatchMatmulOp>(
      patterns, [](nn::BatchMatmulOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerBatchMatmul(e, ops[0], ops[1], o.getTransposeLhs(),
                                    o.getTransposeRhs(),
                                    cast<RankedTensorType>(o.getType())));
      });
}

} // namespace gradc::lowering
