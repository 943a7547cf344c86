//===- NormalizationKernels.cpp - reference kernels -----------------------===//
//
// The reference kernels of batch and layer normalization, attached to the
// ops as their ReferenceKernelOpInterface. Batch norm: per-channel
// statistics over every other dimension; layer norm: per-row statistics
// over the last dimension.
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

/// Which elements of x count: all, or with `rows` (labels [N]) those of
/// the rows not labelled -1 (padding). `m` is their number per channel.
struct RowMask {
  std::vector<bool> keep; // per row
  int64_t perRow = 1;
  int64_t m = 1;

  bool counts(int64_t i) const { return keep[i / perRow]; }
};

template <typename T>
RowMask rowMask(KernelEnv<T> &env, Value rows, const HostTensor<T> &x) {
  RowMask r;
  int64_t n = x.shape[0], c = x.shape.back();
  r.perRow = x.numElements() / std::max<int64_t>(n, 1);
  r.keep.assign(n, true);
  if (rows) {
    const HostTensor<int32_t> &labels = env.labels(rows);
    for (int64_t i = 0; i < n; ++i)
      r.keep[i] = labels[i] >= 0;
  }
  int64_t kept = std::count(r.keep.begin(), r.keep.end(), true);
  r.m = std::max<int64_t>(kept * (r.perRow / c), 1);
  return r;
}

