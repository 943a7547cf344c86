//===- ElementwiseLowering.cpp - activations, dropout, add, constants -===//
//
// Activations (GELU and its gradient with them) become parallel
// linalg.generics;
// softmax and log-softmax reduce over the last dimension first. Dropout
// recomputes its mask from (seed, step, element index).
//
//===----------------------------------------------------------------------===//

#include "ir/DropoutMask.h"
#include "ir/UnaryFunctions.h"
#include "passes/lowering/LinalgEmitter.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

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

using R = FailureOr<SmallVector<Value>>;

/// The algebra of ir/UnaryFunctions.def over MLIR scalars of one float
/// type, inside a linalg body. log1p and expm1 are Kahan's: exact near 0
/// without math.log1p/math.expm1, which MathToLLVM expands naively.
struct ScalarAlgebra {
  S s;
  Type t;
  Value c(double v) { return s.c(v, t); }
  Value add(Value x, Value y) { return s.add(x, y); }
  Value sub(Value x, Value y) { return s.sub(x, y); }
  Value mul(Value x, Value y) { return s.mul(x, y); }
  Value div(Value x, Value y) { return s.div(x, y); }
  Value neg(Value x) { return s.neg(x); }
  Value exp(Value x) { return s.exp(x); }
  Value log(Value x) { return s.log(x); }
  Value sqrt(Value x) { return s.sqrt(x); }
  Value abs(Value x) { return s.abs(x); }
  Value sign(Value x) { return s.sign(x); }
  Value erf(Value x) { return s.erf(x); }
  Value sin(Value x) { return s.b.create<math::SinOp>(s.loc, x); }
  Value cos(Value x) { return s.b.create<math::CosOp>(s.loc, x); }
  /// atan(x) as Cephes's atanf: |x| reduced by tan(3 pi / 8) and
  /// tan(pi / 8) to below tan(pi / 8), then a degree-9 odd polynomial
  /// (relative error about 1e-7); branch-free, so it vectorizes.
  Value atan(Value x) {
    Value a = abs(x);
    Value big = gt(a, c(2.414213562373095));
    Value mid = gt(a, c(0.4142135623730950));
    Value r = select(big, neg(div(c(1), a)),
                     select(mid, div(sub(a, c(1)), add(a, c(1))), a));
    Value y0 = select(big, c(1.5707963267948966),
                      select(mid, c(0.7853981633974483), c(0)));
    Value z = mul(r, r);
    Value p = c(8.05374449538e-2);
    for (double coef : {-1.38776856032e-1, 1.99777106478e-1, -3.33329491539e-1})
      p = add(mul(p, z), c(coef));
    Value y = add(y0, add(mul(mul(p, z), r), r));
    return select(lt(x, c(0)), neg(y), y);
  }
  Value sigmoid(Value x) { return s.sigmoid(x); }
  Value max(Value x, Value y) { return s.max(x, y); }
  Value min(Value x, Value y) {
    return s.b.create<arith::MinimumFOp>(s.loc, x, y);
  }
  Value gt(Value x, Value y) { return s.gt(x, y); }
  Value lt(Value x, Value y) { return s.cmp(arith::CmpFPredicate::OLT, x, y); }
  Value select(Value cond, Value x, Value y) { return s.select(cond, x, y); }
  /// log1p(x) = x when 1 + x rounds to 1, else log(1 + x) x / ((1 + x) - 1).
  Value log1p(Value x) {
    Value w = add(c(1), x);
    Value one = s.cmp(arith::CmpFPredicate::OEQ, w, c(1));
    return select(one, x, div(mul(log(w), x), sub(w, c(1))));
  }
  /// expm1(x) = x when exp(x) rounds to 1, else (u - 1) x / log(u), u =
  /// exp(x); -1 when u - 1 is -1, and inf stays inf.
  Value expm1(Value x) {
    Value u = exp(x);
    Value um1 = sub(u, c(1));
    Value one = s.cmp(arith::CmpFPredicate::OEQ, u, c(1));
    Value minus1 = s.cmp(arith::CmpFPredicate::OEQ, um1, c(-1));
    Value inf = s.cmp(arith::CmpFPredicate::OEQ, u,
                      c(std::numeric_limits<double>::infinity()));
    Value kahan = div(mul(um1, x), log(u));
    return select(one, x, select(minus1, c(-1), select(inf, u, kahan)));
  }
};

/// An elementwise map of the one operand through `fn(S &, x)`.
template <typename Fn> R unary(Emitter &e, Value x, Fn fn) {
  return one(e.map(x, e.type(x), [&](OpBuilder &nb, Location l, ValueRange a) {
    S s{nb, l};
    return one(fn(s, a[0]));
  }));
}

R lowerPRelu(Emitter &e, ValueRange ops) {
  unsigned rank = e.type(ops[0]).getRank();
  return one(
      e.generic({ops[0], ops[1]}, e.empty(e.shape(ops[0]), e.elem(ops[0])),
                {e.identity(rank), e.dims(rank, {rank - 1}), e.identity(rank)},
                SmallVector<IteratorType>(rank, IteratorType::parallel),
                [](OpBuilder &nb, Location l, ValueRange a) {
                  S s{nb, l};
                  return one(s.select(s.gt(a[0], s.c(0, a[0].getType())), a[0],
                                      s.mul(a[0], a[1])));
                })[0]);
}

} // namespace

