//===- NNInterfaces.td - interfaces of the nn dialect ------*- tablegen -*-===//
//
// DifferentiableOpInterface: the gradient rule of an op, used by autodiff.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_INTERFACES
#define GRADC_NN_INTERFACES

include "mlir/IR/OpBase.td"

def DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let description = [{
    An op that can build the gradients of its operands from the gradients of
    its results (reverse mode). `resultGrads` has one entry per result; an
    entry is null when nothing depends on that result. `operandGrads` gets
    one entry per operand; a null entry marks an operand that is not
    differentiable (labels, the step counter).
  }];
  let cppNamespace = "::gradc::nn";
  let methods = [
    InterfaceMethod<
      "Builds the operand gradients at the builder's insertion point.",
      "::mlir::LogicalResult", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ArrayRef<::mlir::Value>":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

def TrainingFormOpInterface : OpInterface<"TrainingFormOpInterface"> {
  let description = [{
    An op whose training-time form differs from its inference form
    (dropout's random mask, batch normalization's batch statistics).
    @predict and @eval_step keep the inference form; the train-step builder
    asks each such op for its training form. An op that keeps state across
    steps (running statistics) reads it from buffer operands and reports the
    updated values, which @train_step returns so that they are written back
    in place.
  }];
  let cppNamespace = "::gradc::nn";
  let methods = [
    InterfaceMethod<
      [{Builds the training form at the builder's insertion point and returns
        the values that replace the op's results. `step` is the 0-D i64
        optimizer step, `rows` the step's labels [N] (-1 marks a padding
        row, which batch statistics leave out). For each buffer operand the
        training form updates, appends (that operand, its updated value) to
        `bufferUpdates`.}],
      "::mlir::FailureOr<::llvm::SmallVector<::mlir::Value>>",
      "buildTrainingForm",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Value":$step,
           "::mlir::Value":$rows,
           "::llvm::SmallVectorImpl<std::pair<::mlir::Value, ::mlir::Value>> &":$bufferUpdates)>,
  ];
}

def ReferenceKernelOpInterface : OpInterface<"ReferenceKernelOpInterface"> {
  let description = [{
    The reference kernel of an op: loops that follow the op's definition
    literally, run by the reference evaluator (the oracle of the gradient
    checks and of the JIT). The kernels live in the runtime
    (runtime/evaluator/kernels/, one file per family) and are attached to the ops as
    external models; an op without one is an error naming it.
  }];
  let cppNamespace = "::gradc::nn";
  let methods = [
    InterfaceMethod<"Computes the op's results in float.",
      "::mlir::LogicalResult", "evaluateF32",
      (ins "::gradc::KernelEnv<float> &":$env)>,
    InterfaceMethod<"Computes the op's results in double.",
      "::mlir::LogicalResult", "evaluateF64",
      (ins "::gradc::KernelEnv<double> &":$env)>,
  ];
}

#endif // GRADC_NN_INTERFACES
