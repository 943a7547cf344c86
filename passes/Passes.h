//===- Passes.h - gradc's passes and pipelines ------------------*- C++ -*-===//
//
// Declarations generated from Passes.td, the pattern populators the passes
// are made of, and the named pipelines of Pipelines.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_PASSES_PASSES_H
#define GRADC_PASSES_PASSES_H

#include "ir/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace gradc {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// conv2d (+bias) whose only user is relu / leaky_relu -> conv2d {activation}.
void populateFuseConvActivationPatterns(mlir::RewritePatternSet &patterns);

/// cross_entropy(softmax(x)) -> softmax_cross_entropy(x).
void populateFuseSoftmaxCrossEntropyPatterns(mlir::RewritePatternSet &patterns);

/// batch_matmul(softmax([causal_mask](scale * q k^T)), v) -> attention.
void populateFuseAttentionPatterns(mlir::RewritePatternSet &patterns);

/// nn.attention's output and log-sum-exp (nn.attention_grad's dq, dk, dv)
/// as nn ops over tiles of `keyTile` keys (DecomposeAttention.cpp), built
/// at `b`'s insertion point from the op's (converted) operands. Used by
/// gradc-decompose-attention and as the ops' lowering to linalg.
llvm::SmallVector<mlir::Value> decomposeAttention(mlir::OpBuilder &b,
                                                  nn::AttentionOp op,
                                                  mlir::ValueRange operands,
                                                  int64_t keyTile = 64);
llvm::SmallVector<mlir::Value> decomposeAttentionGrad(mlir::OpBuilder &b,
                                                      nn::AttentionGradOp op,
                                                      mlir::ValueRange operands,
                                                      int64_t keyTile = 64);

/// Every nn op to linalg/tensor/arith/math on tensors.
void populateLowerNNToLinalgPatterns(mlir::RewritePatternSet &patterns);

/// Builds, before the block's terminator, the gradients of the 0-D `loss`
/// with respect to each of `wrt`; zero for values the loss does not use.
mlir::FailureOr<llvm::SmallVector<mlir::Value>>
buildGradients(mlir::Block &block, mlir::Value loss,
               llvm::ArrayRef<mlir::Value> wrt);

/// Erases the pure ops of `block` whose results are unused.
void eraseDeadOps(mlir::Block &block);

/// Appends to `fn` the gradient of its first result (a 0-D loss) with
/// respect to each argument in `wrt`, as extra results. Fails, naming the
/// op, when an op on the path has no gradient rule.
mlir::LogicalResult differentiateFunction(mlir::func::FuncOp fn,
                                          llvm::ArrayRef<unsigned> wrt);

/// The stages `gradc compile --emit=` can stop after, in pipeline order.
enum class Stage { NN, Fused, Train, Linalg, LLVM };

/// Adds the passes that take an imported nn module to `stage`.
/// `threads` > 1 splits convolutions and matmuls across that many OpenMP
/// threads; `fuseAttention` false keeps attention as its matmuls and
/// softmax (for comparison).
void buildPipeline(mlir::OpPassManager &pm, Stage stage, int threads = 1,
                   bool fuseAttention = true);

/// Only the lowering steps: nn (any functions) to linalg, and to LLVM when
/// `stage` is Stage::LLVM. Tests use it on single-op functions.
void buildLoweringPipeline(mlir::OpPassManager &pm, Stage stage,
                           int threads = 1);

/// Registers the named pipelines (gradc-to-fused, gradc-to-train, ...) and
/// every pass with MLIR's registry, for gradc-opt.
void registerGradcPassesAndPipelines();

/// Registers the dialects gradc's pipelines produce.
void registerGradcDialects(mlir::DialectRegistry &registry);

} // namespace gradc

#endif // GRADC_PASSES_PASSES_H
