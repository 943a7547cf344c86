//===- NormalizationLowering.cpp - batch and layer norm to linalg ---------===//
//
// Batch normalization works per channel (the last dimension): statistics
// are reductions over every other dimension into [C] tensors, and the
// normalization is one parallel generic reading x and the per-channel
// scale and shift. The running-statistic update writes into its buffer
// operand (`outs`), so @train_step updates the runtime's buffer in place.
// Layer normalization works per row: its statistics are reductions over
// the last dimension, read back along each row by the normalization and
// its fused gradient.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

using R = FailureOr<SmallVector<Value>>;

/// Elements per channel.
int64_t perChannelOf(Emitter &e, Value x) {
  int64_t m = 1;
  for (int64_t d : e.shape(x).drop_back())
    m *= d;
  return m;
}

/// The operands of a generic over x's dimensions: `full` ones of x's shape,
/// `channel` ones of shape [C], `row` ones of shape [N] (the row mask) and
/// 0-D `scalar` ones, in that order.
struct Operands {
  SmallVector<Value> full, channel, row, scalar;

  SmallVector<Value> all() const {
    SmallVector<Value> v(full);
    v.append(channel.begin(), channel.end());
    v.append(row.begin(), row.end());
    v.append(scalar.begin(), scalar.end());
    return v;
  }
  SmallVector<AffineMap> maps(Emitter &e, unsigned rank) const {
    SmallVector<AffineMap> m(full.size(), e.identity(rank));
    m.append(channel.size(), e.dims(rank, {rank - 1}));
    m.append(row.size(), e.dims(rank, {0}));
    m.append(scalar.size(), AffineMap::get(rank, 0, {}, e.ctx));
    return m;
  }
};

/// sum over every dimension but the last of body(operands...), into [C].
Value channelSum(Emitter &e, const Operands &o, BodyFn body) {
  unsigned rank = e.type(o.full[0]).getRank();
  SmallVector<Value> ins = o.all();
  SmallVector<AffineMap> maps = o.maps(e, rank);
  maps.push_back(e.dims(rank, {rank - 1}));
  SmallVector<IteratorType> iters(rank, IteratorType::reduction);
  iters.back() = IteratorType::parallel;
  Value init = e.fill({e.shape(o.full[0]).back()}, e.elem(o.full[0]), 0.0);
  size_t n = ins.size();
  return e.generic(ins, init, maps, iters,
                   [&](OpBuilder &b, Location l, ValueRange a) {
                     Value v = body(b, l, a.take_front(n))[0];
                     return one(S{b, l}.add(a[n], v));
                   })[0];
}
Value channelSum(Emitter &e, ValueRange full, ValueRange channel, BodyFn body) {
  return channelSum(e, Operands{full, channel, {}, {}}, body);
}

/// A parallel generic of x's shape over the operands.
Value channelMap(Emitter &e, const Operands &o, BodyFn body) {
  unsigned rank = e.type(o.full[0]).getRank();
  SmallVector<AffineMap> maps = o.maps(e, rank);
  maps.push_back(e.identity(rank));
  return e.generic(
      o.all(), e.empty(e.shape(o.full[0]), e.elem(o.full[0])), maps,
      SmallVector<IteratorType>(rank, IteratorType::parallel), body)[0];
}
Value channelMap(Emitter &e, ValueRange full, ValueRange channel, BodyFn body) {
  return channelMap(e, Operands{full, channel, {}, {}}, body);
}

/// The row mask of labels [N] in `t`: 1 for a row that counts, 0 for
/// padding (-1).
Value rowMask(Emitter &e, Value rows, Type t) {
  return e.generic(rows, e.empty(e.shape(rows), t),
                   {e.identity(1), e.identity(1)}, {IteratorType::parallel},
                   [&](OpBuilder &b, Location l, ValueRange a) {
                     S s{b, l};
                     return one(s.boolToFloat(s.countsRow(a[0]), t));
                   })[0];
}

