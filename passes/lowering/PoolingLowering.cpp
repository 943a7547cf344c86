//===- PoolingLowering.cpp - pooling and its gradients to linalg -===//
//
// Max and average pooling become linalg's named pooling ops on the padded
// input (average divides by the in-bounds count of each window); their
// gradients scatter each window offset's contribution back into the
// padded input.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

/// Number of in-bounds elements of each pooling window, or empty when every
/// window is whole (no padding).
SmallVector<float> windowCounts(ArrayRef<int64_t> inHW, ArrayRef<int64_t> outHW,
                                ArrayRef<int64_t> k, ArrayRef<int64_t> s,
                                ArrayRef<int64_t> p) {
  SmallVector<float> counts;
  bool partial = false;
  for (int64_t oh = 0; oh < outHW[0]; ++oh)
    for (int64_t ow = 0; ow < outHW[1]; ++ow) {
      int64_t h0 = oh * s[0] - p[0], w0 = ow * s[1] - p[2];
      int64_t hn = std::min(h0 + k[0], inHW[0]) - std::max<int64_t>(h0, 0);
      int64_t wn = std::min(w0 + k[1], inHW[1]) - std::max<int64_t>(w0, 0);
      counts.push_back(float(hn * wn));
      partial |= hn * wn != k[0] * k[1];
    }
  if (!partial)
    counts.clear();
  return counts;
}

/// y / count over an [N, OH, OW, C] tensor.
Value divideByCount(Emitter &e, Value y, ArrayRef<float> counts,
                    ArrayRef<int64_t> k) {
  Type t = e.elem(y);
  auto ys = e.shape(y);
  if (counts.empty()) {
    double inv = 1.0 / double(k[0] * k[1]);
    return e.map(y, e.type(y), [&](OpBuilder &b, Location l, ValueRange a) {
      S s{b, l};
      return one(s.mul(a[0], s.c(inv, t)));
    });
  }
  auto ct = RankedTensorType::get({ys[1], ys[2]}, t);
  SmallVector<Attribute> attrs;
  for (float c : counts)
    attrs.push_back(FloatAttr::get(t, c));
  Value cv =
      e.b.create<arith::ConstantOp>(e.loc, DenseElementsAttr::get(ct, attrs));
  return e.generic({y, cv}, e.empty(ys, e.elem(y)),
                   {e.identity(4), e.dims(4, {1, 2}), e.identity(4)},
                   SmallVector<IteratorType>(4, IteratorType::parallel),
                   [](OpBuilder &b, Location l, ValueRange a) {
                     S s{b, l};
                     return one(s.div(a[0], a[1]));
                   })[0];
}

/// Windows of at most this many offsets are scattered offset by offset in
/// straight-line code; larger ones in a loop over the offsets, so that the
/// IR (and the compile time: bufferization is superlinear in a chain of
/// insertions into one tensor) stays constant in the window's size.
constexpr int64_t kMaxUnrolledWindow = 16;

