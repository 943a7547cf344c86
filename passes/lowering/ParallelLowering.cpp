//===- ParallelLowering.cpp - data-parallel collectives to runtime calls -===//
//
// nn.allreduce_mean packs its inputs into one flat buffer (so one
// MPI_Allreduce carries every gradient), hands the buffer to the runtime's
// gradc_allreduce_mean, which averages it over the ranks in place, and
// unpacks the results. The buffer is a memref between two tensor views:
// materialize_in_destination writes the packed tensor into it, and a
// restrict to_tensor reads it back after the call.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

FailureOr<SmallVector<Value>> lowerAllreduce(nn::AllreduceMeanOp op,
                                             ValueRange inputs, Emitter &e) {
  OpBuilder &b = e.b;
  Location l = e.loc;
  Type f32 = b.getF32Type();
  int64_t total = 0;
  for (Value v : inputs) {
    auto t = cast<RankedTensorType>(v.getType());
    if (!t.getElementType().isF32() || t.getRank() == 0)
      return op->emitError() << "allreduce lowering takes f32 tensors of "
                                "rank >= 1, got "
                             << t;
    total += t.getNumElements();
  }
  Value packed = e.empty({total}, f32);
  int64_t offset = 0;
  for (Value v : inputs) {
    packed = e.insert(e.flatten(v), packed, {offset}, {1});
    offset += e.type(v).getNumElements();
  }
  auto bufferType = MemRefType::get({total}, f32);
  Value buffer = b.create<memref::AllocOp>(l, bufferType);
  b.create<bufferization::MaterializeInDestinationOp>(
      l, TypeRange{}, packed, buffer, /*restrict=*/true, /*writable=*/true);
  Value dynamic = b.create<memref::CastOp>(
      l, MemRefType::get({ShapedType::kDynamic}, f32), buffer);
  b.create<func::CallOp>(l, nn::kAllreduceFunction, TypeRange{},
                         ValueRange{dynamic});
  Value reduced = b.create<bufferization::ToTensorOp>(
      l, RankedTensorType::get({total}, f32), buffer, /*restrict=*/true,
      /*writable=*/true);
  SmallVector<Value> results;
  offset = 0;
  for (Value v : inputs) {
    auto t = e.type(v);
    Value part = e.slice(reduced, {offset}, {t.getNumElements()}, {1});
    results.push_back(e.unflatten(part, t));
    offset += t.getNumElements();
  }
  return results;
}

} // namespace

void populateParallelLoweringPatterns(RewritePatternSet &patterns) {
  addLowering<nn::AllreduceMeanOp>(patterns, lowerAllreduce);
}

} // namespace gradc::lowering
