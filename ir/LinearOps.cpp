//===- LinearOps.cpp - dense, matmul, batch_matmul, embedding -------------===//
//
// Verifiers and gradients. dense's gradients are matmuls (dx = dy W^T,
// dW = x^T dy) and a reduce_sum; batch_matmul's are batch_matmuls, summed over
// the batch dimensions an operand was broadcast along; embedding's (a row
// lookup, the one-hot matmul's sparse form) is a scatter-add of dy into the
// table, nn.embedding_grad.
//
//===----------------------------------------------------------------------===//

#include "ir/GradientBuilder.h"
#include "ir/ShapeRules.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

namespace {
/// The shape rule of dense: input [N, K] x weight [K, M] is [N, M].
FailureOr<SmallVector<int64_t>> denseOutputShape(EmitErrorFn emitError,
                                                 Value input, Value weight) {
  if (failed(expectRank(emitError, input, 2, "input [N, K]")) ||
      failed(expectRank(emitError, weight, 2, "weight [K, M]")))
    return failure();
  auto in = shapeOf(input), w = shapeOf(weight);
  if (!sameDim(w[0], in[1]))
    return emitError() << "expects weight rows " << w[0]
                       << " to equal input features " << in[1];
  return SmallVector<int64_t>{in[0], w[1]};
}

/// The shape rule of batch_matmul (ir/ShapeRules.h's matmulShape).
FailureOr<SmallVector<int64_t>> batchMatmulShape(EmitErrorFn emitError,
                                                 Value lhs, Value rhs, bool ta,
                                                 bool tb) {
  std::string error;
  auto shape = matmulShape(shapeOf(lhs), shapeOf(rhs), ta, tb, error);
  if (!shape)
    return emitError() << error;
  return SmallVector<int64_t>(shape->begin(), shape->end());
}

/// `grad` (the gradient of an operand of `like`'s type, over the product's
/// batch dimensions) summed over the batch dimensions `like` was broadcast
/// along, and reshaped to `like`'s shape.
Value unbroadcast(GradientBuilder &g, Value grad, Value like) {
  ArrayRef<int64_t> full = shapeOf(grad), want = shapeOf(like);
  if (full == want)
    return grad;
  int64_t offset = int64_t(full.size()) - int64_t(want.size());
  SmallVector<int64_t> axes;
  for (int64_t d = 0; d + 2 < int64_t(full.size()); ++d)
    if (d < offset || want[d - offset] != full[d])
      axes.push_back(d);
  Value summed = g.reduceSum(grad, axes);
  return g.b.create<ReshapeOp>(g.loc, like.getType(), summed);
}
/// The shape rule of embedding: ids [N, T...] and table [V, D] give
/// [N, T..., D].
FailureOr<SmallVector<int64_t>> embeddingOutputShape(EmitErrorFn emitError,
                                                     Value ids, Value table) {
  if (failed(expectRank(emitError, table, 2, "table [V, D]")))
    return failure();
  SmallVector<int64_t> shape(shapeOf(ids));
  if (shape.empty())
    return emitError() << "expects ids of rank >= 1 [N, T...], got a scalar";
  shape.push_back(shapeOf(table)[1]);
  return shape;
}
} // namespace

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return pushInferred(embeddingOutputShape(locErrors(loc), adaptor.getIds(),
                                           adaptor.getTable()),
                      adaptor.getTable(), types);
}

LogicalResult EmbeddingOp::verify() {
  if (failed(expectSameElementType(*this)))
    return failure();
  auto shape = embeddingOutputShape(opErrors(*this), getIds(), getTable());
  if (failed(shape))
    return failure();
  return expectShape(*this, getOutput(), *shape, "output");
}

LogicalResult EmbeddingGradOp::verify() {
  if (failed(expectRank(*this, getOutput(), 2, "output [V, D]")) ||
      failed(expectSameElementType(*this)))
    return failure();
  SmallVector<int64_t> want(shapeOf(getIds()));
  want.push_back(shapeOf(getOutput())[1]);
  return expectShape(*this, getGrad(), want, "grad");
}

