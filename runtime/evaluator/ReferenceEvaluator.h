//===- ReferenceEvaluator.h - an interpreter of nn functions ----*- C++ -*-===//
//-*-===//
//
// Runs a func.func of the nn dialect op by op on host tensors, with loops
// that follow the op definitions literally. It is the oracle the gradient
// checks and the JIT are compared against, so it favours being obviously
// correct over being fast. Float tensors are computed in T (float or double)
// whatever their IR element type, so the same graph can be checked in
// double and compared with the JIT in float.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_REFERENCEEVALUATOR_H
#define GRADC_RUNTIME_REFERENCEEVALUATOR_H

#include "runtime/evaluator/HostTensor.h"

#include "absl/status/statusor.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/ArrayRef.h"

#include <functional>
#include <vector>

namespace gradc {

/// Called with every op result as soon as it is computed (the value is only
/// valid during the call), e.g. to pick out the gradients a train step feeds
/// its updates.
template <typename T>
using EvalObserver =
    std::function<void(mlir::Value irValue, const HostValue<T> &value)>;

/// Attaches the reference kernel of every op family with KERNELS
/// (ir/OpFamilies.def) to the nn ops of `ctx`, once; evaluate() calls it.
void attachReferenceKernels(mlir::MLIRContext *ctx);

/// Evaluates `fn` on `args` (one per argument, of the argument's shape and
/// kind) and returns its results. An op the evaluator does not know, or
/// arguments that do not match the signature, give an error naming them.
template <typename T>
absl::StatusOr<std::vector<HostValue<T>>>
evaluate(mlir::func::FuncOp fn, std::vector<HostValue<T>> args,
         const EvalObserver<T> &observer = {});

/// As evaluate(), but computes only the results listed in `results` (in that
/// order), skipping the ops none of them depends on: the loss of a train
/// step without its backward pass.
template <typename T>
absl::StatusOr<std::vector<HostValue<T>>>
evaluateResults(mlir::func::FuncOp fn, std::vector<HostValue<T>> args,
                llvm::ArrayRef<unsigned> results,
                const EvalObserver<T> &observer = {});

extern template absl::StatusOr<std::vector<HostValue<float>>>
evaluate<float>(mlir::func::FuncOp, std::vector<HostValue<float>>,
                const EvalObserver<float> &);
extern template absl::StatusOr<std::vector<HostValue<double>>>
evaluate<double>(mlir::func::FuncOp, std::vector<HostValue<double>>,
                 const EvalObserver<double> &);
extern template absl::StatusOr<std::vector<HostValue<float>>>
evaluateResults<float>(mlir::func::FuncOp, std::vector<HostValue<float>>,
                       llvm::ArrayRef<unsigned>, const EvalObserver<float> &);
extern template absl::StatusOr<std::vector<HostValue<double>>>
evaluateResults<double>(mlir::func::FuncOp, std::vector<HostValue<double>>,
                        llvm::ArrayRef<unsigned>, const EvalObserver<double> &);

} // namespace gradc

#endif // GRADC_RUNTIME_REFERENCEEVALUATOR_H
