//===- HoistVectorTransfers.cpp - accumulators stay in registers ----------===//
//
// A vectorized convolution or matmul tile reads its accumulator, adds one
// outer product per reduction step and writes it back, all inside the
// reduction loops. Hoisting the read/write pair out of those loops keeps
// the accumulator in vector registers for the whole reduction.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace gradc {
#define GEN_PASS_DEF_HOISTVECTORTRANSFERS
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;

namespace {
struct HoistVectorTransfers
    : gradc::impl::HoistVectorTransfersBase<HoistVectorTransfers> {
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp func) {
      func.walk([](LoopLikeOpInterface loop) { moveLoopInvariantCode(loop); });
      linalg::hoistRedundantVectorTransfers(func);
    });
  }
};
} // namespace
