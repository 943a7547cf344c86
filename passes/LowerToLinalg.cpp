//===- LowerToLinalg.cpp - nn ops to linalg on tensors --------------------===//
//
// Every nn op becomes linalg on tensors: named ops where one fits
// (conv_2d_nhwc_hwcf, pooling_nhwc_max/sum, matmul and its transposed
// forms), linalg.generic elsewhere. The backward convolutions are
// convolutions too: the filter gradient convolves the transposed input with
// the transposed output gradient (strides and dilations swap roles), the
// input gradient convolves the stride-dilated, padded output gradient with
// the flipped filter. Optimizer updates write into their state operands
// (`outs`), so bufferization can update the runtime's buffers in place.
//
//===----------------------------------------------------------------------===//

#include "ir/DropoutMask.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/TypeSwitch.h"

namespace gradc {
#define GEN_PASS_DEF_LOWERNNTOLINALG
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;
using utils::IteratorType;

namespace {

using BodyFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;

/// Builds linalg/tensor/arith IR at one location.
class Emitter {
public:
  Emitter(OpBuilder &b, Location loc) : b(b), loc(loc), ctx(b.getContext()) {}

  OpBuilder &b;
  Location loc;
  MLIRContext *ctx;

  RankedTensorType type(Value v) { return cast<RankedTensorType>(v.getType()); }
  ArrayRef<int64_t> shape(Value v) { return type(v).getShape(); }
  Type elem(Value v) { return type(v).getElementType(); }

  Value f(double v, Type t) {
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(t, v));
  }
  Value i64(int64_t v) {
    return b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(v));
  }
  Value empty(ArrayRef<int64_t> shape, Type t) {
    return b.create<tensor::EmptyOp>(loc, shape, t);
  }
  Value fill(ArrayRef<int64_t> shape, Type t, Value v) {
    return b.create<linalg::FillOp>(loc, v, empty(shape, t)).getResult(0);
  }
  Value fill(ArrayRef<int64_t> shape, Type t, double v) {
    return fill(shape, t,
                isa<FloatType>(t) ? f(v, t)
                                  : b.create<arith::ConstantOp>(
                                        loc, b.getIntegerAttr(t, int64_t(v))));
  }
  Value pad(Value x, ArrayRef<int64_t> low, ArrayRef<int64_t> high, double v) {
    if (llvm::all_of(low, [](int64_t p) { return p == 0; }) &&
        llvm::all_of(high, [](int64_t p) { return p == 0; }))
      return x;
    SmallVector<int64_t> padded(shape(x));
    for (size_t i = 0; i < padded.size(); ++i)
      padded[i] += low[i] + high[i];
    auto t = RankedTensorType::get(padded, elem(x));
    SmallVector<OpFoldResult> lo, hi;
    for (size_t i = 0; i < low.size(); ++i) {
      lo.push_back(b.getIndexAttr(low[i]));
      hi.push_back(b.getIndexAttr(high[i]));
    }
    return b.create<tensor::PadOp>(loc, t, x, lo, hi, f(v, elem(x)));
  }
  Value slice(Value x, ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
              ArrayRef<int64_t> strides) {
    return b.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get(sizes, elem(x)), x, ValueRange{},
        ValueRange{}, ValueRange{}, offsets, sizes, strides);
  }
  Value insert(Value src, Value dst, ArrayRef<int64_t> offsets,
               ArrayRef<int64_t> strides) {
    return b.create<tensor::InsertSliceOp>(loc, src, dst, ValueRange{},
                                           ValueRange{}, ValueRange{}, offsets,
                                           shape(src), strides);
  }
  Value transpose(Value x, ArrayRef<int64_t> perm) {
    SmallVector<int64_t> s;
    for (int64_t p : perm)
      s.push_back(shape(x)[p]);
    return b.create<linalg::TransposeOp>(loc, x, empty(s, elem(x)), perm)
        ->getResult(0);
  }
  AffineMap identity(unsigned rank) {
    return AffineMap::getMultiDimIdentityMap(rank, ctx);
  }
  AffineMap dims(unsigned rank, ArrayRef<unsigned> which) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : which)
      exprs.push_back(getAffineDimExpr(d, ctx));
    return AffineMap::get(rank, 0, exprs, ctx);
  }
  /// linalg.generic with the given inputs, outputs (init values), maps and
  /// iterators.
  SmallVector<Value> generic(ValueRange ins, ValueRange outs,
                             ArrayRef<AffineMap> maps,
                             ArrayRef<IteratorType> iters, BodyFn body) {
    auto op = b.create<linalg::GenericOp>(
        loc, ValueRange(outs).getTypes(), ins, outs, maps, iters,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          nb.create<linalg::YieldOp>(nloc, body(nb, nloc, args));
        });
    return op->getResults();
  }
  /// Elementwise map of same-shaped inputs into a new tensor of `resultType`.
  Value map(ValueRange ins, RankedTensorType resultType, BodyFn body) {
    unsigned rank = resultType.getRank();
    SmallVector<AffineMap> maps(ins.size() + 1, identity(rank));
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    return generic(ins,
                   empty(resultType.getShape(), resultType.getElementType()),
                   maps, iters, body)[0];
  }
  /// Reduces `x` over its last dimension with `combine(acc, x)`.
  Value reduceLast(Value x, double init, BodyFn combine) {
    unsigned rank = type(x).getRank();
    SmallVector<unsigned> outer;
    for (unsigned i = 0; i + 1 < rank; ++i)
      outer.push_back(i);
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    iters.back() = IteratorType::reduction;
    return generic(x, fill(shape(x).drop_back(), elem(x), init),
                   {identity(rank), dims(rank, outer)}, iters, combine)[0];
  }
  /// Broadcasts a vector of the last dimension's size to `shape`.
  Value broadcastLast(Value v, ArrayRef<int64_t> shape) {
    unsigned rank = shape.size();
    return generic(v, empty(shape, elem(v)),
                   {dims(rank, {rank - 1}), identity(rank)},
                   SmallVector<IteratorType>(rank, IteratorType::parallel),
                   [](OpBuilder &, Location, ValueRange a) {
                     return SmallVector<Value>{a[0]};
                   })[0];
  }
  /// Map over x ([.., C]) with a per-row value r ([..]) broadcast.
  Value mapWithRow(Value x, ValueRange rows, BodyFn body) {
    unsigned rank = type(x).getRank();
    SmallVector<unsigned> outer;
    for (unsigned i = 0; i + 1 < rank; ++i)
      outer.push_back(i);
    SmallVector<Value> ins{x};
    ins.append(rows.begin(), rows.end());
    SmallVector<AffineMap> maps{identity(rank)};
    for (size_t i = 0; i < rows.size(); ++i)
      maps.push_back(dims(rank, outer));
    maps.push_back(identity(rank));
    return generic(ins, empty(shape(x), elem(x)), maps,
                   SmallVector<IteratorType>(rank, IteratorType::parallel),
                   body)[0];
  }
  DenseIntElementsAttr i64Elements(ArrayRef<int64_t> values) {
    return DenseIntElementsAttr::get(
        RankedTensorType::get({int64_t(values.size())}, b.getI64Type()),
        values);
  }
  Value conv(Value x, Value w, Value init, ArrayRef<int64_t> strides,
             ArrayRef<int64_t> dilations) {
    return b
        .create<linalg::Conv2DNhwcHwcfOp>(loc, init.getType(), ValueRange{x, w},
                                          init, i64Elements(strides),
                                          i64Elements(dilations))
        ->getResult(0);
  }
  Value extractScalar(Value t) {
    return b.create<tensor::ExtractOp>(loc, t, ValueRange{});
  }
  Value index(OpBuilder &nb, Location nloc, unsigned dim) {
    return nb.create<linalg::IndexOp>(nloc, dim);
  }
};

