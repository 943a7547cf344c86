//===- LossLowering.cpp - losses and the correct count to linalg ---------===//
//
// Each loss is a reduction over (row, class) into a 0-D mean; softmax
// cross-entropy and categorical hinge first compute per-row statistics.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

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
    pred = e.argmaxRows(p);
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

} // namespace

void populateLossLoweringPatterns(RewritePatternSet &patterns) {
  using R = FailureOr<SmallVector<Value>>;
  addLoweringForEach<nn::CrossEntropyOp, nn::SoftmaxCrossEntropyOp,
                     nn::BinaryCrossEntropyOp, nn::MseOp, nn::MaeOp,
                     nn::HuberOp, nn::HingeOp, nn::SquaredHingeOp,
                     nn::CategoricalHingeOp>(
      patterns, [](Operation *o, ValueRange ops, Emitter &e) -> R {
        double delta = 1.0;
        if (auto d = o->getAttrOfType<FloatAttr>("delta"))
          delta = d.getValueAsDouble();
        return one(
            lowerLoss(e, o->getName().stripDialect(), ops[0], ops[1], delta));
      });
  addLowering<nn::CorrectCountOp>(
      patterns, [](nn::CorrectCountOp, ValueRange ops, Emitter &e) -> R {
        return one(lowerCorrectCount(e, ops[0], ops[1]));
      });
}

} // namespace gradc::lowering
