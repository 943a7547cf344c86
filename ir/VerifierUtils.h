//===- VerifierUtils.h - shape checks shared by the op verifiers -*- C++
//-*-===//
//
// Every family of nn ops verifies its shapes with these, so that each
// diagnostic names the sizes at fault the same way ("expects bias of shape
// 32, got 16"). Unknown sizes are accepted: a verifier checks what it can.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_IR_VERIFIERUTILS_H
#define GRADC_IR_VERIFIERUTILS_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"

#include <string>

namespace gradc::nn {

/// "8x28x28x1", "?" for unknown sizes, "scalar" for rank 0.
std::string shapeStr(llvm::ArrayRef<int64_t> shape);
llvm::ArrayRef<int64_t> shapeOf(mlir::Value v);
mlir::LogicalResult expectRank(mlir::Operation *op, mlir::Value v, int64_t rank,
                               llvm::StringRef what);
/// Sizes agree unless both are known and differ.
bool sameDim(int64_t a, int64_t b);
bool sameShape(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);
mlir::LogicalResult expectShape(mlir::Operation *op, mlir::Value v,
                                llvm::ArrayRef<int64_t> expected,
                                llvm::StringRef what);
/// Every float operand and result has one element type.
mlir::LogicalResult expectSameElementType(mlir::Operation *op);

} // namespace gradc::nn

#endif // GRADC_IR_VERIFIERUTILS_H
