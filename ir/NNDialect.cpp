//===- NNDialect.cpp - the nn dialect -------------------------------------===//
//
// Registers the nn ops and the interface definitions.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"

using namespace mlir;
using namespace gradc::nn;

#include "ir/NNDialect.cpp.inc"
#include "ir/NNInterfaces.cpp.inc"

void NNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/NNOps.cpp.inc"
      >();
}

bool gradc::nn::isLossKind(llvm::StringRef name) {
  return llvm::is_contained({"cross_entropy", "softmax_cross_entropy",
                             "binary_cross_entropy", "mse", "mae", "huber",
                             "hinge", "squared_hinge", "categorical_hinge"},
                            name);
}

llvm::SmallVector<llvm::StringRef>
gradc::nn::optimizerStateSlots(llvm::StringRef kind) {
  if (kind == "momentum")
    return {"velocity"};
  if (kind == "rmsprop")
    return {"mean_square"};
  if (kind == "adam")
    return {"m", "v"};
  return {};
}
