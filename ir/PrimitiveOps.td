//===- PrimitiveOps.td - primitives of gradient rules: arithmetic, reductions, broadcasts, labels -*- tablegen -*-===//
//
// The Primitive family of nn ops (ir/OpFamilies.def): primitives of gradient rules: arithmetic, reductions, broadcasts, labels.
// Included by NNOps.td; verifiers and gradient rules in ir/PrimitiveOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_PRIMITIVE_OPS
#define GRADC_NN_PRIMITIVE_OPS

def NN_ConstantOp : NN_NonDiffOp<"constant", [Pure, ConstantLike]> {
  let summary = "a tensor filled with one value (seed gradients, zeros)";
  let description = [{
    ```mlir
    %one = nn.constant 1.0 : tensor<f32>
    ```
  }];
  let arguments = (ins F64Attr:$value);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$value attr-dict `:` type($output)";
  // Folds to its value, so that constant deduplication tells 0 from 1.
  let hasFolder = 1;
}

class NN_BinaryOp<string mnemonic, string formula>
    : NN_DiffOp<mnemonic, [SameOperandsAndResultType]> {
  let summary = "elementwise " # formula;
  let description = [{
    A primitive of gradient rules, like `nn.add`, and the op of the
    `subtract`, `multiply`, ... layers (which broadcast their operands with
    `nn.broadcast` first).

    ```mlir
    %z = nn.}] # mnemonic # [{ %a, %b : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$lhs, NN_FloatTensor:$rhs);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($output)";
}

def NN_SubOp : NN_BinaryOp<"sub", "a - b">;

def NN_MulOp : NN_BinaryOp<"mul", "a * b">;

def NN_DivOp : NN_BinaryOp<"div", "a / b">;

def NN_MaximumOp : NN_BinaryOp<"maximum", "max(a, b), NaN if either is NaN">;

def NN_MinimumOp : NN_BinaryOp<"minimum", "min(a, b), NaN if either is NaN">;

def NN_PowOp : NN_BinaryOp<"pow", "a ^ b (C's powf: NaN for a < 0 and b not an integer)">;

class NN_PrimitiveUnaryOp<string mnemonic, string formula>
    : NN_NonDiffOp<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise " # formula;
  let description = [{
    A primitive of gradient rules.

    ```mlir
    %y = nn.}] # mnemonic # [{ %x : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_ExpOp : NN_PrimitiveUnaryOp<"exp", "exp(x)">;

def NN_LogOp : NN_PrimitiveUnaryOp<"log", "log(x)">;

def NN_RsqrtOp : NN_PrimitiveUnaryOp<"rsqrt", "1 / sqrt(x)">;

def NN_SignOp : NN_PrimitiveUnaryOp<"sign", "sign: -1, 0 or 1 (NaN stays NaN)">;

def NN_CompareOp : NN_NonDiffOp<"compare", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise 1 where `lhs predicate rhs` holds, else 0";
  let description = [{
    An ordered comparison (false when either side is NaN) as a 0/1 mask of
    the operands' type, for `nn.select` and `nn.mul`.

    ```mlir
    %m = nn.compare %x, %zero {predicate = #nn.compare<gt>} : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$lhs, NN_FloatTensor:$rhs,
      NN_ComparePredicateAttr:$predicate);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($output)";
}

def NN_SelectOp : NN_NonDiffOp<"select", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise `on_true` where `condition` is not 0, else `on_false`";
  let description = [{
    ```mlir
    %dx = nn.select %mask, %dy, %zero : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$condition, NN_FloatTensor:$on_true,
      NN_FloatTensor:$on_false);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$condition `,` $on_true `,` $on_false attr-dict `:` type($output)";
}

class NN_PrimitiveReduceOp<string mnemonic, string what>
    : NN_DiffOp<mnemonic, [NN_InferResultType]> {
  let summary = what # " over the dimensions `axes`, which the result drops";
  let description = [{
    `axes` are distinct and increasing. The bias gradient is the sum over
    every axis but the last.

    ```mlir
    %db = nn.}] # mnemonic # [{ %dy {axes = array<i64: 0, 1, 2>} : (tensor<8x26x26x32xf32>) -> tensor<32xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_ReduceSumOp : NN_PrimitiveReduceOp<"reduce_sum", "sum">;

def NN_ReduceMaxOp : NN_PrimitiveReduceOp<"reduce_max", "maximum">;

def NN_BroadcastOp : NN_DiffOp<"broadcast"> {
  let summary = "repeats the input along the result dimensions not in `dims`";
  let description = [{
    Input dimension `i` is result dimension `dims[i]` (StableHLO's
    `broadcast_in_dim`); `dims` is increasing. The inverse of a reduction:
    a per-channel vector over NHWC is `dims = [3]`, a scalar is `dims = []`.

    ```mlir
    %g = nn.broadcast %gamma {dims = array<i64: 3>} : (tensor<16xf32>) -> tensor<8x7x7x16xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$dims);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_OneHotOp : NN_NonDiffOp<"one_hot", [Pure]> {
  let summary = "the loss targets of integer labels: one-hot rows [N, C]";
  let description = [{
    Row `n` is 1 at column `labels[n]` and 0 elsewhere (all 0 for a label
    outside [0, C)). With one column (C = 1, binary losses) the target is
    the label itself.

    ```mlir
    %t = nn.one_hot %labels : (tensor<8xi32>) -> tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_LabelTensor:$labels);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$labels attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_ArgmaxOp : NN_NonDiffOp<"argmax", [Pure]> {
  let summary = "index of the largest entry of each row (the first on ties)";
  let description = [{
    ```mlir
    %i = nn.argmax %p : (tensor<8x10xf32>) -> tensor<8xi32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_LabelTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // GRADC_NN_PRIMITIVE_OPS
