//===- NNDialect.h - the nn dialect -----------------------------*- C++ -*-===//
//
// Declares the nn dialect, its ops and DifferentiableOpInterface.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_IR_NNDIALECT_H
#define GRADC_IR_NNDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace gradc {
/// The values a reference kernel reads and writes (runtime/kernels).
template <typename T> class KernelEnv;

namespace nn {
/// Marks an op that autodiff never differentiates through (NNDialect.td's
/// NN_NotDifferentiable); it adds nothing else.
template <typename ConcreteType>
class NotDifferentiable
    : public mlir::OpTrait::TraitBase<ConcreteType, NotDifferentiable> {};
} // namespace nn
} // namespace gradc

#include "ir/NNEnums.h.inc"
#include "ir/NNOpsDialect.h.inc"
#define GET_ATTRDEF_CLASSES
#include "ir/NNAttrs.h.inc"
#include "ir/NNInterfaces.h.inc"

#define GET_OP_CLASSES
#include "ir/NNOps.h.inc"

namespace gradc::nn {

/// The loss ops, by the name the model format and module attributes use
/// ("mse", "cross_entropy", ...): true when `name` is one.
bool isLossKind(llvm::StringRef name);

/// The optimizer state slots of one parameter, in @train_step's order:
/// velocity (momentum), mean_square (rmsprop), m and v (adam), none (sgd).
llvm::SmallVector<llvm::StringRef> optimizerStateSlots(llvm::StringRef kind);

/// The runtime function nn.allreduce_mean lowers to a call of:
/// (memref<?xf32>) -> (), averaging the buffer over the ranks in place;
/// through its C interface, _mlir_ciface_gradc_allreduce_mean.
constexpr const char *kAllreduceFunction = "gradc_allreduce_mean";

} // namespace gradc::nn

#endif // GRADC_IR_NNDIALECT_H
