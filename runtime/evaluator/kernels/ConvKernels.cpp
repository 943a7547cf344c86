//===- ConvKernels.cpp - reference kernels --------------------------------===//
//
// The reference kernels of conv2d (also grouped and folded with batch norm) and
// its gradients, attached to the ops as their ReferenceKernelOpInterface. A
// convolution sums over its taps in the order of its definition.
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

template <typename T, typename OpT>
absl::Status conv2d(KernelEnv<T> &env, OpT op) {
  using Tensor = HostTensor<T>;
  const Tensor &x = env.in(op.getInput()), &f = env.in(op.getFilter());
  Tensor y = env.zeros(op.getOutput());
  Window g(x.shape, y.shape, {f.dim(0), f.dim(1)}, op.getStrides(),
           op.getPads(), op.getDilations());
  // Filter o of group o / fg reads that group's cg input channels.
  int64_t nf = f.dim(3), cg = f.dim(2), fg = nf / op.getGroups();
  g.forEachTap([&](int64_t b, int64_t oy, int64_t ox, int64_t ky, int64_t kx,
                   int64_t iy, int64_t ix) {
    for (int64_t o = 0; o < nf; ++o) {
      T sum = 0;
      for (int64_t ch = 0; ch < cg; ++ch)
        sum += x[g.inIndex(b, iy, ix, o / fg * cg + ch)] *
               f[((ky * g.kw + kx) * cg + ch) * nf + o];
      y[((b * g.oh + oy) * g.ow + ox) * nf + o] += sum;
    }
  });
  T alpha = T(f64(op.getAlpha()));
  const Tensor *bias = op.getBias() ? &env.in(op.getBias()) : nullptr;
  for (int64_t i = 0; i < y.numElements(); ++i) {
    if (bias)
      y[i] += (*bias)[i % nf];
    if constexpr (std::is_same_v<OpT, Conv2DBatchNormOp>) {
      int64_t o = i % nf;
      T eps = T(f64(op.getEpsilon()));
      y[i] = (y[i] - env.in(op.getMean())[o]) /
                 std::sqrt(env.in(op.getVariance())[o] + eps) *
                 env.in(op.getGamma())[o] +
             env.in(op.getBeta())[o];
    }
    y[i] =
        activate<T>(stringifyActivationKind(op.getActivation()), y[i], alpha);
  }
  env.set(op.getOutput(), std::move(y));
  return absl::OkStatus();
}

struct Conv2DKernel {
  template <typename T>
  static absl::Status run(Conv2DOp op, KernelEnv<T> &env) {
    return conv2d<T>(env, op);
  }
};

struct Conv2DBatchNormKernel {
  template <typename T>
  static absl::Status run(Conv2DBatchNormOp op, KernelEnv<T> &env) {
    return conv2d<T>(env, op);
  }
};

struct Conv2DGradInputKernel {
  template <typename T>
  static absl::Status run(Conv2DGradInputOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    const Tensor &dy = env.in(op.getGradOutput()), &f = env.in(op.getFilter());
    Tensor dx = env.zeros(op.getGradInput());
    Window g(dx.shape, dy.shape, {f.dim(0), f.dim(1)}, op.getStrides(),
             op.getPads(), op.getDilations());
    int64_t nf = f.dim(3), cg = f.dim(2), fg = nf / op.getGroups();
    // The transpose of the forward sum: every tap sends dy * w back to
    // the input element it read.
    g.forEachTap([&](int64_t b, int64_t oy, int64_t ox, int64_t ky, int64_t kx,
                     int64_t iy, int64_t ix) {
      for (int64_t o = 0; o < nf; ++o)
        for (int64_t ch = 0; ch < cg; ++ch)
          dx[g.inIndex(b, iy, ix, o / fg * cg + ch)] +=
              dy[((b * g.oh + oy) * g.ow + ox) * nf + o] *
              f[((ky * g.kw + kx) * cg + ch) * nf + o];
    });
    env.set(op.getGradInput(), std::move(dx));
    return absl::OkStatus();
  }
};

struct Conv2DGradFilterKernel {
  template <typename T>
  static absl::Status run(Conv2DGradFilterOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    const Tensor &x = env.in(op.getInput()), &dy = env.in(op.getGradOutput());
    Tensor dw = env.zeros(op.getGradFilter());
    Window g(x.shape, dy.shape, {dw.dim(0), dw.dim(1)}, op.getStrides(),
             op.getPads(), op.getDilations());
    int64_t nf = dw.dim(3), cg = dw.dim(2), fg = nf / op.getGroups();
    g.forEachTap([&](int64_t b, int64_t oy, int64_t ox, int64_t ky, int64_t kx,
                     int64_t iy, int64_t ix) {
      for (int64_t o = 0; o < nf; ++o)
        for (int64_t ch = 0; ch < cg; ++ch)
          dw[((ky * g.kw + kx) * cg + ch) * nf + o] +=
              x[g.inIndex(b, iy, ix, o / fg * cg + ch)] *
              dy[((b * g.oh + oy) * g.ow + ox) * nf + o];
    });
    env.set(op.getGradFilter(), std::move(dw));
    return absl::OkStatus();
  }
};

} // namespace

void attachConvKernels(MLIRContext *ctx) {
  attach<Conv2DKernel, Conv2DOp>(ctx);
  attach<Conv2DBatchNormKernel, Conv2DBatchNormOp>(ctx);
  attach<Conv2DGradInputKernel, Conv2DGradInputOp>(ctx);
  attach<Conv2DGradFilterKernel, Conv2DGradFilterOp>(ctx);
}

} // namespace gradc::kernels
