//===- ElementwiseLowering.cpp - activations, dropout, add, constants -===//
//
// Activations (GELU and its gradient with them) become parallel
// linalg.generics;
// softmax and log-softmax reduce over the last dimension first. Dropout
// recomputes its mask from (seed, step, element index).
//
//===----------------------------------------------------------------------===//

#include "ir/DropoutMask.h"
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
