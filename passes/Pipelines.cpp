//===- Pipelines.cpp - gradc's named pass pipelines -----------------------===//
//
// One function builds every pipeline, stage by stage, so `gradc compile
// --emit=STAGE` and `gradc-opt --gradc-to-STAGE` run the same passes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace gradc {

void registerGradcDialects(DialectRegistry &registry) {
  registry.insert<nn::NNDialect, func::FuncDialect>();
}

void buildPipeline(OpPassManager &pm, Stage stage) {
  // 1. Clean up the imported graph.
  pm.addPass(createCanonicalizerPass());
  if (stage == Stage::NN)
    return;
  // 2. Fusion: conv2d+relu, softmax+cross-entropy.
  pm.addPass(createFuseConvActivation());
  pm.addPass(createFuseSoftmaxCrossEntropy());
  if (stage == Stage::Fused)
    return;
  // 3. Training graph: @eval_step, @train_step (autodiff + optimizer).
  pm.addPass(createBuildTrainStep());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
}

void registerGradcPassesAndPipelines() {
  registerGradcPasses();
  PassPipelineRegistration<>("gradc-to-fused",
                             "Import clean-up and fusion passes",
                             [](OpPassManager &pm) {
                               buildPipeline(pm, Stage::Fused);
                             });
  PassPipelineRegistration<>("gradc-to-train",
                             "Everything up to @train_step and @eval_step",
                             [](OpPassManager &pm) {
                               buildPipeline(pm, Stage::Train);
                             });
}

} // namespace gradc
