//===- OptimizerLowering.cpp - optimizer updates to linalg -===//
//
// Each update is one parallel generic whose outs are the parameter and its
// state tensors, read and rewritten, so bufferization can update the
// runtime's buffers in place.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

SmallVector<Value> lowerUpdate(Emitter &e, Operation *op, ValueRange operands) {
  Value p = operands[0], g = operands[1];
  unsigned rank = e.type(p).getRank();
  Type t = e.elem(p);
  auto attr = [&](StringRef name) {
    return cast<FloatAttr>(op->getAttr(name)).getValueAsDouble();
  };
  double wd = attr("weight_decay");
  // State operands are those of the parameter's type; the `lr` operand is
  // never one, even when the parameter is 0-d as it is.
  bool lrOperand = !op->getAttr("learning_rate");
  SmallVector<Value> outs{p};
  for (Value s : operands.drop_front(2).drop_back(lrOperand ? 1 : 0))
    if (isa<RankedTensorType>(s.getType()) && e.type(s).getRank() == rank &&
        e.type(s) == e.type(p))
      outs.push_back(s);
  // The learning rate: the attribute, or the `lr` operand read once.
  Value lrIn;
  if (lrOperand) {
    lrIn = e.extractScalar(operands.back());
    unsigned from = lrIn.getType().getIntOrFloatBitWidth(),
             to = t.getIntOrFloatBitWidth();
    if (from > to)
      lrIn = e.b.create<arith::TruncFOp>(e.loc, t, lrIn);
    else if (from < to)
      lrIn = e.b.create<arith::ExtFOp>(e.loc, t, lrIn);
  }
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
        Value lrv = lrIn ? lrIn : s.c(attr("learning_rate"), t);
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

} // namespace

void populateOptimizerLoweringPatterns(RewritePatternSet &patterns) {
  addLoweringForEach<nn::SgdUpdateOp, nn::MomentumUpdateOp, nn::RmspropUpdateOp,
                     nn::AdamUpdateOp>(
      patterns,
      [](Operation *o, ValueRange ops, Emitter &e)
          -> FailureOr<SmallVector<Value>> { return lowerUpdate(e, o, ops); });
}

} // namespace gradc::lowering
