//===- NormalizationLowering.cpp - batch normalization to linalg ----------===//
//
// Batch normalization works per channel (the last dimension): statistics
// are reductions over every other dimension into [C] tensors, and the
// normalization is one parallel generic reading x and the per-channel
// scale and shift. The running-statistic update writes into its buffer
// operand (`outs`), so @train_step updates the runtime's buffer in place.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

using R = FailureOr<SmallVector<Value>>;

/// Maps of a generic over x's dimensions: `full` operands of x's shape,
/// then `channel` operands of shape [C].
SmallVector<AffineMap> channelMaps(Emitter &e, unsigned rank, size_t full,
                                   size_t channel) {
  SmallVector<AffineMap> maps(full, e.identity(rank));
  maps.append(channel, e.dims(rank, {rank - 1}));
  return maps;
}

/// sum over every dimension but the last of body(full..., channel...),
/// into [C].
Value channelSum(Emitter &e, ValueRange full, ValueRange channel, BodyFn body) {
  unsigned rank = e.type(full[0]).getRank();
  SmallVector<Value> ins(full);
  ins.append(channel.begin(), channel.end());
  SmallVector<AffineMap> maps =
      channelMaps(e, rank, full.size(), channel.size() + 1);
  SmallVector<IteratorType> iters(rank, IteratorType::reduction);
  iters.back() = IteratorType::parallel;
  Value init = e.fill({e.shape(full[0]).back()}, e.elem(full[0]), 0.0);
  size_t n = ins.size();
  return e.generic(ins, init, maps, iters,
                   [&](OpBuilder &b, Location l, ValueRange a) {
                     Value v = body(b, l, a.take_front(n))[0];
                     return one(S{b, l}.add(a[n], v));
                   })[0];
}

/// A parallel generic of x's shape over full and per-channel operands.
Value channelMap(Emitter &e, ValueRange full, ValueRange channel, BodyFn body) {
  unsigned rank = e.type(full[0]).getRank();
  SmallVector<Value> ins(full);
  ins.append(channel.begin(), channel.end());
  SmallVector<AffineMap> maps =
      channelMaps(e, rank, full.size(), channel.size());
  maps.push_back(e.identity(rank));
  return e.generic(ins, e.empty(e.shape(full[0]), e.elem(full[0])), maps,
                   SmallVector<IteratorType>(rank, IteratorType::parallel),
                   body)[0];
}

/// Elements per channel.
int64_t perChannel(Emitter &e, Value x) {
  int64_t m = 1;
  for (int64_t d : e.shape(x).drop_back())
    m *= d;
  return m;
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

R lowerBatchNormTrain(nn::BatchNormTrainOp op, ValueRange ops, Emitter &e) {
  Value x = ops[0];
  Type t = e.elem(x);
  double inv = 1.0 / double(perChannel(e, x));
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

R lowerBatchNormGrad(nn::BatchNormGradOp op, ValueRange ops, Emitter &e) {
  Value dy = ops[0], x = ops[1], gamma = ops[2], mean = ops[3], var = ops[4];
  Type t = e.elem(x);
  double m = double(perChannel(e, x));
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
  double k = (1 - mu) * op.getScale().convertToDouble();
  Type t = e.elem(running);
  SmallVector<AffineMap> maps(2, e.identity(rank));
  return SmallVector<Value>{e.generic(
      v, running, maps, SmallVector<IteratorType>(rank, IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange a) {
        S s{b, l};
        return one(s.add(s.mul(s.c(mu, t), a[1]), s.mul(s.c(k, t), a[0])));
      })[0]};
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
}

} // namespace gradc::lowering
