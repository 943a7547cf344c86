//===- ReductionOps.td - the reduce layer's op ----------------*- tablegen -*-===//
//
// The Reduction family of nn ops (ir/OpFamilies.def): nn.reduce, a mean,
// sum, maximum or minimum over some axes (ONNX's ReduceMean, ReduceSum,
// ReduceMax, ReduceMin). Included by NNOps.td; verifier and gradient rule
// in ir/ReductionOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_REDUCTION_OPS
#define GRADC_NN_REDUCTION_OPS

def NN_ReduceOp : NN_DiffOp<"reduce", [NN_InferResultType]> {
  let summary = "mean, sum, maximum or minimum over the dimensions `axes`, which the result drops";
  let description = [{
    `axes` are distinct and increasing (none: the input itself). The
    `reduce` layer's keepdims is an `nn.reshape` of the result. A NaN
    propagates to the maximum and minimum. The gradient repeats the output
    gradient over the reduced axes (divided by their element count for the
    mean); for the maximum and minimum it goes to the elements equal to the
    result, split evenly among ties (PyTorch's `torch.amax`, `torch.amin`).

    ```mlir
    %y = nn.reduce %x {axes = array<i64: 1, 2>, kind = #nn.reduce<mean>}
        : (tensor<8x7x7x16xf32>) -> tensor<8x16xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_ReduceKindAttr:$kind,
      DenseI64ArrayAttr:$axes);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // GRADC_NN_REDUCTION_OPS
