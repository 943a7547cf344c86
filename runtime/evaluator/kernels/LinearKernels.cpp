//===- LinearKernels.cpp - reference kernels of dense, matmuls, embedding -===//
//
// The reference kernels of dense, matmul, batch_matmul and embedding,
// attached to the ops as their ReferenceKernelOpInterface. Plain loops; an
// embedding id outside the table is an error here (the compiled code clamps
// it).
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

/// The ids of an embedding (i32 or i64) as int64, each checked against the
/// table's `rows`.
template <typename T>
absl::StatusOr<std::vector<int64_t>> embeddingIds(mlir::Operation *op,
                                                  mlir::Value ids, int64_t rows,
                                                  KernelEnv<T> &env) {
  std::vector<int64_t> out;
  std::visit(
      [&](const auto &t) {
        using E = std::decay_t<decltype(t.data[0])>;
        if constexpr (std::is_integral_v<E>)
          out.assign(t.data.begin(), t.data.end());
      },
      env.values.find(ids)->second);
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i] < 0 || out[i] >= rows)
      return absl::InvalidArgumentError(
          absl::StrCat(describe(op), ": id ", out[i], " at position ", i,
                       " is out of range [0, ", rows, ")"));
  return out;
}

struct EmbeddingKernel {
  template <typename T>
  static absl::Status run(EmbeddingOp op, KernelEnv<T> &env) {
    const HostTensor<T> &table = env.in(op.getTable());
    int64_t rows = table.dim(0), width = table.dim(1);
    auto ids = embeddingIds(op, op.getIds(), rows, env);
    if (!ids.ok())
      return ids.status();
    HostTensor<T> y = env.zeros(op.getOutput());
    for (size_t i = 0; i < ids->size(); ++i)
      std::copy_n(table.data.begin() + (*ids)[i] * width, width,
                  y.data.begin() + int64_t(i) * width);
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

struct EmbeddingGradKernel {
  template <typename T>
  static absl::Status run(EmbeddingGradOp op, KernelEnv<T> &env) {
    const HostTensor<T> &dy = env.in(op.getGrad());
    HostTensor<T> dt = env.zeros(op.getOutput());
    int64_t rows = dt.dim(0), width = dt.dim(1);
    auto ids = embeddingIds(op, op.getIds(), rows, env);
    if (!ids.ok())
      return ids.status();
    for (size_t i = 0; i < ids->size(); ++i)
      for (int64_t d = 0; d < width; ++d)
        dt[(*ids)[i] * width + d] += dy[int64_t(i) * width + d];
    env.set(op.getOutput(), std::move(dt));
    return absl::OkStatus();
  }
};

} // namespace

void attachLinearKernels(MLIRContext *ctx) {
  attach<DenseKernel, DenseOp>(ctx);
  attach<MatmulKernel, MatmulOp>(ctx);
  attach<EmbeddingKernel, EmbeddingOp>(ctx);
  attach<EmbeddingGradKernel, EmbeddingGradOp>(ctx);
  attach<BatchMatmulKernel, BatchMatmulOp>(ctx);
}

} // namespace gradc::kernels
