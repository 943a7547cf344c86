//===- ReductionLowering.cpp - nn.reduce to a linalg reduction ------------===//
//
// One linalg.generic that reduces the axes (sum, maximum or minimum; NaN
// propagates through arith.maximumf and arith.minimumf), then for the mean
// a parallel map that divides by the count.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

#include <limits>

using namespace mlir;

namespace gradc::lowering {

void populateReductionLoweringPatterns(RewritePatternSet &patterns) {
  addLowering<nn::ReduceOp>(
      patterns,
      [](nn::ReduceOp o, ValueRange ops,
         Emitter &e) -> FailureOr<SmallVector<Value>> {
        Value x = ops[0];
        nn::ReduceKind kind = o.getKind();
        double inf = std::numeric_limits<double>::infinity();
        double init = kind == nn::ReduceKind::Max   ? -inf
                      : kind == nn::ReduceKind::Min ? inf
                                                    : 0.0;
        Value y = e.reduceAxes(x, o.getAxes(), init,
                               [&](OpBuilder &b, Location l, ValueRange a) {
                                 S s{b, l};
                                 if (kind == nn::ReduceKind::Max)
                                   return one(s.max(a[0], a[1]));
                                 if (kind == nn::ReduceKind::Min)
                                   return one(s.min(a[0], a[1]));
                                 return one(s.add(a[0], a[1]));
                               });
        if (kind != nn::ReduceKind::Mean)
          return one(y);
        int64_t count = 1;
        for (int64_t d : o.getAxes())
          count *= e.shape(x)[d];
        return one(
            e.map(y, e.type(y), [&](OpBuilder &b, Location l, ValueRange a) {
              S s{b, l};
              return one(s.div(a[0], s.c(double(count), a[0].getType())));
            }));
      });
}

} // namespace gradc::lowering