//===----------------------------------------------------------------------===//
// Scalar helpers used inside linalg bodies.
//===----------------------------------------------------------------------===//

struct S {
  OpBuilder &b;
  Location loc;
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<arith::DivFOp>(loc, x, y); }
  Value neg(Value x) { return b.create<arith::NegFOp>(loc, x); }
  Value max(Value x, Value y) { return b.create<arith::MaximumFOp>(loc, x, y); }
  Value exp(Value x) { return b.create<math::ExpOp>(loc, x); }
  Value log(Value x) { return b.create<math::LogOp>(loc, x); }
  Value sqrt(Value x) { return b.create<math::SqrtOp>(loc, x); }
  Value abs(Value x) { return b.create<math::AbsFOp>(loc, x); }
  Value c(double v, Type t) {
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(t, v));
  }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return b.create<arith::CmpFOp>(loc, p, x, y);
  }
  Value gt(Value x, Value y) { return cmp(arith::CmpFPredicate::OGT, x, y); }
  Value select(Value cond, Value x, Value y) {
    return b.create<arith::SelectOp>(loc, cond, x, y);
  }
  Value sign(Value x) {
    Type t = x.getType();
    Value zero = c(0, t);
    return select(
        gt(x, zero), c(1, t),
        select(cmp(arith::CmpFPredicate::OLT, x, zero), c(-1, t), zero));
  }
  Value sigmoid(Value x) {
    Type t = x.getType();
    return div(c(1, t), add(c(1, t), exp(neg(x))));
  }
  Value tanh(Value x) {
    // 1 - 2 / (exp(2x) + 1): saturates correctly at both ends.
    Type t = x.getType();
    return sub(c(1, t), div(c(2, t), add(exp(add(x, x)), c(1, t))));
  }
  /// `labelIndex == class index` for an i32 label and an index.
  Value isClass(Value label, Value cls) {
    Value l = b.create<arith::IndexCastOp>(loc, b.getIndexType(), label);
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, l, cls);
  }
  Value boolToFloat(Value cond, Type t) {
    return select(cond, c(1, t), c(0, t));
  }
};

SmallVector<Value> one(Value v) { return {v}; }

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

Value activate(Emitter &e, Value y, StringRef kind, double alpha) {
  if (kind == "none")
    return y;
  return e.map(y, e.type(y), [&](OpBuilder &b, Location l, ValueRange a) {
    S s{b, l};
    Value zero = s.c(0, a[0].getType());
    if (kind == "relu")
      return one(s.max(a[0], zero));
    return one(s.select(s.cmp(arith::CmpFPredicate::OGE, a[0], zero), a[0],
                        s.mul(a[0], s.c(alpha, a[0].getType()))));
  });
}

Value lowerConv(Emitter &e, nn::Conv2DOp op, Value x, Value w, Value bias) {
  auto p = op.getPads();
  Value xp = e.pad(x, {0, p[0], p[2], 0}, {0, p[1], p[3], 0}, 0.0);
  auto outType = cast<RankedTensorType>(op.getType());
  Value init = bias ? e.broadcastLast(bias, outType.getShape())
                    : e.fill(outType.getShape(), outType.getElementType(), 0.0);
  Value y = e.conv(xp, w, init, op.getStrides(), op.getDilations());
  return activate(e, y, op.getActivation(), op.getAlpha().convertToDouble());
}

/// Rows/columns of the padded input that some window touches.
int64_t usedExtent(int64_t out, int64_t k, int64_t stride, int64_t dilation) {
  return stride * (out - 1) + dilation * (k - 1) + 1;
}

Value lowerConvGradFilter(Emitter &e, nn::Conv2DGradFilterOp op, Value x,
                          Value dy) {
  auto p = op.getPads();
  auto s = op.getStrides(), d = op.getDilations();
  auto ws = cast<RankedTensorType>(op.getType()).getShape(); // KH KW C F
  auto ys = e.shape(dy);                                     // N OH OW F
  Value xp = e.pad(x, {0, p[0], p[2], 0}, {0, p[1], p[3], 0}, 0.0);
  auto xs = e.shape(xp);
  int64_t hu = usedExtent(ys[1], ws[0], s[0], d[0]);
  int64_t wu = usedExtent(ys[2], ws[1], s[1], d[1]);
  if (hu != xs[1] || wu != xs[2])
    xp = e.slice(xp, {0, 0, 0, 0}, {xs[0], hu, wu, xs[3]}, {1, 1, 1, 1});
  // The filter gradient
  //   dW[kh,kw,c,f] = sum_{n,oh,ow} xp[n, oh*s + kh*d, ow*s + kw*d, c]
  //                                 * dy[n,oh,ow,f]
  // is a convolution of xT[c, h, w, n] with dyT[oh, ow, n, f] whose stride
  // is the forward dilation and whose dilation is the forward stride.
  Value xt = e.transpose(xp, {3, 1, 2, 0});
  Value dyt = e.transpose(dy, {1, 2, 0, 3});
  Type t = e.elem(dy);
  Value init = e.fill({ws[2], ws[0], ws[1], ws[3]}, t, 0.0);
  Value dwt = e.conv(xt, dyt, init, d, s);
  return e.transpose(dwt, {1, 2, 0, 3});
}

