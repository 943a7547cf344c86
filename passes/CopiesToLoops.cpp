//===- CopiesToLoops.cpp - memref.copy as linalg.copy ---------------------===//
//
// Bufferization copies into strided views (padding, strided inserts) with
// memref.copy, which the LLVM lowering turns into calls to a generic
// element-by-element runtime routine for non-contiguous layouts. As
// linalg.copy they become plain loops that LLVM vectorizes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace gradc {
#define GEN_PASS_DEF_COPIESTOLOOPS
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;

namespace {
struct CopiesToLoops : gradc::impl::CopiesToLoopsBase<CopiesToLoops> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp op) { copies.push_back(op); });
    for (memref::CopyOp op : copies) {
      auto src = dyn_cast<MemRefType>(op.getSource().getType());
      auto dst = dyn_cast<MemRefType>(op.getTarget().getType());
      // Contiguous copies stay memcpy; only strided ones need loops.
      if (!src || !dst ||
          (src.getLayout().isIdentity() && dst.getLayout().isIdentity()))
        continue;
      OpBuilder b(op);
      b.create<linalg::CopyOp>(op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }
  }
};
} // namespace
