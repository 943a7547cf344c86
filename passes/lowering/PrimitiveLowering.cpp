//===- PrimitiveLowering.cpp - the ops gradient rules are composed of -----===//
//
// Elementwise primitives become parallel linalg.generics, reductions and
// broadcasts generics whose indexing maps drop or add dimensions, so that
// elementwise fusion merges a gradient rule back into a few loops.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

using R = FailureOr<SmallVector<Value>>;

/// An elementwise map of the op's operands through `fn(S &, args)`.
template <typename Fn>
R elementwise(Operation *op, ValueRange ops, Emitter &e, Fn fn) {
  return one(e.map(ops, cast<RankedTensorType>(op->getResult(0).getType()),
                   [&](OpBuilder &nb, Location l, ValueRange a) {
                     S s{nb, l};
                     return one(fn(s, a));
                   }));
}

arith::CmpFPredicate cmpPredicate(nn::ComparePredicate p) {
  switch (p) {
  case nn::ComparePredicate::Gt:
    return arith::CmpFPredicate::OGT;
  case nn::ComparePredicate::Ge:
    return arith::CmpFPredicate::OGE;
  case nn::ComparePredicate::Lt:
    return arith::CmpFPredicate::OLT;
  case nn::ComparePredicate::Le:
    return arith::CmpFPredicate::OLE;
  case nn::ComparePredicate::Eq:
    return arith::CmpFPredicate::OEQ;
  }
  llvm_unreachable("unknown compare predicate");
}

/// A sum (or max) of `x` over `axes`.
Value reduce(Emitter &e, Value x, ArrayRef<int64_t> axes, double init,
             bool max) {
  return e.reduceAxes(x, axes, init,
                      [&](OpBuilder &b, Location l, ValueRange a) {
                        S s{b, l};
                        return one(max ? s.max(a[0], a[1]) : s.add(a[0], a[1]));
                      });
}

Value broadcast(Emitter &e, Value x, RankedTensorType type,
                ArrayRef<int64_t> dims) {
  unsigned rank = type.getRank();
  SmallVector<unsigned> from(dims.begin(), dims.end());
  return e.generic(x, e.empty(type.getShape(), type.getElementType()),
                   {e.dims(rank, from), e.identity(rank)},
                   SmallVector<IteratorType>(rank, IteratorType::parallel),
                   [](OpBuilder &, Location, ValueRange a) {
                     return SmallVector<Value>{a[0]};
                   })[0];
}

/// One-hot rows of i32 labels, or the label itself for one column.
Value oneHot(Emitter &e, Value labels, RankedTensorType type) {
  int64_t classes = type.getShape()[1];
  Type t = type.getElementType();
  return e.generic(labels, e.empty(type.getShape(), t),
                   {e.dims(2, {0}), e.identity(2)},
                   {IteratorType::parallel, IteratorType::parallel},
                   [&](OpBuilder &b, Location l, ValueRange a) {
                     S s{b, l};
                     if (classes == 1)
                       return one(b.create<arith::SIToFPOp>(l, t, a[0]));
                     Value c = b.create<linalg::IndexOp>(l, 1);
                     return one(s.boolToFloat(s.isClass(a[0], c), t));
                   })[0];
}

/// The first index of each row's maximum, as i32.
Value argmax(Emitter &e, Value x) {
  int64_t n = e.shape(x)[0];
  Value idx = e.argmaxRows(x);
  Type i32 = e.b.getI32Type();
  return e.generic(idx, e.empty({n}, i32), {e.identity(1), e.identity(1)},
                   {IteratorType::parallel},
                   [&](OpBuilder &b, Location l, ValueRange a) {
                     return one(b.create<arith::IndexCastOp>(l, i32, a[0]));
                   })[0];
}

} // namespace