Value lowerConvGradInput(Emitter &e, nn::Conv2DGradInputOp op, Value dy,
                         Value w) {
  auto p = op.getPads();
  auto s = op.getStrides(), d = op.getDilations();
  auto xs = cast<RankedTensorType>(op.getType()).getShape(); // N H W C
  auto ws = e.shape(w);                                      // KH KW C F
  auto ys = e.shape(dy);                                     // N OH OW F
  Type t = e.elem(dy);
  // Spread dy by the stride.
  Value dd = dy;
  if (s[0] > 1 || s[1] > 1) {
    Value zeros = e.fill(
        {ys[0], (ys[1] - 1) * s[0] + 1, (ys[2] - 1) * s[1] + 1, ys[3]}, t, 0.0);
    dd = e.insert(dy, zeros, {0, 0, 0, 0}, {1, s[0], s[1], 1});
  }
  int64_t ph = (ws[0] - 1) * d[0], pw = (ws[1] - 1) * d[1];
  Value dp = e.pad(dd, {0, ph, pw, 0}, {0, ph, pw, 0}, 0.0);
  // Flipped filter with in/out swapped:
  //   wf[kh,kw,f,c] = w[KH-1-kh, KW-1-kw, c, f].
  MLIRContext *ctx = e.ctx;
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx), d3 = getAffineDimExpr(3, ctx);
  AffineMap flip =
      AffineMap::get(4, 0, {ws[0] - 1 - d0, ws[1] - 1 - d1, d3, d2}, ctx);
  Value wf = e.generic(
      w, e.empty({ws[0], ws[1], ws[3], ws[2]}, t), {flip, e.identity(4)},
      SmallVector<IteratorType>(4, IteratorType::parallel),
      [](OpBuilder &, Location, ValueRange a) { return one(a[0]); })[0];
  int64_t hu = usedExtent(ys[1], ws[0], s[0], d[0]);
  int64_t wu = usedExtent(ys[2], ws[1], s[1], d[1]);
  Value init = e.fill({xs[0], hu, wu, xs[3]}, t, 0.0);
  Value dxu = e.conv(dp, wf, init, {1, 1}, d);
  // Back to the padded input's extent (untouched rows get zero), then crop.
  int64_t hp = xs[1] + p[0] + p[1], wp = xs[2] + p[2] + p[3];
  Value dxp = e.pad(dxu, {0, 0, 0, 0}, {0, hp - hu, wp - wu, 0}, 0.0);
  if (p[0] == 0 && p[2] == 0 && hp == xs[1] && wp == xs[2])
    return dxp;
  return e.slice(dxp, {0, p[0], p[2], 0}, xs, {1, 1, 1, 1});
}

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

