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
/// alias an argument (the updated parameters, optimizer state and buffers)
/// are dropped, so the step updates the runtime's buffers in place; the rest
/// (loss, count, probabilities) become out-parameters. With threads > 1 the
/// thread-parallel tiles (scf.forall) become OpenMP parallel loops.
static void buildToLLVM(OpPassManager &pm, int threads) {
  bufferization::OneShotBufferizationOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(bufferization::createDropEquivalentBufferResultsPass());
  bufferization::BufferResultsToOutParamsOpts outParams;
  outParams.hoistStaticAllocs = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  bufferization::buildBufferDeallocationPipeline(
      pm, bufferization::BufferDeallocationPipelineOptions());
  pm.addPass(createBufferizationToMemRefPass());
  pm.addPass(createScalarizeTransferExtracts());
  pm.addPass(memref::createFoldMemRefAliasOpsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createEarlyDeallocation());
  pm.addPass(createHoistVectorTransfers());
  pm.addPass(createCopiesToLoops());
  if (threads > 1)
    pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createConvertLinalgToLoopsPass());
  if (threads > 1) {
    ConvertSCFToOpenMPPassOptions omp;
    omp.numThreads = threads;
    pm.addPass(createConvertSCFToOpenMPPass(omp));
    pm.addPass(createCanonicalizerPass());
  }
  pm.addPass(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll(true)));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  if (threads > 1)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void buildPipeline(OpPassManager &pm, Stage stage, int threads,
                   bool fuseAttention) {
  // 1. Clean up the imported graph.
  pm.addPass(createCanonicalizerPass());
  if (stage == Stage::NN)
    return;
  // 2. Fusion: conv2d+batch_norm, conv2d+relu, attention; the loss joins
  //    the graph in @eval_step, where softmax+cross-entropy fuse.
  pm.addNestedPass<func::FuncOp>(createFoldBatchNorm());
  pm.addNestedPass<func::FuncOp>(createFuseConvActivation());
  if (fuseAttention)
    pm.addNestedPass<func::FuncOp>(createFuseAttention());
  pm.addPass(createBuildTrainStep(BuildTrainStepOptions{/*trainStep=*/false}));
  pm.addNestedPass<func::FuncOp>(createFuseSoftmaxCrossEntropy());
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
  // 4. nn -> linalg on tensors (attention first as tiles of nn ops); fuse
  //    elementwise producers and consumers.
  pm.addNestedPass<func::FuncOp>(createDecomposeAttention());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createLowerNNToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  if (stage == Stage::Linalg)
    return;
  // 5. Register tiles for convolutions, poolings and matmuls, vectorized.
  pm.addPass(createTileAndVectorize(TileAndVectorizeOptions{threads}));
  pm.addPass(createCanonicalizerPass());
  // 6. Bufferize and lower to the LLVM dialect.
  buildToLLVM(pm, threads);
}

/// Options of the gradc-to-* pipelines in gradc-opt.
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<int> threads{*this, "threads",
                      llvm::cl::desc("OpenMP threads of the compiled step "
                                     "(gradc-to-llvm)"),
                      llvm::cl::init(1)};
  Option<bool> fuseAttention{
      *this, "fuse-attention",
      llvm::cl::desc("Fuse attention into nn.attention (default true)"),
      llvm::cl::init(true)};
};

void registerGradcPassesAndPipelines() {
  registerGradcPasses();
  static bool upstream = (registerAllPasses(), true);
  (void)upstream;
  auto stagePipeline = [](Stage stage) {
    return [stage](OpPassManager &pm, const PipelineOptions &options) {
      buildPipeline(pm, stage, options.threads, options.fuseAttention);
    };
  };
  PassPipelineRegistration<PipelineOptions>("gradc-to-fused",
                                            "Import clean-up and fusion passes",
                                            stagePipeline(Stage::Fused));
  PassPipelineRegistration<PipelineOptions>(
      "gradc-to-train", "Everything up to @train_step and @eval_step",
      stagePipeline(Stage::Train));
  PassPipelineRegistration<PipelineOptions>(
      "gradc-to-linalg", "Everything up to linalg on tensors",
      stagePipeline(Stage::Linalg));
  PassPipelineRegistration<PipelineOptions>("gradc-to-llvm",
                                            "Everything up to the LLVM dialect",
                                            stagePipeline(Stage::LLVM));
}

} // namespace gradc
