//===- DecomposeAttention.cpp - attention a tile of keys at a time --------===//
//
// nn.attention and nn.attention_grad as nn ops over tiles of keys, the
// FlashAttention recipe with whole columns of queries per tile (the batch
// and head dimensions are each product's batch, so every product is one
// vectorized batch_matmul):
//
//   forward, per tile j:  s = (scale q) k_j^T   [b..., T', K]
//                         m' = max(m, rowmax s); a = exp(m - m')
//                         p = exp(s - m'); l = a l + rowsum p
//                         acc = a acc + p v_j
//            then         output = acc / l; lse = m + log l
//   backward, per tile j, transposed (keys by queries, so that no score or
//   probability tile is the forward's again, which CSE would keep alive
//   between them; only slices of q, k and v are shared):
//                         p' = exp(k_j (scale q)^T - lse); dv_j = p' dO
//                         ds' = scale p' * (v_j dO^T - rowsum(dO * output))
//                         dq += ds'^T k_j; dk_j = ds' q
//
// With `causal`, tile j's keys start at j K and the queries before them
// give those keys no weight, so T' = T - j K rows take part: the tiles
// above the diagonal are never computed, and the diagonal tile's rows are
// masked by nn.causal_mask (a key after its query gets a lowest-float
// score, so exp gives it 0). The tiles are unrolled: every shape is static.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "ir/GradientBuilder.h"
#include "ir/VerifierUtils.h"

#include <algorithm>

namespace gradc {
#define GEN_PASS_DEF_DECOMPOSEATTENTION
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;
using gradc::nn::GradientBuilder;
using gradc::nn::shapeOf;

namespace {

/// The lowest float: the score of a masked key (as the layer's mask).
constexpr double kMaskedScore = -3.4028234663852886e38;

/// Builds the tiles of one attention op; `rows` is the query/key axis of
/// the operands (rank - 2), which is also the last axis of the row
/// statistics [b..., T].
struct Tiler {
  Tiler(OpBuilder &b, Location loc, Value q, Value k, double scale, bool causal,
        int64_t keyTile)
      : g(b, loc), rows(int64_t(shapeOf(q).size()) - 2),
        queries(shapeOf(q)[rows]), keys(shapeOf(k)[rows]), causal(causal),
        keyTile(std::max<int64_t>(1, keyTile)) {
    scaledQ = scale == 1.0 ? q : g.scale(q, scale);
  }

  int64_t tiles() const { return (keys + keyTile - 1) / keyTile; }
  int64_t keyOffset(int64_t j) const { return j * keyTile; }
  int64_t keyCount(int64_t j) const {
    return std::min(keyTile, keys - keyOffset(j));
  }
  /// The first query that gives tile j's keys any weight.
  int64_t firstRow(int64_t j) const { return causal ? keyOffset(j) : 0; }

  /// `size` entries of `x` from `offset` along `axis` (x itself if whole).
  Value slice(Value x, int64_t axis, int64_t offset, int64_t size) {
    auto type = cast<RankedTensorType>(x.getType());
    if (offset == 0 && size == type.getShape()[axis])
      return x;
    SmallVector<int64_t> shape(type.getShape());
    shape[axis] = size;
    return g.b.create<nn::SliceOp>(
        g.loc, RankedTensorType::get(shape, type.getElementType()), x,
        g.b.getI64IntegerAttr(axis), g.b.getI64IntegerAttr(offset),
        g.b.getI64IntegerAttr(size));
  }
  /// The rows from `first` of a [b..., T, X] operand or [b..., T] statistic.
  Value rowsFrom(Value x, int64_t first) {
    return slice(x, rows, first, queries - first);
  }
  Value keyTileOf(Value x, int64_t j) {
    return slice(x, rows, keyOffset(j), keyCount(j));
  }
  /// `whole` with its rows from `first` replaced by `tail`.
  Value replaceRows(Value whole, Value tail, int64_t first) {
    if (first == 0)
      return tail;
    return g.b.create<nn::ConcatOp>(
        g.loc, ValueRange{slice(whole, rows, 0, first), tail},
        g.b.getI64IntegerAttr(rows));
  }
  Value concatKeys(ArrayRef<Value> parts) {
    if (parts.size() == 1)
      return parts[0];
    return g.b.create<nn::ConcatOp>(g.loc, parts, g.b.getI64IntegerAttr(rows));
  }

  /// Tile j's scaled scores of the queries from firstRow(j), masked.
  Value scores(Value k, int64_t j) {
    // Operands built one statement at a time: the IR's order must not
    // depend on the compiler's order of evaluating arguments.
    Value rowsQ = rowsFrom(scaledQ, firstRow(j));
    Value keysJ = keyTileOf(k, j);
    Value s = g.b.create<nn::BatchMatmulOp>(g.loc, rowsQ, keysJ, false, true);
    if (causal)
      s = g.b.create<nn::CausalMaskOp>(
          g.loc, s, g.b.getF64FloatAttr(kMaskedScore), UnitAttr());
    return s;
  }
  /// A statistic [b..., T'] repeated along the rows of keys-by-queries `like`
  /// [b..., K, T'].
  Value broadcastColumns(Value x, Value like) {
    SmallVector<int64_t> dims;
    for (int64_t d = 0; d < rows; ++d)
      dims.push_back(d);
    dims.push_back(rows + 1);
    return g.broadcast(x, like, dims);
  }
  /// exp(s - m), m one value per row of s.
  Value expMinusRows(Value s, Value m) {
    return g.exp(g.sub(s, g.broadcastRows(m, s)));
  }

