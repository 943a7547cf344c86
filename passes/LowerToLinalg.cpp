//===- LowerToLinalg.cpp - nn ops to linalg on tensors --------------------===//
//
// Every nn op becomes linalg on tensors: named ops where one fits
// (conv_2d_nhwc_hwcf, pooling_nhwc_max/sum, matmul and its transposed
// forms), linalg.generic elsewhere. Each family of ops has its patterns in
// passes/lowering/ (one OpConversionPattern per op); this pass applies all
// of them. An nn op no family lowers fails the conversion with its name.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/lowering/LinalgEmitter.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace gradc {
#define GEN_PASS_DEF_LOWERNNTOLINALG
#include "passes/Passes.h.inc"
} // namespace gradc

using namespace mlir;
using namespace gradc;

namespace {

struct LowerNNToLinalg : gradc::impl::LowerNNToLinalgBase<LowerNNToLinalg> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<nn::NNDialect>();
    target.addLegalDialect<
        linalg::LinalgDialect, tensor::TensorDialect, arith::ArithDialect,
        math::MathDialect, scf::SCFDialect, func::FuncDialect,
        memref::MemRefDialect, bufferization::BufferizationDialect>();
    RewritePatternSet patterns(ctx);
    populateLowerNNToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();
    // The runtime calls the entry points through their C interface.
    func::FuncOp fn = getOperation();
    if (fn.isPublic() && !fn.isExternal())
      fn->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  }
};

} // namespace

void gradc::populateLowerNNToLinalgPatterns(RewritePatternSet &patterns) {
#define GRADC_OP_FAMILY(Name, Layers, Kernels)                                 \
  lowering::populate##Name##LoweringPatterns(patterns);
#include "ir/OpFamilies.def"
}
