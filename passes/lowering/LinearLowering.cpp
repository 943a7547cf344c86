//===- LinearLowering.cpp - dense, matmuls and embedding to linalg --------===//
//
// dense and matmul become linalg.matmul (or matmul_transpose_b) with the
// bias broadcast into the init tensor; batch_matmul becomes one
// linalg.batch_matmul (or batch_matmul_transpose_b) over its batch
// dimensions collapsed into one, or one linalg.matmul of all the rows when
// its rhs is a single matrix. embedding is a linalg.generic over its output
// that reads the table at each id (tensor.extract); its gradient a loop over
// the id positions that adds each gradient row into the row of its id, one
// position after another, so repeated ids add up.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/lowering/LinalgEmitter.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

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

/// Row `id` of a table of `rows` rows as an index, clamped into [0, rows):
/// the data loader refuses ids out of range, and one that still comes (a
/// caller of the library) must not read outside the table.
Value clampedRow(OpBuilder &b, Location l, Value id, int64_t rows) {
  Value i = b.create<arith::IndexCastOp>(l, b.getIndexType(), id);
  Value zero = b.create<arith::ConstantIndexOp>(l, 0);
  Value last = b.create<arith::ConstantIndexOp>(l, rows - 1);
  return b.create<arith::MinSIOp>(l, b.create<arith::MaxSIOp>(l, i, zero),
                                  last);
}

/// out[n, t..., d] = table[clamp(ids[n, t...]), d].
Value lowerEmbedding(Emitter &e, Value ids, Value table,
                     RankedTensorType type) {
  unsigned rank = type.getRank();
  int64_t rows = e.shape(table)[0];
  SmallVector<unsigned> idDims;
  for (unsigned d = 0; d + 1 < rank; ++d)
    idDims.push_back(d);
  return e.generic(
      ids, e.empty(type.getShape(), type.getElementType()),
      {e.dims(rank, idDims), e.identity(rank)},
      SmallVector<IteratorType>(rank, IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value row = clampedRow(b, l, a[0], rows);
        Value col = b.create<linalg::IndexOp>(l, rank - 1);
        return one(b.create<tensor::ExtractOp>(l, table, ValueRange{row, col}));
      })[0];
}

/// A zero [V, D] table plus, for each id position i in order, dy's row i
/// at row clamp(ids[i]): a sequential loop, so repeated ids accumulate.
Value lowerEmbeddingGrad(Emitter &e, Value ids, Value dy,
                         RankedTensorType type) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  int64_t rows = type.getShape()[0], width = type.getShape()[1];
  Type t = type.getElementType();
  Value flatIds = e.flatten(ids);
  int64_t positions = e.shape(flatIds)[0];
  // dy [N, T..., D] as [positions, D].
  ReassociationIndices lead;
  for (int64_t d = 0; d + 1 < e.type(dy).getRank(); ++d)
    lead.push_back(d);
  Value dy2 = dy;
  if (lead.size() > 1)
    dy2 = b.create<tensor::CollapseShapeOp>(
        loc, dy, ArrayRef<ReassociationIndices>{lead, {int64_t(lead.size())}});
  auto index = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v).getResult();
  };
  auto loop = b.create<scf::ForOp>(loc, index(0), index(positions), index(1),
                                   ValueRange{e.fill({rows, width}, t, 0.0)});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar(), acc = loop.getRegionIterArg(0);
    Value id = b.create<tensor::ExtractOp>(loc, flatIds, ValueRange{i});
    Value row = clampedRow(b, loc, id, rows);
    auto rowType = RankedTensorType::get({width}, t);
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(width)};
    SmallVector<OpFoldResult> unit{b.getIndexAttr(1), b.getIndexAttr(1)};
    SmallVector<OpFoldResult> atRow{row, b.getIndexAttr(0)};
    Value cur =
        b.create<tensor::ExtractSliceOp>(loc, rowType, acc, atRow, sizes, unit);
    Value g = b.create<tensor::ExtractSliceOp>(
        loc, rowType, dy2, SmallVector<OpFoldResult>{i, b.getIndexAttr(0)},
        sizes, unit);
    // The row accumulates in place (its slice is the generic's init), so
    // bufferization allocates nothing inside the loop.
    Value sum = e.generic(g, cur, {e.identity(1), e.identity(1)},
                          {IteratorType::parallel},
                          [](OpBuilder &nb, Location l, ValueRange a) {
                            return one(S{nb, l}.add(a[1], a[0]));
                          })[0];
    b.create<scf::YieldOp>(
        loc, b.create<tensor::InsertSliceOp>(loc, sum, acc, atRow, sizes, unit)
                 .getResult());
  }
  return loop.getResult(0);
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
  addLowering<nn::EmbeddingOp>(
      patterns, [](nn::EmbeddingOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerEmbedding(e, ops[0], ops[1],
                                  cast<RankedTensorType>(o.getType())));
      });
  addLowering<nn::EmbeddingGradOp>(
      patterns, [](nn::EmbeddingGradOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerEmbeddingGrad(e, ops[0], ops[1],
                                      cast<RankedTensorType>(o.getType())));
      });
  // Attention becomes tiles of nn ops, which the conversion lowers in turn
  // (gradc-decompose-attention does the same before the lowering).
  addLowering<nn::AttentionOp>(
      patterns, [](nn::AttentionOp o, ValueRange ops, Emitter &e) -> R {
        return decomposeAttention(e.b, o, ops);
      });
  addLowering<nn::AttentionGradOp>(
      patterns, [](nn::AttentionGradOp o, ValueRange ops, Emitter &e) -> R {
        return decomposeAttentionGrad(e.b, o, ops);
      });
  addLowering<nn::BatchMatmulOp>(
      patterns, [](nn::BatchMatmulOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerBatchMatmul(e, ops[0], ops[1], o.getTransposeLhs(),
                                    o.getTransposeRhs(),
                                    cast<RankedTensorType>(o.getType())));
      });
}

} // namespace gradc::lowering