LogicalResult
EmbeddingOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(Value()); // integer ids: no gradient
  operandGrads.push_back(b.create<EmbeddingGradOp>(
      getLoc(), getTable().getType(), getIds(), resultGrads[0]));
  return success();
}

LogicalResult BatchMatmulOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return pushInferred(
      batchMatmulShape(locErrors(loc), adaptor.getLhs(), adaptor.getRhs(),
                       adaptor.getTransposeLhs(), adaptor.getTransposeRhs()),
      adaptor.getLhs(), types);
}

LogicalResult BatchMatmulOp::verify() {
  if (failed(expectSameElementType(*this)))
    return failure();
  auto shape = batchMatmulShape(opErrors(*this), getLhs(), getRhs(),
                                getTransposeLhs(), getTransposeRhs());
  if (failed(shape))
    return failure();
  return expectShape(*this, getOutput(), *shape, "output");
}

LogicalResult
BatchMatmulOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  // C = op(A) op(B): d op(A) = dC op(B)^T and d op(B) = op(A)^T dC, each
  // written as one batch_matmul whose transposes give A's (B's) own layout.
  Location loc = getLoc();
  Value dc = resultGrads[0], a = getLhs(), bv = getRhs();
  bool ta = getTransposeLhs(), tb = getTransposeRhs();
  auto product = [&](Value x, Value y, bool tx, bool ty) -> Value {
    return b.create<BatchMatmulOp>(loc, x, y, tx, ty);
  };
  // dA: dC B^T (tb: dC B); with ta, its transpose: B dC^T (tb: B^T dC^T).
  Value da = ta ? product(bv, dc, tb, true) : product(dc, bv, false, !tb);
  // dB: A^T dC (ta: A dC); with tb, its transpose: dC^T A (ta: dC^T A^T).
  Value db = tb ? product(dc, a, true, ta) : product(a, dc, !ta, false);
  GradientBuilder g(b, loc);
  operandGrads.push_back(unbroadcast(g, da, a));
  operandGrads.push_back(unbroadcast(g, db, bv));
  return success();
}

LogicalResult DenseOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  return pushInferred(
      denseOutputShape(locErrors(loc), adaptor.getInput(), adaptor.getWeight()),
      adaptor.getInput(), types);
}

LogicalResult DenseOp::verify() {
  if (failed(expectSameElementType(*this)))
    return failure();
  auto shape = denseOutputShape(opErrors(*this), getInput(), getWeight());
  if (failed(shape))
    return failure();
  if (getBias() && failed(expectShape(*this, getBias(), {(*shape)[1]}, "bias")))
    return failure();
  return expectShape(*this, getOutput(), *shape, "output");
}

LogicalResult MatmulOp::verify() {
  if (failed(expectRank(*this, getLhs(), 2, "lhs")) ||
      failed(expectRank(*this, getRhs(), 2, "rhs")) ||
      failed(expectSameElementType(*this)))
    return failure();
  auto a = shapeOf(getLhs()), b = shapeOf(getRhs());
  int64_t m = getTransposeLhs() ? a[1] : a[0];
  int64_t ka = getTransposeLhs() ? a[0] : a[1];
  int64_t kb = getTransposeRhs() ? b[1] : b[0];
  int64_t n = getTransposeRhs() ? b[0] : b[1];
  if (!sameDim(ka, kb))
    return emitOpError() << "expects contracted sizes to match, got " << ka
                         << " and " << kb;
  return expectShape(*this, getOutput(), {m, n}, "output");
}

LogicalResult DenseOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  // dx = dy W^T, dW = x^T dy, db = sum over the batch of dy.
  operandGrads.push_back(b.create<MatmulOp>(
      loc, getInput().getType(), dy, getWeight(), /*transpose_lhs=*/false,
      /*transpose_rhs=*/true));
  operandGrads.push_back(b.create<MatmulOp>(loc, getWeight().getType(),
                                            getInput(), dy,
                                            /*transpose_lhs=*/true,
                                            /*transpose_rhs=*/false));
  if (getBias())
    operandGrads.push_back(GradientBuilder(b, loc).sumToLast(dy));
  return success();
}