/// The sum of a 1-D tensor, as a 0-D tensor.
Value sumAll(Emitter &e, Value v) {
  return e.generic(v, e.fill({}, e.elem(v), 0.0),
                   {e.identity(1), AffineMap::get(1, 0, {}, e.ctx)},
                   {IteratorType::reduction},
                   [](OpBuilder &b, Location l, ValueRange a) {
                     return one(S{b, l}.add(a[0], a[1]));
                   })[0];
}

/// The row mask of labels [N] (rowMask) and M, the elements per channel of
/// the rows that count (at least 1), as a 0-D tensor.
std::pair<Value, Value> rowMaskAndCount(Emitter &e, Value rows, Value x) {
  Type t = e.elem(x);
  double perRow = double(perChannelOf(e, x)) / double(e.shape(x)[0]);
  Value mask = rowMask(e, rows, t);
  Value count = sumAll(e, mask);
  Value m =
      e.map(count, e.type(count), [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        return one(s.max(s.mul(a[0], s.c(perRow, t)), s.c(1, t)));
      });
  return {mask, m};
}

/// v [C] / m (0-D).
Value divideBy(Emitter &e, Value v, Value m) {
  return e.generic(
      {v, m}, e.empty(e.shape(v), e.elem(v)),
      {e.identity(1), AffineMap::get(1, 0, {}, e.ctx), e.identity(1)},
      {IteratorType::parallel}, [](OpBuilder &b, Location l, ValueRange a) {
        return one(S{b, l}.div(a[0], a[1]));
      })[0];
}

/// 1 / sqrt(variance + epsilon), per channel.
Value rstd(Emitter &e, Value var, double eps) {
  return e.map(var, e.type(var), [&](OpBuilder &b, Location l, ValueRange a) {
    S s{b, l};
    Type t = a[0].getType();
    return one(s.div(s.c(1, t), s.sqrt(s.add(a[0], s.c(eps, t)))));
  });
}

/// y = (x - mean) * rstd * gamma + beta.
Value normalize(Emitter &e, Value x, Value gamma, Value beta, Value mean,
                Value var, double eps) {
  Value r = rstd(e, var, eps);
  return channelMap(e, x, {mean, r, gamma, beta},
                    [](OpBuilder &b, Location l, ValueRange a) {
                      S s{b, l};
                      Value xhat = s.mul(s.sub(a[0], a[1]), a[2]);
                      return one(s.add(s.mul(xhat, a[3]), a[4]));
                    });
}

/// The training form over the rows that count (rows: the labels).
R lowerBatchNormTrainRows(nn::BatchNormTrainOp op, ValueRange ops, Emitter &e) {
  Value x = ops[0];
  auto [mask, m] = rowMaskAndCount(e, ops[3], x);
  Value mean = divideBy(e,
                        channelSum(e, Operands{{x}, {}, {mask}, {}},
                                   [](OpBuilder &b, Location l, ValueRange a) {
                                     return one(S{b, l}.mul(a[0], a[1]));
                                   }),
                        m);
  Value var = divideBy(e,
                       channelSum(e, Operands{{x}, {mean}, {mask}, {}},
                                  [](OpBuilder &b, Location l, ValueRange a) {
                                    S s{b, l};
                                    Value d = s.sub(a[0], a[1]);
                                    return one(s.mul(a[2], s.mul(d, d)));
                                  }),
                       m);
  double eps = op.getEpsilon().convertToDouble();
  return SmallVector<Value>{normalize(e, x, ops[1], ops[2], mean, var, eps),
                            mean, var};
}

R lowerBatchNormTrain(nn::BatchNormTrainOp op, ValueRange ops, Emitter &e) {
  if (op.getRows())
    return lowerBatchNormTrainRows(op, ops, e);
  Value x = ops[0];
  Type t = e.elem(x);
  double inv = 1.0 / double(perChannelOf(e, x));
  auto scale = [&](Value v) {
    return e.map(v, e.type(v), [&](OpBuilder &b, Location l, ValueRange a) {
      S s{b, l};
      return one(s.mul(a[0], s.c(inv, t)));
    });
  };
  // Two passes (mean, then the centred squares) for an accurate variance.
  Value mean = scale(channelSum(
      e, x, {}, [](OpBuilder &, Location, ValueRange a) { return one(a[0]); }));
  Value var =
      scale(channelSum(e, x, mean, [](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        Value d = s.sub(a[0], a[1]);
        return one(s.mul(d, d));
      }));
  double eps = op.getEpsilon().convertToDouble();
  return SmallVector<Value>{normalize(e, x, ops[1], ops[2], mean, var, eps),
                            mean, var};
}

