//===- Passes.td - gradc's passes --------------------------*- tablegen -*-===//
//
// Every pass of gradc, declared once; flags are prefixed `gradc-`.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_PASSES
#define GRADC_PASSES

include "mlir/Pass/PassBase.td"

def FuseConvActivation : Pass<"gradc-fuse-conv-activation", "mlir::func::FuncOp"> {
  let summary = "Fuse nn.relu / nn.leaky_relu into the nn.conv2d that feeds it";
  let description = [{
    An `nn.conv2d` without activation whose only user is `nn.relu` (or
    `nn.leaky_relu` with alpha >= 0) becomes one `nn.conv2d {activation = ...}`;
    likewise for `nn.conv2d_batch_norm`.
    A conv whose result has other users is left alone.
  }];
  let dependentDialects = ["gradc::nn::NNDialect"];
}

def FoldBatchNorm : Pass<"gradc-fold-batch-norm", "mlir::func::FuncOp"> {
  let summary = "Fold nn.batch_norm into the nn.conv2d that feeds it";
  let description = [{
    An `nn.batch_norm` (inference form) whose input is an `nn.conv2d`
    without activation and with no other user becomes one
    `nn.conv2d_batch_norm`, whose lowering scales the filter and bias by the
    normalization instead of making a second pass over the output. The
    train-step builder unfolds it again for training.
  }];
  let dependentDialects = ["gradc::nn::NNDialect"];
}

def FuseSoftmaxCrossEntropy : Pass<"gradc-fuse-softmax-cross-entropy", "mlir::func::FuncOp"> {
  let summary = "Fuse nn.softmax feeding nn.cross_entropy into nn.softmax_cross_entropy";
  let description = [{
    `nn.cross_entropy(nn.softmax(logits))` becomes
    `nn.softmax_cross_entropy(logits)`, computed with log-sum-exp. The softmax
    stays when it has other users (e.g. the returned probabilities).
  }];
  let dependentDialects = ["gradc::nn::NNDialect"];
}

def FuseAttention : Pass<"gradc-fuse-attention", "mlir::func::FuncOp"> {
  let summary = "Fuse scaled dot-product attention into nn.attention";
  let description = [{
    `batch_matmul(softmax([causal_mask](scale * batch_matmul(q, k^T))), v)`
    becomes one `nn.attention %q, %k, %v {scale, causal}`. The scale may
    multiply q or the scores (nn.mul by a constant, or nn.div); the mask is
    an `nn.causal_mask` with a fill of -1e30 or lower. Left alone: a softmax
    with other users, a dropout on the weights, broadcast batch dimensions.
  }];
  let dependentDialects = ["gradc::nn::NNDialect"];
}

