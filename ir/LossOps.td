//===- LossOps.td - losses: predictions and labels to the mean loss, and the correct count -*- tablegen -*-===//
//
// The Loss family of nn ops (ir/OpFamilies.def): losses: predictions and labels to the mean loss, and the correct count.
// Included by NNOps.td; verifiers and gradient rules in ir/LossOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_LOSS_OPS
#define GRADC_NN_LOSS_OPS

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

def NN_CorrectCountOp : NN_NonDiffOp<"correct_count", [Pure]> {
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

#endif // GRADC_NN_LOSS_OPS
