//===- LossLowering.cpp - losses and the correct count to linalg ---------===//
//
// Each loss is a reduction over (row, class) into a 0-D mean; softmax
// cross-entropy and categorical hinge first compute per-row statistics.
// Rows labelled -1 are padding (a partial batch run by the full batch's
// code): they add nothing, and the mean is over the other rows, counted at
// run time.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

/// sum over (n, c) of body(p, label, rowValues..., target) for the rows
/// that count, into a 0-D tensor, divided by their number times `perRow` (1,
/// or C for a mean over elements); no rows give 0. `rowValues` are [N]
/// tensors, `targets` (optional) [N, C].
Value meanOverRows(Emitter &e, Value p, Value labels, int64_t perRow,
                   BodyFn body, ValueRange rowValues = {}, Value targets = {}) {
  Type t = e.elem(p);
  AffineMap none = AffineMap::get(2, 0, {}, e.ctx);
  SmallVector<Value> ins{p, labels};
  ins.append(rowValues.begin(), rowValues.end());
  SmallVector<AffineMap> maps{e.identity(2)};
  maps.append(ins.size() - 1, e.dims(2, {0}));
  if (targets) { // the last input, element by element
    ins.push_back(targets);
    maps.push_back(e.identity(2));
  }
  maps.append({none, none});
  size_t numIns = ins.size();
  auto sums = e.generic(
      ins, {e.fill({}, t, 0.0), e.fill({}, t, 0.0)}, maps,
      {IteratorType::reduction, IteratorType::reduction},
      [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        Value keep = s.countsRow(a[1]);
        Value v =
            s.select(keep, body(b, l, a.take_front(numIns))[0], s.c(0, t));
        // Each row is counted at its first column.
        Value first = b.create<arith::CmpIOp>(
            l, arith::CmpIPredicate::eq, b.create<linalg::IndexOp>(l, 1),
            b.create<arith::ConstantIndexOp>(l, 0));
        Value n = s.select(b.create<arith::AndIOp>(l, keep, first), s.c(1, t),
                           s.c(0, t));
        return SmallVector<Value>{s.add(a[numIns], v), s.add(a[numIns + 1], n)};
      });
  return e.map({sums[0], sums[1]}, e.type(sums[0]),
               [&](OpBuilder &b, Location l, ValueRange a) {
                 S s{b, l};
                 Value rows = s.mul(a[1], s.c(double(perRow), t));
                 return one(s.div(a[0], s.max(rows, s.c(1, t))));
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
                Value targets, double delta) {
  auto ps = e.shape(p);
  int64_t classes = ps[1];
  Type t = e.elem(p);
  if (kind == "softmax_cross_entropy") {
    RowStats r = softmaxStats(e, p);
    // mean over rows of max + log(sumExp) - x[n, y]
    Value lse = e.map({r.max, r.sumExp}, e.type(r.max),
                      [](OpBuilder &b, Location l, ValueRange a) {
                        S s{b, l};
                        return one(s.add(a[0], s.log(a[1])));
                      });
    return meanOverRows(
        e, p, labels, 1,
        [&](OpBuilder &b, Location l, ValueRange a) {
          S s{b, l};
          Value isY = s.isClass(a[1], b.create<linalg::IndexOp>(l, 1));
          return one(s.select(isY, s.sub(a[2], a[0]), s.c(0, t)));
        },
        lse);
  }
  if (kind == "categorical_hinge") {
    // max(0, neg - pos + 1), counted once per row (at column 0).
    RowStats r = hingeStats(e, p, labels);
    return meanOverRows(
        e, p, labels, 1,
        [&](OpBuilder &b, Location l, ValueRange a) {
          S s{b, l};
          Value first = b.create<arith::CmpIOp>(
              l, arith::CmpIPredicate::eq, b.create<linalg::IndexOp>(l, 1),
              b.create<arith::ConstantIndexOp>(l, 0));
          Value m = s.max(s.c(0, t), s.add(s.sub(a[3], a[2]), s.c(1, t)));
          return one(s.select(first, m, s.c(0, t)));
        },
        {r.pos, r.neg});
  }
  bool rowLoss = kind == "cross_entropy";
  return meanOverRows(
      e, p, labels, rowLoss ? 1 : classes,
      [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        Value pv = a[0];
        // Value targets (regression) or those of the labels.
        Value tv = targets ? a[2] : target(b, l, a[1], classes, t);
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
      },
      {}, targets);
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
        return one(lowerLoss(e, o->getName().stripDialect(), ops[0], ops[1],
                             ops.size() > 2 ? ops[2] : Value(), delta));
      });
  addLowering<nn::CorrectCountOp>(
      patterns, [](nn::CorrectCountOp, ValueRange ops, Emitter &e) -> R {
        return one(lowerCorrectCount(e, ops[0], ops[1]));
      });
}

} // namespace gradc::lowering