void populateElementwiseLoweringPatterns(RewritePatternSet &patterns) {
  addLowering<nn::ReluOp>(patterns,
                          [](nn::ReluOp, ValueRange ops, Emitter &e) -> R {
                            return unary(e, ops[0], [](S &s, Value x) {
                              return s.max(x, s.c(0, x.getType()));
                            });
                          });
  addLowering<nn::LeakyReluOp>(
      patterns, [](nn::LeakyReluOp o, ValueRange ops, Emitter &e) -> R {
        return one(
            activate(e, ops[0], "leaky_relu", o.getAlpha().convertToDouble()));
      });
  addLowering<nn::SigmoidOp>(
      patterns, [](nn::SigmoidOp, ValueRange ops, Emitter &e) -> R {
        return unary(e, ops[0], [](S &s, Value x) { return s.sigmoid(x); });
      });
  addLowering<nn::TanhOp>(
      patterns, [](nn::TanhOp, ValueRange ops, Emitter &e) -> R {
        return unary(e, ops[0], [](S &s, Value x) { return s.tanh(x); });
      });
  addLowering<nn::GeluOp>(
      patterns, [](nn::GeluOp o, ValueRange ops, Emitter &e) -> R {
        bool approximate = o.getApproximate();
        return unary(e, ops[0], [approximate](S &s, Value x) {
          return s.gelu(x, approximate);
        });
      });
  addLowering<nn::GeluGradOp>(
      patterns, [](nn::GeluGradOp o, ValueRange ops, Emitter &e) -> R {
        bool approximate = o.getApproximate();
        return one(
            e.map(ops, cast<RankedTensorType>(o.getType()),
                  [approximate](OpBuilder &nb, Location l, ValueRange a) {
                    return one(S{nb, l}.geluGrad(a[0], a[1], approximate));
                  }));
      });
  addLowering<nn::UnaryFnOp>(
      patterns, [](nn::UnaryFnOp o, ValueRange ops, Emitter &e) -> R {
        nn::UnaryFn fn = nn::findUnaryFn(o.getFn())->fn;
        double alpha = o.getAlpha().convertToDouble();
        return unary(e, ops[0], [&](S &s, Value x) {
          ScalarAlgebra a{s, x.getType()};
          return nn::unaryForward(a, fn, x, alpha);
        });
      });
  addLowering<nn::UnaryFnGradOp>(
      patterns, [](nn::UnaryFnGradOp o, ValueRange ops, Emitter &e) -> R {
        nn::UnaryFn fn = nn::findUnaryFn(o.getFn())->fn;
        double alpha = o.getAlpha().convertToDouble();
        return one(e.map(ops, cast<RankedTensorType>(o.getType()),
                         [&](OpBuilder &nb, Location l, ValueRange a) {
                           S s{nb, l};
                           ScalarAlgebra alg{s, a[1].getType()};
                           return one(s.mul(a[0], nn::unaryDerivative(
                                                      alg, fn, a[1], alpha)));
                         }));
      });
  addLowering<nn::SoftmaxOp>(
      patterns, [](nn::SoftmaxOp, ValueRange ops, Emitter &e) -> R {
        return one(lowerSoftmax(e, ops[0], false));
      });
  addLowering<nn::LogSoftmaxOp>(
      patterns, [](nn::LogSoftmaxOp, ValueRange ops, Emitter &e) -> R {
        return one(lowerSoftmax(e, ops[0], true));
      });
  addLowering<nn::PReluOp>(patterns,
                           [](nn::PReluOp, ValueRange ops, Emitter &e) -> R {
                             return lowerPRelu(e, ops);
                           });
  addLowering<nn::DropoutOp>(
      patterns, [](nn::DropoutOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerDropout(e, o, ops[0], o.getStep() ? ops[1] : Value()));
      });
  addLowering<nn::CausalMaskOp>(
      patterns, [](nn::CausalMaskOp o, ValueRange ops, Emitter &e) -> R {
        int64_t rank = e.shape(ops[0]).size();
        double fill = o.getFill().convertToDouble();
        return one(e.map(ops, cast<RankedTensorType>(o.getType()),
                         [&](OpBuilder &nb, Location l, ValueRange a) {
                           Value i = nb.create<linalg::IndexOp>(l, rank - 2);
                           Value j = nb.create<linalg::IndexOp>(l, rank - 1);
                           // Key j after query i (transposed: i after j).
                           Value future = nb.create<arith::CmpIOp>(
                               l, arith::CmpIPredicate::ugt,
                               o.getTransposed() ? i : j,
                               o.getTransposed() ? j : i);
                           S s{nb, l};
                           return one(nb.create<arith::SelectOp>(
                               l, future, s.c(fill, a[0].getType()), a[0]));
                         }));
      });
  addLowering<nn::AddOp>(
      patterns, [](nn::AddOp o, ValueRange ops, Emitter &e) -> R {
        return one(e.map(ops, cast<RankedTensorType>(o.getType()),
                         [](OpBuilder &nb, Location l, ValueRange a) {
                           return one(S{nb, l}.add(a[0], a[1]));
                         }));
      });
  addLowering<nn::ConstantOp>(
      patterns, [](nn::ConstantOp o, ValueRange, Emitter &e) -> R {
        auto rt = cast<RankedTensorType>(o.getType());
        return one(e.b.create<arith::ConstantOp>(
            o.getLoc(),
            DenseElementsAttr::get(
                rt, e.b.getFloatAttr(rt.getElementType(),
                                     o.getValue().convertToDouble()))));
      });
}

} // namespace gradc::lowering