/// The gradient over the rows that count: M at run time, padding rows
/// masked out of the sums and given dx = 0.
R lowerBatchNormGradRows(nn::BatchNormGradOp op, ValueRange ops, Emitter &e) {
  Value dy = ops[0], x = ops[1], gamma = ops[2], mean = ops[3], var = ops[4];
  auto [mask, m] = rowMaskAndCount(e, ops[5], x);
  Value r = rstd(e, var, op.getEpsilon().convertToDouble());
  Value dbeta = channelSum(e, Operands{{dy}, {}, {mask}, {}},
                           [](OpBuilder &b, Location l, ValueRange a) {
                             return one(S{b, l}.mul(a[0], a[1]));
                           });
  Value dgamma = channelSum(e, Operands{{dy, x}, {mean, r}, {mask}, {}},
                            [](OpBuilder &b, Location l, ValueRange a) {
                              S s{b, l};
                              Value xhat = s.mul(s.sub(a[1], a[2]), a[3]);
                              return one(s.mul(a[4], s.mul(a[0], xhat)));
                            });
  // dx = mask * gamma * rstd / M * (M * dy - dbeta - xhat * dgamma)
  Value dx = channelMap(
      e, Operands{{dy, x}, {mean, r, gamma, dbeta, dgamma}, {mask}, {m}},
      [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        Value xhat = s.mul(s.sub(a[1], a[2]), a[3]);
        Value mv = a[8];
        Value inner = s.sub(s.sub(s.mul(mv, a[0]), a[5]), s.mul(xhat, a[6]));
        Value g = s.div(s.mul(a[4], a[3]), mv);
        return one(s.mul(a[7], s.mul(g, inner)));
      });
  return SmallVector<Value>{dx, dgamma, dbeta};
}

R lowerBatchNormGrad(nn::BatchNormGradOp op, ValueRange ops, Emitter &e) {
  if (op.getRows())
    return lowerBatchNormGradRows(op, ops, e);
  Value dy = ops[0], x = ops[1], gamma = ops[2], mean = ops[3], var = ops[4];
  Type t = e.elem(x);
  double m = double(perChannelOf(e, x));
  Value r = rstd(e, var, op.getEpsilon().convertToDouble());
  Value dbeta = channelSum(
      e, dy, {}, [](OpBuilder &, Location, ValueRange a) { return one(a[0]); });
  Value dgamma = channelSum(e, {dy, x}, {mean, r},
                            [](OpBuilder &b, Location l, ValueRange a) {
                              S s{b, l};
                              Value xhat = s.mul(s.sub(a[1], a[2]), a[3]);
                              return one(s.mul(a[0], xhat));
                            });
  // dx = gamma * rstd / M * (M * dy - dbeta - xhat * dgamma)
  Value dx = channelMap(
      e, {dy, x}, {mean, r, gamma, dbeta, dgamma},
      [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        Value xhat = s.mul(s.sub(a[1], a[2]), a[3]);
        Value inner =
            s.sub(s.sub(s.mul(s.c(m, t), a[0]), a[5]), s.mul(xhat, a[6]));
        return one(s.mul(s.mul(a[4], s.mul(a[3], s.c(1.0 / m, t))), inner));
      });
  return SmallVector<Value>{dx, dgamma, dbeta};
}

