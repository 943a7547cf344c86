//===- LinearKernels.cpp - reference kernels of dense and the matmuls -----===//
//
// The reference kernels of dense, matmul and batch_matmul, attached to the
// ops as their ReferenceKernelOpInterface. Plain triple loops.
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

struct DenseKernel {
  template <typename T> static absl::Status run(DenseOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    const Tensor &x = env.in(op.getInput()), &w = env.in(op.getWeight());
    Tensor y = env.zeros(op.getOutput());
    const Tensor *bias = op.getBias() ? &env.in(op.getBias()) : nullptr;
    int64_t n = x.dim(0), k = x.dim(1), m = w.dim(1);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        T sum = bias ? (*bias)[j] : T(0);
        for (int64_t l = 0; l < k; ++l)
          sum += x[i * k + l] * w[l * m + j];
        y[i * m + j] = sum;
      }
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

struct MatmulKernel {
  template <typename T>
  static absl::Status run(MatmulOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    const Tensor &a = env.in(op.getLhs()), &b = env.in(op.getRhs());
    Tensor y = env.zeros(op.getOutput());
    bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
    int64_t m = y.dim(0), n = y.dim(1), k = ta ? a.dim(0) : a.dim(1);
    // op(a)[i, l] and op(b)[l, j], reading the stored matrices.
    auto at = [&](int64_t i, int64_t l) {
      return ta ? a[l * a.dim(1) + i] : a[i * a.dim(1) + l];
    };
    auto bt = [&](int64_t l, int64_t j) {
      return tb ? b[j * b.dim(1) + l] : b[l * b.dim(1) + j];
    };
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        T sum = 0;
        for (int64_t l = 0; l < k; ++l)
          sum += at(i, l) * bt(l, j);
        y[i * n + j] = sum;
      }
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

/// For every batch index of the output, the matrix product of the operands'
/// matrices at that index (a broadcast dimension read at 0).
struct BatchMatmulKernel {
  template <typename T>
  static absl::Status run(BatchMatmulOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    const Tensor &a = env.in(op.getLhs()), &b = env.in(op.getRhs());
    Tensor y = env.zeros(op.getOutput());
    bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
    int64_t rank = y.rank(), ra = a.rank(), rb = b.rank();
    int64_t m = y.dim(rank - 2), n = y.dim(rank - 1);
    int64_t k = ta ? a.dim(ra - 2) : a.dim(ra - 1);
    int64_t aRows = a.dim(ra - 2), aCols = a.dim(ra - 1);
    int64_t bRows = b.dim(rb - 2), bCols = b.dim(rb - 1);
    int64_t batches = y.numElements() / (m * n);
    for (int64_t flat = 0; flat < batches; ++flat) {
      // The offsets of this batch index's matrices in a and b.
      int64_t rest = flat, offA = 0, offB = 0, strideA = aRows * aCols,
              strideB = bRows * bCols;
      for (int64_t d = rank - 3; d >= 0; --d) {
        int64_t i = rest % y.dim(d);
        rest /= y.dim(d);
        int64_t da = d - (rank - ra), db = d - (rank - rb);
        if (da >= 0) {
          offA += (a.dim(da) == 1 ? 0 : i) * strideA;
          strideA *= a.dim(da);
        }
        if (db >= 0) {
          offB += (b.dim(db) == 1 ? 0 : i) * strideB;
          strideB *= b.dim(db);
        }
      }
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          T sum = 0;
          for (int64_t l = 0; l < k; ++l)
            sum += a[offA + (ta ? l * aCols + i : i * aCols + l)] *
                   b[offB + (tb ? j * bCols + l : l * bCols + j)];
          y[(flat * m + i) * n + j] = sum;
        }
    }
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

} // namespace

void attachLinearKernels(MLIRContext *ctx) {
  attach<DenseKernel, DenseOp>(ctx);
  attach<MatmulKernel, MatmulOp>(ctx);
  attach<BatchMatmulKernel, BatchMatmulOp>(ctx);
}

} // namespace gradc::kernels
