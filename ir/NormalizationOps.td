//===- NormalizationOps.td - batch and layer normalization -*- tablegen -*-===//
//
// The Normalization family of nn ops (ir/OpFamilies.def): batch
// normalization (training, inference, gradient), running statistics and
// layer normalization. Included by NNOps.td through the generated
// NNFamilyOps.td; verifiers and gradient rules in ir/NormalizationOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_NORMALIZATION_OPS
#define GRADC_NN_NORMALIZATION_OPS

def NN_BatchNormOp : NN_NonDiffOp<"batch_norm", [Pure,
    AllTypesMatch<["input", "output"]>,
    DeclareOpInterfaceMethods<TrainingFormOpInterface>]> {
  let summary = "batch normalization with running statistics (inference form)";
  let description = [{
    Normalizes each channel (the last dimension) with the running `mean` and
    `variance` buffers: `y = (x - mean) / sqrt(variance + epsilon) * gamma +
    beta`. This is the form of @predict and @eval_step; @train_step replaces
    it by `nn.batch_norm_train` and updates the buffers with
    `nn.moving_average` (`momentum` is Keras's: running = momentum * running
    + (1 - momentum) * batch statistic).

    ```mlir
    %y = nn.batch_norm %x, %gamma, %beta, %mean, %var {epsilon = 1.0e-03 : f64, momentum = 9.9e-01 : f64}
        : (tensor<8x7x7x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<8x7x7x16xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$gamma,
      NN_FloatTensor:$beta, NN_FloatTensor:$mean, NN_FloatTensor:$variance,
      F64Attr:$epsilon, F64Attr:$momentum);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta `,` $mean `,` $variance attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_BatchNormTrainOp : NN_DiffOp<"batch_norm_train"> {
  let summary = "batch normalization with the batch's statistics (training form)";
  let description = [{
    Per channel c (the last dimension), over every other dimension:
    `mean[c]`, the biased `variance[c]`, and `y = (x - mean) /
    sqrt(variance + epsilon) * gamma + beta`. Returns y and the two
    statistics (which feed the running averages). With `rows` (the step's
    labels), a row labelled -1 is padding (a partial batch run by the full
    batch's code): it is left out of the statistics, which are over the
    other rows' elements.

    ```mlir
    %y, %mean, %var = nn.batch_norm_train %x, %gamma, %beta {epsilon = 1.0e-03 : f64}
        : (tensor<8x7x7x16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<8x7x7x16xf32>, tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$gamma,
      NN_FloatTensor:$beta, Optional<NN_LabelTensor>:$rows, F64Attr:$epsilon);
  let results = (outs NN_FloatTensor:$output, NN_FloatTensor:$batch_mean,
      NN_FloatTensor:$batch_variance);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta (`rows` $rows^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_BatchNormGradOp : NN_NonDiffOp<"batch_norm_grad", [Pure]> {
  let summary = "gradients of batch_norm_train with respect to x, gamma, beta";
  let description = [{
    With `xhat = (x - mean) * rstd`, `rstd = 1 / sqrt(variance + epsilon)`
    and M elements per channel: `dbeta = sum(dy)`, `dgamma = sum(dy * xhat)`,
    `dx = gamma * rstd / M * (M * dy - dbeta - xhat * dgamma)`. With `rows`,
    padding rows (label -1) are left out of the sums and of M, and their dx
    is 0.

    ```mlir
    %dx, %dgamma, %dbeta = nn.batch_norm_grad %dy, %x, %gamma, %mean, %var {epsilon = 1.0e-03 : f64}
        : (tensor<8x7x7x16xf32>, tensor<8x7x7x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
        -> (tensor<8x7x7x16xf32>, tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad_output, NN_FloatTensor:$input,
      NN_FloatTensor:$gamma, NN_FloatTensor:$mean, NN_FloatTensor:$variance,
      Optional<NN_LabelTensor>:$rows, F64Attr:$epsilon);
  let results = (outs NN_FloatTensor:$grad_input, NN_FloatTensor:$grad_gamma,
      NN_FloatTensor:$grad_beta);
  let assemblyFormat = [{
    $grad_output `,` $input `,` $gamma `,` $mean `,` $variance (`rows` $rows^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_MovingAverageOp : NN_NonDiffOp<"moving_average", [Pure, AllTypesMatch<["running", "new_running"]>]> {
  let summary = "running = momentum * running + (1 - momentum) * scale * value";
  let description = [{
    Updates a buffer (batch normalization's running mean or variance) in
    place in @train_step. `scale` turns the batch's biased variance into the
    unbiased one (M / (M - 1)), as PyTorch keeps it. With `rows` (the step's
    labels), M is counted at run time instead: `per_row` times the rows not
    labelled -1 (padding), and the scale is M / (M - 1) (1 for M < 2).

    ```mlir
    %m2 = nn.moving_average %m, %batch_mean {momentum = 9.9e-01 : f64, scale = 1.0 : f64}
        : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$running, NN_FloatTensor:$value,
      Optional<NN_LabelTensor>:$rows, F64Attr:$momentum,
      DefaultValuedAttr<F64Attr, "1.0">:$scale,
      DefaultValuedAttr<I64Attr, "0">:$per_row);
  let results = (outs NN_FloatTensor:$new_running);
  let assemblyFormat = "$running `,` $value (`rows` $rows^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_LayerNormOp : NN_DiffOp<"layer_norm",
    [AllTypesMatch<["input", "output"]>]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    Each row (every index but the last) is normalized over the last
    dimension, of size D: `mean` and the biased `variance` of its D values,
    `y = (x - mean) / sqrt(variance + epsilon) * gamma + beta`, with `gamma`
    and `beta` of shape [D]. The same in training and inference (PyTorch's
    LayerNorm over the last dimension). Its gradient is
    `nn.layer_norm_grad`.

    ```mlir
    %y = nn.layer_norm %x, %gamma, %beta {epsilon = 1.0e-05 : f64}
        : (tensor<8x7x7x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<8x7x7x16xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$gamma,
      NN_FloatTensor:$beta, F64Attr:$epsilon);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_LayerNormGradOp : NN_NonDiffOp<"layer_norm_grad", [Pure]> {
  let summary = "gradients of layer_norm with respect to x, gamma, beta";
  let description = [{
    Per row of D values, its statistics recomputed from x, with `xhat = (x -
    mean) * rstd`, `rstd = 1 / sqrt(variance + epsilon)` and `g = dy *
    gamma`: `dx = rstd * (g - mean(g) - xhat * mean(g * xhat))`; over the
    rows, `dgamma = sum(dy * xhat)` and `dbeta = sum(dy)`.

    ```mlir
    %dx, %dgamma, %dbeta = nn.layer_norm_grad %dy, %x, %gamma {epsilon = 1.0e-05 : f64}
        : (tensor<8x7x7x16xf32>, tensor<8x7x7x16xf32>, tensor<16xf32>)
        -> (tensor<8x7x7x16xf32>, tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad_output, NN_FloatTensor:$input,
      NN_FloatTensor:$gamma, F64Attr:$epsilon);
  let results = (outs NN_FloatTensor:$grad_input, NN_FloatTensor:$grad_gamma,
      NN_FloatTensor:$grad_beta);
  let assemblyFormat = [{
    $grad_output `,` $input `,` $gamma attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // GRADC_NN_NORMALIZATION_OPS
