//===- LossKernels.cpp - reference kernels of the losses ------------------===//
//
// The reference kernels of losses and the correct count,
// attached to the ops as their ReferenceKernelOpInterface. Each loss is its
// per-row formula averaged over the batch's rows that count (label -1 marks
// a padding row).
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

/// The per-row loss of `kind`. `t(c)` is the target: onehot(label), the
/// label itself for one column, or the row's `values` (regression).
template <typename T>
T rowLoss(llvm::StringRef kind, const T *p, int64_t c, int64_t label, T delta,
          const T *values = nullptr) {
  auto target = [&](int64_t j) {
    if (values)
      return values[j];
    return c == 1 ? T(label) : T(j == label ? 1 : 0);
  };
  T cT = T(c), loss = 0;
  if (kind == "cross_entropy") {
    T q = std::clamp(p[label], T(1e-7), T(1));
    return -std::log(q);
  }
  if (kind == "softmax_cross_entropy") {
    T m = *std::max_element(p, p + c), sum = 0;
    for (int64_t j = 0; j < c; ++j)
      sum += std::exp(p[j] - m);
    return m + std::log(sum) - p[label];
  }
  if (kind == "categorical_hinge") {
    int64_t other = -1;
    for (int64_t j = 0; j < c; ++j)
      if (j != label && (other < 0 || p[j] > p[other]))
        other = j;
    T margin = p[other] - p[label] + T(1);
    return std::max(margin, T(0));
  }
  // The rest average an elementwise term over the row's columns.
  for (int64_t j = 0; j < c; ++j) {
    T t = target(j), d = p[j] - t, term = 0;
    if (kind == "binary_cross_entropy") {
      T q = std::clamp(p[j], T(1e-7), T(1) - T(1e-7));
      term = -(t * std::log(q) + (T(1) - t) * std::log(T(1) - q));
    } else if (kind == "mse") {
      term = d * d;
    } else if (kind == "mae") {
      term = std::abs(d);
    } else if (kind == "huber") {
      T a = std::abs(d);
      term = a <= delta ? T(0.5) * d * d : delta * (a - T(0.5) * delta);
    } else if (kind == "hinge" || kind == "squared_hinge") {
      T s = T(2) * t - T(1), h = std::max(T(0), T(1) - s * p[j]);
      term = kind == "hinge" ? h : h * h;
    }
    loss += term / cT;
  }
  return loss;
}

/// Checks that every label names a class (a 0/1 target for one column) or
/// is -1, a padding row.
absl::Status checkLabels(Operation *op, const HostTensor<int32_t> &labels,
                         int64_t classes) {
  int64_t limit = std::max<int64_t>(classes, 2);
  for (int32_t l : labels.data)
    if (l < -1 || l >= limit)
      return absl::InvalidArgumentError(
          absl::StrCat("reference evaluator: label ", l, " out of range [0, ",
                       limit, ") in ", describe(op)));
  return absl::OkStatus();
}

template <typename T>
absl::Status loss(KernelEnv<T> &env, Operation *op, llvm::StringRef kind,
                  double delta) {
  using Tensor = HostTensor<T>;
  using Labels = HostTensor<int32_t>;
  const Tensor &p = env.in(op->getOperand(0));
  const Labels &y = env.labels(op->getOperand(1));
  int64_t n = p.dim(0), c = p.dim(1);
  // Value targets (regression), when given; the labels mark padding rows.
  const Tensor *values =
      op->getNumOperands() > 2 ? &env.in(op->getOperand(2)) : nullptr;
  // With value targets a label only says whether its row counts (>= 0).
  if (absl::Status s =
          checkLabels(op, y, values ? std::numeric_limits<int32_t>::max() : c);
      !s.ok())
    return s;
  // The mean over the rows that count; padding rows (-1) are left out.
  T sum = 0;
  int64_t rows = 0;
  for (int64_t i = 0; i < n; ++i)
    if (y[i] >= 0) {
      sum += rowLoss<T>(kind, &p[i * c], c, y[i], T(delta),
                        values ? &(*values)[i * c] : nullptr);
      ++rows;
    }
  env.set(op->getResult(0),
          Tensor::scalar(sum / T(std::max<int64_t>(rows, 1))));
  return absl::OkStatus();
}

struct CrossEntropyKernel {
  template <typename T, typename OpT>
  static absl::Status run(OpT op, KernelEnv<T> &env) {
    llvm::StringRef kind = op->getName().stripDialect();
    return loss<T>(env, op, kind, f64(op.getDelta()));
  }
};

struct CorrectCountKernel {
  template <typename T>
  static absl::Status run(CorrectCountOp op, KernelEnv<T> &env) {
    using Tensor = HostTensor<T>;
    using Labels = HostTensor<int32_t>;
    using I64 = HostTensor<int64_t>;
    const Tensor &p = env.in(op.getPredictions());
    const Labels &y = env.labels(op.getLabels());
    int64_t n = p.dim(0), c = p.dim(1), count = 0;
    for (int64_t i = 0; i < n; ++i) {
      int64_t predicted = 0;
      if (c == 1) {
        predicted = p[i] > T(0.5) ? 1 : 0;
      } else {
        for (int64_t j = 1; j < c; ++j)
          if (p[i * c + j] > p[i * c + predicted])
            predicted = j;
      }
      count += predicted == y[i];
    }
    env.set(op.getCount(), I64::scalar(count));
    return absl::OkStatus();
  }
};

} // namespace

void attachLossKernels(MLIRContext *ctx) {
  attach<CrossEntropyKernel, CrossEntropyOp, SoftmaxCrossEntropyOp,
         BinaryCrossEntropyOp, MseOp, MaeOp, HuberOp, HingeOp, SquaredHingeOp,
         CategoricalHingeOp>(ctx);
  attach<CorrectCountKernel, CorrectCountOp>(ctx);
}

} // namespace gradc::kernels
