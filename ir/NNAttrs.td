//===- NNAttrs.td - enum attributes of the nn dialect ------*- tablegen -*-===//
//
// The kinds ops carry as attributes: an activation fused into a conv, the
// predicate of nn.compare, a loss, a reduction. In IR they read
// `#nn.activation<relu>` and `#nn.compare<gt>`; an unknown kind is a parse
// error, not a string a verifier has to catch.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_ATTRS
#define GRADC_NN_ATTRS

include "NNDialect.td"
include "mlir/IR/EnumAttr.td"

def NN_ActivationKind : I32EnumAttr<"ActivationKind", "an activation function", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Relu", 1, "relu">,
    I32EnumAttrCase<"LeakyRelu", 2, "leaky_relu">,
    I32EnumAttrCase<"Sigmoid", 3, "sigmoid">,
    I32EnumAttrCase<"Tanh", 4, "tanh">,
    I32EnumAttrCase<"Softmax", 5, "softmax">,
    I32EnumAttrCase<"LogSoftmax", 6, "log_softmax">]> {
  let cppNamespace = "::gradc::nn";
  let genSpecializedAttr = 0;
}
def NN_ActivationKindAttr : EnumAttr<NN_Dialect, NN_ActivationKind, "activation"> {
  let assemblyFormat = "`<` $value `>`";
}

def NN_ComparePredicate : I32EnumAttr<"ComparePredicate", "a comparison", [
    I32EnumAttrCase<"Gt", 0, "gt">,
    I32EnumAttrCase<"Ge", 1, "ge">,
    I32EnumAttrCase<"Lt", 2, "lt">,
    I32EnumAttrCase<"Le", 3, "le">,
    I32EnumAttrCase<"Eq", 4, "eq">]> {
  let cppNamespace = "::gradc::nn";
  let genSpecializedAttr = 0;
}
def NN_ComparePredicateAttr : EnumAttr<NN_Dialect, NN_ComparePredicate, "compare"> {
  let assemblyFormat = "`<` $value `>`";
}

def NN_LossKind : I32EnumAttr<"LossKind", "a loss op", [
    I32EnumAttrCase<"CrossEntropy", 0, "cross_entropy">,
    I32EnumAttrCase<"SoftmaxCrossEntropy", 1, "softmax_cross_entropy">,
    I32EnumAttrCase<"BinaryCrossEntropy", 2, "binary_cross_entropy">,
    I32EnumAttrCase<"Mse", 3, "mse">,
    I32EnumAttrCase<"Mae", 4, "mae">,
    I32EnumAttrCase<"Huber", 5, "huber">,
    I32EnumAttrCase<"Hinge", 6, "hinge">,
    I32EnumAttrCase<"SquaredHinge", 7, "squared_hinge">,
    I32EnumAttrCase<"CategoricalHinge", 8, "categorical_hinge">]> {
  let cppNamespace = "::gradc::nn";
  let genSpecializedAttr = 0;
}
def NN_LossKindAttr : EnumAttr<NN_Dialect, NN_LossKind, "loss"> {
  let assemblyFormat = "`<` $value `>`";
}

def NN_ReduceKind : I32EnumAttr<"ReduceKind", "a reduction", [
    I32EnumAttrCase<"Mean", 0, "mean">,
    I32EnumAttrCase<"Sum", 1, "sum">,
    I32EnumAttrCase<"Max", 2, "max">,
    I32EnumAttrCase<"Min", 3, "min">]> {
  let cppNamespace = "::gradc::nn";
  let genSpecializedAttr = 0;
}
def NN_ReduceKindAttr : EnumAttr<NN_Dialect, NN_ReduceKind, "reduce"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // GRADC_NN_ATTRS