/// The output `[b..., T, E]` and log-sum-exp `[b..., T]` shapes of attention
/// over q `[b..., T, D]`, k `[b..., S, D]` and v `[b..., S, E]`.
static FailureOr<std::pair<SmallVector<int64_t>, SmallVector<int64_t>>>
attentionShapes(Operation *op, Value query, Value key, Value value) {
  auto q = shapeOf(query), k = shapeOf(key), v = shapeOf(value);
  size_t rank = q.size();
  if (rank < 2 || k.size() != rank || v.size() != rank)
    return op->emitOpError()
           << "expects query, key and value of one rank "
              "(2 or more), got "
           << shapeStr(q) << ", " << shapeStr(k) << " and " << shapeStr(v);
  for (size_t d = 0; d + 2 < rank; ++d)
    if (!sameDim(q[d], k[d]) || !sameDim(q[d], v[d]))
      return op->emitOpError()
             << "expects the leading dimensions of query, "
                "key and value to match, got "
             << shapeStr(q) << ", " << shapeStr(k) << " and " << shapeStr(v);
  // The decomposition unrolls static tiles of keys.
  for (int64_t n : {q[rank - 2], k[rank - 2]})
    if (ShapedType::isDynamic(n) || n == 0)
      return op->emitOpError()
             << "expects a static, nonzero number of queries and keys, got "
             << shapeStr(q) << " and " << shapeStr(k);
  if (!sameDim(q.back(), k.back()))
    return op->emitOpError() << "expects query and key of one width, got "
                             << q.back() << " and " << k.back();
  if (!sameDim(k[rank - 2], v[rank - 2]))
    return op->emitOpError() << "expects as many values as keys, got "
                             << v[rank - 2] << " and " << k[rank - 2];
  SmallVector<int64_t> lse(q.begin(), q.end() - 1);
  SmallVector<int64_t> out(lse);
  out.push_back(v.back());
  return std::make_pair(out, lse);
}

LogicalResult AttentionOp::verify() {
  if (failed(expectSameElementType(*this)))
    return failure();
  auto shapes = attentionShapes(*this, getQuery(), getKey(), getValue());
  if (failed(shapes) ||
      failed(expectShape(*this, getOutput(), shapes->first, "output")))
    return failure();
  return expectShape(*this, getLogsumexp(), shapes->second, "logsumexp");
}

LogicalResult
AttentionOp::buildGradients(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  // The log-sum-exp only feeds the gradient; nothing differentiates it
  // (autodiff passes a zero constant for a result the loss does not use).
  auto zero = resultGrads[1].getDefiningOp<ConstantOp>();
  if (!zero || !zero.getValue().isZero())
    return emitOpError() << "cannot differentiate its log-sum-exp result";
  auto grad = b.create<AttentionGradOp>(
      getLoc(),
      TypeRange{getQuery().getType(), getKey().getType(), getValue().getType()},
      resultGrads[0], getQuery(), getKey(), getValue(), getOutput(),
      getLogsumexp(), getScaleAttr(), getCausalAttr());
  operandGrads.append(grad->result_begin(), grad->result_end());
  return success();
}

LogicalResult AttentionGradOp::verify() {
  if (failed(expectSameElementType(*this)))
    return failure();
  auto shapes = attentionShapes(*this, getQuery(), getKey(), getValue());
  if (failed(shapes) ||
      failed(
          expectShape(*this, getGradOutput(), shapes->first, "grad_output")) ||
      failed(expectShape(*this, getOutput(), shapes->first, "output")) ||
      failed(expectShape(*this, getLogsumexp(), shapes->second, "logsumexp")) ||
      failed(expectShape(*this, getGradQuery(), shapeOf(getQuery()),
                         "grad_query")) ||
      failed(expectShape(*this, getGradKey(), shapeOf(getKey()), "grad_key")))
    return failure();
  return expectShape(*this, getGradValue(), shapeOf(getValue()), "grad_value");
}
