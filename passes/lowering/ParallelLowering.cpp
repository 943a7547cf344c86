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

/// All dimensions of a ranked tensor into one (rank >= 1).
SmallVector<ReassociationIndices> allDims(int64_t rank) {
  ReassociationIndices all;
  for (int64_t d = 0; d < rank; ++d)
    all.push_back(d);
  return {all};
}

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
  Value packed = b.create<tensor::EmptyOp>(l, ArrayRef<int64_t>{total}, f32);
  auto slice = [&](int64_t offset, int64_t n) {
    return std::make_tuple(SmallVector<OpFoldResult>{b.getIndexAttr(offset)},
                           SmallVector<OpFoldResult>{b.getIndexAttr(n)},
                           SmallVector<OpFoldResult>{b.getIndexAttr(1)});
  };
  int64_t offset = 0;
  for (Value v : inputs) {
    auto t = cast<RankedTensorType>(v.getType());
    Value flat =
        t.getRank() == 1
            ? v
            : b.create<tensor::CollapseShapeOp>(l, v, allDims(t.getRank()));
    auto [offsets, sizes, strides] = slice(offset, t.getNumElements());
    packed = b.create<tensor::InsertSliceOp>(l, flat, packed, offsets, sizes,
                                             strides);
    offset += t.getNumElements();
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
    auto t = cast<RankedTensorType>(v.getType());
    auto [offsets, sizes, strides] = slice(offset, t.getNumElements());
    Value part = b.create<tensor::ExtractSliceOp>(
        l, RankedTensorType::get({t.getNumElements()}, f32), reduced, offsets,
        sizes, strides);
    if (t.getRank() != 1)
      part = b.create<tensor::ExpandShapeOp>(l, t, part, allDims(t.getRank()));
    results.push_back(part);
    offset += t.getNumElements();
  }
  return results;
}

} // namespace

void populateParallelLoweringPatterns(RewritePatternSet &patterns) {
  addLowering<nn::AllreduceMeanOp>(patterns, lowerAllreduce);
}

} // namespace gradc::lowering
