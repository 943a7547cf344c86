//===- ShapeOps.td - flatten, reshape, concat and slice --------------*- tablegen -*-===//
//
// The Shape family of nn ops (ir/OpFamilies.def): flatten, reshape, concat and slice.
// Included by NNOps.td; verifiers and gradient rules in ir/ShapeOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_SHAPE_OPS
#define GRADC_NN_SHAPE_OPS

class NN_ReshapeLikeOp<string mnemonic, string what, list<Trait> traits = []>
    : NN_DiffOp<mnemonic, traits> {
  let summary = what;
  let description = [{
    Reinterprets the elements in row-major order; the element count is kept.

    ```mlir
    %y = nn.}] # mnemonic # [{ %x : (tensor<8x5x5x64xf32>) -> tensor<8x1600xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_FlattenOp : NN_ReshapeLikeOp<"flatten",
    "flattens all but the batch dimension", [NN_InferResultType]>;

def NN_ReshapeOp : NN_ReshapeLikeOp<"reshape", "row-major reshape">;

def NN_ConcatOp : NN_DiffOp<"concat", [NN_InferResultType]> {
  let summary = "concatenation along one axis (channels for NHWC)";
  let description = [{
    Inputs agree in every dimension but `axis`; the result's `axis` size is
    the sum of theirs. The gradient slices the result's gradient back.

    ```mlir
    %y = nn.concat %a, %b {axis = 3 : i64}
        : (tensor<8x7x7x16xf32>, tensor<8x7x7x32xf32>) -> tensor<8x7x7x48xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_FloatTensor>:$inputs, I64Attr:$axis);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_SliceOp : NN_DiffOp<"slice"> {
  let summary = "a static slice: `size` elements from `offset` along `axis`";
  let description = [{
    The gradient of concat, one slice per input; the slice layer (PyTorch's
    `narrow`, ONNX's Slice of step 1). Its gradient is dy between zeros
    (an nn.concat with nn.constant 0 before and after).

    ```mlir
    %a = nn.slice %y {axis = 3 : i64, offset = 16 : i64, size = 32 : i64}
        : (tensor<8x7x7x48xf32>) -> tensor<8x7x7x32xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, I64Attr:$axis, I64Attr:$offset,
      I64Attr:$size);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_TransposeOp : NN_DiffOp<"transpose", [NN_InferResultType]> {
  let summary = "permutes the dimensions: output dimension i is input dimension perm[i]";
  let description = [{
    ONNX's Transpose and Keras's Permute (whose 1-based `dims` leave the
    batch dimension out). The gradient is the inverse permutation.

    ```mlir
    %y = nn.transpose %x {perm = array<i64: 0, 2, 1>}
        : (tensor<8x16x32xf32>) -> tensor<8x32x16xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // GRADC_NN_SHAPE_OPS
