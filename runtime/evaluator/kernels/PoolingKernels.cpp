//===- PoolingKernels.cpp - reference kernels -----------------------------===//
//
// The reference kernels of windowed and global pooling and their gradients,
// attached to the ops as their ReferenceKernelOpInterface. Max pooling scans
// its window in row-major order (the first maximum wins).
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

template <typename T>
absl::Status globalPool(KernelEnv<T> &env, Operation *op) {
  using Tensor = HostTensor<T>;
  const Tensor &x = env.in(op->getOperand(0));
  bool isMax = isa<GlobalMaxPool2DOp>(op);
  int64_t n = x.dim(0), hw = x.dim(1) * x.dim(2), c = x.dim(3);
  Tensor y({n, c});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      T acc = isMax ? -std::numeric_limits<T>::infinity() : T(0);
      for (int64_t p = 0; p < hw; ++p) {
        T v = x[(b * hw + p) * c + ch];
        acc = isMax ? std::max(acc, v) : acc + v;
      }
      y[b * c + ch] = isMax ? acc : acc / T(hw);
    }
  env.set(op->getResult(0), std::move(y));
  return absl::OkStatus();
}

template <typename T>
absl::Status pool(KernelEnv<T> &env, Operation *op, Value input,
                  llvm::ArrayRef<int64_t> window,
                  llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> pads,
                  bool isMax) {
  using Tensor = HostTensor<T>;
  const Tensor &x = env.in(input);
  Value out = op->getResult(0);
  Tensor y = env.zeros(out);
  Window g(x.shape, y.shape, window, strides, pads, {1, 1});
  // Running max (or sum) and in-bounds count per output element.
  std::vector<T> acc(y.numElements(),
                     isMax ? -std::numeric_limits<T>::infinity() : T(0));
  std::vector<int64_t> count(y.numElements(), 0);
  g.forEachTap([&](int64_t b, int64_t oy, int64_t ox, int64_t, int64_t,
                   int64_t iy, int64_t ix) {
    for (int64_t ch = 0; ch < g.c; ++ch) {
      int64_t o = ((b * g.oh + oy) * g.ow + ox) * g.c + ch;
      T v = x[g.inIndex(b, iy, ix, ch)];
      acc[o] = isMax ? std::max(acc[o], v) : acc[o] + v;
      ++count[o];
    }
  });
  for (int64_t o = 0; o < y.numElements(); ++o)
    y[o] = count[o] == 0 ? T(0) : isMax ? acc[o] : acc[o] / T(count[o]);
  env.set(out, std::move(y));
  return absl::OkStatus();
}

template <typename T>
absl::Status poolGrad(KernelEnv<T> &env, Operation *op, Value input, Value dyv,
                      llvm::ArrayRef<int64_t> window,
                      llvm::ArrayRef<int64_t> strides,
                      llvm::ArrayRef<int64_t> pads, bool isMax) {
  using Tensor = HostTensor<T>;
  const Tensor &x = env.in(input), &dy = env.in(dyv);
  Value out = op->getResult(0);
  Tensor dx = env.zeros(out);
  Window g(x.shape, dy.shape, window, strides, pads, {1, 1});
  // First pass: the winner (first maximum in row-major window order) or the
  // in-bounds count of each output element; second pass: route dy.
  int64_t n = dy.numElements();
  std::vector<int64_t> best(n, -1), count(n, 0);
  g.forEachTap([&](int64_t b, int64_t oy, int64_t ox, int64_t, int64_t,
                   int64_t iy, int64_t ix) {
    for (int64_t ch = 0; ch < g.c; ++ch) {
      int64_t o = ((b * g.oh + oy) * g.ow + ox) * g.c + ch;
      int64_t i = g.inIndex(b, iy, ix, ch);
      if (best[o] < 0 || x[i] > x[best[o]])
        best[o] = i;
      ++count[o];
    }
  });
  if (isMax) {
    for (int64_t o = 0; o < n; ++o)
      if (best[o] >= 0)
        dx[best[o]] += dy[o];
  } else {
    g.forEachTap([&](int64_t b, int64_t oy, int64_t ox, int64_t, int64_t,
                     int64_t iy, int64_t ix) {
      for (int64_t ch = 0; ch < g.c; ++ch) {
        int64_t o = ((b * g.oh + oy) * g.ow + ox) * g.c + ch;
        dx[g.inIndex(b, iy, ix, ch)] += dy[o] / T(count[o]);
      }
    });
  }
  env.set(out, std::move(dx));
  return absl::OkStatus();
}

struct MaxPool2DKernel {
  template <typename T>
  static absl::Status run(MaxPool2DOp op, KernelEnv<T> &env) {
    return pool<T>(env, op, op.getInput(), op.getWindow(), op.getStrides(),
                   op.getPads(), /*isMax=*/true);
  }
};

struct AvgPool2DKernel {
  template <typename T>
  static absl::Status run(AvgPool2DOp op, KernelEnv<T> &env) {
    return pool<T>(env, op, op.getInput(), op.getWindow(), op.getStrides(),
                   op.getPads(), /*isMax=*/false);
  }
};

struct MaxPool2DGradKernel {
  template <typename T>
  static absl::Status run(MaxPool2DGradOp op, KernelEnv<T> &env) {
    return poolGrad<T>(env, op, op.getInput(), op.getGradOutput(),
                       op.getWindow(), op.getStrides(), op.getPads(),
                       /*isMax=*/true);
  }
};

struct AvgPool2DGradKernel {
  template <typename T>
  static absl::Status run(AvgPool2DGradOp op, KernelEnv<T> &env) {
    return poolGrad<T>(env, op, op.getInput(), op.getGradOutput(),
                       op.getWindow(), op.getStrides(), op.getPads(),
                       /*isMax=*/false);
  }
};

struct GlobalAvgPool2DKernel {
  template <typename T>
  static absl::Status run(Operation *op, KernelEnv<T> &env) {
    return globalPool<T>(env, op);
  }
};

} // namespace

void attachPoolingKernels(MLIRContext *ctx) {
  attach<MaxPool2DKernel, MaxPool2DOp>(ctx);
  attach<AvgPool2DKernel, AvgPool2DOp>(ctx);
  attach<MaxPool2DGradKernel, MaxPool2DGradOp>(ctx);
  attach<AvgPool2DGradKernel, AvgPool2DGradOp>(ctx);
  attach<GlobalAvgPool2DKernel, GlobalAvgPool2DOp, GlobalMaxPool2DOp>(ctx);
}

} // namespace gradc::kernels