/// Accumulates per-offset contributions into the padded input and crops:
/// for each window offset (kh, kw), dxp[n, oh*s + kh, ow*s + kw, c] +=
/// contribution(kh, kw)[n, oh, ow, c]. `kh` and `kw` are index values:
/// constants when unrolled (and static slice offsets), loop variables
/// otherwise.
Value scatterWindows(Emitter &e, ArrayRef<int64_t> xs, ArrayRef<int64_t> ys,
                     ArrayRef<int64_t> k, ArrayRef<int64_t> s,
                     ArrayRef<int64_t> p, Type t,
                     function_ref<Value(Value, Value)> contribution) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  int64_t hp = xs[1] + p[0] + p[1], wp = xs[2] + p[2] + p[3];
  SmallVector<OpFoldResult> sizes = getAsIndexOpFoldResult(e.ctx, ys);
  SmallVector<OpFoldResult> strides =
      getAsIndexOpFoldResult(e.ctx, {1, s[0], s[1], 1});
  auto accumulate = [&](Value dxp, OpFoldResult kh, OpFoldResult kw) {
    Value c = contribution(getValueOrCreateConstantIndexOp(b, loc, kh),
                           getValueOrCreateConstantIndexOp(b, loc, kw));
    SmallVector<OpFoldResult> off{b.getIndexAttr(0), kh, kw, b.getIndexAttr(0)};
    Value cur = b.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get(ys, t), dxp, off, sizes, strides);
    Value sum =
        e.map({cur, c}, e.type(c), [](OpBuilder &b, Location l, ValueRange a) {
          return one(S{b, l}.add(a[0], a[1]));
        });
    return b.create<tensor::InsertSliceOp>(loc, sum, dxp, off, sizes, strides)
        .getResult();
  };
  Value dxp = e.fill({xs[0], hp, wp, xs[3]}, t, 0.0);
  auto index = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v).getResult();
  };
  if (k[0] * k[1] <= kMaxUnrolledWindow) {
    for (int64_t kh = 0; kh < k[0]; ++kh)
      for (int64_t kw = 0; kw < k[1]; ++kw)
        dxp = accumulate(dxp, b.getIndexAttr(kh), b.getIndexAttr(kw));
  } else {
    auto rows = b.create<scf::ForOp>(loc, index(0), index(k[0]), index(1),
                                     ValueRange{dxp});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(rows.getBody());
      auto cols = b.create<scf::ForOp>(loc, index(0), index(k[1]), index(1),
                                       ValueRange{rows.getRegionIterArg(0)});
      b.setInsertionPointToStart(cols.getBody());
      Value next = accumulate(cols.getRegionIterArg(0), rows.getInductionVar(),
                              cols.getInductionVar());
      b.create<scf::YieldOp>(loc, next);
      b.setInsertionPointAfter(cols);
      b.create<scf::YieldOp>(loc, cols.getResult(0));
    }
    dxp = rows.getResult(0);
  }
  if (hp == xs[1] && wp == xs[2])
    return dxp;
  return e.slice(dxp, {0, p[0], p[2], 0}, xs, {1, 1, 1, 1});
}

Value lowerMaxPoolGrad(Emitter &e, nn::MaxPool2DGradOp op, Value x, Value dy) {
  auto k = op.getWindow(), s = op.getStrides(), p = op.getPads();
  auto xs = e.shape(x), ys = e.shape(dy);
  Type t = e.elem(x);
  Type i32 = e.b.getI32Type();
  double ninf = -std::numeric_limits<double>::infinity();
  Value xp = e.pad(x, {0, p[0], p[2], 0}, {0, p[1], p[3], 0}, ninf);
  // The first maximum of each window: strict > keeps the earliest.
  MLIRContext *ctx = e.ctx;
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineMap in = AffineMap::get(
      6, 0, {d(0), d(1) * s[0] + d(4), d(2) * s[1] + d(5), d(3)}, ctx);
  AffineMap out = e.dims(6, {0, 1, 2, 3});
  SmallVector<IteratorType> iters(4, IteratorType::parallel);
  iters.append(2, IteratorType::reduction);
  int64_t kw = k[1];
  // The window operand only gives the reduction loops their sizes, as in
  // linalg's named pooling ops.
  Value window = e.empty({k[0], k[1]}, t);
  Value idx = e.generic(
      {xp, window}, {e.fill(ys, t, ninf), e.fill(ys, i32, 0)},
      {in, e.dims(6, {4, 5}), out, out}, iters,
      [&](OpBuilder &b, Location l, ValueRange a) {
        S sc{b, l};
        Value ih = b.create<linalg::IndexOp>(l, 4);
        Value iw = b.create<linalg::IndexOp>(l, 5);
        Value kwv = b.create<arith::ConstantIndexOp>(l, kw);
        Value flat =
            b.create<arith::AddIOp>(l, b.create<arith::MulIOp>(l, ih, kwv), iw);
        Value fi = b.create<arith::IndexCastOp>(l, b.getI32Type(), flat);
        Value better = sc.gt(a[0], a[2]);
        return SmallVector<Value>{sc.select(better, a[0], a[2]),
                                  sc.select(better, fi, a[3])};
      })[1];
  return scatterWindows(e, xs, ys, k, s, p, t, [&](Value kh, Value kwi) {
    // The flat offset kh * KW + kw, folded to a constant when unrolled.
    OpBuilder &b = e.b;
    Value flat = b.createOrFold<arith::AddIOp>(
        e.loc,
        b.createOrFold<arith::MulIOp>(
            e.loc, kh, b.create<arith::ConstantIndexOp>(e.loc, kw)),
        kwi);
    Value f = b.createOrFold<arith::IndexCastOp>(e.loc, i32, flat);
    return e.generic(
        {idx, dy}, e.empty(ys, t),
        {e.identity(4), e.identity(4), e.identity(4)},
        SmallVector<IteratorType>(4, IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange a) {
          S sc{b, l};
          Value hit =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, a[0], f);
          return one(sc.select(hit, a[1], sc.c(0, a[1].getType())));
        })[0];
  });
}

