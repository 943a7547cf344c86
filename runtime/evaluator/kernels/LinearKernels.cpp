//===- LinearKernels.cpp - reference kernels of dense, matmuls, embedding -===//
//
// The reference kernels of dense, matmul, batch_matmul, embedding and
// attention (its scores materialized one query row at a time),
// attached to the ops as their ReferenceKernelOpInterface. Plain loops; an
// embedding id outside the table is an error here (the compiled code clamps
// it).
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/kernels/KernelEnv.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

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

/// The sizes of attention over q [b..., T, D], k [b..., S, D], v [b..., S, E]:
/// its batches (the leading dimensions' product) and T, S, D, E.
struct AttentionSizes {
  template <typename T>
  AttentionSizes(const HostTensor<T> &q, const HostTensor<T> &v) {
    int64_t r = q.rank();
    t = q.dim(r - 2);
    d = q.dim(r - 1);
    s = v.dim(r - 2);
    e = v.dim(r - 1);
    batches = q.numElements() / (t * d);
  }
  int64_t batches, t, s, d, e;
};

/// The probabilities of one batch's query i over its keys, from the scaled
/// scores and (when known) the log-sum-exp; returns the log-sum-exp.
template <typename T>
T attentionRow(const T *q, const T *k, const AttentionSizes &z, int64_t i,
               double scale, bool causal, const T *lse, std::vector<T> &p) {
  int64_t keys = causal ? std::min(z.s, i + 1) : z.s;
  p.assign(size_t(z.s), T(0));
  T max = -std::numeric_limits<T>::infinity();
  for (int64_t j = 0; j < keys; ++j) {
    T dot = 0;
    for (int64_t l = 0; l < z.d; ++l)
      dot += q[i * z.d + l] * k[j * z.d + l];
    p[size_t(j)] = dot * T(scale);
    max = std::max(max, p[size_t(j)]);
  }
  T sum = 0;
  for (int64_t j = 0; j < keys; ++j)
    sum += std::exp(p[size_t(j)] - max);
  T logSum = lse ? *lse : max + std::log(sum);
  for (int64_t j = 0; j < keys; ++j)
    p[size_t(j)] = std::exp(p[size_t(j)] - logSum);
  return logSum;
}

struct AttentionKernel {
  template <typename T>
  static absl::Status run(AttentionOp op, KernelEnv<T> &env) {
    const HostTensor<T> &q = env.in(op.getQuery()), &k = env.in(op.getKey()),
                        &v = env.in(op.getValue());
    HostTensor<T> y = env.zeros(op.getOutput());
    HostTensor<T> lse = env.zeros(op.getLogsumexp());
    AttentionSizes z(q, v);
    std::vector<T> p;
    for (int64_t b = 0; b < z.batches; ++b)
      for (int64_t i = 0; i < z.t; ++i) {
        lse[b * z.t + i] = attentionRow(&q[b * z.t * z.d], &k[b * z.s * z.d], z,
                                        i, f64(op.getScale()), op.getCausal(),
                                        (const T *)nullptr, p);
        for (int64_t j = 0; j < z.s; ++j)
          for (int64_t c = 0; c < z.e; ++c)
            y[(b * z.t + i) * z.e + c] +=
                p[size_t(j)] * v[(b * z.s + j) * z.e + c];
      }
    env.set(op.getOutput(), std::move(y));
    env.set(op.getLogsumexp(), std::move(lse));
    return absl::OkStatus();
  }
};

struct AttentionGradKernel {
  template <typename T>
  static absl::Status run(AttentionGradOp op, KernelEnv<T> &env) {
    const HostTensor<T> &dy = env.in(op.getGradOutput()),
                        &q = env.in(op.getQuery()), &k = env.in(op.getKey()),
                        &v = env.in(op.getValue()), &y = env.in(op.getOutput()),
                        &lse = env.in(op.getLogsumexp());
    HostTensor<T> dq = env.zeros(op.getGradQuery()),
                  dk = env.zeros(op.getGradKey()),
                  dv = env.zeros(op.getGradValue());
    AttentionSizes z(q, v);
    T scale = T(f64(op.getScale()));
    std::vector<T> p;
    for (int64_t b = 0; b < z.batches; ++b)
      for (int64_t i = 0; i < z.t; ++i) {
        int64_t row = b * z.t + i;
        attentionRow(&q[b * z.t * z.d], &k[b * z.s * z.d], z, i,
                     f64(op.getScale()), op.getCausal(), &lse[row], p);
        T rowDot = 0; // rowsum(dO * O)
        for (int64_t c = 0; c < z.e; ++c)
          rowDot += dy[row * z.e + c] * y[row * z.e + c];
        for (int64_t j = 0; j < z.s; ++j) {
          int64_t key = b * z.s + j;
          T dp = 0;
          for (int64_t c = 0; c < z.e; ++c) {
            dp += dy[row * z.e + c] * v[key * z.e + c];
            dv[key * z.e + c] += p[size_t(j)] * dy[row * z.e + c];
          }
          T ds = p[size_t(j)] * (dp - rowDot) * scale;
          for (int64_t l = 0; l < z.d; ++l) {
            dq[row * z.d + l] += ds * k[key * z.d + l];
            dk[key * z.d + l] += ds * q[row * z.d + l];
          }
        }
      }
    env.set(op.getGradQuery(), std::move(dq));
    env.set(op.getGradKey(), std::move(dk));
    env.set(op.getGradValue(), std::move(dv));
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
  attach<AttentionKernel, AttentionOp>(ctx);
  attach<AttentionGradKernel, AttentionGradOp>(ctx);
}

} // namespace gradc::kernels
