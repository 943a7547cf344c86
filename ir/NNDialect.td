//===- NNDialect.td - the nn dialect definition ------------*- tablegen -*-===//
//
// The `nn` dialect: neural-network layers, losses, their backward ops and the
// optimizer updates, all with value semantics on ranked tensors.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_DIALECT
#define GRADC_NN_DIALECT

include "mlir/IR/OpBase.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let summary = "Neural-network layers, losses, gradients and optimizers.";
  let description = [{
    The `nn` dialect is gradc's model-level IR. Activations are NHWC tensors,
    convolution filters HWIO (`[kh, kw, in, out]`), dense weights `[in, out]`.
    Labels are integer class indices. Every op has a shape rule checked by
    its verifier; forward and loss ops carry a gradient rule through
    `DifferentiableOpInterface`.
  }];
  let cppNamespace = "::gradc::nn";
  let useDefaultAttributePrinterParser = 1;
}

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, traits>;

// Declares an op that autodiff never differentiates through: the backward,
// optimizer and bookkeeping ops it emits itself, primitives of gradient
// rules and inference forms. Every other op carries a gradient rule
// (DifferentiableOpInterface, NN_DiffOp in NNOps.td);
// tests/unit/OpCompletenessTest.cpp fails on an op with neither.
def NN_NotDifferentiable : NativeOpTrait<"NotDifferentiable"> {
  let cppNamespace = "::gradc::nn";
}
class NN_NonDiffOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat(traits, [NN_NotDifferentiable])>;

#endif // GRADC_NN_DIALECT
