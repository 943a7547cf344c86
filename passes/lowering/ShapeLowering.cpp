//===- ShapeLowering.cpp - reshapes to tensor ops -===//
//
// flatten and reshape collapse to 1-D and expand to the target shape;
// concat inserts each input into an empty result, slice extracts one;
// transpose is linalg.transpose.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

Value lowerReshape(Emitter &e, Value x, RankedTensorType to) {
  if (e.shape(x) == to.getShape())
    return x;
  // Through a 1-D tensor: collapse everything, then expand to the target.
  return e.unflatten(e.flatten(x), to);
}

} // namespace

void populateShapeLoweringPatterns(RewritePatternSet &patterns) {
  addLoweringForEach<nn::FlattenOp, nn::ReshapeOp>(
      patterns,
      [](Operation *op, ValueRange ops,
         Emitter &e) -> FailureOr<SmallVector<Value>> {
        return one(lowerReshape(
            e, ops[0], cast<RankedTensorType>(op->getResult(0).getType())));
      });
  using R = FailureOr<SmallVector<Value>>;
  addLowering<nn::ConcatOp>(
      patterns, [](nn::ConcatOp o, ValueRange ops, Emitter &e) -> R {
        auto rt = cast<RankedTensorType>(o.getType());
        Value out = e.empty(rt.getShape(), rt.getElementType());
        SmallVector<int64_t> offsets(rt.getRank(), 0), strides(rt.getRank(), 1);
        for (Value v : ops) {
          out = e.insert(v, out, offsets, strides);
          offsets[o.getAxis()] += e.shape(v)[o.getAxis()];
        }
        return one(out);
      });
  addLowering<nn::TransposeOp>(
      patterns, [](nn::TransposeOp o, ValueRange ops, Emitter &e) -> R {
        return one(e.transpose(ops[0], o.getPerm()));
      });
  addLowering<nn::SliceOp>(
      patterns, [](nn::SliceOp o, ValueRange ops, Emitter &e) -> R {
        auto rt = cast<RankedTensorType>(o.getType());
        SmallVector<int64_t> offsets(rt.getRank(), 0), strides(rt.getRank(), 1);
        offsets[o.getAxis()] = o.getOffset();
        return one(e.slice(ops[0], offsets, rt.getShape(), strides));
      });
}

} // namespace gradc::lowering
