//===- ElementwiseKernels.cpp - reference kernels of activations ---------===//
//
// The reference kernels of activations (GELU and its gradient too), dropout,
// add and constants, attached to the ops as their ReferenceKernelOpInterface.
// One formula per element; softmax per row.
//
//===----------------------------------------------------------------------===//

#include "ir/DropoutMask.h"
#include "ir/UnaryFunctions.h"
#include "runtime/evaluator/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

template <typename T>
absl::Status lastDimNormalize(KernelEnv<T> &env, Operation *op,
                              bool logSoftmax) {
  using Tensor = HostTensor<T>;
  Tensor y = env.in(op->getOperand(0));
  int64_t c = y.shape.empty() ? 1 : y.shape.back();
  for (int64_t row = 0; row < y.numElements(); row += c) {
    T *v = &y[row];
    T m = *std::max_element(v, v + c);
    T sum = 0;
    for (int64_t j = 0; j < c; ++j)
      sum += std::exp(v[j] - m);
    for (int64_t j = 0; j < c; ++j)
      v[j] = logSoftmax ? v[j] - m - std::log(sum) : std::exp(v[j] - m) / sum;
  }
  env.set(op->getResult(0), std::move(y));
  return absl::OkStatus();
}

struct ReluKernel {
  template <typename T>
  static absl::Status run(Operation *op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    Tensor y = env.in(op->getOperand(0));
    T alpha = 0;
    if (auto leaky = dyn_cast<LeakyReluOp>(op))
      alpha = T(f64(leaky.getAlpha()));
    for (T &v : y.data) {
      if (isa<ReluOp>(op))
        v = activate<T>("relu", v, 0);
      else if (isa<LeakyReluOp>(op))
        v = activate<T>("leaky_relu", v, alpha);
      else if (isa<SigmoidOp>(op))
        v = T(1) / (T(1) + std::exp(-v));
      else
        v = std::tanh(v);
    }
    env.set(op->getResult(0), std::move(y));
    return absl::OkStatus();
  }
};

struct SoftmaxKernel {
  template <typename T>
  static absl::Status run(SoftmaxOp op, KernelEnv<T> &env) {
    return lastDimNormalize<T>(env, op, false);
  }
};

struct LogSoftmaxKernel {
  template <typename T>
  static absl::Status run(LogSoftmaxOp op, KernelEnv<T> &env) {
    return lastDimNormalize<T>(env, op, true);
  }
};

