//===- ElementwiseOps.td - activations, softmax, dropout and the residual add -*- tablegen -*-===//
//
// The Elementwise family of nn ops (ir/OpFamilies.def): activations, softmax, dropout and the residual add.
// Included by NNOps.td; verifiers and gradient rules in ir/ElementwiseOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_ELEMENTWISE_OPS
#define GRADC_NN_ELEMENTWISE_OPS

class NN_UnaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : NN_DiffOp<mnemonic, !listconcat(traits, [SameOperandsAndResultType])> {
  let summary = "elementwise " # formula;
  let description = [{
    ```mlir
    %y = nn.}] # mnemonic # [{ %x : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_ReluOp : NN_UnaryOp<"relu", "max(x, 0)">;

def NN_SigmoidOp : NN_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;

def NN_TanhOp : NN_UnaryOp<"tanh", "tanh(x)">;

def NN_SoftmaxOp : NN_UnaryOp<"softmax", "softmax over the last dimension">;

def NN_LogSoftmaxOp : NN_UnaryOp<"log_softmax", "log-softmax over the last dimension">;

def NN_LeakyReluOp : NN_DiffOp<"leaky_relu", [SameOperandsAndResultType]> {
  let summary = "elementwise x >= 0 ? x : alpha * x";
  let description = [{
    ```mlir
    %y = nn.leaky_relu %x {alpha = 1.000000e-01 : f64} : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, F64Attr:$alpha);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_PReluOp : NN_DiffOp<"prelu"> {
  let summary = "x >= 0 ? x : alpha[c] * x, with a learned alpha per channel";
  let description = [{
    `alpha` has one entry per element of the last (channel) dimension.

    ```mlir
    %y = nn.prelu %x, %alpha : (tensor<8x10xf32>, tensor<10xf32>) -> tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$alpha);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input `,` $alpha attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_DropoutOp : NN_DiffOp<"dropout", [AllTypesMatch<["input", "output"]>,
    DeclareOpInterfaceMethods<TrainingFormOpInterface>]> {
  let summary = "inverted dropout, active only when given a step";
  let description = [{
    Without `step` this is the identity (inference). With `step`, each element
    is kept with probability `1 - rate` and scaled by `1 / (1 - rate)`; the
    mask is a pure function of (`seed`, step, element index), so the backward
    pass recomputes it instead of storing it.

    ```mlir
    %y = nn.dropout %x, %step {rate = 5.000000e-01 : f64, seed = 42 : i64} : tensor<8x10xf32>, tensor<i64>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, Optional<NN_StepTensor>:$step,
      F64Attr:$rate, DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input (`,` $step^)? attr-dict `:` type($input) (`,` type($step)^)?";
  let hasVerifier = 1;
}

def NN_AddOp : NN_DiffOp<"add", [SameOperandsAndResultType]> {
  let summary = "elementwise sum (residual connections, gradient accumulation)";
  let description = [{
    ```mlir
    %y = nn.add %a, %b : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$lhs, NN_FloatTensor:$rhs);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($output)";
}

def NN_CausalMaskOp : NN_DiffOp<"causal_mask", [SameOperandsAndResultType]> {
  let summary = "x[..., i, j] where j <= i, else `fill`: a causal attention mask";
  let description = [{
    Over the last two dimensions (a query i and a key j of attention scores),
    the keys after the query get `fill` (the lowest float, so that a softmax
    gives them no weight, as PyTorch's -inf mask does). Its gradient is the
    same mask with a fill of 0. With `transposed` the last two dimensions
    are keys by queries: x[..., j, i] is kept where j <= i (the scores
    transposed, as attention's decomposed gradient computes them).

    ```mlir
    %m = nn.causal_mask %s {fill = -3.4028234663852886e+38 : f64} : tensor<8x2x6x6xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, F64Attr:$fill,
      UnitAttr:$transposed);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NN_GeluOp : NN_DiffOp<"gelu", [SameOperandsAndResultType]> {
  let summary = "elementwise x * Phi(x), Phi the standard normal CDF";
  let description = [{
    Exact (`Phi(x) = (1 + erf(x / sqrt(2))) / 2`, PyTorch's `GELU()`) or, with
    `approximate`, its tanh approximation
    `(1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2` (`GELU(approximate='tanh')`).

    ```mlir
    %y = nn.gelu %x : tensor<8x10xf32>
    %t = nn.gelu %x {approximate = true} : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input,
      DefaultValuedAttr<BoolAttr, "false">:$approximate);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_GeluGradOp : NN_NonDiffOp<"gelu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "the gradient of nn.gelu: dy * d(gelu)/dx, in one pass";
  let description = [{
    ```mlir
    %dx = nn.gelu_grad %dy, %x : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$input,
      DefaultValuedAttr<BoolAttr, "false">:$approximate);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($output)";
}

def NN_UnaryFnOp : NN_DiffOp<"unary", [SameOperandsAndResultType]> {
  let summary = "an elementwise function of ir/UnaryFunctions.def, named by `fn`";
  let description = [{
    One op for the functions of one table (exp, log, sqrt, rsqrt, abs, neg,
    reciprocal, erf, softplus, softsign, elu, selu, silu, hard_sigmoid,
    hard_swish): each row gives the function's formula and derivative,
    which the lowering and the reference kernel both instantiate. `alpha`
    is the parameter of the functions that take one (elu, hard_sigmoid).

    ```mlir
    %y = nn.unary "sqrt" %x : tensor<8x10xf32>
    %e = nn.unary "elu" %x {alpha = 5.000000e-01 : f64} : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, StrAttr:$fn,
      DefaultValuedAttr<F64Attr, "0.0">:$alpha);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$fn $input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NN_UnaryFnGradOp : NN_NonDiffOp<"unary_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "the gradient of nn.unary: dy * f'(x), in one pass";
  let description = [{
    ```mlir
    %dx = nn.unary_grad "sqrt" %dy, %x : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad, NN_FloatTensor:$input,
      StrAttr:$fn, DefaultValuedAttr<F64Attr, "0.0">:$alpha);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$fn $grad `,` $input attr-dict `:` type($output)";
  let hasVerifier = 1;
}

#endif // GRADC_NN_ELEMENTWISE_OPS
