//===- GradientBuilder.h - gradient rules from primitive ops ----*- C++ -*-===//
//
// Gradient rules are written as compositions of the primitive nn ops (mul,
// sub, compare, select, reduce_sum, broadcast, ...), as tinygrad's rule
// table is; only conv, pooling, batch and layer normalization keep
// dedicated backward ops, whose fused forms are faster (batch norm's
// composed form materializes xhat, which two reductions read: measured 3 %
// slower on the ResNet example's step; layer norm's composed form trained a
// 32-channel conv net at 2,650 images/s, the fused one at 2,950). Elementwise
// fusion after the lowering to linalg turns a rule back into a few loops.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_IR_GRADIENTBUILDER_H
#define GRADC_IR_GRADIENTBUILDER_H

#include "ir/NNDialect.h"

namespace gradc::nn {

/// Creates primitive ops at one location.
class GradientBuilder {
public:
  GradientBuilder(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  mlir::Value add(mlir::Value x, mlir::Value y) {
    return b.create<AddOp>(loc, x, y);
  }
  mlir::Value sub(mlir::Value x, mlir::Value y) {
    return b.create<SubOp>(loc, x, y);
  }
  mlir::Value mul(mlir::Value x, mlir::Value y) {
    return b.create<MulOp>(loc, x, y);
  }
  mlir::Value div(mlir::Value x, mlir::Value y) {
    return b.create<DivOp>(loc, x, y);
  }
  mlir::Value maximum(mlir::Value x, mlir::Value y) {
    return b.create<MaximumOp>(loc, x, y);
  }
  mlir::Value minimum(mlir::Value x, mlir::Value y) {
    return b.create<MinimumOp>(loc, x, y);
  }
  mlir::Value exp(mlir::Value x) { return b.create<ExpOp>(loc, x); }
  mlir::Value rsqrt(mlir::Value x) { return b.create<RsqrtOp>(loc, x); }
  mlir::Value sign(mlir::Value x) { return b.create<SignOp>(loc, x); }
  mlir::Value select(mlir::Value cond, mlir::Value x, mlir::Value y) {
    return b.create<SelectOp>(loc, cond, x, y);
  }
  /// 1 where `lhs p rhs`, else 0.
  mlir::Value compare(mlir::Value lhs, ComparePredicate p, mlir::Value rhs);
  /// A tensor of `like`'s type filled with `value`.
  mlir::Value constant(double value, mlir::Value like);
  /// `x * value`.
  mlir::Value scale(mlir::Value x, double value) {
    return mul(x, constant(value, x));
  }

  mlir::Value reduceSum(mlir::Value x, llvm::ArrayRef<int64_t> axes);
  mlir::Value reduceMax(mlir::Value x, llvm::ArrayRef<int64_t> axes);
  /// `x` repeated to `like`'s type; x's dimension i is the result's dims[i].
  mlir::Value broadcast(mlir::Value x, mlir::Value like,
                        llvm::ArrayRef<int64_t> dims);
  /// The sum over every dimension but the last (a bias gradient), and its
  /// inverse: a per-channel vector repeated over `like`.
  mlir::Value sumToLast(mlir::Value x);
  mlir::Value broadcastFromLast(mlir::Value v, mlir::Value like);
  /// A sum (or max) over the last dimension, and its inverse: one value per
  /// row repeated along the rows of `like`.
  mlir::Value reduceRows(mlir::Value x, bool max = false);
  mlir::Value broadcastRows(mlir::Value v, mlir::Value like);

  /// One-hot targets [N, C] of `labels`, typed like `like`.
  mlir::Value oneHot(mlir::Value labels, mlir::Value like);
  mlir::Value argmax(mlir::Value x);

  mlir::OpBuilder &b;
  mlir::Location loc;
};

/// The gradient of activation `kind` (not none) given the output gradient
/// `dy` and `value`: the forward input for relu and leaky_relu, which may
/// also be the output as its sign is the input's; the output for the others.
mlir::Value activationGradient(GradientBuilder &g, ActivationKind kind,
                               mlir::Value dy, mlir::Value value, double alpha);

} // namespace gradc::nn

#endif // GRADC_IR_GRADIENTBUILDER_H
