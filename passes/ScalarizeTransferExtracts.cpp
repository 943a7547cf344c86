//===- ScalarizeTransferExtracts.cpp - broadcasts from memory -------------===//
//
// Rewrites vector.extract(vector.transfer_read) of single elements into
// memref.load when the read has no other use (upstream's scalar transfer
// lowering patterns, applied to reads with many element uses).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace gradc {
#define GEN_PASS_DEF_SCALARIZETRANSFEREXTRACTS
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;

namespace {
struct ScalarizeTransferExtracts
    : gradc::impl::ScalarizeTransferExtractsBase<ScalarizeTransferExtracts> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    vector::populateScalarVectorTransferLoweringPatterns(
        patterns, /*benefit=*/1, /*allowMultipleUses=*/true);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
