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

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"

#include <string>

namespace gradc::nn {

/// Where a shape rule reports: at the op in a verifier ("'nn.conv2d' op
/// expects ..."), at the location given to inferReturnTypes otherwise.
using EmitErrorFn = llvm::function_ref<mlir::InFlightDiagnostic()>;
/// The verifier's sink for `op`.
inline auto opErrors(mlir::Operation *op) {
  return [op] { return op->emitOpError(); };
}
/// inferReturnTypes' sink: silent without a location, as MLIR's
/// emitOptionalError is.
inline auto locErrors(std::optional<mlir::Location> loc) {
  return [loc] {
    return loc ? mlir::emitError(*loc) : mlir::InFlightDiagnostic();
  };
}

/// A result type of `shape` with the element type of `like` (a tensor).
inline mlir::Type inferredType(llvm::ArrayRef<int64_t> shape,
                               mlir::Value like) {
  return mlir::RankedTensorType::get(
      shape,
      llvm::cast<mlir::RankedTensorType>(like.getType()).getElementType());
}

/// inferReturnTypes' last step: the rule's shape as the result type.
inline mlir::LogicalResult
pushInferred(mlir::FailureOr<llvm::SmallVector<int64_t>> shape,
             mlir::Value like, llvm::SmallVectorImpl<mlir::Type> &types) {
  if (mlir::failed(shape))
    return mlir::failure();
  types.push_back(inferredType(*shape, like));
  return mlir::success();
}

/// "8x28x28x1", "?" for unknown sizes, "scalar" for rank 0.
std::string shapeStr(llvm::ArrayRef<int64_t> shape);
llvm::ArrayRef<int64_t> shapeOf(mlir::Value v);
mlir::LogicalResult expectRank(mlir::Operation *op, mlir::Value v, int64_t rank,
                               llvm::StringRef what);
mlir::LogicalResult expectRank(EmitErrorFn emitError, mlir::Value v,
                               int64_t rank, llvm::StringRef what);
/// Sizes agree unless both are known and differ.
bool sameDim(int64_t a, int64_t b);
bool sameShape(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);
mlir::LogicalResult expectShape(mlir::Operation *op, mlir::Value v,
                                llvm::ArrayRef<int64_t> expected,
                                llvm::StringRef what);
/// Every float operand and result has one element type.
mlir::LogicalResult expectSameElementType(mlir::Operation *op);

/// `axes` (or `dims`) are increasing and within [0, rank).
mlir::LogicalResult checkAxes(EmitErrorFn emitError,
                              llvm::ArrayRef<int64_t> axes, int64_t rank,
                              llvm::StringRef what);
/// The input's shape without `axes` (checked).
mlir::FailureOr<llvm::SmallVector<int64_t>>
reduceOutputShape(EmitErrorFn emitError, mlir::Value input,
                  llvm::ArrayRef<int64_t> axes);

/// The window of a conv or pooling op from its attributes, checked.
mlir::FailureOr<Window2D> windowFrom(EmitErrorFn emitError,
                                     llvm::ArrayRef<int64_t> size,
                                     llvm::ArrayRef<int64_t> strides,
                                     llvm::ArrayRef<int64_t> pads,
                                     llvm::ArrayRef<int64_t> dilations);
/// Output height and width of a window; unknown where the input size is.
mlir::LogicalResult windowOutput(EmitErrorFn emitError,
                                 llvm::ArrayRef<int64_t> inHW,
                                 const Window2D &w, std::array<int64_t, 2> &hw);

} // namespace gradc::nn

#endif // GRADC_IR_VERIFIERUTILS_H
