//===- NormalizationKernels.cpp - reference kernels -----------------------===//
//
// The reference kernels of batch normalization, attached to the ops
// as their ReferenceKernelOpInterface. Per-channel statistics over every other
// dimension.
//
//===----------------------------------------------------------------------===//

#include "runtime/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

/// Per channel (the last dimension): with `mean`/`var` given, normalizes
/// with them; otherwise with the batch's mean and biased variance, which
/// become results 1 and 2.
template <typename T>
absl::Status batchNorm(KernelEnv<T> &env, Operation *op, Value xv, Value gamma,
                       Value beta, const HostTensor<T> *mean,
                       const HostTensor<T> *var, double eps) {
  using Tensor = HostTensor<T>;
  const Tensor &x = env.in(xv), &g = env.in(gamma), &bt = env.in(beta);
  int64_t c = x.shape.back(), m = x.numElements() / c;
  Tensor mu({c}), sigma2({c});
  if (mean) {
    mu = *mean;
    sigma2 = *var;
  } else {
    for (int64_t i = 0; i < x.numElements(); ++i)
      mu[i % c] += x[i];
    for (int64_t ch = 0; ch < c; ++ch)
      mu[ch] /= T(m);
    for (int64_t i = 0; i < x.numElements(); ++i)
      sigma2[i % c] += (x[i] - mu[i % c]) * (x[i] - mu[i % c]);
    for (int64_t ch = 0; ch < c; ++ch)
      sigma2[ch] /= T(m);
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
  int64_t c = x.shape.back(), m = x.numElements() / c;
  Tensor dgamma({c}), dbeta({c}), dx(x.shape);
  auto xhat = [&](int64_t i) {
    return (x[i] - mu[i % c]) / std::sqrt(var[i % c] + eps);
  };
  for (int64_t i = 0; i < x.numElements(); ++i) {
    dbeta[i % c] += dy[i];
    dgamma[i % c] += dy[i] * xhat(i);
  }
  for (int64_t i = 0; i < x.numElements(); ++i) {
    int64_t ch = i % c;
    T rstd = T(1) / std::sqrt(var[ch] + eps);
    dx[i] =
        g[ch] * rstd / T(m) * (T(m) * dy[i] - dbeta[ch] - xhat(i) * dgamma[ch]);
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
                        nullptr, nullptr, f64(op.getEpsilon()));
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
    for (int64_t i = 0; i < r.numElements(); ++i)
      r[i] = mu * r[i] + (T(1) - mu) * k * v[i];
    env.set(op.getNewRunning(), std::move(r));
    return absl::OkStatus();
  }
};

} // namespace

void attachNormalizationKernels(MLIRContext *ctx) {
  attach<BatchNormKernel, BatchNormOp>(ctx);
  attach<BatchNormTrainKernel, BatchNormTrainOp>(ctx);
  attach<BatchNormGradKernel, BatchNormGradOp>(ctx);
  attach<MovingAverageKernel, MovingAverageOp>(ctx);
}

} // namespace gradc::kernels
