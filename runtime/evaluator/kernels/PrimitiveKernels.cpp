//===- PrimitiveKernels.cpp - reference kernels of the primitive ops ------===//
//
// The reference kernels of the ops gradient rules are composed of: one
// formula per element for arithmetic, comparisons and selection; index
// arithmetic over row-major shapes for reductions and broadcasts.
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

template <typename T> bool isNan(T x) { return x != x; }

struct BinaryKernel {
  template <typename T>
  static absl::Status run(Operation *op, KernelEnv<T> &env) {
    HostTensor<T> z = env.in(op->getOperand(0));
    const HostTensor<T> &y = env.in(op->getOperand(1));
    for (int64_t i = 0; i < z.numElements(); ++i) {
      T a = z[i], b = y[i];
      if (isa<SubOp>(op))
        z[i] = a - b;
      else if (isa<MulOp>(op))
        z[i] = a * b;
      else if (isa<DivOp>(op))
        z[i] = a / b;
      else if (isa<PowOp>(op))
        z[i] = std::pow(a, b);
      else if (isNan(a) || isNan(b))
        z[i] = std::numeric_limits<T>::quiet_NaN();
      else
        z[i] = isa<MaximumOp>(op) ? std::max(a, b) : std::min(a, b);
    }
    env.set(op->getResult(0), std::move(z));
    return absl::OkStatus();
  }
};

struct UnaryKernel {
  template <typename T>
  static absl::Status run(Operation *op, KernelEnv<T> &env) {
    HostTensor<T> y = env.in(op->getOperand(0));
    for (T &v : y.data) {
      if (isa<ExpOp>(op))
        v = std::exp(v);
      else if (isa<LogOp>(op))
        v = std::log(v);
      else if (isa<RsqrtOp>(op))
        v = T(1) / std::sqrt(v);
      else // sign: NaN and zeros stay as they are
        v = v > T(0) ? T(1) : v < T(0) ? T(-1) : v;
    }
    env.set(op->getResult(0), std::move(y));
    return absl::OkStatus();
  }
};

struct CompareKernel {
  template <typename T>
  static absl::Status run(CompareOp op, KernelEnv<T> &env) {
    HostTensor<T> z = env.in(op.getLhs());
    const HostTensor<T> &y = env.in(op.getRhs());
    for (int64_t i = 0; i < z.numElements(); ++i) {
      T a = z[i], b = y[i];
      bool holds = false;
      switch (op.getPredicate()) {
      case ComparePredicate::Gt:
        holds = a > b;
        break;
      case ComparePredicate::Ge:
        holds = a >= b;
        break;
      case ComparePredicate::Lt:
        holds = a < b;
        break;
      case ComparePredicate::Le:
        holds = a <= b;
        break;
      case ComparePredicate::Eq:
        holds = a == b;
        break;
      }
      z[i] = holds ? T(1) : T(0);
    }
    env.set(op.getOutput(), std::move(z));
    return absl::OkStatus();
  }
};

struct SelectKernel {
  template <typename T>
  static absl::Status run(SelectOp op, KernelEnv<T> &env) {
    const HostTensor<T> &c = env.in(op.getCondition()),
                        &a = env.in(op.getOnTrue()),
                        &b = env.in(op.getOnFalse());
    HostTensor<T> z = env.zeros(op.getOutput());
    for (int64_t i = 0; i < z.numElements(); ++i)
      z[i] = c[i] != T(0) ? a[i] : b[i];
    env.set(op.getOutput(), std::move(z));
    return absl::OkStatus();
  }
};

struct ReduceKernel {
  template <typename T>
  static absl::Status run(Operation *op, KernelEnv<T> &env) {
    bool isMax = isa<ReduceMaxOp>(op);
    llvm::ArrayRef<int64_t> axes = isMax ? cast<ReduceMaxOp>(op).getAxes()
                                         : cast<ReduceSumOp>(op).getAxes();
    const HostTensor<T> &x = env.in(op->getOperand(0));
    HostTensor<T> y(shapeOf(op->getResult(0)),
                    isMax ? -std::numeric_limits<T>::infinity() : T(0));
    std::vector<int64_t> map;
    for (int64_t d = 0, kept = 0; d < x.rank(); ++d)
      map.push_back(llvm::is_contained(axes, d) ? -1 : kept++);
    forEachMapped(x.shape, y.shape, map, [&](int64_t i, int64_t o) {
      if (!isMax)
        y[o] += x[i];
      else if (isNan(x[i]) || x[i] > y[o])
        y[o] = isNan(y[o]) ? y[o] : x[i];
    });
    env.set(op->getResult(0), std::move(y));
    return absl::OkStatus();
  }
};

struct BroadcastKernel {
  template <typename T>
  static absl::Status run(BroadcastOp op, KernelEnv<T> &env) {
    const HostTensor<T> &x = env.in(op.getInput());
    HostTensor<T> y = env.zeros(op.getOutput());
    // Walk the output and read the input: the input's dimensions are the
    // output's `dims`, the others are dropped.
    std::vector<int64_t> map(y.rank(), -1);
    for (auto [i, d] : llvm::enumerate(op.getDims()))
      map[d] = int64_t(i);
    forEachMapped(y.shape, x.shape, map,
                  [&](int64_t o, int64_t i) { y[o] = x[i]; });
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

struct OneHotKernel {
  template <typename T>
  static absl::Status run(OneHotOp op, KernelEnv<T> &env) {
    const HostTensor<int32_t> &labels = env.labels(op.getLabels());
    HostTensor<T> t = env.zeros(op.getOutput());
    int64_t classes = t.dim(1);
    for (int64_t n = 0; n < labels.numElements(); ++n) {
      if (classes == 1)
        t[n] = T(labels[n]);
      else if (labels[n] >= 0 && labels[n] < classes)
        t[n * classes + labels[n]] = T(1);
    }
    env.set(op.getOutput(), std::move(t));
    return absl::OkStatus();
  }
};

struct ArgmaxKernel {
  template <typename T>
  static absl::Status run(ArgmaxOp op, KernelEnv<T> &env) {
    const HostTensor<T> &x = env.in(op.getInput());
    int64_t rows = x.dim(0), c = x.dim(1);
    HostTensor<int32_t> idx({rows});
    for (int64_t n = 0; n < rows; ++n)
      for (int64_t j = 1; j < c; ++j)
        if (x[n * c + j] > x[n * c + idx[n]])
          idx[n] = int32_t(j);
    env.set(op.getOutput(), std::move(idx));
    return absl::OkStatus();
  }
};

} // namespace

void attachPrimitiveKernels(MLIRContext *ctx) {
  attach<BinaryKernel, SubOp, MulOp, DivOp, PowOp, MaximumOp, MinimumOp>(ctx);
  attach<UnaryKernel, ExpOp, LogOp, RsqrtOp, SignOp>(ctx);
  attach<CompareKernel, CompareOp>(ctx);
  attach<SelectKernel, SelectOp>(ctx);
  attach<ReduceKernel, ReduceSumOp, ReduceMaxOp>(ctx);
  attach<BroadcastKernel, BroadcastOp>(ctx);
  attach<OneHotKernel, OneHotOp>(ctx);
  attach<ArgmaxKernel, ArgmaxOp>(ctx);
}

} // namespace gradc::kernels