Value lowerPool(Emitter &e, Operation *op, Value x, bool isMax) {
  auto pool = [&](auto o) {
    return std::make_tuple(o.getWindow(), o.getStrides(), o.getPads());
  };
  auto [k, s, p] =
      isMax ? pool(cast<nn::MaxPool2DOp>(op)) : pool(cast<nn::AvgPool2DOp>(op));
  auto outType = cast<RankedTensorType>(op->getResult(0).getType());
  Type t = outType.getElementType();
  double padValue = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
  Value xp = e.pad(x, {0, p[0], p[2], 0}, {0, p[1], p[3], 0}, padValue);
  Value init = e.fill(outType.getShape(), t, padValue);
  Value window = e.empty({k[0], k[1]}, t);
  auto strides = e.i64Elements(s);
  auto dil = e.i64Elements({1, 1});
  if (isMax)
    return e.b
        .create<linalg::PoolingNhwcMaxOp>(
            e.loc, outType, ValueRange{xp, window}, init, strides, dil)
        ->getResult(0);
  Value sum = e.b.create<linalg::PoolingNhwcSumOp>(
                     e.loc, outType, ValueRange{xp, window}, init, strides, dil)
                  ->getResult(0);
  auto xs = e.shape(x);
  auto counts =
      windowCounts(xs.slice(1, 2), outType.getShape().slice(1, 2), k, s, p);
  return divideByCount(e, sum, counts, k);
}

Value lowerAvgPoolGrad(Emitter &e, nn::AvgPool2DGradOp op, Value x, Value dy) {
  auto k = op.getWindow(), s = op.getStrides(), p = op.getPads();
  auto xs = e.shape(x), ys = e.shape(dy);
  auto counts = windowCounts(xs.slice(1, 2), ys.slice(1, 2), k, s, p);
  Value scaled = divideByCount(e, dy, counts, k);
  return scatterWindows(e, xs, ys, k, s, p, e.elem(dy),
                        [&](Value, Value) { return scaled; });
}

/// Global pooling: a reduction of [N, H, W, C] over H and W into [N, C]
/// (then divided by H * W for the average).
Value lowerGlobalPool(Emitter &e, Value x, bool isMax) {
  auto xs = e.shape(x);
  Type t = e.elem(x);
  double init = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
  Value r = e.generic(
      x, e.fill({xs[0], xs[3]}, t, init), {e.identity(4), e.dims(4, {0, 3})},
      {IteratorType::parallel, IteratorType::reduction, IteratorType::reduction,
       IteratorType::parallel},
      [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        return one(isMax ? s.max(a[0], a[1]) : s.add(a[0], a[1]));
      })[0];
  if (isMax)
    return r;
  double inv = 1.0 / double(xs[1] * xs[2]);
  return e.map(r, e.type(r), [&](OpBuilder &b, Location l, ValueRange a) {
    S s{b, l};
    return one(s.mul(a[0], s.c(inv, t)));
  });
}

} // namespace

void populatePoolingLoweringPatterns(RewritePatternSet &patterns) {
  using R = FailureOr<SmallVector<Value>>;
  addLowering<nn::MaxPool2DOp>(
      patterns, [](nn::MaxPool2DOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerPool(e, o, ops[0], true));
      });
  addLowering<nn::AvgPool2DOp>(
      patterns, [](nn::AvgPool2DOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerPool(e, o, ops[0], false));
      });
  addLowering<nn::MaxPool2DGradOp>(
      patterns, [](nn::MaxPool2DGradOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerMaxPoolGrad(e, o, ops[0], ops[1]));
      });
  addLowering<nn::AvgPool2DGradOp>(
      patterns, [](nn::AvgPool2DGradOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerAvgPoolGrad(e, o, ops[0], ops[1]));
      });
  addLowering<nn::GlobalAvgPool2DOp>(
      patterns, [](nn::GlobalAvgPool2DOp, ValueRange ops, Emitter &e) -> R {
        return one(lowerGlobalPool(e, ops[0], false));
      });
  addLowering<nn::GlobalMaxPool2DOp>(
      patterns, [](nn::GlobalMaxPool2DOp, ValueRange ops, Emitter &e) -> R {
        return one(lowerGlobalPool(e, ops[0], true));
      });
}

} // namespace gradc::lowering