R lowerMovingAverage(nn::MovingAverageOp op, ValueRange ops, Emitter &e) {
  Value running = ops[0], v = ops[1];
  unsigned rank = e.type(running).getRank();
  double mu = op.getMomentum().convertToDouble();
  Type t = e.elem(running);
  // The scale: a constant, or with rows M / (M - 1) for M counted now.
  Value scale;
  if (op.getRows()) {
    Value count = sumAll(e, rowMask(e, ops[2], t));
    double perRow = double(op.getPerRow());
    scale = e.map(count, e.type(count),
                  [&](OpBuilder &b, Location l, ValueRange a) {
                    S s{b, l};
                    Value m = s.mul(a[0], s.c(perRow, t));
                    Value unbiased = s.div(m, s.sub(m, s.c(1, t)));
                    Value big = s.cmp(arith::CmpFPredicate::OGT, m, s.c(1, t));
                    return one(s.select(big, unbiased, s.c(1, t)));
                  });
  } else {
    double k = (1 - mu) * op.getScale().convertToDouble();
    SmallVector<AffineMap> maps(2, e.identity(rank));
    return SmallVector<Value>{e.generic(
        v, running, maps,
        SmallVector<IteratorType>(rank, IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange a) {
          S s{b, l};
          return one(s.add(s.mul(s.c(mu, t), a[1]), s.mul(s.c(k, t), a[0])));
        })[0]};
  }
  SmallVector<AffineMap> maps{
      e.identity(rank), AffineMap::get(rank, 0, {}, e.ctx), e.identity(rank)};
  return SmallVector<Value>{
      e.generic({v, scale}, running, maps,
                SmallVector<IteratorType>(rank, IteratorType::parallel),
                [&](OpBuilder &b, Location l, ValueRange a) {
                  S s{b, l};
                  Value k = s.mul(s.c(1 - mu, t), a[1]);
                  return one(s.add(s.mul(s.c(mu, t), a[2]), s.mul(k, a[0])));
                })[0]};
}

/// The maps and iterators of layer norm's generics over x's dimensions:
/// `row` reads a per-row [..] tensor, `last` a per-feature [D] one.
struct RowMaps {
  unsigned rank;
  AffineMap id, row, last;
  SmallVector<IteratorType> parallel, rowReduce, featureReduce;

  RowMaps(Emitter &e, Value x) : rank(e.type(x).getRank()) {
    SmallVector<unsigned> outer;
    for (unsigned i = 0; i + 1 < rank; ++i)
      outer.push_back(i);
    id = e.identity(rank);
    row = e.dims(rank, outer);
    last = e.dims(rank, {rank - 1});
    parallel.assign(rank, IteratorType::parallel);
    rowReduce = parallel;
    rowReduce.back() = IteratorType::reduction;
    featureReduce.assign(rank, IteratorType::reduction);
    featureReduce.back() = IteratorType::parallel;
  }
};

/// Per row (every index but the last): the mean, then rstd = 1 / sqrt(var +
/// eps) of the biased variance from the centred squares (two passes, as
/// batch norm's).
std::pair<Value, Value> rowStatistics(Emitter &e, const RowMaps &m, Value x,
                                      double eps) {
  Type t = e.elem(x);
  double invD = 1.0 / double(e.shape(x).back());
  Value sum = e.reduceLast(x, 0.0, [](OpBuilder &b, Location l, ValueRange a) {
    return one(S{b, l}.add(a[1], a[0]));
  });
  Value mean =
      e.map(sum, e.type(sum), [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        return one(s.mul(a[0], s.c(invD, t)));
      });
  Value squares =
      e.generic({x, mean}, e.fill(e.shape(mean), t, 0.0), {m.id, m.row, m.row},
                m.rowReduce, [](OpBuilder &b, Location l, ValueRange a) {
                  S s{b, l};
                  Value d = s.sub(a[0], a[1]);
                  return one(s.add(a[2], s.mul(d, d)));
                })[0];
  Value rstd = e.map(
      squares, e.type(squares), [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        Value var = s.mul(a[0], s.c(invD, t));
        return one(s.div(s.c(1, t), s.sqrt(s.add(var, s.c(eps, t)))));
      });
  return {mean, rstd};
}

