//===- LinalgEmitter.h - helpers shared by the nn-to-linalg patterns -*- C++
//-*-===//
//
// Emitter builds linalg/tensor/arith IR at one location (fills, pads,
// slices, generics, convolutions); S builds scalar arith/math inside linalg
// bodies. Every family of lowering patterns (conv, pooling, linear, shape,
// elementwise, normalization, losses, optimizers) uses them, and
// LowerOpPattern<OpT> turns one lowering function into an
// OpConversionPattern for one op.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_PASSES_LOWERING_LINALGEMITTER_H
#define GRADC_PASSES_LOWERING_LINALGEMITTER_H

#include "ir/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include <functional>
#include <limits>

namespace gradc::lowering {

using namespace mlir;
using utils::IteratorType;

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
  /// `x` collapsed to one dimension (itself when 1-D).
  Value flatten(Value x) {
    int64_t rank = type(x).getRank();
    if (rank == 1)
      return x;
    ReassociationIndices all;
    for (int64_t i = 0; i < rank; ++i)
      all.push_back(i);
    return b.create<tensor::CollapseShapeOp>(
        loc, x, ArrayRef<ReassociationIndices>{all});
  }
  /// A 1-D `flat` expanded to `to` (itself when `to` is 1-D).
  Value unflatten(Value flat, RankedTensorType to) {
    if (to.getRank() == 1)
      return flat;
    ReassociationIndices all;
    for (int64_t i = 0; i < to.getRank(); ++i)
      all.push_back(i);
    return b.create<tensor::ExpandShapeOp>(loc, to, flat,
                                           ArrayRef<ReassociationIndices>{all});
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
  /// Reduces `x` over `axes` (which the result drops) with
  /// `combine(x, acc)` from `init`.
  Value reduceAxes(Value x, ArrayRef<int64_t> axes, double init,
                   BodyFn combine) {
    unsigned rank = type(x).getRank();
    SmallVector<IteratorType> iters;
    SmallVector<unsigned> kept;
    SmallVector<int64_t> out;
    for (unsigned d = 0; d < rank; ++d) {
      bool reduced = llvm::is_contained(axes, int64_t(d));
      iters.push_back(reduced ? IteratorType::reduction
                              : IteratorType::parallel);
      if (!reduced) {
        kept.push_back(d);
        out.push_back(shape(x)[d]);
      }
    }
    return generic(x, fill(out, elem(x), init),
                   {identity(rank), dims(rank, kept)}, iters, combine)[0];
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
  /// The index (as `index`) of the first maximum of each row of x [N, C].
  Value argmaxRows(Value x);
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
  Value min(Value x, Value y) { return b.create<arith::MinimumFOp>(loc, x, y); }
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
  /// erf(x) by Abramowitz and Stegun 7.1.26 (|error| <= 1.5e-7, below
  /// float's resolution near 1), odd-symmetric; branch-free, so it
  /// vectorizes.
  Value erf(Value x) {
    Type t = x.getType();
    Value a = abs(x);
    Value k = div(c(1, t), add(c(1, t), mul(c(0.3275911, t), a)));
    Value poly = c(1.061405429, t);
    for (double coef : {-1.453152027, 1.421413741, -0.284496736, 0.254829592})
      poly = add(mul(poly, k), c(coef, t));
    Value y = sub(c(1, t), mul(mul(poly, k), exp(neg(mul(a, a)))));
    return select(cmp(arith::CmpFPredicate::OLT, x, c(0, t)), neg(y), y);
  }
  /// GELU's Phi(x) (exact: (1 + erf(x / sqrt 2)) / 2, or its tanh form)
  /// and, for the gradient, d Phi / dx (null unless `derivative`).
  std::pair<Value, Value> geluPhi(Value x, bool approximate, bool derivative) {
    Type t = x.getType();
    if (!approximate) {
      Value phi =
          mul(c(0.5, t), add(c(1, t), erf(mul(x, c(0.7071067811865476, t)))));
      if (!derivative)
        return {phi, Value()};
      Value density = mul(c(0.3989422804014327, t), // 1 / sqrt(2 pi)
                          exp(mul(c(-0.5, t), mul(x, x))));
      return {phi, density};
    }
    const double beta = 0.7978845608028654, kappa = 0.044715; // sqrt(2 / pi)
    Value x2 = mul(x, x);
    Value th =
        tanh(mul(c(beta, t), mul(x, add(c(1, t), mul(c(kappa, t), x2)))));
    Value phi = mul(c(0.5, t), add(c(1, t), th));
    if (!derivative)
      return {phi, Value()};
    // d/dx of (1 + tanh(u)) / 2 = (1 - tanh^2) u' / 2, u' = beta (1 + 3 kappa
    // x^2).
    Value du = mul(c(beta, t), add(c(1, t), mul(c(3 * kappa, t), x2)));
    Value dphi = mul(mul(c(0.5, t), sub(c(1, t), mul(th, th))), du);
    return {phi, dphi};
  }
  Value gelu(Value x, bool approximate) {
    return mul(x, geluPhi(x, approximate, false).first);
  }
  /// dy (Phi(x) + x Phi'(x)).
  Value geluGrad(Value dy, Value x, bool approximate) {
    auto [phi, dphi] = geluPhi(x, approximate, true);
    return mul(dy, add(phi, mul(x, dphi)));
  }
  /// `labelIndex == class index` for an i32 label and an index.
  Value isClass(Value label, Value cls) {
    Value l = b.create<arith::IndexCastOp>(loc, b.getIndexType(), label);
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, l, cls);
  }
  /// `label >= 0`: a row that counts (label -1 marks a padding row of a
  /// partial batch).
  Value countsRow(Value label) {
    Value zero =
        b.create<arith::ConstantOp>(loc, b.getIntegerAttr(label.getType(), 0));
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, label, zero);
  }
  Value boolToFloat(Value cond, Type t) {
    return select(cond, c(1, t), c(0, t));
  }
};

