//===- ShapeKernels.cpp - reference kernels -------------------------------===//
//
// The reference kernels of flatten, reshape, concat, slice and transpose,
// attached to the ops as their ReferenceKernelOpInterface. Row-major copies.
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

struct FlattenKernel {
  template <typename T>
  static absl::Status run(Operation *op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    // Row-major data is unchanged; only the shape is new.
    Tensor y = env.in(op->getOperand(0));
    y.shape = shapeOf(op->getResult(0));
    env.set(op->getResult(0), std::move(y));
    return absl::OkStatus();
  }
};

struct ConcatKernel {
  template <typename T>
  static absl::Status run(ConcatOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    Tensor y = env.zeros(op.getOutput());
    // Rows of the axis and everything after it, copied input by input.
    int64_t axis = op.getAxis(), outer = 1, offset = 0;
    for (int64_t d = 0; d < axis; ++d)
      outer *= y.dim(d);
    int64_t outRow = y.numElements() / outer;
    for (Value v : op.getInputs()) {
      const Tensor &x = env.in(v);
      int64_t row = x.numElements() / outer;
      for (int64_t i = 0; i < outer; ++i)
        for (int64_t j = 0; j < row; ++j)
          y[i * outRow + offset + j] = x[i * row + j];
      offset += row;
    }
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

struct SliceKernel {
  template <typename T> static absl::Status run(SliceOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    const Tensor &x = env.in(op.getInput());
    Tensor y = env.zeros(op.getOutput());
    int64_t axis = op.getAxis(), outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= x.dim(d);
    for (int64_t d = axis + 1; d < x.rank(); ++d)
      inner *= x.dim(d);
    int64_t size = op.getSize(), from = op.getOffset() * inner;
    for (int64_t i = 0; i < outer; ++i)
      for (int64_t j = 0; j < size * inner; ++j)
        y[i * size * inner + j] = x[i * x.dim(axis) * inner + from + j];
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

/// y[i_0, ..., i_r] = x[j] with j[perm[k]] = i_k.
struct TransposeKernel {
  template <typename T>
  static absl::Status run(TransposeOp op, KernelEnv<T> &env) {
    const HostTensor<T> &x = env.in(op.getInput());
    HostTensor<T> y = env.zeros(op.getOutput());
    ArrayRef<int64_t> perm = op.getPerm();
    int64_t rank = x.rank();
    std::vector<int64_t> xStride(rank, 1), index(rank, 0);
    for (int64_t d = rank - 2; d >= 0; --d)
      xStride[d] = xStride[d + 1] * x.dim(d + 1);
    for (int64_t flat = 0; flat < y.numElements(); ++flat) {
      int64_t from = 0;
      for (int64_t k = 0; k < rank; ++k)
        from += index[k] * xStride[perm[k]];
      y[flat] = x[from];
      for (int64_t k = rank - 1; k >= 0 && ++index[k] == y.dim(k); --k)
        index[k] = 0;
    }
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

} // namespace

void attachShapeKernels(MLIRContext *ctx) {
  attach<FlattenKernel, FlattenOp, ReshapeOp>(ctx);
  attach<ConcatKernel, ConcatOp>(ctx);
  attach<SliceKernel, SliceOp>(ctx);
  attach<TransposeKernel, TransposeOp>(ctx);
}

} // namespace gradc::kernels
