//===- NNOps.td - operations of the nn dialect -------------*- tablegen -*-===//
//
// Forward layers, losses, backward ops made by autodiff, and optimizer
// updates. Shape rules live in ShapeRules.cpp and are checked by verifiers.
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

//===----------------------------------------------------------------------===//
// Forward ops
//===----------------------------------------------------------------------===//

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

def NN_DenseOp : NN_DiffOp<"dense", [NN_InferResultType]> {
  let summary = "fully connected layer: input[N, K] x weight[K, M] + bias[M]";
  let description = [{
    ```mlir
    %y = nn.dense %x, %w, %b : (tensor<8x784xf32>, tensor<784x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$weight,
      Optional<NN_FloatTensor>:$bias);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

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

def NN_BatchNormOp : NN_Op<"batch_norm", [Pure,
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

def NN_Conv2DBatchNormOp : NN_Op<"conv2d_batch_norm", [Pure,
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

//===----------------------------------------------------------------------===//
// Losses: predictions [N, C] and integer labels [N] -> mean loss (0-D).
//===----------------------------------------------------------------------===//

class NN_LossOp<string mnemonic, string what> : NN_DiffOp<mnemonic> {
  let summary = what # ", averaged over the batch";
  let description = [{
    Predictions are `[N, C]`; labels are class indices `[N]`, one-hot encoded
    internally (for `C == 1`, the label itself is the 0/1 target). The result
    is the mean over the batch's rows. A row labelled -1 is padding (the
    partial last batch of a data set, run by the full batch's code): it adds
    nothing to the loss or its gradient, and the mean is over the other rows
    (0 when there are none).

    With `targets` (regression: `mse`, `mae` and `huber` only), the targets
    are those values `[N, C]` instead of one-hot labels; the labels then only
    mark padding rows (-1; 0 for a row that counts).

    ```mlir
    %l = nn.}] # mnemonic # [{ %p, %labels : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<f32>
    %r = nn.}] # mnemonic # [{ %q, %labels targets %t : (tensor<8x2xf32>, tensor<8xi32>, tensor<8x2xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$predictions, NN_LabelTensor:$labels,
      Optional<NN_FloatTensor>:$targets,
      DefaultValuedAttr<F64Attr, "1.0">:$delta);
  let results = (outs NN_Scalar:$loss);
  let assemblyFormat = [{
    $predictions `,` $labels (`targets` $targets^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}
def NN_CrossEntropyOp : NN_LossOp<"cross_entropy", "-sum(onehot * log(p)) on probabilities">;
def NN_SoftmaxCrossEntropyOp : NN_LossOp<"softmax_cross_entropy",
    "cross-entropy of softmax(logits), computed with log-sum-exp">;
def NN_BinaryCrossEntropyOp : NN_LossOp<"binary_cross_entropy",
    "-mean(t log p + (1 - t) log(1 - p))">;
def NN_MseOp : NN_LossOp<"mse", "mean((p - t)^2)">;
def NN_MaeOp : NN_LossOp<"mae", "mean(|p - t|)">;
def NN_HuberOp : NN_LossOp<"huber", "mean Huber loss with `delta`">;
def NN_HingeOp : NN_LossOp<"hinge", "mean(max(0, 1 - t p)), t in {-1, 1}">;
def NN_SquaredHingeOp : NN_LossOp<"squared_hinge", "mean(max(0, 1 - t p)^2), t in {-1, 1}">;
def NN_CategoricalHingeOp : NN_LossOp<"categorical_hinge",
    "max(0, max_{c != y} p_c - p_y + 1)">;

//===----------------------------------------------------------------------===//
// Backward ops (built by autodiff)
//===----------------------------------------------------------------------===//

def NN_Conv2DGradInputOp : NN_Op<"conv2d_grad_input", [Pure]> {
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

def NN_Conv2DGradFilterOp : NN_Op<"conv2d_grad_filter", [Pure]> {
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

class NN_PoolGradOp<string mnemonic, string what> : NN_Op<mnemonic, [Pure]> {
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


def NN_BatchNormGradOp : NN_Op<"batch_norm_grad", [Pure]> {
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

def NN_SliceOp : NN_Op<"slice", [Pure]> {
  let summary = "a static slice: `size` elements from `offset` along `axis`";
  let description = [{
    The gradient of concat, one slice per input.

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

def NN_MatmulOp : NN_Op<"matmul", [Pure]> {
  let summary = "2-D matrix product with optional transposes";
  let description = [{
    `op(lhs) x op(rhs)` where `op` transposes when `transpose_lhs` /
    `transpose_rhs` is set. Autodiff uses it for the dense layer's gradients.

    ```mlir
    %dw = nn.matmul %x, %dy {transpose_lhs} : (tensor<8x784xf32>, tensor<8x128xf32>) -> tensor<784x128xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$lhs, NN_FloatTensor:$rhs,
      UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_ConstantOp : NN_Op<"constant", [Pure, ConstantLike]> {
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

//===----------------------------------------------------------------------===//
// Primitives: what gradient rules are composed of
//===----------------------------------------------------------------------===//

class NN_BinaryOp<string mnemonic, string formula>
    : NN_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise " # formula;
  let description = [{
    A primitive of gradient rules, like `nn.add`.

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

class NN_PrimitiveUnaryOp<string mnemonic, string formula>
    : NN_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
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

def NN_CompareOp : NN_Op<"compare", [Pure, SameOperandsAndResultType]> {
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

def NN_SelectOp : NN_Op<"select", [Pure, SameOperandsAndResultType]> {
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

class NN_ReduceOp<string mnemonic, string what>
    : NN_Op<mnemonic, [Pure, NN_InferResultType]> {
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
def NN_ReduceSumOp : NN_ReduceOp<"reduce_sum", "sum">;
def NN_ReduceMaxOp : NN_ReduceOp<"reduce_max", "maximum">;

def NN_BroadcastOp : NN_Op<"broadcast", [Pure]> {
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

def NN_OneHotOp : NN_Op<"one_hot", [Pure]> {
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

def NN_ArgmaxOp : NN_Op<"argmax", [Pure]> {
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

//===----------------------------------------------------------------------===//
// Metrics and optimizer updates
//===----------------------------------------------------------------------===//

def NN_CorrectCountOp : NN_Op<"correct_count", [Pure]> {
  let summary = "number of rows whose argmax equals the label";
  let description = [{
    Ties go to the first maximum, as in `argmax`. For one-column predictions
    the class is `p > 0.5`. A padding row (label -1) is never counted.

    ```mlir
    %c = nn.correct_count %p, %labels : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<i64>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$predictions, NN_LabelTensor:$labels);
  let results = (outs 0DTensorOf<[I64]>:$count);
  let assemblyFormat = [{
    $predictions `,` $labels attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data parallelism
//===----------------------------------------------------------------------===//

def NN_AllreduceMeanOp : NN_Op<"allreduce_mean"> {
  let summary = "the mean of each tensor over the data-parallel ranks";
  let description = [{
    Every rank of a data-parallel run (`mpirun -np P gradc train`) computes
    the gradients of its share of the global batch; this op returns their
    mean over the `ranks` ranks, in the same order. The lowering packs all
    inputs into one buffer and calls the runtime's
    `gradc_allreduce_mean`, which performs one `MPI_Allreduce`. Not pure:
    it communicates, so it is neither moved, merged nor erased.

    ```mlir
    %a:2 = nn.allreduce_mean %ga, %gb {ranks = 2 : i64}
        : tensor<3x3xf32>, tensor<3xf32> -> tensor<3x3xf32>, tensor<3xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_FloatTensor>:$inputs, I64Attr:$ranks);
  let results = (outs Variadic<NN_FloatTensor>:$outputs);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($outputs)";
  let builders = [OpBuilder<(ins "::mlir::ValueRange":$inputs, "int64_t":$ranks), [{
    build($_builder, $_state, inputs.getTypes(), inputs,
          $_builder.getI64IntegerAttr(ranks));
  }]>];
  let hasVerifier = 1;
}

class NN_UpdateOp<string mnemonic, string what> : NN_Op<mnemonic, [Pure]> {
  let summary = what # " update of one parameter";
  // The learning rate is either the attribute `learning_rate` (a constant)
  // or the last operand `lr`, a 0-d tensor: @train_step takes it as an input
  // so that a schedule changes it without a recompile.
  let hasVerifier = 1;
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def NN_SgdUpdateOp : NN_UpdateOp<"sgd_update", "SGD"> {
  let description = [{
    `g' = g + weight_decay * p; p' = p - lr * g'`.

    ```mlir
    %p2 = nn.sgd_update %p, %g {learning_rate = 0.01 : f64} : (tensor<10xf32>, tensor<10xf32>) -> tensor<10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
      OptionalAttr<F64Attr>:$learning_rate,
      DefaultValuedAttr<F64Attr, "0.0">:$weight_decay, Optional<NN_Scalar>:$lr);
  let results = (outs NN_FloatTensor:$new_param);
}

def NN_MomentumUpdateOp : NN_UpdateOp<"momentum_update", "momentum (or Nesterov)"> {
  let description = [{
    PyTorch's rule: `g' = g + wd p; v' = momentum v + g';
    p' = p - lr (nesterov ? g' + momentum v' : v')`.

    ```mlir
    %p2, %v2 = nn.momentum_update %p, %g, %v {learning_rate = 0.01 : f64, momentum = 0.9 : f64, nesterov}
        : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
      NN_FloatTensor:$velocity, OptionalAttr<F64Attr>:$learning_rate,
      F64Attr:$momentum, UnitAttr:$nesterov,
      DefaultValuedAttr<F64Attr, "0.0">:$weight_decay, Optional<NN_Scalar>:$lr);
  let results = (outs NN_FloatTensor:$new_param, NN_FloatTensor:$new_velocity);
}

def NN_RmspropUpdateOp : NN_UpdateOp<"rmsprop_update", "RMSprop"> {
  let description = [{
    `g' = g + wd p; s' = rho s + (1 - rho) g'^2; p' = p - lr g' / (sqrt(s') + eps)`.

    ```mlir
    %p2, %s2 = nn.rmsprop_update %p, %g, %s {learning_rate = 0.001 : f64, rho = 0.9 : f64, epsilon = 1.0e-07 : f64}
        : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>) -> (tensor<10xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
      NN_FloatTensor:$mean_square, OptionalAttr<F64Attr>:$learning_rate,
      F64Attr:$rho, F64Attr:$epsilon,
      DefaultValuedAttr<F64Attr, "0.0">:$weight_decay, Optional<NN_Scalar>:$lr);
  let results = (outs NN_FloatTensor:$new_param, NN_FloatTensor:$new_mean_square);
}

def NN_AdamUpdateOp : NN_UpdateOp<"adam_update", "Adam (bias-corrected)"> {
  let description = [{
    With `t = step + 1`: `g' = g + wd p; m' = b1 m + (1 - b1) g';
    v' = b2 v + (1 - b2) g'^2; p' = p - lr (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps)`.

    ```mlir
    %p2, %m2, %v2 = nn.adam_update %p, %g, %m, %v, %step {learning_rate = 0.001 : f64, beta_1 = 0.9 : f64, beta_2 = 0.999 : f64, epsilon = 1.0e-07 : f64}
        : (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<10xf32>, tensor<i64>) -> (tensor<10xf32>, tensor<10xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$param, NN_FloatTensor:$grad,
      NN_FloatTensor:$m, NN_FloatTensor:$v, NN_StepTensor:$step,
      OptionalAttr<F64Attr>:$learning_rate, F64Attr:$beta_1, F64Attr:$beta_2,
      F64Attr:$epsilon, DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
      Optional<NN_Scalar>:$lr);
  let results = (outs NN_FloatTensor:$new_param, NN_FloatTensor:$new_m,
      NN_FloatTensor:$new_v);
}

def NN_MovingAverageOp : NN_Op<"moving_average", [Pure, AllTypesMatch<["running", "new_running"]>]> {
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

#endif // GRADC_NN_OPS