/// The row statistics, then one parallel generic:
/// y = (x - mean) * rstd * gamma + beta.
R lowerLayerNorm(nn::LayerNormOp op, ValueRange ops, Emitter &e) {
  Value x = ops[0];
  RowMaps m(e, x);
  auto [mean, rstd] = rowStatistics(e, m, x, op.getEpsilon().convertToDouble());
  return one(e.generic({x, mean, rstd, ops[1], ops[2]},
                       e.empty(e.shape(x), e.elem(x)),
                       {m.id, m.row, m.row, m.last, m.last, m.id}, m.parallel,
                       [](OpBuilder &b, Location l, ValueRange a) {
                         S s{b, l};
                         Value xhat = s.mul(s.sub(a[0], a[1]), a[2]);
                         return one(s.add(s.mul(xhat, a[3]), a[4]));
                       })[0]);
}

/// The row statistics again; one reduction per row of both sum(g) and
/// sum(g * xhat) (g = dy * gamma); dx in one parallel generic; dgamma and
/// dbeta in one reduction over the rows. x and dy are read four times,
/// nothing of their size is stored but dx.
R lowerLayerNormGrad(nn::LayerNormGradOp op, ValueRange ops, Emitter &e) {
  Value dy = ops[0], x = ops[1], gamma = ops[2];
  Type t = e.elem(x);
  RowMaps m(e, x);
  double invD = 1.0 / double(e.shape(x).back());
  auto [mean, rstd] = rowStatistics(e, m, x, op.getEpsilon().convertToDouble());
  // Two outputs, two fills: one init tensor for both would alias them.
  SmallVector<Value> sums = e.generic(
      {dy, x, mean, rstd, gamma},
      {e.fill(e.shape(mean), t, 0.0), e.fill(e.shape(mean), t, 0.0)},
      {m.id, m.id, m.row, m.row, m.last, m.row, m.row}, m.rowReduce,
      [](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        Value xhat = s.mul(s.sub(a[1], a[2]), a[3]);
        Value g = s.mul(a[0], a[4]);
        return SmallVector<Value>{s.add(a[5], g), s.add(a[6], s.mul(g, xhat))};
      });
  // dx = rstd * (g - sum(g) / D - xhat * sum(g * xhat) / D)
  Value dx = e.generic({dy, x, mean, rstd, gamma, sums[0], sums[1]},
                       e.empty(e.shape(x), t),
                       {m.id, m.id, m.row, m.row, m.last, m.row, m.row, m.id},
                       m.parallel, [&](OpBuilder &b, Location l, ValueRange a) {
                         S s{b, l};
                         Value xhat = s.mul(s.sub(a[1], a[2]), a[3]);
                         Value g = s.mul(a[0], a[4]);
                         Value k = s.c(invD, t);
                         Value inner = s.sub(s.sub(g, s.mul(a[5], k)),
                                             s.mul(xhat, s.mul(a[6], k)));
                         return one(s.mul(a[3], inner));
                       })[0];
  int64_t d = e.shape(x).back();
  SmallVector<Value> params =
      e.generic({dy, x, mean, rstd}, {e.fill({d}, t, 0.0), e.fill({d}, t, 0.0)},
                {m.id, m.id, m.row, m.row, m.last, m.last}, m.featureReduce,
                [](OpBuilder &b, Location l, ValueRange a) {
                  S s{b, l};
                  Value xhat = s.mul(s.sub(a[1], a[2]), a[3]);
                  return SmallVector<Value>{s.add(a[4], s.mul(a[0], xhat)),
                                            s.add(a[5], a[0])};
                });
  return SmallVector<Value>{dx, params[0], params[1]};
}

} // namespace

void populateNormalizationLoweringPatterns(RewritePatternSet &patterns) {
  addLowering<nn::BatchNormOp>(
      patterns, [](nn::BatchNormOp o, ValueRange ops, Emitter &e) -> R {
        return one(normalize(e, ops[0], ops[1], ops[2], ops[3], ops[4],
                             o.getEpsilon().convertToDouble()));
      });
  addLowering<nn::BatchNormTrainOp>(patterns, lowerBatchNormTrain);
  addLowering<nn::BatchNormGradOp>(patterns, lowerBatchNormGrad);
  addLowering<nn::MovingAverageOp>(patterns, lowerMovingAverage);
  addLowering<nn::LayerNormOp>(patterns, lowerLayerNorm);
  addLowering<nn::LayerNormGradOp>(patterns, lowerLayerNormGrad);
}

} // namespace gradc::lowering
