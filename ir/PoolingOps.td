//===- PoolingOps.td - windowed and global pooling and their gradients -*- tablegen -*-===//
//
// The Pooling family of nn ops (ir/OpFamilies.def): windowed and global pooling and their gradients.
// Included by NNOps.td; verifiers and gradient rules in ir/PoolingOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_POOLING_OPS
#define GRADC_NN_POOLING_OPS

class NN_PoolOp<string mnemonic, string what>
    : NN_DiffOp<mnemonic, [NN_InferResultType]> {
  let summary = "2-D " # what # " pooling over an NHWC tensor";
  let description = [{
    Pools each channel over `window` (`[kh, kw]`) with `strides` and `pads`
    (`[top, bottom, left, right]`); output sizes follow the conv rule.
    Padded positions never win a max and are not counted in an average.

    ```mlir
    %y = nn.}] # mnemonic # [{ %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>}
        : (tensor<8x26x26x32xf32>) -> tensor<8x13x13x32xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input,
      DenseI64ArrayAttr:$window,
      DenseI64ArrayAttr:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_MaxPool2DOp : NN_PoolOp<"max_pool2d", "max">;

def NN_AvgPool2DOp : NN_PoolOp<"avg_pool2d", "average">;

class NN_GlobalPoolOp<string mnemonic, string what>
    : NN_DiffOp<mnemonic, [NN_InferResultType]> {
  let summary = "global " # what # " pooling: NHWC [N, H, W, C] to [N, C]";
  let description = [{
    Pools each channel over the whole H x W plane (Keras's
    `Global}] # !if(!eq(what, "max"), "Max", "Average") # [{Pooling2D`). The
    gradient rule reuses the windowed pooling gradient with an H x W window.

    ```mlir
    %y = nn.}] # mnemonic # [{ %x : (tensor<8x7x7x64xf32>) -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_GlobalAvgPool2DOp : NN_GlobalPoolOp<"global_avg_pool2d", "average">;

def NN_GlobalMaxPool2DOp : NN_GlobalPoolOp<"global_max_pool2d", "max">;

class NN_PoolGradOp<string mnemonic, string what> : NN_NonDiffOp<mnemonic, [Pure]> {
  let summary = "gradient of " # what # " pooling with respect to its input";
  let description = [{
    Max pooling sends each output gradient to the first maximum of its window
    in row-major order (PyTorch's rule for ties); average pooling spreads it
    evenly over the window's in-bounds elements.

    ```mlir
    %dx = nn.}] # mnemonic # [{ %x, %dy {window = array<i64: 2, 2>, strides = array<i64: 2, 2>}
        : (tensor<8x26x26x32xf32>, tensor<8x13x13x32xf32>) -> tensor<8x26x26x32xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$grad_output,
      DenseI64ArrayAttr:$window, DenseI64ArrayAttr:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads);
  let results = (outs NN_FloatTensor:$grad_input);
  let assemblyFormat = [{
    $input `,` $grad_output attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_MaxPool2DGradOp : NN_PoolGradOp<"max_pool2d_grad", "max">;

def NN_AvgPool2DGradOp : NN_PoolGradOp<"avg_pool2d_grad", "average">;

#endif // GRADC_NN_POOLING_OPS
