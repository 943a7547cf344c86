//===- KernelEnv.h - what a reference kernel reads and writes ---*- C++ -*-===//
//
// The reference evaluator runs each op through the ReferenceKernelOpInterface
// that the kernels in this folder attach to it, one file per family of ops.
// A kernel reads its operands' host tensors from the KernelEnv and sets its
// results there; KernelModel adapts a kernel (a struct with a static
// `run<T>(op, env)`) to the interface for float and double, and attach<>()
// attaches it to ops.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_KERNELS_KERNELENV_H
#define GRADC_RUNTIME_KERNELS_KERNELENV_H

#include "ir/NNDialect.h"
#include "runtime/evaluator/ReferenceEvaluator.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace gradc {

/// The values computed so far, by IR value; results are reported to the
/// observer as they are set.
template <typename T> class KernelEnv {
public:
  using Tensor = HostTensor<T>;
  using Labels = HostTensor<int32_t>;
  using I64 = HostTensor<int64_t>;

  explicit KernelEnv(const EvalObserver<T> &observer) : observer(observer) {}

  const Tensor &in(mlir::Value v) {
    return std::get<Tensor>(values.find(v)->second);
  }
  const Labels &labels(mlir::Value v) {
    return std::get<Labels>(values.find(v)->second);
  }
  int64_t step(mlir::Value v) {
    return std::get<I64>(values.find(v)->second)[0];
  }
  void set(mlir::Value v, HostValue<T> value) {
    if (observer)
      observer(v, value);
    values[v] = std::move(value);
  }
  /// A zero tensor of `like`'s shape.
  Tensor zeros(mlir::Value like);

  llvm::DenseMap<mlir::Value, HostValue<T>> values;
  /// Why the last kernel failed.
  absl::Status status;

private:
  const EvalObserver<T> &observer;
};

namespace kernels {

inline std::vector<int64_t> shapeOf(mlir::Value v) {
  auto shape = mlir::cast<mlir::RankedTensorType>(v.getType()).getShape();
  return {shape.begin(), shape.end()};
}

/// "'nn.conv2d' at loc(...)", for error messages.
inline std::string describe(mlir::Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "'" << op->getName() << "' at " << op->getLoc();
  return s;
}

inline double f64(llvm::APFloat v) { return v.convertToDouble(); }

/// The geometry of a 2-D window over an NHWC input (conv or pooling).
struct Window {
  int64_t n, h, w, c; // input
  int64_t oh, ow;     // output
  int64_t kh, kw;     // window
  int64_t sh, sw, dh, dw, pt, pl;

  Window(llvm::ArrayRef<int64_t> in, llvm::ArrayRef<int64_t> out,
         llvm::ArrayRef<int64_t> k, llvm::ArrayRef<int64_t> strides,
         llvm::ArrayRef<int64_t> pads, llvm::ArrayRef<int64_t> dilations)
      : n(in[0]), h(in[1]), w(in[2]), c(in[3]), oh(out[1]), ow(out[2]),
        kh(k[0]), kw(k[1]), sh(strides[0]), sw(strides[1]), dh(dilations[0]),
        dw(dilations[1]), pt(pads[0]), pl(pads[2]) {}

  int64_t inIndex(int64_t b, int64_t y, int64_t x, int64_t ch) const {
    return ((b * h + y) * w + x) * c + ch;
  }

  /// Calls fn(b, oy, ox, ky, kx, iy, ix) for every output position and
  /// every window tap that lands inside the input, in row-major (ky, kx)
  /// order within each output position. Taps in the padding are skipped:
  /// they contribute zero to a convolution and never take part in pooling.
  template <typename Fn> void forEachTap(Fn fn) const {
    for (int64_t b = 0; b < n; ++b)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox)
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              int64_t iy = oy * sh + ky * dh - pt;
              int64_t ix = ox * sw + kx * dw - pl;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                continue;
              fn(b, oy, ox, ky, kx, iy, ix);
            }
  }
};

/// Calls fn(inIndex, outIndex) for every element of `in`, where the output
/// (of shape `out`) holds input dimension d at output dimension map[d], or
/// drops it when map[d] < 0.
template <typename Fn>
void forEachMapped(llvm::ArrayRef<int64_t> in, llvm::ArrayRef<int64_t> out,
                   llvm::ArrayRef<int64_t> map, Fn fn) {
  int64_t rank = in.size(), total = 1;
  std::vector<int64_t> outStride(out.size(), 1);
  for (int64_t d = int64_t(out.size()) - 2; d >= 0; --d)
    outStride[d] = outStride[d + 1] * out[d + 1];
  for (int64_t s : in)
    total *= s;
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (map[d] >= 0)
        o += idx[d] * outStride[map[d]];
    fn(i, o);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < in[d])
        break;
      idx[d] = 0;
    }
  }
}

/// The activations conv2d can fuse.
template <typename T> T activate(llvm::StringRef kind, T x, T alpha) {
  if (kind == "relu")
    return x > T(0) ? x : T(0);
  if (kind == "leaky_relu")
    return x >= T(0) ? x : alpha * x;
  return x;
}

/// Adapts KernelT (`template <typename T> static absl::Status run(OpT op,
/// KernelEnv<T> &env)`) to the ReferenceKernelOpInterface of OpT.
template <typename KernelT, typename OpT>
struct KernelModel
    : nn::ReferenceKernelOpInterface::ExternalModel<KernelModel<KernelT, OpT>,
                                                    OpT> {
  mlir::LogicalResult evaluateF32(mlir::Operation *op,
                                  KernelEnv<float> &env) const {
    return run(op, env);
  }
  mlir::LogicalResult evaluateF64(mlir::Operation *op,
                                  KernelEnv<double> &env) const {
    return run(op, env);
  }

private:
  template <typename T>
  static mlir::LogicalResult run(mlir::Operation *op, KernelEnv<T> &env) {
    absl::Status s = KernelT::template run<T>(mlir::cast<OpT>(op), env);
    if (s.ok())
      return mlir::success();
    env.status = std::move(s);
    return mlir::failure();
  }
};

/// Attaches KernelT as the reference kernel of each of OpTs.
template <typename KernelT, typename... OpTs>
void attach(mlir::MLIRContext *ctx) {
  (OpTs::template attachInterface<KernelModel<KernelT, OpTs>>(*ctx), ...);
}

// attach<Name>Kernels() of every family of ir/OpFamilies.def with KERNELS.
#define GRADC_KERNELS_NO_KERNELS(Name)
#define GRADC_KERNELS_KERNELS(Name)                                            \
  void attach##Name##Kernels(mlir::MLIRContext *ctx);
#define GRADC_OP_FAMILY(Name, Layers, Kernels) GRADC_KERNELS_##Kernels(Name)
#include "ir/OpFamilies.def"
#undef GRADC_KERNELS_KERNELS
#undef GRADC_KERNELS_NO_KERNELS

} // namespace kernels

template <typename T> HostTensor<T> KernelEnv<T>::zeros(mlir::Value like) {
  return Tensor(kernels::shapeOf(like));
}

} // namespace gradc

#endif // GRADC_RUNTIME_KERNELS_KERNELENV_H
