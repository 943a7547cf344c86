//===- gradc-opt.cpp - mlir-opt for the nn dialect and gradc's passes -----===//
//
// Parses, verifies, transforms and prints .mlir files with the nn dialect,
// every gradc pass (--gradc-...) and the named pipelines.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  gradc::registerGradcDialects(registry);
  mlir::registerAllDialects(registry);
  mlir::registerAllPasses();
  gradc::registerGradcPassesAndPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "gradc optimizer driver\n", registry));
}
