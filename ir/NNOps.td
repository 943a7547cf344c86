//===- NNOps.td - operations of the nn dialect -------------*- tablegen -*-===//
//
// Forward layers, losses, backward ops made by autodiff, and optimizer
// updates. The element types and bases every op shares are here; the ops
// are defined by family in ir/<Family>Ops.td, one file per line of
// ir/OpFamilies.def (included through the generated NNFamilyOps.td). Shape
// rules live in ShapeRules.cpp and are checked by verifiers.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_OPS
#define GRADC_NN_OPS

include "NNDialect.td"
include "NNAttrs.td"
include "NNInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def NN_FloatTensor : RankedTensorOf<[F32, F64]>;
def NN_LabelTensor : RankedTensorOf<[I32]>;
def NN_StepTensor : 0DTensorOf<[I64]>;
def NN_Scalar : 0DTensorOf<[F32, F64]>;

// The result type comes from the op's shape rule (inferReturnTypes), the
// one the verifier checks the declared type against: builders need no
// result type. The comparison is the verifier's, whose message names both
// shapes, so the interface's own check accepts any declared type.
def NN_InferResultType : InferTypeOpAdaptorBase<[{
  static bool isCompatibleReturnTypes(::mlir::TypeRange, ::mlir::TypeRange) {
    return true;
  }
}]>;

class NN_DiffOp<string mnemonic, list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat(traits, [Pure,
        DeclareOpInterfaceMethods<DifferentiableOpInterface>])>;

// The families' ops: `include "<Name>Ops.td"` for each family of
// ir/OpFamilies.def, written by ir/CMakeLists.txt.
include "ir/NNFamilyOps.td"

#endif // GRADC_NN_OPS
