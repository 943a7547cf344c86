//===- ConvOps.td - 2-D convolutions, their gradients and the folded conv + batch norm -*- tablegen -*-===//
//
// The Conv family of nn ops (ir/OpFamilies.def): 2-D convolutions, their gradients and the folded conv + batch norm.
// Included by NNOps.td; verifiers and gradient rules in ir/ConvOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_CONV_OPS
#define GRADC_NN_CONV_OPS

def NN_Conv2DOp : NN_DiffOp<"conv2d", [NN_InferResultType]> {
  let summary = "2-D convolution, NHWC input and HWIO filter";
  let description = [{
    `out[n, oh, ow, f] = sum_{kh, kw, c} in[n, oh*sh + kh*dh - pt, ow*sw + kw*dw - pl, g*Cg + c]
    * filter[kh, kw, c, f] + bias[f]`, then the optional fused activation.
    With `groups` G the input channels C and filters F split into G groups;
    filter `f` belongs to group `g = f / (F/G)` and sees only that group's
    `Cg = C/G` input channels (the filter is `[KH, KW, C/G, F]`). G = C is a
    depthwise convolution.
    `pads` is `[top, bottom, left, right]`; the output size is
    `floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1`.

    ```mlir
    %y = nn.conv2d %x, %w, %b {activation = #nn.activation<relu>, strides = array<i64: 1, 1>}
        : (tensor<8x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>) -> tensor<8x26x26x32xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$filter,
      Optional<NN_FloatTensor>:$bias,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
      DefaultValuedAttr<NN_ActivationKindAttr, "::gradc::nn::ActivationKind::None">:$activation,
      DefaultValuedAttr<F64Attr, "0.0">:$alpha,
      DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_Conv2DBatchNormOp : NN_NonDiffOp<"conv2d_batch_norm", [Pure,
    DeclareOpInterfaceMethods<TrainingFormOpInterface>]> {
  let summary = "conv2d followed by inference-form batch norm, folded";
  let description = [{
    `batch_norm(conv2d(x, filter, bias))` with the running statistics, then
    the optional activation. Its lowering folds the normalization into the
    convolution: `filter' = filter * s`, `bias' = (bias - mean) * s + beta`
    with `s = gamma / sqrt(variance + epsilon)` per filter, so @predict and
    @eval_step make one pass over the output. @train_step unfolds it into
    conv2d, nn.batch_norm_train and the running averages. A conv without
    bias has a zero `nn.constant` bias.

    ```mlir
    %y = nn.conv2d_batch_norm %x, %w, %b, %gamma, %beta, %mean, %var {activation = #nn.activation<relu>, epsilon = 1.0e-03 : f64, momentum = 9.9e-01 : f64}
        : (tensor<8x28x28x1xf32>, tensor<3x3x1x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<8x26x26x16xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$filter,
      NN_FloatTensor:$bias, NN_FloatTensor:$gamma, NN_FloatTensor:$beta,
      NN_FloatTensor:$mean, NN_FloatTensor:$variance,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
      DefaultValuedAttr<I64Attr, "1">:$groups,
      DefaultValuedAttr<NN_ActivationKindAttr, "::gradc::nn::ActivationKind::None">:$activation,
      DefaultValuedAttr<F64Attr, "0.0">:$alpha,
      F64Attr:$epsilon, F64Attr:$momentum);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $filter `,` $bias `,` $gamma `,` $beta `,` $mean `,` $variance attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_Conv2DGradInputOp : NN_NonDiffOp<"conv2d_grad_input", [Pure]> {
  let summary = "gradient of conv2d with respect to its input";
  let description = [{
    A transposed convolution of the output gradient with the filter; the
    result type is the forward input's type.

    ```mlir
    %dx = nn.conv2d_grad_input %dy, %w : (tensor<8x26x26x32xf32>, tensor<3x3x1x32xf32>) -> tensor<8x28x28x1xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad_output, NN_FloatTensor:$filter,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
      DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs NN_FloatTensor:$grad_input);
  let assemblyFormat = [{
    $grad_output `,` $filter attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_Conv2DGradFilterOp : NN_NonDiffOp<"conv2d_grad_filter", [Pure]> {
  let summary = "gradient of conv2d with respect to its filter";
  let description = [{
    ```mlir
    %dw = nn.conv2d_grad_filter %x, %dy : (tensor<8x28x28x1xf32>, tensor<8x26x26x32xf32>) -> tensor<3x3x1x32xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$grad_output,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
      DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs NN_FloatTensor:$grad_filter);
  let assemblyFormat = [{
    $input `,` $grad_output attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // GRADC_NN_CONV_OPS