/// Per channel (the last dimension): with `mean`/`var` given, normalizes
/// with them; otherwise with the batch's mean and biased variance (over
/// the rows that count), which become results 1 and 2.
template <typename T>
absl::Status batchNorm(KernelEnv<T> &env, Operation *op, Value xv, Value gamma,
                       Value beta, const HostTensor<T> *mean,
                       const HostTensor<T> *var, double eps,
                       Value rows = Value()) {
  using Tensor = HostTensor<T>;
  const Tensor &x = env.in(xv), &g = env.in(gamma), &bt = env.in(beta);
  int64_t c = x.shape.back();
  Tensor mu({c}), sigma2({c});
  if (mean) {
    mu = *mean;
    sigma2 = *var;
  } else {
    RowMask r = rowMask(env, rows, x);
    for (int64_t i = 0; i < x.numElements(); ++i)
      if (r.counts(i))
        mu[i % c] += x[i];
    for (int64_t ch = 0; ch < c; ++ch)
      mu[ch] /= T(r.m);
    for (int64_t i = 0; i < x.numElements(); ++i)
      if (r.counts(i))
        sigma2[i % c] += (x[i] - mu[i % c]) * (x[i] - mu[i % c]);
    for (int64_t ch = 0; ch < c; ++ch)
      sigma2[ch] /= T(r.m);
  }
  Tensor y(x.shape);
  for (int64_t i = 0; i < x.numElements(); ++i) {
    int64_t ch = i % c;
    y[i] = (x[i] - mu[ch]) / std::sqrt(sigma2[ch] + T(eps)) * g[ch] + bt[ch];
  }
  env.set(op->getResult(0), std::move(y));
  if (!mean) {
    env.set(op->getResult(1), std::move(mu));
    env.set(op->getResult(2), std::move(sigma2));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status batchNormGrad(KernelEnv<T> &env, BatchNormGradOp op) {
  using Tensor = HostTensor<T>;
  const Tensor &dy = env.in(op.getGradOutput()), &x = env.in(op.getInput()),
               &g = env.in(op.getGamma()), &mu = env.in(op.getMean()),
               &var = env.in(op.getVariance());
  T eps = T(f64(op.getEpsilon()));
  int64_t c = x.shape.back();
  RowMask r = rowMask(env, op.getRows(), x);
  T m = T(r.m);
  Tensor dgamma({c}), dbeta({c}), dx(x.shape);
  auto xhat = [&](int64_t i) {
    return (x[i] - mu[i % c]) / std::sqrt(var[i % c] + eps);
  };
  for (int64_t i = 0; i < x.numElements(); ++i) {
    if (!r.counts(i))
      continue;
    dbeta[i % c] += dy[i];
    dgamma[i % c] += dy[i] * xhat(i);
  }
  for (int64_t i = 0; i < x.numElements(); ++i) {
    int64_t ch = i % c;
    T rstd = T(1) / std::sqrt(var[ch] + eps);
    dx[i] = r.counts(i) ? g[ch] * rstd / m *
                              (m * dy[i] - dbeta[ch] - xhat(i) * dgamma[ch])
                        : T(0);
  }
  env.set(op.getGradInput(), std::move(dx));
  env.set(op.getGradGamma(), std::move(dgamma));
  env.set(op.getGradBeta(), std::move(dbeta));
  return absl::OkStatus();
}

struct BatchNormKernel {
  template <typename T>
  static absl::Status run(BatchNormOp op, KernelEnv<T> &env) {
    return batchNorm<T>(env, op, op.getInput(), op.getGamma(), op.getBeta(),
                        &env.in(op.getMean()), &env.in(op.getVariance()),
                        f64(op.getEpsilon()));
  }
};

struct BatchNormTrainKernel {
  template <typename T>
  static absl::Status run(BatchNormTrainOp op, KernelEnv<T> &env) {
    return batchNorm<T>(env, op, op.getInput(), op.getGamma(), op.getBeta(),
                        nullptr, nullptr, f64(op.getEpsilon()), op.getRows());
  }
};

struct BatchNormGradKernel {
  template <typename T>
  static absl::Status run(BatchNormGradOp op, KernelEnv<T> &env) {
    return batchNormGrad<T>(env, op);
  }
};

struct MovingAverageKernel {
  template <typename T>
  static absl::Status run(MovingAverageOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    Tensor r = env.in(op.getRunning());
    const Tensor &v = env.in(op.getValue());
    T mu = T(f64(op.getMomentum())), k = T(f64(op.getScale()));
    if (op.getRows()) {
      // M / (M - 1) for M the elements of the rows that count.
      const HostTensor<int32_t> &labels = env.labels(op.getRows());
      T m = T(std::count_if(labels.data.begin(), labels.data.end(),
                            [](int32_t l) { return l >= 0; }) *
              op.getPerRow());
      k = m > T(1) ? m / (m - T(1)) : T(1);
    }
    for (int64_t i = 0; i < r.numElements(); ++i)
      r[i] = mu * r[i] + (T(1) - mu) * k * v[i];
    env.set(op.getNewRunning(), std::move(r));
    return absl::OkStatus();
  }
};

/// The mean and 1 / sqrt(variance + eps) of each row of D values (the last
/// dimension), the variance biased.
template <typename T>
void rowStatistics(const HostTensor<T> &x, T eps, std::vector<T> &mean,
                   std::vector<T> &rstd) {
  int64_t d = x.shape.back(), rows = x.numElements() / d;
  mean.assign(rows, T(0));
  rstd.assign(rows, T(0));
  for (int64_t r = 0; r < rows; ++r) {
    T var = 0;
    for (int64_t j = 0; j < d; ++j)
      mean[r] += x[r * d + j];
    mean[r] /= T(d);
    for (int64_t j = 0; j < d; ++j)
      var += (x[r * d + j] - mean[r]) * (x[r * d + j] - mean[r]);
    rstd[r] = T(1) / std::sqrt(var / T(d) + eps);
  }
}

/// y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, per row.
struct LayerNormKernel {
  template <typename T>
  static absl::Status run(LayerNormOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    const Tensor &x = env.in(op.getInput()), &g = env.in(op.getGamma()),
                 &bt = env.in(op.getBeta());
    std::vector<T> mean, rstd;
    rowStatistics(x, T(f64(op.getEpsilon())), mean, rstd);
    int64_t d = x.shape.back();
    Tensor y(x.shape);
    for (int64_t i = 0; i < x.numElements(); ++i)
      y[i] = (x[i] - mean[i / d]) * rstd[i / d] * g[i % d] + bt[i % d];
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

/// Per row, g = dy * gamma: dx = rstd * (g - mean(g) - xhat * mean(g *
/// xhat)); over the rows, dgamma = sum(dy * xhat), dbeta = sum(dy).
struct LayerNormGradKernel {
  template <typename T>
  static absl::Status run(LayerNormGradOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    const Tensor &dy = env.in(op.getGradOutput()), &x = env.in(op.getInput()),
                 &g = env.in(op.getGamma());
    std::vector<T> mean, rstd;
    rowStatistics(x, T(f64(op.getEpsilon())), mean, rstd);
    int64_t d = x.shape.back(), rows = x.numElements() / d;
    Tensor dx(x.shape), dgamma({d}), dbeta({d});
    for (int64_t r = 0; r < rows; ++r) {
      T sumG = 0, sumGX = 0;
      for (int64_t j = 0, i = r * d; j < d; ++j, ++i) {
        T xhat = (x[i] - mean[r]) * rstd[r];
        sumG += dy[i] * g[j];
        sumGX += dy[i] * g[j] * xhat;
        dgamma[j] += dy[i] * xhat;
        dbeta[j] += dy[i];
      }
      for (int64_t j = 0, i = r * d; j < d; ++j, ++i) {
        T xhat = (x[i] - mean[r]) * rstd[r];
        dx[i] = rstd[r] * (dy[i] * g[j] - sumG / T(d) - xhat * sumGX / T(d));
      }
    }
    env.set(op.getGradInput(), std::move(dx));
    env.set(op.getGradGamma(), std::move(dgamma));
    env.set(op.getGradBeta(), std::move(dbeta));
    return absl::OkStatus();
  }
};

} // namespace

void attachNormalizationKernels(MLIRContext *ctx) {
  attach<BatchNormKernel, BatchNormOp>(ctx);
  attach<BatchNormTrainKernel, BatchNormTrainOp>(ctx);
  attach<BatchNormGradKernel, BatchNormGradOp>(ctx);
  attach<MovingAverageKernel, MovingAverageOp>(ctx);
  attach<LayerNormKernel, LayerNormOp>(ctx);
  attach<LayerNormGradKernel, LayerNormGradOp>(ctx);
}

} // namespace gradc::kernels