/// Accumulates per-offset contributions into the padded input and crops:
/// for each window offset (kh, kw), dxp[n, oh*s + kh, ow*s + kw, c] +=
/// contribution(kh, kw)[n, oh, ow, c].
Value scatterWindows(Emitter &e, ArrayRef<int64_t> xs, ArrayRef<int64_t> ys,
                     ArrayRef<int64_t> k, ArrayRef<int64_t> s,
                     ArrayRef<int64_t> p, Type t,
                     function_ref<Value(int64_t, int64_t)> contribution) {
  int64_t hp = xs[1] + p[0] + p[1], wp = xs[2] + p[2] + p[3];
  Value dxp = e.fill({xs[0], hp, wp, xs[3]}, t, 0.0);
  for (int64_t kh = 0; kh < k[0]; ++kh)
    for (int64_t kw = 0; kw < k[1]; ++kw) {
      Value c = contribution(kh, kw);
      SmallVector<int64_t> off{0, kh, kw, 0}, str{1, s[0], s[1], 1};
      Value cur = e.slice(dxp, off, ys, str);
      Value sum = e.map({cur, c}, e.type(c),
                        [](OpBuilder &b, Location l, ValueRange a) {
                          return one(S{b, l}.add(a[0], a[1]));
                        });
      dxp = e.insert(sum, dxp, off, str);
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
  return scatterWindows(e, xs, ys, k, s, p, t, [&](int64_t kh, int64_t kwi) {
    int32_t flat = kh * kw + kwi;
    return e.generic(
        {idx, dy}, e.empty(ys, t),
        {e.identity(4), e.identity(4), e.identity(4)},
        SmallVector<IteratorType>(4, IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange a) {
          S sc{b, l};
          Value f = b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(flat));
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
                        [&](int64_t, int64_t) { return scaled; });
}

//===----------------------------------------------------------------------===//
// Dense, matmul, reshapes
//===----------------------------------------------------------------------===//

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

Value lowerReshape(Emitter &e, Value x, RankedTensorType to) {
  auto from = e.type(x);
  if (from.getShape() == to.getShape())
    return x;
  // Through a 1-D tensor: collapse everything, then expand to the target.
  Value flat = x;
  if (from.getRank() != 1) {
    ReassociationIndices all;
    for (int64_t i = 0; i < from.getRank(); ++i)
      all.push_back(i);
    flat = e.b.create<tensor::CollapseShapeOp>(
        e.loc, x, ArrayRef<ReassociationIndices>{all});
  }
  if (to.getRank() == 1)
    return flat;
  ReassociationIndices all;
  for (int64_t i = 0; i < to.getRank(); ++i)
    all.push_back(i);
  return e.b.create<tensor::ExpandShapeOp>(e.loc, to, flat,
                                           ArrayRef<ReassociationIndices>{all});
}

/// Sum over every dimension but the last.
Value lowerBiasGrad(Emitter &e, Value dy) {
  unsigned rank = e.type(dy).getRank();
  SmallVector<IteratorType> iters(rank, IteratorType::reduction);
  iters.back() = IteratorType::parallel;
  return e.generic(dy, e.fill({e.shape(dy).back()}, e.elem(dy), 0.0),
                   {e.identity(rank), e.dims(rank, {rank - 1})}, iters,
                   [](OpBuilder &b, Location l, ValueRange a) {
                     return one(S{b, l}.add(a[0], a[1]));
                   })[0];
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

Value lowerSoftmax(Emitter &e, Value x, bool log) {
  double ninf = -std::numeric_limits<double>::infinity();
  Value m = e.reduceLast(x, ninf, [](OpBuilder &b, Location l, ValueRange a) {
    return one(S{b, l}.max(a[0], a[1]));
  });
  Value ex = e.mapWithRow(x, m, [](OpBuilder &b, Location l, ValueRange a) {
    S s{b, l};
    return one(s.exp(s.sub(a[0], a[1])));
  });
  Value sum = e.reduceLast(ex, 0.0, [](OpBuilder &b, Location l, ValueRange a) {
    return one(S{b, l}.add(a[0], a[1]));
  });
  if (!log)
    return e.mapWithRow(ex, sum, [](OpBuilder &b, Location l, ValueRange a) {
      return one(S{b, l}.div(a[0], a[1]));
    });
  return e.mapWithRow(x, {m, sum}, [](OpBuilder &b, Location l, ValueRange a) {
    S s{b, l};
    return one(s.sub(s.sub(a[0], a[1]), s.log(a[2])));
  });
}

Value lowerActivationGrad(Emitter &e, nn::ActivationGradOp op, Value dy,
                          Value v) {
  StringRef kind = op.getKind();
  double alpha = op.getAlpha().convertToDouble();
  if (kind == "softmax" || kind == "log_softmax") {
    bool isSoftmax = kind == "softmax";
    Value prod = isSoftmax ? e.map({dy, v}, e.type(dy),
                                   [](OpBuilder &b, Location l, ValueRange a) {
                                     return one(S{b, l}.mul(a[0], a[1]));
                                   })
                           : dy;
    Value sum =
        e.reduceLast(prod, 0.0, [](OpBuilder &b, Location l, ValueRange a) {
          return one(S{b, l}.add(a[0], a[1]));
        });
    unsigned rank = e.type(dy).getRank();
    SmallVector<unsigned> outer;
    for (unsigned i = 0; i + 1 < rank; ++i)
      outer.push_back(i);
    return e.generic({dy, v, sum}, e.empty(e.shape(dy), e.elem(dy)),
                     {e.identity(rank), e.identity(rank), e.dims(rank, outer),
                      e.identity(rank)},
                     SmallVector<IteratorType>(rank, IteratorType::parallel),
                     [&](OpBuilder &b, Location l, ValueRange a) {
                       S s{b, l};
                       if (isSoftmax) // y (dy - sum(dy y))
                         return one(s.mul(a[1], s.sub(a[0], a[2])));
                       // dy - exp(y) sum(dy)
                       return one(s.sub(a[0], s.mul(s.exp(a[1]), a[2])));
                     })[0];
  }
  return e.map({dy, v}, e.type(dy),
               [&](OpBuilder &b, Location l, ValueRange a) {
                 S s{b, l};
                 Type t = a[0].getType();
                 Value dyv = a[0], y = a[1];
                 if (kind == "relu")
                   return one(s.select(s.gt(y, s.c(0, t)), dyv, s.c(0, t)));
                 if (kind == "leaky_relu")
                   return one(s.select(s.gt(y, s.c(0, t)), dyv,
                                       s.mul(dyv, s.c(alpha, t))));
                 if (kind == "sigmoid")
                   return one(s.mul(dyv, s.mul(y, s.sub(s.c(1, t), y))));
                 // tanh
                 return one(s.mul(dyv, s.sub(s.c(1, t), s.mul(y, y))));
               });
}

Value lowerDropout(Emitter &e, nn::DropoutOp op, Value x, Value stepTensor) {
  if (!stepTensor)
    return x;
  double rate = op.getRate().convertToDouble();
  Value step = e.extractScalar(stepTensor);
  OpBuilder &b = e.b;
  Location loc = e.loc;
  // base = seed * kDropoutSeedMul + step * kDropoutStepMul (wrapping i64).
  Value base = b.create<arith::AddIOp>(
      loc, e.i64(int64_t(uint64_t(op.getSeed()) * kDropoutSeedMul)),
      b.create<arith::MulIOp>(loc, step, e.i64(int64_t(kDropoutStepMul))));
  auto shape = e.shape(x);
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int i = int(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  float scale = float(1.0 / (1.0 - rate));
  float keepFrom = float(rate);
  return e.map(x, e.type(x), [&](OpBuilder &nb, Location l, ValueRange a) {
    Value lin = nb.create<arith::ConstantIndexOp>(l, 0);
    for (size_t i = 0; i < shape.size(); ++i) {
      Value idx = nb.create<linalg::IndexOp>(l, i);
      Value st = nb.create<arith::ConstantIndexOp>(l, strides[i]);
      lin = nb.create<arith::AddIOp>(l, lin,
                                     nb.create<arith::MulIOp>(l, idx, st));
    }
    Type i64 = nb.getI64Type();
    auto c = [&](uint64_t v) {
      return nb.create<arith::ConstantOp>(l, nb.getI64IntegerAttr(int64_t(v)));
    };
    Value h = nb.create<arith::AddIOp>(
        l, base, nb.create<arith::IndexCastUIOp>(l, i64, lin));
    auto xorShift = [&](Value v, uint64_t sh) {
      return nb.create<arith::XOrIOp>(l, v,
                                      nb.create<arith::ShRUIOp>(l, v, c(sh)));
    };
    h = nb.create<arith::MulIOp>(l, xorShift(h, 30), c(kMix1));
    h = nb.create<arith::MulIOp>(l, xorShift(h, 27), c(kMix2));
    h = xorShift(h, 31);
    Value bits = nb.create<arith::ShRUIOp>(l, h, c(40));
    Type t = a[0].getType();
    Value u = nb.create<arith::UIToFPOp>(l, nb.getF32Type(), bits);
    S s{nb, l};
    u = s.mul(u, s.c(1.0 / 16777216.0, nb.getF32Type()));
    Value keep =
        s.cmp(arith::CmpFPredicate::OGE, u, s.c(keepFrom, nb.getF32Type()));
    return one(s.select(keep, s.mul(a[0], s.c(scale, t)), s.c(0, t)));
  });
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// sum over (n, c) of body(p, label, c) into a 0-D tensor, times `scale`.
Value sumOverRows(Emitter &e, Value p, Value labels, double scale,
                  BodyFn body) {
  Type t = e.elem(p);
  Value acc = e.fill({}, t, 0.0);
  AffineMap none = AffineMap::get(2, 0, {}, e.ctx);
  Value sum = e.generic({p, labels}, acc, {e.identity(2), e.dims(2, {0}), none},
                        {IteratorType::reduction, IteratorType::reduction},
                        [&](OpBuilder &b, Location l, ValueRange a) {
                          Value v = body(b, l, a.take_front(2))[0];
                          return one(S{b, l}.add(a[2], v));
                        })[0];
  return e.map(sum, e.type(sum), [&](OpBuilder &b, Location l, ValueRange a) {
    S s{b, l};
    return one(s.mul(a[0], s.c(scale, t)));
  });
}

/// The 0/1 target of element (n, c): onehot, or the label itself for C == 1.
Value target(OpBuilder &b, Location l, Value label, int64_t classes, Type t) {
  S s{b, l};
  if (classes == 1)
    return b.create<arith::SIToFPOp>(l, t, label);
  return s.boolToFloat(s.isClass(label, b.create<linalg::IndexOp>(l, 1)), t);
}

constexpr double kProbEps = 1e-7;

/// Per-row statistics some losses need: the row max and sum of exp(x - max)
/// (softmax CE), or the true-class value, the best other value and its
/// index (categorical hinge).
struct RowStats {
  Value max, sumExp, pos, neg, negIdx;
};

RowStats softmaxStats(Emitter &e, Value x) {
  RowStats r;
  double ninf = -std::numeric_limits<double>::infinity();
  r.max = e.reduceLast(x, ninf, [](OpBuilder &b, Location l, ValueRange a) {
    return one(S{b, l}.max(a[0], a[1]));
  });
  Value ex = e.mapWithRow(x, r.max, [](OpBuilder &b, Location l, ValueRange a) {
    S s{b, l};
    return one(s.exp(s.sub(a[0], a[1])));
  });
  r.sumExp = e.reduceLast(ex, 0.0, [](OpBuilder &b, Location l, ValueRange a) {
    return one(S{b, l}.add(a[0], a[1]));
  });
  return r;
}

RowStats hingeStats(Emitter &e, Value p, Value labels) {
  RowStats r;
  Type t = e.elem(p);
  int64_t n = e.shape(p)[0];
  double ninf = -std::numeric_limits<double>::infinity();
  auto res = e.generic(
      {p, labels},
      {e.fill({n}, t, 0.0), e.fill({n}, t, ninf),
       e.fill({n}, e.b.getIndexType(), 0.0)},
      {e.identity(2), e.dims(2, {0}), e.dims(2, {0}), e.dims(2, {0}),
       e.dims(2, {0})},
      {IteratorType::parallel, IteratorType::reduction},
      [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        Value c = b.create<linalg::IndexOp>(l, 1);
        Value isY = s.isClass(a[1], c);
        Value pos = s.select(isY, a[0], a[2]);
        Value better = b.create<arith::AndIOp>(
            l,
            b.create<arith::XOrIOp>(
                l, isY, b.create<arith::ConstantOp>(l, b.getBoolAttr(true))),
            s.gt(a[0], a[3]));
        return SmallVector<Value>{pos, s.select(better, a[0], a[3]),
                                  s.select(better, c, a[4])};
      });
  r.pos = res[0];
  r.neg = res[1];
  r.negIdx = res[2];
  return r;
}

Value lowerLoss(Emitter &e, StringRef kind, Value p, Value labels,
                double delta) {
  auto ps = e.shape(p);
  int64_t n = ps[0], classes = ps[1];
  double perRow = 1.0 / double(n), perElem = 1.0 / double(n * classes);
  Type t = e.elem(p);
  if (kind == "softmax_cross_entropy") {
    RowStats r = softmaxStats(e, p);
    // sum_n (max + log(sumExp) - x[n, y]) / N
    Value lse = e.map({r.max, r.sumExp}, e.type(r.max),
                      [](OpBuilder &b, Location l, ValueRange a) {
                        S s{b, l};
                        return one(s.add(a[0], s.log(a[1])));
                      });
    Value acc = e.fill({}, t, 0.0);
    AffineMap none = AffineMap::get(2, 0, {}, e.ctx);
    Value sum = e.generic(
        {p, labels, lse}, acc,
        {e.identity(2), e.dims(2, {0}), e.dims(2, {0}), none},
        {IteratorType::reduction, IteratorType::reduction},
        [&](OpBuilder &b, Location l, ValueRange a) {
          S s{b, l};
          Value isY = s.isClass(a[1], b.create<linalg::IndexOp>(l, 1));
          return one(s.add(a[3], s.select(isY, s.sub(a[2], a[0]), s.c(0, t))));
        })[0];
    return e.map(sum, e.type(sum), [&](OpBuilder &b, Location l, ValueRange a) {
      S s{b, l};
      return one(s.mul(a[0], s.c(perRow, t)));
    });
  }
  if (kind == "categorical_hinge") {
    RowStats r = hingeStats(e, p, labels);
    Value acc = e.fill({}, t, 0.0);
    AffineMap none = AffineMap::get(1, 0, {}, e.ctx);
    Value sum = e.generic(
        {r.pos, r.neg}, acc, {e.identity(1), e.identity(1), none},
        {IteratorType::reduction}, [&](OpBuilder &b, Location l, ValueRange a) {
          S s{b, l};
          Value m = s.max(s.c(0, t), s.add(s.sub(a[1], a[0]), s.c(1, t)));
          return one(s.add(a[2], m));
        })[0];
    return e.map(sum, e.type(sum), [&](OpBuilder &b, Location l, ValueRange a) {
      S s{b, l};
      return one(s.mul(a[0], s.c(perRow, t)));
    });
  }
  bool rowLoss = kind == "cross_entropy";
  return sumOverRows(
      e, p, labels, rowLoss ? perRow : perElem,
      [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        Value pv = a[0];
        Value tv = target(b, l, a[1], classes, t);
        Value one_ = s.c(1, t), zero = s.c(0, t);
        if (kind == "cross_entropy") {
          Value q = s.max(pv, s.c(kProbEps, t));
          q = b.create<arith::MinimumFOp>(l, q, one_);
          return one(s.mul(tv, s.neg(s.log(q))));
        }
        if (kind == "binary_cross_entropy") {
          Value q = s.max(pv, s.c(kProbEps, t));
          q = b.create<arith::MinimumFOp>(l, q, s.c(1 - kProbEps, t));
          return one(
              s.neg(s.add(s.mul(tv, s.log(q)),
                          s.mul(s.sub(one_, tv), s.log(s.sub(one_, q))))));
        }
        Value d = s.sub(pv, tv);
        if (kind == "mse")
          return one(s.mul(d, d));
        if (kind == "mae")
          return one(s.abs(d));
        if (kind == "huber") {
          Value ad = s.abs(d), dl = s.c(delta, t);
          Value quad = s.mul(s.c(0.5, t), s.mul(d, d));
          Value lin = s.mul(dl, s.sub(ad, s.c(0.5 * delta, t)));
          return one(
              s.select(s.cmp(arith::CmpFPredicate::OLE, ad, dl), quad, lin));
        }
        Value tp = s.sub(s.mul(s.c(2, t), tv), one_); // {-1, 1}
        Value m = s.max(zero, s.sub(one_, s.mul(tp, pv)));
        if (kind == "hinge")
          return one(m);
        return one(s.mul(m, m)); // squared_hinge
      });
}

Value lowerLossGrad(Emitter &e, nn::LossGradOp op, Value p, Value labels,
                    Value dloss) {
  StringRef kind = op.getKind();
  double delta = op.getDelta().convertToDouble();
  auto ps = e.shape(p);
  int64_t n = ps[0], classes = ps[1];
  Type t = e.elem(p);
  Value g = e.extractScalar(dloss);
  bool perRowKind = kind == "cross_entropy" ||
                    kind == "softmax_cross_entropy" ||
                    kind == "categorical_hinge";
  double norm = perRowKind ? 1.0 / n : 1.0 / double(n * classes);
  Value scale = e.b.create<arith::MulFOp>(e.loc, g, e.f(norm, t));
  SmallVector<Value> rows;
  if (kind == "softmax_cross_entropy") {
    RowStats r = softmaxStats(e, p);
    rows = {r.max, r.sumExp};
  } else if (kind == "categorical_hinge") {
    RowStats r = hingeStats(e, p, labels);
    rows = {r.pos, r.neg, r.negIdx};
  }
  SmallVector<Value> ins{p, labels};
  ins.append(rows);
  SmallVector<AffineMap> maps{e.identity(2), e.dims(2, {0})};
  for (size_t i = 0; i < rows.size(); ++i)
    maps.push_back(e.dims(2, {0}));
  maps.push_back(e.identity(2));
  return e.generic(
      ins, e.empty(ps, t), maps,
      {IteratorType::parallel, IteratorType::parallel},
      [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        Value pv = a[0];
        Value c = b.create<linalg::IndexOp>(l, 1);
        Value tv = target(b, l, a[1], classes, t);
        Value one_ = s.c(1, t), zero = s.c(0, t);
        Value d;
        if (kind == "softmax_cross_entropy") {
          Value sm = s.div(s.exp(s.sub(pv, a[2])), a[3]);
          d = s.sub(sm, tv);
        } else if (kind == "cross_entropy") {
          Value inRange = b.create<arith::AndIOp>(
              l, s.cmp(arith::CmpFPredicate::OGE, pv, s.c(kProbEps, t)),
              s.cmp(arith::CmpFPredicate::OLE, pv, one_));
          d = s.select(inRange, s.neg(s.div(tv, pv)), zero);
        } else if (kind == "binary_cross_entropy") {
          Value inRange = b.create<arith::AndIOp>(
              l, s.cmp(arith::CmpFPredicate::OGE, pv, s.c(kProbEps, t)),
              s.cmp(arith::CmpFPredicate::OLE, pv, s.c(1 - kProbEps, t)));
          Value gr = s.add(s.neg(s.div(tv, pv)),
                           s.div(s.sub(one_, tv), s.sub(one_, pv)));
          d = s.select(inRange, gr, zero);
        } else if (kind == "mse") {
          d = s.mul(s.c(2, t), s.sub(pv, tv));
        } else if (kind == "mae") {
          d = s.sign(s.sub(pv, tv));
        } else if (kind == "huber") {
          Value diff = s.sub(pv, tv), dl = s.c(delta, t);
          d = s.select(s.cmp(arith::CmpFPredicate::OLE, s.abs(diff), dl), diff,
                       s.mul(dl, s.sign(diff)));
        } else if (kind == "hinge" || kind == "squared_hinge") {
          Value tp = s.sub(s.mul(s.c(2, t), tv), one_);
          Value m = s.sub(one_, s.mul(tp, pv));
          Value active = s.gt(m, zero);
          Value gr =
              kind == "hinge" ? s.neg(tp) : s.mul(s.c(-2, t), s.mul(tp, m));
          d = s.select(active, gr, zero);
        } else { // categorical_hinge
          Value margin = s.add(s.sub(a[3], a[2]), one_);
          Value active = s.gt(margin, zero);
          Value isNeg =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, c, a[4]);
          Value gr = s.sub(s.boolToFloat(isNeg, t), tv);
          d = s.select(active, gr, zero);
        }
        return one(s.mul(d, scale));
      })[0];
}

Value lowerCorrectCount(Emitter &e, Value p, Value labels) {
  auto ps = e.shape(p);
  int64_t n = ps[0], classes = ps[1];
  Type t = e.elem(p);
  OpBuilder &b = e.b;
  Value pred;
  if (classes == 1) {
    pred = e.generic(
        p, e.fill({n}, b.getIndexType(), 0.0), {e.identity(2), e.dims(2, {0})},
        {IteratorType::parallel, IteratorType::reduction},
        [&](OpBuilder &nb, Location l, ValueRange a) {
          S s{nb, l};
          Value one_ = nb.create<arith::ConstantIndexOp>(l, 1);
          Value zero = nb.create<arith::ConstantIndexOp>(l, 0);
          return one(s.select(s.gt(a[0], s.c(0.5, t)), one_, zero));
        })[0];
  } else {
    double ninf = -std::numeric_limits<double>::infinity();
    pred =
        e.generic(p, {e.fill({n}, t, ninf), e.fill({n}, b.getIndexType(), 0.0)},
                  {e.identity(2), e.dims(2, {0}), e.dims(2, {0})},
                  {IteratorType::parallel, IteratorType::reduction},
                  [&](OpBuilder &nb, Location l, ValueRange a) {
                    S s{nb, l};
                    Value better = s.gt(a[0], a[1]);
                    Value c = nb.create<linalg::IndexOp>(l, 1);
                    return SmallVector<Value>{s.select(better, a[0], a[1]),
                                              s.select(better, c, a[2])};
                  })[1];
  }
  AffineMap none = AffineMap::get(1, 0, {}, e.ctx);
  return e.generic(
      {pred, labels}, e.fill({}, b.getI64Type(), 0.0),
      {e.identity(1), e.identity(1), none}, {IteratorType::reduction},
      [&](OpBuilder &nb, Location l, ValueRange a) {
        S s{nb, l};
        Value hit = s.isClass(a[1], a[0]);
        Value inc = nb.create<arith::ExtUIOp>(l, nb.getI64Type(), hit);
        return one(nb.create<arith::AddIOp>(l, a[2], inc));
      })[0];
}

//===----------------------------------------------------------------------===//
// Optimizer updates: the state tensors are the `outs`, read and rewritten.
//===----------------------------------------------------------------------===//

SmallVector<Value> lowerUpdate(Emitter &e, Operation *op, ValueRange operands) {
  Value p = operands[0], g = operands[1];
  unsigned rank = e.type(p).getRank();
  Type t = e.elem(p);
  auto attr = [&](StringRef name) {
    return cast<FloatAttr>(op->getAttr(name)).getValueAsDouble();
  };
  double lr = attr("learning_rate"), wd = attr("weight_decay");
  SmallVector<Value> outs{p};
  for (Value s : operands.drop_front(2))
    if (isa<RankedTensorType>(s.getType()) && e.type(s).getRank() == rank &&
        e.type(s) == e.type(p))
      outs.push_back(s);
  Value bc1, bc2;
  if (auto adam = dyn_cast<nn::AdamUpdateOp>(op)) {
    // Bias corrections 1 - beta^t with t = step + 1, in double.
    Value step = e.extractScalar(operands[4]);
    Value t1 = e.b.create<arith::AddIOp>(e.loc, step, e.i64(1));
    Value tf = e.b.create<arith::SIToFPOp>(e.loc, e.b.getF64Type(), t1);
    S s{e.b, e.loc};
    Type f64 = e.b.getF64Type();
    auto corr = [&](double beta) {
      Value pw = s.exp(s.mul(tf, s.c(std::log(beta), f64)));
      Value c = s.sub(s.c(1, f64), pw);
      return e.b.create<arith::TruncFOp>(e.loc, t, c).getResult();
    };
    bc1 = corr(attr("beta_1"));
    bc2 = corr(attr("beta_2"));
  }
  SmallVector<AffineMap> maps(1 + outs.size(), e.identity(rank));
  return e.generic(
      g, outs, maps, SmallVector<IteratorType>(rank, IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
        S s{b, l};
        Value gv = a[0], pv = a[1];
        if (wd != 0)
          gv = s.add(gv, s.mul(s.c(wd, t), pv));
        Value lrv = s.c(lr, t);
        if (isa<nn::SgdUpdateOp>(op))
          return {s.sub(pv, s.mul(lrv, gv))};
        if (auto m = dyn_cast<nn::MomentumUpdateOp>(op)) {
          Value mu = s.c(attr("momentum"), t);
          Value v = s.add(s.mul(mu, a[2]), gv);
          Value stepv = m.getNesterov() ? s.add(gv, s.mul(mu, v)) : v;
          return {s.sub(pv, s.mul(lrv, stepv)), v};
        }
        if (isa<nn::RmspropUpdateOp>(op)) {
          double rho = attr("rho");
          Value ms = s.add(s.mul(s.c(rho, t), a[2]),
                           s.mul(s.c(1 - rho, t), s.mul(gv, gv)));
          Value den = s.add(s.sqrt(ms), s.c(attr("epsilon"), t));
          return {s.sub(pv, s.mul(lrv, s.div(gv, den))), ms};
        }
        double b1 = attr("beta_1"), b2 = attr("beta_2");
        Value m = s.add(s.mul(s.c(b1, t), a[2]), s.mul(s.c(1 - b1, t), gv));
        Value v = s.add(s.mul(s.c(b2, t), a[3]),
                        s.mul(s.c(1 - b2, t), s.mul(gv, gv)));
        Value mhat = s.div(m, bc1), vhat = s.div(v, bc2);
        Value den = s.add(s.sqrt(vhat), s.c(attr("epsilon"), t));
        return {s.sub(pv, s.mul(lrv, s.div(mhat, den))), m, v};
      });
}

//===----------------------------------------------------------------------===//
// The conversion
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<Value>> lowerOp(Operation *op, ValueRange ops,
                                      OpBuilder &b) {
  Emitter e(b, op->getLoc());
  auto unary = [&](auto fn) {
    return SmallVector<Value>{e.map(
        ops[0], e.type(ops[0]), [&](OpBuilder &nb, Location l, ValueRange a) {
          S s{nb, l};
          return one(fn(s, a[0]));
        })};
  };
  auto resultType = [&](unsigned i = 0) {
    return cast<RankedTensorType>(op->getResult(i).getType());
  };
  using R = FailureOr<SmallVector<Value>>;
  return llvm::TypeSwitch<Operation *, R>(op)
      .Case([&](nn::Conv2DOp o) -> R {
        return SmallVector<Value>{
            lowerConv(e, o, ops[0], ops[1], o.getBias() ? ops[2] : Value())};
      })
      .Case([&](nn::Conv2DGradFilterOp o) -> R {
        return SmallVector<Value>{lowerConvGradFilter(e, o, ops[0], ops[1])};
      })
      .Case([&](nn::Conv2DGradInputOp o) -> R {
        return SmallVector<Value>{lowerConvGradInput(e, o, ops[0], ops[1])};
      })
      .Case([&](nn::MaxPool2DOp o) -> R {
        return SmallVector<Value>{lowerPool(e, o, ops[0], true)};
      })
      .Case([&](nn::AvgPool2DOp o) -> R {
        return SmallVector<Value>{lowerPool(e, o, ops[0], false)};
      })
      .Case([&](nn::MaxPool2DGradOp o) -> R {
        return SmallVector<Value>{lowerMaxPoolGrad(e, o, ops[0], ops[1])};
      })
      .Case([&](nn::AvgPool2DGradOp o) -> R {
        return SmallVector<Value>{lowerAvgPoolGrad(e, o, ops[0], ops[1])};
      })
      .Case([&](nn::DenseOp o) -> R {
        auto rt = resultType();
        Value init = o.getBias()
                         ? e.broadcastLast(ops[2], rt.getShape())
                         : e.fill(rt.getShape(), rt.getElementType(), 0.0);
        return SmallVector<Value>{
            lowerMatmul(e, ops[0], ops[1], false, false, init)};
      })
      .Case([&](nn::MatmulOp o) -> R {
        auto rt = resultType();
        Value init = e.fill(rt.getShape(), rt.getElementType(), 0.0);
        return SmallVector<Value>{lowerMatmul(
            e, ops[0], ops[1], o.getTransposeLhs(), o.getTransposeRhs(), init)};
      })
      .Case([&](nn::BiasGradOp) -> R {
        return SmallVector<Value>{lowerBiasGrad(e, ops[0])};
      })
      .Case<nn::FlattenOp, nn::ReshapeOp>([&](Operation *) -> R {
        return SmallVector<Value>{lowerReshape(e, ops[0], resultType())};
      })
      .Case([&](nn::ReluOp) -> R {
        return unary(
            [](S &s, Value x) { return s.max(x, s.c(0, x.getType())); });
      })
      .Case([&](nn::LeakyReluOp o) -> R {
        return SmallVector<Value>{
            activate(e, ops[0], "leaky_relu", o.getAlpha().convertToDouble())};
      })
      .Case([&](nn::SigmoidOp) -> R {
        return unary([](S &s, Value x) { return s.sigmoid(x); });
      })
      .Case([&](nn::TanhOp) -> R {
        return unary([](S &s, Value x) { return s.tanh(x); });
      })
      .Case([&](nn::SoftmaxOp) -> R {
        return SmallVector<Value>{lowerSoftmax(e, ops[0], false)};
      })
      .Case([&](nn::LogSoftmaxOp) -> R {
        return SmallVector<Value>{lowerSoftmax(e, ops[0], true)};
      })
      .Case([&](nn::PReluOp) -> R {
        unsigned rank = e.type(ops[0]).getRank();
        return SmallVector<Value>{e.generic(
            {ops[0], ops[1]}, e.empty(e.shape(ops[0]), e.elem(ops[0])),
            {e.identity(rank), e.dims(rank, {rank - 1}), e.identity(rank)},
            SmallVector<IteratorType>(rank, IteratorType::parallel),
            [](OpBuilder &nb, Location l, ValueRange a) {
              S s{nb, l};
              return one(s.select(s.gt(a[0], s.c(0, a[0].getType())), a[0],
                                  s.mul(a[0], a[1])));
            })[0]};
      })
      .Case([&](nn::PReluGradOp) -> R {
        Value dy = ops[0], x = ops[1], alpha = ops[2];
        unsigned rank = e.type(x).getRank();
        SmallVector<IteratorType> par(rank, IteratorType::parallel);
        Value dx =
            e.generic({dy, x, alpha}, e.empty(e.shape(x), e.elem(x)),
                      {e.identity(rank), e.identity(rank),
                       e.dims(rank, {rank - 1}), e.identity(rank)},
                      par, [](OpBuilder &nb, Location l, ValueRange a) {
                        S s{nb, l};
                        return one(s.select(s.gt(a[1], s.c(0, a[1].getType())),
                                            a[0], s.mul(a[0], a[2])));
                      })[0];
        SmallVector<IteratorType> red(rank, IteratorType::reduction);
        red.back() = IteratorType::parallel;
        Value da = e.generic(
            {dy, x}, e.fill({e.shape(x).back()}, e.elem(x), 0.0),
            {e.identity(rank), e.identity(rank), e.dims(rank, {rank - 1})}, red,
            [](OpBuilder &nb, Location l, ValueRange a) {
              S s{nb, l};
              Value zero = s.c(0, a[0].getType());
              Value contrib =
                  s.select(s.gt(a[1], zero), zero, s.mul(a[1], a[0]));
              return one(s.add(a[2], contrib));
            })[0];
        return SmallVector<Value>{dx, da};
      })
      .Case([&](nn::ActivationGradOp o) -> R {
        return SmallVector<Value>{lowerActivationGrad(e, o, ops[0], ops[1])};
      })
      .Case([&](nn::DropoutOp o) -> R {
        return SmallVector<Value>{
            lowerDropout(e, o, ops[0], o.getStep() ? ops[1] : Value())};
      })
      .Case([&](nn::AddOp) -> R {
        return SmallVector<Value>{e.map(
            ops, resultType(), [](OpBuilder &nb, Location l, ValueRange a) {
              return one(S{nb, l}.add(a[0], a[1]));
            })};
      })
      .Case([&](nn::ConstantOp o) -> R {
        auto rt = resultType();
        Value c = b.create<arith::ConstantOp>(
            o.getLoc(),
            DenseElementsAttr::get(
                rt, b.getFloatAttr(rt.getElementType(),
                                   o.getValue().convertToDouble())));
        return SmallVector<Value>{c};
      })
      .Case([&](nn::LossGradOp o) -> R {
        return SmallVector<Value>{lowerLossGrad(e, o, ops[0], ops[1], ops[2])};
      })
      .Case([&](nn::CorrectCountOp) -> R {
        return SmallVector<Value>{lowerCorrectCount(e, ops[0], ops[1])};
      })
      .Case<nn::SgdUpdateOp, nn::MomentumUpdateOp, nn::RmspropUpdateOp,
            nn::AdamUpdateOp>(
          [&](Operation *o) -> R { return lowerUpdate(e, o, ops); })
      .Default([&](Operation *o) -> R {
        StringRef name = o->getName().stripDialect();
        if (nn::isLossKind(name)) {
          double delta = 1.0;
          if (auto d = o->getAttrOfType<FloatAttr>("delta"))
            delta = d.getValueAsDouble();
          return SmallVector<Value>{lowerLoss(e, name, ops[0], ops[1], delta)};
        }
        return o->emitError()
               << "no lowering to linalg for '" << o->getName() << "'";
      });
}

struct LowerNNOp : ConversionPattern {
  LowerNNOp(MLIRContext *ctx)
      : ConversionPattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isa<nn::NNDialect>(op->getDialect()))
      return failure();
    auto isStatic = [](Type t) { return cast<ShapedType>(t).hasStaticShape(); };
    if (!llvm::all_of(op->getOperandTypes(), isStatic) ||
        !llvm::all_of(op->getResultTypes(), isStatic))
      return op->emitError()
             << "the linalg lowering needs static shapes; import the model "
                "with a fixed batch size";
    auto results = lowerOp(op, operands, rewriter);
    if (failed(results))
      return failure();
    rewriter.replaceOp(op, *results);
    return success();
  }
};

struct LowerNNToLinalg : gradc::impl::LowerNNToLinalgBase<LowerNNToLinalg> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<nn::NNDialect>();
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           func::FuncDialect>();
    RewritePatternSet patterns(ctx);
    populateLowerNNToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();
    // The runtime calls the entry points through their C interface.
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (fn.isPublic() && !fn.isExternal())
        fn->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  }
};

} // namespace

void gradc::populateLowerNNToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerNNOp>(patterns.getContext());
}