  GradientBuilder g;
  int64_t rows, queries, keys;
  bool causal;
  int64_t keyTile;
  Value scaledQ;
};

} // namespace

SmallVector<Value> gradc::decomposeAttention(OpBuilder &b, nn::AttentionOp op,
                                             ValueRange operands,
                                             int64_t keyTile) {
  Value query = operands[0], key = operands[1], value = operands[2];
  Tiler t(b, op.getLoc(), query, key, op.getScale().convertToDouble(),
          op.getCausal(), keyTile);
  GradientBuilder &g = t.g;
  Value m, l, acc;
  for (int64_t j = 0; j < t.tiles(); ++j) {
    int64_t first = t.firstRow(j);
    if (first >= t.queries)
      break;
    Value s = t.scores(key, j);
    Value v = t.keyTileOf(value, j);
    Value tileMax = g.reduceRows(s, /*max=*/true);
    if (j == 0) {
      m = tileMax;
      Value p = t.expMinusRows(s, m);
      l = g.reduceRows(p);
      acc = g.b.create<nn::BatchMatmulOp>(g.loc, p, v, false, false);
      continue;
    }
    Value mOld = t.rowsFrom(m, first), lOld = t.rowsFrom(l, first);
    Value accOld = t.rowsFrom(acc, first);
    Value mNew = g.maximum(mOld, tileMax);
    Value alpha = g.exp(g.sub(mOld, mNew));
    Value p = t.expMinusRows(s, mNew);
    Value lScaled = g.mul(lOld, alpha);
    Value lNew = g.add(lScaled, g.reduceRows(p));
    Value accScaled = g.mul(accOld, g.broadcastRows(alpha, accOld));
    Value accNew = g.add(
        accScaled, g.b.create<nn::BatchMatmulOp>(g.loc, p, v, false, false));
    m = t.replaceRows(m, mNew, first);
    l = t.replaceRows(l, lNew, first);
    acc = t.replaceRows(acc, accNew, first);
  }
  Value output = g.div(acc, g.broadcastRows(l, acc));
  Value lse = g.add(m, g.b.create<nn::LogOp>(g.loc, l));
  return {output, lse};
}

SmallVector<Value> gradc::decomposeAttentionGrad(OpBuilder &b,
                                                 nn::AttentionGradOp op,
                                                 ValueRange operands,
                                                 int64_t keyTile) {
  Value dy = operands[0], query = operands[1], key = operands[2],
        value = operands[3], output = operands[4], logsumexp = operands[5];
  double scale = op.getScale().convertToDouble();
  Tiler t(b, op.getLoc(), query, key, scale, op.getCausal(), keyTile);
  GradientBuilder &g = t.g;
  // rowsum(dO * output) = rowsum(P * dP): the softmax gradient's row term.
  Value rowDot = g.reduceRows(g.mul(dy, output));
  Value dq;
  SmallVector<Value> dk, dv;
  for (int64_t j = 0; j < t.tiles(); ++j) {
    int64_t first = t.firstRow(j);
    Value k = t.keyTileOf(key, j), v = t.keyTileOf(value, j);
    if (first >= t.queries) {
      // Keys no query sees: no gradient.
      dk.push_back(g.constant(0.0, k));
      dv.push_back(g.constant(0.0, v));
      continue;
    }
    Value dyRows = t.rowsFrom(dy, first);
    // Keys by queries: p' [b..., K, T'].
    Value s = g.b.create<nn::BatchMatmulOp>(
        g.loc, k, t.rowsFrom(t.scaledQ, first), false, true);
    if (t.causal)
      s = g.b.create<nn::CausalMaskOp>(
          g.loc, s, g.b.getF64FloatAttr(kMaskedScore), g.b.getUnitAttr());
    Value p =
        g.exp(g.sub(s, t.broadcastColumns(t.rowsFrom(logsumexp, first), s)));
    dv.push_back(g.b.create<nn::BatchMatmulOp>(g.loc, p, dyRows, false, false));
    Value dp = g.b.create<nn::BatchMatmulOp>(g.loc, v, dyRows, false, true);
    Value ds =
        g.mul(p, g.sub(dp, t.broadcastColumns(t.rowsFrom(rowDot, first), dp)));
    if (scale != 1.0)
      ds = g.scale(ds, scale);
    Value dqTile = g.b.create<nn::BatchMatmulOp>(g.loc, ds, k, true, false);
    dq = !dq ? dqTile
             : t.replaceRows(dq, g.add(t.rowsFrom(dq, first), dqTile), first);
    dk.push_back(g.b.create<nn::BatchMatmulOp>(
        g.loc, ds, t.rowsFrom(query, first), false, false));
  }
  return {dq, t.concatKeys(dk), t.concatKeys(dv)};
}

namespace {

struct DecomposeAttention
    : gradc::impl::DecomposeAttentionBase<DecomposeAttention> {
  using DecomposeAttentionBase::DecomposeAttentionBase;

  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<nn::AttentionOp, nn::AttentionGradOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      SmallVector<Value> values =
          isa<nn::AttentionOp>(op)
              ? decomposeAttention(b, cast<nn::AttentionOp>(op),
                                   op->getOperands(), keyTile)
              : decomposeAttentionGrad(b, cast<nn::AttentionGradOp>(op),
                                       op->getOperands(), keyTile);
      op->replaceAllUsesWith(values);
      op->erase();
    }
  }
};

} // namespace