def DecomposeAttention : Pass<"gradc-decompose-attention", "mlir::func::FuncOp"> {
  let summary = "Compute nn.attention and its gradient a tile of keys at a time";
  let description = [{
    Each `nn.attention` becomes, per tile of `key-tile` keys, the scores of
    the queries against that tile, an online softmax (running row maximum
    and sum, the accumulated output rescaled) and the tile's product with
    its values; no T x S tensor is made. With `causal`, the queries before a
    tile are skipped (a triangle's worth of the work). `nn.attention_grad`
    recomputes each tile's probabilities from the saved log-sum-exp and
    accumulates dq, writing dk and dv a tile at a time. The result is nn
    ops (slice, batch_matmul, reductions, exp), lowered as usual.
  }];
  let options = [
    Option<"keyTile", "key-tile", "int64_t", /*default=*/"64",
           "Keys per tile">,
  ];
  let dependentDialects = ["gradc::nn::NNDialect"];
}

def BuildTrainStep : Pass<"gradc-build-train-step", "mlir::ModuleOp"> {
  let summary = "Build @train_step and @eval_step from @predict, the loss and the optimizer";
  let description = [{
    Reads the module attributes `nn.loss` and `nn.optimizer` and builds:
    `@eval_step(params..., x, labels) -> (loss, correct_count)` and
    `@train_step(params..., opt_state..., step, x, labels) -> (loss, new
    params..., new state...)`, with the loss fused with a preceding softmax,
    the backward graph from autodiff, and one update op per parameter.
    Dropout is active only in `@train_step`. A function that already exists
    is not built again; with `train-step=false` only `@eval_step` is built
    (the fused stage shows the loss that way). With the module attribute
    `nn.data_parallel = P` (P > 1 ranks), the gradients go through one
    `nn.allreduce_mean` before the updates.
  }];
  let options = [
    Option<"trainStep", "train-step", "bool", /*default=*/"true",
           "Build @train_step as well as @eval_step">,
  ];
  let dependentDialects = ["gradc::nn::NNDialect", "mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect"];
}

def Autodiff : Pass<"gradc-autodiff", "mlir::ModuleOp"> {
  let summary = "Append the gradients of every function's first result";
  let description = [{
    For each function marked `nn.differentiate` whose first result is a 0-D
    loss, append one result per floating-point argument: the gradient of the
    loss with respect to it (reverse mode, gradients of values with several
    users summed). Fails naming any op without a gradient rule.
  }];
  let dependentDialects = ["gradc::nn::NNDialect", "mlir::func::FuncDialect"];
}

def LowerNNToLinalg : Pass<"gradc-lower-nn-to-linalg", "mlir::func::FuncOp"> {
  let summary = "Lower every nn op to linalg on tensors";
  let description = [{
    Named linalg ops where they fit (conv_2d_nhwc_hwcf, pooling_nhwc_max/sum,
    matmul and its transposed forms), linalg.generic elsewhere. Convolution
    gradients are convolutions; optimizer updates write into their state
    operands so that bufferization updates the runtime's buffers in place.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::memref::MemRefDialect",
                           "mlir::bufferization::BufferizationDialect"];
}

def TileAndVectorize : Pass<"gradc-tile-and-vectorize", "mlir::ModuleOp"> {
  let summary = "Tile convolutions and matmuls to registers and vectorize them";
  let description = [{
    Per op, tile sizes that divide its loops; convolution tiles are
    decomposed to 1-D windows; every tile becomes vector outer products.
    Other linalg ops are left to LLVM's loop vectorizer.
  }];
  let options = [
    Option<"threads", "threads", "int", /*default=*/"1",
           "Split each convolution and matmul across this many threads">,
  ];
  let dependentDialects = ["mlir::transform::TransformDialect",
                           "mlir::vector::VectorDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::bufferization::BufferizationDialect"];
}

def CopiesToLoops : Pass<"gradc-copies-to-loops", "mlir::ModuleOp"> {
  let summary = "Turn strided memref.copy into linalg.copy (plain loops)";
  let description = [{
    memref.copy between non-contiguous views lowers to a call of a generic
    runtime routine; linalg.copy lowers to loops LLVM can vectorize.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def EarlyDeallocation : Pass<"gradc-early-deallocation", "mlir::func::FuncOp"> {
  let summary = "Free each buffer right after its last use, not at the end of the step";
  let description = [{
    MLIR's buffer deallocation frees the buffers of a block at the block's
    end; in a training step that kept every temporary alive until the step
    returned. Each `memref.dealloc` of a `memref.alloc` of the same block
    moves up to just after the last op of the block that uses the buffer or
    a view of it. A buffer whose alias reaches a terminator or a call keeps
    its dealloc where it is.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def HoistVectorTransfers : Pass<"gradc-hoist-vector-transfers",
                                "mlir::ModuleOp"> {
  let summary = "Keep vector accumulators in registers across reduction loops";
  let description = [{
    On buffers: moves loop-invariant code out of loops, then hoists each
    vector.transfer_read/transfer_write pair on loop-invariant indices out
    of its scf.for (the value travels as an iter_arg instead of through
    memory). Run after fold-memref-alias-ops so transfers address whole
    buffers rather than subviews. Only scf.for loops are touched, never the
    thread-parallel scf.forall loops.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def FuseElementwise : Pass<"gradc-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise linalg ops and fold reshapes into them";
  let description = [{
    linalg-fuse-elementwise-ops with one difference: reshapes are folded
    only into linalg.generic ops, never into named ops. Upstream folds a
    tensor.expand_shape of a matmul's result into the matmul by turning it
    into a many-dimensional linalg.generic (LeNet's dense-layer input
    gradient), which is no longer a matmul for the tiling and
    vectorization that follow.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::affine::AffineDialect"];
}

def ScalarizeTransferExtracts : Pass<"gradc-scalarize-transfer-extracts",
                                     "mlir::ModuleOp"> {
  let summary = "Scalar loads for vector reads used only element by element";
  let description = [{
    The left operand of a vectorized outer product is read as a vector and
    then taken apart element by element for broadcasting; each element
    becomes a shuffle on the port the FMAs need. When every use of a
    vector.transfer_read is a scalar vector.extract, this reads each
    element with its own memref.load instead, which LLVM turns into a
    broadcast straight from memory.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect",
                           "mlir::vector::VectorDialect"];
}

#endif // GRADC_PASSES