inline SmallVector<Value> one(Value v) { return {v}; }

/// Rows/columns of the padded input that some window touches.
inline int64_t usedExtent(int64_t out, int64_t k, int64_t stride,
                          int64_t dilation) {
  return stride * (out - 1) + dilation * (k - 1) + 1;
}

/// The fused activation of conv2d and the leaky_relu op: "none", "relu" or
/// "leaky_relu" with slope `alpha`.
inline Value activate(Emitter &e, Value y, StringRef kind, double alpha) {
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

/// Lowers one op: its (converted) operands in, its replacement values out.
inline Value Emitter::argmaxRows(Value x) {
  int64_t n = shape(x)[0];
  double ninf = -std::numeric_limits<double>::infinity();
  return generic(x,
                 {fill({n}, elem(x), ninf), fill({n}, b.getIndexType(), 0.0)},
                 {identity(2), dims(2, {0}), dims(2, {0})},
                 {IteratorType::parallel, IteratorType::reduction},
                 [](OpBuilder &nb, Location l, ValueRange a) {
                   S s{nb, l};
                   Value better = s.gt(a[0], a[1]);
                   Value c = nb.create<linalg::IndexOp>(l, 1);
                   return SmallVector<Value>{s.select(better, a[0], a[1]),
                                             s.select(better, c, a[2])};
                 })[1];
}

template <typename OpT>
using LowerFn =
    std::function<FailureOr<SmallVector<Value>>(OpT, ValueRange, Emitter &)>;

/// One OpConversionPattern per op. The linalg lowering needs static shapes.
template <typename OpT> class LowerOpPattern : public OpConversionPattern<OpT> {
public:
  LowerOpPattern(MLIRContext *ctx, LowerFn<OpT> fn)
      : OpConversionPattern<OpT>(ctx), fn(std::move(fn)) {}

  LogicalResult
  matchAndRewrite(OpT op, typename OpT::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto isStatic = [](Type t) { return cast<ShapedType>(t).hasStaticShape(); };
    if (!llvm::all_of(op->getOperandTypes(), isStatic) ||
        !llvm::all_of(op->getResultTypes(), isStatic))
      return op->emitError()
             << "the linalg lowering needs static shapes; import the model "
                "with a fixed batch size";
    Emitter e(rewriter, op.getLoc());
    auto results = fn(op, adaptor.getOperands(), e);
    if (failed(results))
      return failure();
    rewriter.replaceOp(op, *results);
    return success();
  }

private:
  LowerFn<OpT> fn;
};

/// Registers `fn` as the lowering of OpT.
template <typename OpT, typename F>
void addLowering(RewritePatternSet &patterns, F &&fn) {
  patterns.add<LowerOpPattern<OpT>>(patterns.getContext(),
                                    LowerFn<OpT>(std::forward<F>(fn)));
}

/// One lowering function for several ops that return one value.
template <typename... OpTs, typename F>
void addLoweringForEach(RewritePatternSet &patterns, F fn) {
  (addLowering<OpTs>(patterns,
                     [fn](OpTs op, ValueRange ops,
                          Emitter &e) -> FailureOr<SmallVector<Value>> {
                       return fn(op.getOperation(), ops, e);
                     }),
   ...);
}

//===----------------------------------------------------------------------===//
// The families: each registers the lowering of its ops.
//===----------------------------------------------------------------------===//

// populate<Name>LoweringPatterns() of every family of ir/OpFamilies.def.
#define GRADC_OP_FAMILY(Name, Layers, Kernels)                                 \
  void populate##Name##LoweringPatterns(RewritePatternSet &patterns);
#include "ir/OpFamilies.def"

} // namespace gradc::lowering

#endif // GRADC_PASSES_LOWERING_LINALGEMITTER_H
