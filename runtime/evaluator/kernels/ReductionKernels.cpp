//===- ReductionKernels.cpp - the reference kernel of nn.reduce -----------===//
//
// Sum, mean, maximum or minimum over the axes, by index arithmetic over the
// row-major shapes (forEachMapped); a NaN propagates to the maximum and
// minimum, as arith.maximumf and arith.minimumf do in the lowering.
//
//===----------------------------------------------------------------------===//

#include "runtime/evaluator/kernels/KernelEnv.h"

using namespace mlir;
using namespace gradc::nn;

namespace gradc::kernels {
namespace {

struct ReduceLayerKernel {
  template <typename T>
  static absl::Status run(ReduceOp op, KernelEnv<T> &env) {
    ReduceKind kind = op.getKind();
    llvm::ArrayRef<int64_t> axes = op.getAxes();
    const HostTensor<T> &x = env.in(op.getInput());
    T inf = std::numeric_limits<T>::infinity();
    HostTensor<T> y(shapeOf(op.getOutput()), kind == ReduceKind::Max   ? -inf
                                             : kind == ReduceKind::Min ? inf
                                                                       : T(0));
    std::vector<int64_t> map;
    int64_t count = 1;
    for (int64_t d = 0, kept = 0; d < x.rank(); ++d) {
      bool reduced = llvm::is_contained(axes, d);
      map.push_back(reduced ? -1 : kept++);
      if (reduced)
        count *= x.dim(d);
    }
    forEachMapped(x.shape, y.shape, map, [&](int64_t i, int64_t o) {
      T v = x[i];
      if (kind == ReduceKind::Sum || kind == ReduceKind::Mean)
        y[o] += v;
      else if (std::isnan(y[o]))
        return;
      else if (std::isnan(v) || (kind == ReduceKind::Max ? v > y[o] : v < y[o]))
        y[o] = v;
    });
    if (kind == ReduceKind::Mean)
      for (T &v : y.data)
        v /= T(count);
    env.set(op.getOutput(), std::move(y));
    return absl::OkStatus();
  }
};

} // namespace

void attachReductionKernels(MLIRContext *ctx) {
  attach<ReduceLayerKernel, ReduceOp>(ctx);
}

} // namespace gradc::kernels
