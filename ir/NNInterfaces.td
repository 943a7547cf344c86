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

#endif // GRADC_NN_INTERFACES