void populatePrimitiveLoweringPatterns(RewritePatternSet &patterns) {
  addLowering<nn::SubOp>(patterns, [](nn::SubOp o, ValueRange ops, Emitter &e) {
    return elementwise(o, ops, e,
                       [](S &s, ValueRange a) { return s.sub(a[0], a[1]); });
  });
  addLowering<nn::MulOp>(patterns, [](nn::MulOp o, ValueRange ops, Emitter &e) {
    return elementwise(o, ops, e,
                       [](S &s, ValueRange a) { return s.mul(a[0], a[1]); });
  });
  addLowering<nn::DivOp>(patterns, [](nn::DivOp o, ValueRange ops, Emitter &e) {
    return elementwise(o, ops, e,
                       [](S &s, ValueRange a) { return s.div(a[0], a[1]); });
  });
  addLowering<nn::MaximumOp>(patterns, [](nn::MaximumOp o, ValueRange ops,
                                          Emitter &e) {
    return elementwise(o, ops, e,
                       [](S &s, ValueRange a) { return s.max(a[0], a[1]); });
  });
  addLowering<nn::MinimumOp>(
      patterns, [](nn::MinimumOp o, ValueRange ops, Emitter &e) {
        return elementwise(o, ops, e, [](S &s, ValueRange a) {
          return s.b.create<arith::MinimumFOp>(s.loc, a[0], a[1]);
        });
      });
  addLowering<nn::PowOp>(patterns, [](nn::PowOp o, ValueRange ops, Emitter &e) {
    return elementwise(o, ops, e, [](S &s, ValueRange a) {
      return s.b.create<math::PowFOp>(s.loc, a[0], a[1]);
    });
  });
  addLowering<nn::ExpOp>(patterns, [](nn::ExpOp o, ValueRange ops, Emitter &e) {
    return elementwise(o, ops, e,
                       [](S &s, ValueRange a) { return s.exp(a[0]); });
  });
  addLowering<nn::LogOp>(patterns, [](nn::LogOp o, ValueRange ops, Emitter &e) {
    return elementwise(o, ops, e,
                       [](S &s, ValueRange a) { return s.log(a[0]); });
  });
  addLowering<nn::RsqrtOp>(
      patterns, [](nn::RsqrtOp o, ValueRange ops, Emitter &e) {
        return elementwise(o, ops, e, [](S &s, ValueRange a) {
          return s.b.create<math::RsqrtOp>(s.loc, a[0]);
        });
      });
  addLowering<nn::SignOp>(
      patterns, [](nn::SignOp o, ValueRange ops, Emitter &e) {
        return elementwise(o, ops, e,
                           [](S &s, ValueRange a) { return s.sign(a[0]); });
      });
  addLowering<nn::CompareOp>(
      patterns, [](nn::CompareOp o, ValueRange ops, Emitter &e) {
        arith::CmpFPredicate p = cmpPredicate(o.getPredicate());
        return elementwise(o, ops, e, [&](S &s, ValueRange a) {
          return s.boolToFloat(s.cmp(p, a[0], a[1]), a[0].getType());
        });
      });
  addLowering<nn::SelectOp>(patterns, [](nn::SelectOp o, ValueRange ops,
                                         Emitter &e) {
    return elementwise(o, ops, e, [](S &s, ValueRange a) {
      Value zero = s.c(0, a[0].getType());
      return s.select(s.cmp(arith::CmpFPredicate::UNE, a[0], zero), a[1], a[2]);
    });
  });
  addLowering<nn::ReduceSumOp>(
      patterns, [](nn::ReduceSumOp o, ValueRange ops, Emitter &e) -> R {
        return one(reduce(e, ops[0], o.getAxes(), 0.0, /*max=*/false));
      });
  addLowering<nn::ReduceMaxOp>(
      patterns, [](nn::ReduceMaxOp o, ValueRange ops, Emitter &e) -> R {
        double ninf = -std::numeric_limits<double>::infinity();
        return one(reduce(e, ops[0], o.getAxes(), ninf, /*max=*/true));
      });
  addLowering<nn::BroadcastOp>(
      patterns, [](nn::BroadcastOp o, ValueRange ops, Emitter &e) -> R {
        return one(broadcast(e, ops[0], o.getType(), o.getDims()));
      });
  addLowering<nn::OneHotOp>(
      patterns, [](nn::OneHotOp o, ValueRange ops, Emitter &e) -> R {
        return one(oneHot(e, ops[0], o.getType()));
      });
  addLowering<nn::ArgmaxOp>(patterns,
                            [](nn::ArgmaxOp, ValueRange ops, Emitter &e) -> R {
                              return one(argmax(e, ops[0]));
                            });
}

} // namespace gradc::lowering
