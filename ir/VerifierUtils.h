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

#include "ir/ShapeRules.h"

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

/// The window of a conv or pooling op from its attributes, checked.
mlir::FailureOr<Window2D> windowFrom(mlir::Operation *op,
                                     llvm::ArrayRef<int64_t> size,
                                     llvm::ArrayRef<int64_t> strides,
                                     llvm::ArrayRef<int64_t> pads,
                                     llvm::ArrayRef<int64_t> dilations);
/// Output height and width of a window; unknown where the input size is.
mlir::LogicalResult windowOutput(mlir::Operation *op,
                                 llvm::ArrayRef<int64_t> inHW,
                                 const Window2D &w, std::array<int64_t, 2> &hw);

} // namespace gradc::nn

#endif // GRADC_IR_VERIFIERUTILS_H