struct PReluKernel {
  template <typename T> static absl::Status run(PReluOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    Tensor y = env.in(op.getInput());
    const Tensor &alpha = env.in(op.getAlpha());
    int64_t c = alpha.dim(0);
    for (int64_t i = 0; i < y.numElements(); ++i)
      if (!(y[i] >= T(0)))
        y[i] *= alpha[i % c];
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

struct DropoutKernel {
  template <typename T>
  static absl::Status run(DropoutOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    Tensor y = env.in(op.getInput());
    if (op.getStep()) {
      int64_t s = env.step(op.getStep()), seed = op.getSeed();
      double rate = f64(op.getRate());
      T scale = T(1.0 / (1.0 - rate));
      for (int64_t i = 0; i < y.numElements(); ++i)
        y[i] = dropoutKeep(seed, s, i, rate) ? y[i] * scale : T(0);
    }
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

/// GELU by its definition: x Phi(x), Phi exact (erf) or its tanh form; the
/// gradient kernel is dy (Phi(x) + x Phi'(x)).
template <typename T> std::pair<T, T> geluPhi(T x, bool approximate) {
  if (!approximate)
    return {T(0.5) * (T(1) + std::erf(x / std::sqrt(T(2)))),
            std::exp(T(-0.5) * x * x) / std::sqrt(T(2) * T(M_PI))};
  T beta = std::sqrt(T(2) / T(M_PI)), kappa = T(0.044715);
  T th = std::tanh(beta * (x + kappa * x * x * x));
  return {T(0.5) * (T(1) + th),
          T(0.5) * (T(1) - th * th) * beta * (T(1) + 3 * kappa * x * x)};
}

struct GeluKernel {
  template <typename T> static absl::Status run(GeluOp op, KernelEnv<T> &env) {
    HostTensor<T> y = env.in(op.getInput());
    for (T &v : y.data)
      v = v * geluPhi(v, op.getApproximate()).first;
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

struct GeluGradKernel {
  template <typename T>
  static absl::Status run(GeluGradOp op, KernelEnv<T> &env) {
    HostTensor<T> dx = env.in(op.getGrad());
    const HostTensor<T> &x = env.in(op.getInput());
    for (int64_t i = 0; i < dx.numElements(); ++i) {
      auto [phi, dphi] = geluPhi(x[i], op.getApproximate());
      dx[i] *= phi + x[i] * dphi;
    }
    env.set(op.getOutput(), std::move(dx));
    return absl::OkStatus();
  }
};

/// nn.unary and nn.unary_grad: the formulas of ir/UnaryFunctions.def in T.
struct UnaryFnKernel {
  template <typename T>
  static absl::Status run(UnaryFnOp op, KernelEnv<T> &env) {
    HostTensor<T> y = env.in(op.getInput());
    UnaryFn fn = findUnaryFn(op.getFn())->fn;
    double alpha = f64(op.getAlpha());
    NumberAlgebra<T> a;
    for (T &v : y.data)
      v = unaryForward(a, fn, v, alpha);
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

struct UnaryFnGradKernel {
  template <typename T>
  static absl::Status run(UnaryFnGradOp op, KernelEnv<T> &env) {
    HostTensor<T> dx = env.in(op.getGrad());
    const HostTensor<T> &x = env.in(op.getInput());
    UnaryFn fn = findUnaryFn(op.getFn())->fn;
    double alpha = f64(op.getAlpha());
    NumberAlgebra<T> a;
    for (int64_t i = 0; i < dx.numElements(); ++i)
      dx[i] *= unaryDerivative(a, fn, x[i], alpha);
    env.set(op.getOutput(), std::move(dx));
    return absl::OkStatus();
  }
};

struct AddKernel {
  template <typename T> static absl::Status run(AddOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    Tensor y = env.in(op.getLhs());
    const Tensor &b = env.in(op.getRhs());
    for (int64_t i = 0; i < y.numElements(); ++i)
      y[i] += b[i];
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

struct CausalMaskKernel {
  template <typename T>
  static absl::Status run(CausalMaskOp op, KernelEnv<T> &env) {
    HostTensor<T> y = env.in(op.getInput());
    auto shape = shapeOf(op.getOutput());
    int64_t rows = shape[shape.size() - 2], cols = shape.back();
    T fill = T(f64(op.getFill()));
    for (int64_t k = 0; k < y.numElements(); ++k) {
      int64_t row = k / cols % rows, col = k % cols;
      // Key col after query row (transposed: key row after query col).
      if (op.getTransposed() ? row > col : col > row)
        y[k] = fill;
    }
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

struct ConstantKernel {
  template <typename T>
  static absl::Status run(ConstantOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    env.set(op.getOutput(),
            Tensor(shapeOf(op.getOutput()), T(f64(op.getValue()))));
    return absl::OkStatus();
  }
};

} // namespace

void attachElementwiseKernels(MLIRContext *ctx) {
  attach<ReluKernel, ReluOp, SigmoidOp, TanhOp, LeakyReluOp>(ctx);
  attach<SoftmaxKernel, SoftmaxOp>(ctx);
  attach<LogSoftmaxKernel, LogSoftmaxOp>(ctx);
  attach<PReluKernel, PReluOp>(ctx);
  attach<DropoutKernel, DropoutOp>(ctx);
  attach<GeluKernel, GeluOp>(ctx);
  attach<GeluGradKernel, GeluGradOp>(ctx);
  attach<UnaryFnKernel, UnaryFnOp>(ctx);
  attach<UnaryFnGradKernel, UnaryFnGradOp>(ctx);
  attach<AddKernel, AddOp>(ctx);
  attach<CausalMaskKernel, CausalMaskOp>(ctx);
  attach<ConstantKernel, ConstantOp>(ctx);
}

} // namespace gradc::kernels
