//===- Pipelines.cpp - gradc's named pass pipelines -----------------------===//
//
// One function builds every pipeline, stage by stage, so `gradc compile
// --emit=STAGE` and `gradc-opt --gradc-to-STAGE` run the same passes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace gradc {

void registerGradcDialects(DialectRegistry &registry) {
  registry.insert<nn::NNDialect>();
  // The lowering goes through most upstream dialects; their bufferization
  // and LLVM-translation interfaces come with the extensions.
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
}

/// Bufferization and conversion to the LLVM dialect. Function results that
/// alias an argument (the updated parameters and optimizer state) are
/// dropped, so the step updates the runtime's buffers in place; the rest
/// (loss, count, probabilities) become out-parameters.
static const char kToLLVM[] =
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "drop-equivalent-buffer-results,"
    "buffer-results-to-out-params{hoist-static-allocs},"
    "canonicalize,"
    "buffer-deallocation-pipeline,"
    "convert-bufferization-to-memref,"
    "gradc-scalarize-transfer-extracts,"
    "fold-memref-alias-ops,canonicalize,cse,"
    "gradc-hoist-vector-transfers,"
    "gradc-copies-to-loops,"
    "convert-linalg-to-loops,"
    "convert-vector-to-scf{full-unroll=true},"
    "lower-affine,"
    "convert-scf-to-cf,"
    "convert-vector-to-llvm,"
    "convert-math-to-llvm,"
    "expand-strided-metadata,"
    "lower-affine,"
    "finalize-memref-to-llvm,"
    "convert-func-to-llvm,"
    "convert-arith-to-llvm,"
    "convert-cf-to-llvm,"
    "reconcile-unrealized-casts";

void buildPipeline(OpPassManager &pm, Stage stage, int threads) {
  // 1. Clean up the imported graph.
  pm.addPass(createCanonicalizerPass());
  if (stage == Stage::NN)
    return;
  // 2. Fusion: conv2d+batch_norm, conv2d+relu; the loss joins the graph in
  //    @eval_step, where softmax+cross-entropy fuse.
  pm.addPass(createFoldBatchNorm());
  pm.addPass(createFuseConvActivation());
  pm.addPass(createBuildTrainStep(BuildTrainStepOptions{/*trainStep=*/false}));
  pm.addPass(createFuseSoftmaxCrossEntropy());
  if (stage == Stage::Fused)
    return;
  // 3. Training graph: @train_step (autodiff + optimizer).
  pm.addPass(createBuildTrainStep());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  if (stage == Stage::Train)
    return;
  buildLoweringPipeline(pm, stage, threads);
}

void buildLoweringPipeline(OpPassManager &pm, Stage stage, int threads) {
  // 4. nn -> linalg on tensors; fuse elementwise producers and consumers.
  pm.addPass(createLowerNNToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createFuseElementwise());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  if (stage == Stage::Linalg)
    return;
  // 5. Register tiles for convolutions, poolings and matmuls, vectorized.
  pm.addPass(createTileAndVectorize(TileAndVectorizeOptions{threads}));
  pm.addPass(createCanonicalizerPass());
  // 6. Bufferize and lower to the LLVM dialect.
  std::string toLLVM = kToLLVM;
  if (threads > 1) {
    // The thread-parallel tiles (scf.forall) become OpenMP parallel loops.
    toLLVM.replace(toLLVM.find("convert-linalg-to-loops,"),
                   strlen("convert-linalg-to-loops,"),
                   "scf-forall-to-parallel,convert-linalg-to-loops,"
                   "convert-scf-to-openmp{num-threads=" +
                       std::to_string(threads) + "},canonicalize,");
    toLLVM.replace(toLLVM.find("reconcile-unrealized-casts"),
                   strlen("reconcile-unrealized-casts"),
                   "convert-openmp-to-llvm,reconcile-unrealized-casts");
  }
  if (failed(parsePassPipeline(toLLVM, pm)))
    llvm::report_fatal_error("gradc: bad built-in LLVM pipeline");
}

void registerGradcPassesAndPipelines() {
  registerGradcPasses();
  static bool upstream = (registerAllPasses(), true);
  (void)upstream;
  PassPipelineRegistration<>(
      "gradc-to-fused", "Import clean-up and fusion passes",
      [](OpPassManager &pm) { buildPipeline(pm, Stage::Fused); });
  PassPipelineRegistration<>(
      "gradc-to-train", "Everything up to @train_step and @eval_step",
      [](OpPassManager &pm) { buildPipeline(pm, Stage::Train); });
  PassPipelineRegistration<>(
      "gradc-to-linalg", "Everything up to linalg on tensors",
      [](OpPassManager &pm) { buildPipeline(pm, Stage::Linalg); });
  PassPipelineRegistration<>(
      "gradc-to-llvm", "Everything up to the LLVM dialect",
      [](OpPassManager &pm) { buildPipeline(pm, Stage::LLVM); });
}

} // namespace gradc
