//===- OptimizerKernels.cpp - reference kernels ---------------------------===//
//
// The reference kernels of optimizer updates, attached to the ops
// as their ReferenceKernelOpInterface. Each update rule as PyTorch documents
// it.
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

template <typename T> absl::Status update(KernelEnv<T> &env, Operation *op) {
  using Tensor = HostTensor<T>;
  auto attr = [&](llvm::StringRef name) {
    return T(cast<FloatAttr>(op->getAttr(name)).getValueAsDouble());
  };
  Tensor p = env.in(op->getOperand(0));
  const Tensor &g = env.in(op->getOperand(1));
  // The learning rate: the attribute, or the last operand `lr`.
  T lr = op->getAttr("learning_rate")
             ? attr("learning_rate")
             : env.in(op->getOperand(op->getNumOperands() - 1))[0];
  T wd = attr("weight_decay");
  int64_t n = p.numElements();
  // g' = g + wd * p: weight decay as L2 added to the gradient.
  std::vector<T> gd(n);
  for (int64_t i = 0; i < n; ++i)
    gd[i] = g[i] + wd * p[i];

  if (isa<SgdUpdateOp>(op)) {
    for (int64_t i = 0; i < n; ++i)
      p[i] -= lr * gd[i];
    env.set(op->getResult(0), std::move(p));
  } else if (auto m = dyn_cast<MomentumUpdateOp>(op)) {
    Tensor v = env.in(m.getVelocity());
    T mu = attr("momentum");
    for (int64_t i = 0; i < n; ++i) {
      v[i] = mu * v[i] + gd[i];
      p[i] -= lr * (m.getNesterov() ? gd[i] + mu * v[i] : v[i]);
    }
    env.set(m.getNewParam(), std::move(p));
    env.set(m.getNewVelocity(), std::move(v));
  } else if (auto r = dyn_cast<RmspropUpdateOp>(op)) {
    Tensor s = env.in(r.getMeanSquare());
    T rho = attr("rho"), eps = attr("epsilon");
    for (int64_t i = 0; i < n; ++i) {
      s[i] = rho * s[i] + (T(1) - rho) * gd[i] * gd[i];
      p[i] -= lr * gd[i] / (std::sqrt(s[i]) + eps);
    }
    env.set(r.getNewParam(), std::move(p));
    env.set(r.getNewMeanSquare(), std::move(s));
  } else {
    auto a = cast<AdamUpdateOp>(op);
    Tensor m = env.in(a.getM()), v = env.in(a.getV());
    T b1 = attr("beta_1"), b2 = attr("beta_2"), eps = attr("epsilon");
    T t = T(env.step(a.getStep()) + 1);
    T c1 = T(1) - std::pow(b1, t), c2 = T(1) - std::pow(b2, t);
    for (int64_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (T(1) - b1) * gd[i];
      v[i] = b2 * v[i] + (T(1) - b2) * gd[i] * gd[i];
      p[i] -= lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
    }
    env.set(a.getNewParam(), std::move(p));
    env.set(a.getNewM(), std::move(m));
    env.set(a.getNewV(), std::move(v));
  }
  return absl::OkStatus();
}

struct SgdUpdateKernel {
  template <typename T>
  static absl::Status run(Operation *op, KernelEnv<T> &env) {
    return update<T>(env, op);
  }
};

} // namespace

void attachOptimizerKernels(MLIRContext *ctx) {
  attach<SgdUpdateKernel, SgdUpdateOp, MomentumUpdateOp, RmspropUpdateOp,
         AdamUpdateOp>(ctx);
}

} // namespace gradc::kernels
