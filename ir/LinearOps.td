//===- LinearOps.td - dense layers and matrix products ---------------*- tablegen -*-===//
//
// The Linear family of nn ops (ir/OpFamilies.def): dense layers and matrix products.
// Included by NNOps.td; verifiers and gradient rules in ir/LinearOps.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_NN_LINEAR_OPS
#define GRADC_NN_LINEAR_OPS

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

def NN_MatmulOp : NN_NonDiffOp<"matmul", [Pure]> {
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

def NN_IdsTensor : RankedTensorOf<[I32, I64]>;

def NN_EmbeddingOp : NN_DiffOp<"embedding", [NN_InferResultType]> {
  let summary = "rows of a table at integer ids: table[ids[...], :]";
  let description = [{
    Keras's Embedding, PyTorch's nn.Embedding: ids of any shape [N, T...]
    (i32 or i64) pick rows of `table` [V, D], giving [N, T..., D]. An id
    outside [0, V) is clamped into it by the compiled code (the data loader
    refuses such ids first) and is an error in the reference evaluator. The
    gradient of the table is nn.embedding_grad; the ids have none.

    ```mlir
    %y = nn.embedding %ids, %table : (tensor<4x8xi64>, tensor<50x16xf32>) -> tensor<4x8x16xf32>
    ```
  }];
  let arguments = (ins NN_IdsTensor:$ids, NN_FloatTensor:$table);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = [{
    $ids `,` $table attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_EmbeddingGradOp : NN_NonDiffOp<"embedding_grad", [Pure]> {
  let summary = "scatter-add of row gradients into a table at integer ids";
  let description = [{
    The gradient of nn.embedding's table: a zero table [V, D] to which the
    gradient row `grad[..., :]` of every id position is added at row `id`,
    so an id repeated in the batch gets the sum of its rows. Ids outside
    [0, V) are clamped as nn.embedding clamps them.

    ```mlir
    %dt = nn.embedding_grad %ids, %dy : (tensor<4x8xi64>, tensor<4x8x16xf32>) -> tensor<50x16xf32>
    ```
  }];
  let arguments = (ins NN_IdsTensor:$ids, NN_FloatTensor:$grad);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = [{
    $ids `,` $grad attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_BatchMatmulOp : NN_DiffOp<"batch_matmul", [NN_InferResultType]> {
  let summary = "product of two activations over broadcast batch dimensions";
  let description = [{
    `op(lhs) x op(rhs)` of the last two dimensions, for every index of the
    leading (batch) dimensions, which broadcast as NumPy's (and
    torch.matmul's) do: aligned at the last batch dimension, a size-1 or
    missing dimension repeated. `op` swaps the last two dimensions when
    `transpose_lhs` / `transpose_rhs` is set (`q k^T` of attention without a
    separate transpose). lhs `[b..., M, K]` x rhs `[b..., K, P]` is
    `[b..., M, P]`; both have rank 2 or more.

    ```mlir
    %s = nn.batch_matmul %q, %k {transpose_rhs} : (tensor<8x4x16x32xf32>, tensor<8x4x16x32xf32>) -> tensor<8x4x16x16xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$lhs, NN_FloatTensor:$rhs,
      UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_AttentionOp : NN_DiffOp<"attention"> {
  let summary = "softmax(scale q k^T [causal mask]) v, fused: no T x S scores";
  let description = [{
    Scaled dot-product attention over the last two dimensions, for every
    index of the leading (batch, head) dimensions, which q `[b..., T, D]`, k
    `[b..., S, D]` and v `[b..., S, E]` share: `output = softmax(scale q
    k^T) v` `[b..., T, E]`, the softmax over the keys; with `causal`, key j
    gets no weight from query i < j (nn.causal_mask's top-left alignment).
    The second result is each query's log-sum-exp of its scaled scores
    `[b..., T]`, which the gradient reuses. Made by `gradc-fuse-attention`
    from batch_matmul, mul, causal_mask, softmax, batch_matmul; computed by
    `gradc-decompose-attention` a tile of keys at a time with an online
    softmax, so the T x S scores never exist at once.

    ```mlir
    %o, %lse = nn.attention %q, %k, %v {scale = 0.25 : f64, causal}
        : (tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>)
        -> (tensor<8x4x16x16xf32>, tensor<8x4x16xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$query, NN_FloatTensor:$key,
      NN_FloatTensor:$value, F64Attr:$scale, UnitAttr:$causal);
  let results = (outs NN_FloatTensor:$output, NN_FloatTensor:$logsumexp);
  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_AttentionGradOp : NN_NonDiffOp<"attention_grad", [Pure]> {
  let summary = "gradients of nn.attention with respect to q, k and v";
  let description = [{
    From the output's gradient `dO`, the forward's operands, output and
    log-sum-exp: `P = exp(scale q k^T - lse)` (masked when causal),
    `dv = P^T dO`, `dS = P * (dO v^T - rowsum(dO * output))`,
    `dq = scale dS k`, `dk = scale dS^T q`. Decomposed like nn.attention,
    recomputing P a tile of keys at a time.

    ```mlir
    %dq, %dk, %dv = nn.attention_grad %do, %q, %k, %v, %o, %lse {scale = 0.25 : f64, causal}
        : (tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>,
           tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>, tensor<8x4x16xf32>)
        -> (tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>, tensor<8x4x16x16xf32>)
    ```
  }];
  let arguments = (ins NN_FloatTensor:$grad_output, NN_FloatTensor:$query,
      NN_FloatTensor:$key, NN_FloatTensor:$value, NN_FloatTensor:$output,
      NN_FloatTensor:$logsumexp, F64Attr:$scale, UnitAttr:$causal);
  let results = (outs NN_FloatTensor:$grad_query, NN_FloatTensor:$grad_key,
      NN_FloatTensor:$grad_value);
  let assemblyFormat = [{
    $grad_output `,` $query `,` $key `,` $value `,` $output `,` $logsumexp
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // GRADC_NN_LINEAR_OPS
