//===- NNDialect.cpp - the nn dialect -------------------------------------===//
//
// Registers the nn ops and the interface definitions.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"

using namespace mlir;
using namespace gradc::nn;

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include "ir/NNEnums.cpp.inc"
#include "ir/NNOpsDialect.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "ir/NNAttrs.cpp.inc"
#include "ir/NNInterfaces.cpp.inc"

void NNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/NNOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ir/NNAttrs.cpp.inc"
      >();
}

bool gradc::nn::isLossKind(llvm::StringRef name) {
  return symbolizeLossKind(name).has_value();
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
