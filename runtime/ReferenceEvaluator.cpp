//===- ReferenceEvaluator.cpp - a plain interpreter of nn functions -------===//
//
// One loop nest per op, written the way the op's definition reads: the
// convolution sums over its taps, max pooling scans its window in row-major
// order, each loss is its per-row formula averaged over the batch. Nothing
// is fused, tiled or reordered, so a disagreement with the JIT or with a
// finite difference points at the other side.
//
//===----------------------------------------------------------------------===//

#include "runtime/ReferenceEvaluator.h"

#include "ir/DropoutMask.h"
#include "ir/NNDialect.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace gradc::nn;

namespace gradc {
namespace {

std::vector<int64_t> shapeOf(Value v) {
  auto shape = cast<RankedTensorType>(v.getType()).getShape();
  return {shape.begin(), shape.end()};
}

std::string describe(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "'" << op->getName() << "' at " << op->getLoc();
  return s;
}

double f64(llvm::APFloat v) { return v.convertToDouble(); }

//===----------------------------------------------------------------------===//
// Windows: convolution taps and pooling windows
//===----------------------------------------------------------------------===//

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

template <typename T> T activate(llvm::StringRef kind, T x, T alpha) {
  if (kind == "relu")
    return x > T(0) ? x : T(0);
  if (kind == "leaky_relu")
    return x >= T(0) ? x : alpha * x;
  return x;
}

//===----------------------------------------------------------------------===//
// The interpreter
//===----------------------------------------------------------------------===//

template <typename T> class Interpreter {
  using Tensor = HostTensor<T>;
  using Labels = HostTensor<int32_t>;
  using I64 = HostTensor<int64_t>;

public:
  explicit Interpreter(const EvalObserver<T> &observer) : observer(observer) {}

  absl::StatusOr<std::vector<HostValue<T>>>
  run(func::FuncOp fn, std::vector<HostValue<T>> args,
      llvm::ArrayRef<unsigned> wanted);

private:
  absl::Status checkArgument(func::FuncOp fn, unsigned i,
                             const HostValue<T> &arg);
  absl::Status eval(Operation *op);

  const Tensor &in(Value v) { return std::get<Tensor>(env.find(v)->second); }
  const Labels &labels(Value v) {
    return std::get<Labels>(env.find(v)->second);
  }
  int64_t step(Value v) { return std::get<I64>(env.find(v)->second)[0]; }
  void set(Value v, HostValue<T> value) {
    if (observer)
      observer(v, value);
    env[v] = std::move(value);
  }
  Tensor zeros(Value like) { return Tensor(shapeOf(like)); }

  // Op groups that share a loop nest.
  /// conv2d, or conv2d_batch_norm (normalized with the running statistics
  /// after the bias, before the activation).
  template <typename OpT> absl::Status conv2d(OpT op);
  absl::Status pool(Operation *op, Value input, llvm::ArrayRef<int64_t> window,
                    llvm::ArrayRef<int64_t> strides,
                    llvm::ArrayRef<int64_t> pads, bool isMax);
  absl::Status poolGrad(Operation *op, Value input, Value dy,
                        llvm::ArrayRef<int64_t> window,
                        llvm::ArrayRef<int64_t> strides,
                        llvm::ArrayRef<int64_t> pads, bool isMax);
  absl::Status lastDimNormalize(Operation *op, bool logSoftmax);
  absl::Status activationGrad(ActivationGradOp op);
  absl::Status loss(Operation *op, llvm::StringRef kind, double delta);
  absl::Status lossGrad(LossGradOp op);
  absl::Status update(Operation *op);
  absl::Status globalPool(Operation *op);
  absl::Status batchNorm(Operation *op, Value x, Value gamma, Value beta,
                         const Tensor *mean, const Tensor *var, double eps);
  absl::Status batchNormGrad(BatchNormGradOp op);

  const EvalObserver<T> &observer;
  llvm::DenseMap<Value, HostValue<T>> env;
};

template <typename T>
absl::Status Interpreter<T>::checkArgument(func::FuncOp fn, unsigned i,
                                           const HostValue<T> &arg) {
  auto type = dyn_cast<RankedTensorType>(fn.getArgumentTypes()[i]);
  if (!type || !type.hasStaticShape())
    return absl::InvalidArgumentError(
        absl::StrCat("reference evaluator: argument ", i,
                     " is not a statically shaped tensor"));
  Type elem = type.getElementType();
  size_t expected = isa<FloatType>(elem)         ? 0
                    : elem.isSignlessInteger(32) ? 1
                    : elem.isSignlessInteger(64) ? 2
                                                 : 3;
  static const char *const kinds[] = {"float", "int32", "int64"};
  if (expected == 3)
    return absl::InvalidArgumentError(
        absl::StrCat("reference evaluator: argument ", i,
                     " has an unsupported element type"));
  if (arg.index() != expected)
    return absl::InvalidArgumentError(absl::StrCat(
        "reference evaluator: argument ", i, " expects a ", kinds[expected],
        " tensor, got a ", kinds[arg.index()], " tensor"));
  auto shape = std::visit([](auto &t) { return t.shape; }, arg);
  auto size = std::visit([](auto &t) { return t.data.size(); }, arg);
  auto irShape = shapeOf(fn.getArgument(i));
  if (shape != irShape || int64_t(size) != type.getNumElements()) {
    std::string want, got;
    for (int64_t d : irShape)
      absl::StrAppend(&want, want.empty() ? "" : "x", d);
    for (int64_t d : shape)
      absl::StrAppend(&got, got.empty() ? "" : "x", d);
    return absl::InvalidArgumentError(
        absl::StrCat("reference evaluator: argument ", i, " expects shape [",
                     want, "], got [", got, "] with ", size, " elements"));
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<std::vector<HostValue<T>>>
Interpreter<T>::run(func::FuncOp fn, std::vector<HostValue<T>> args,
                    llvm::ArrayRef<unsigned> wanted) {
  if (fn.isExternal() || !fn.getBody().hasOneBlock())
    return absl::InvalidArgumentError(
        "reference evaluator: expects a function with one block");
  if (args.size() != fn.getNumArguments())
    return absl::InvalidArgumentError(
        absl::StrCat("reference evaluator: @", fn.getName().str(), " takes ",
                     fn.getNumArguments(), " arguments, got ", args.size()));
  for (unsigned i = 0; i < args.size(); ++i)
    if (absl::Status s = checkArgument(fn, i, args[i]); !s.ok())
      return s;

  Block &block = fn.getBody().front();
  auto ret = dyn_cast<func::ReturnOp>(block.getTerminator());
  if (!ret)
    return absl::InvalidArgumentError(
        absl::StrCat("reference evaluator: unsupported terminator ",
                     describe(block.getTerminator())));
  for (unsigned r : wanted)
    if (r >= ret.getNumOperands())
      return absl::InvalidArgumentError(absl::StrCat(
          "reference evaluator: no result ", r, " in @", fn.getName().str()));

  // Only the ops the wanted results depend on run; each value is dropped
  // after its last use so that large batches fit in memory.
  llvm::DenseSet<Value> needed;
  for (unsigned r : wanted)
    needed.insert(ret.getOperand(r));
  std::vector<Operation *> live;
  for (Operation &op : llvm::reverse(block.without_terminator())) {
    if (llvm::none_of(op.getResults(),
                      [&](Value v) { return needed.contains(v); }))
      continue;
    live.push_back(&op);
    needed.insert(op.operand_begin(), op.operand_end());
  }
  std::reverse(live.begin(), live.end());
  llvm::DenseMap<Value, size_t> lastUse;
  for (size_t i = 0; i < live.size(); ++i)
    for (Value v : live[i]->getOperands())
      lastUse[v] = i;
  for (unsigned r : wanted)
    lastUse[ret.getOperand(r)] = live.size();

  for (unsigned i = 0; i < args.size(); ++i)
    if (needed.contains(fn.getArgument(i)))
      env[fn.getArgument(i)] = std::move(args[i]);
  for (size_t i = 0; i < live.size(); ++i) {
    if (absl::Status s = eval(live[i]); !s.ok())
      return s;
    for (Value v : live[i]->getOperands())
      if (lastUse.lookup(v) == i)
        env.erase(v);
    // A result nobody reads (an unused optimizer state) is dropped at once.
    for (Value v : live[i]->getResults())
      if (!lastUse.count(v))
        env.erase(v);
  }
  std::vector<HostValue<T>> results;
  for (unsigned r : wanted)
    results.push_back(env.find(ret.getOperand(r))->second);
  return results;
}

template <typename T> absl::Status Interpreter<T>::eval(Operation *op) {
  return llvm::TypeSwitch<Operation *, absl::Status>(op)
      .Case([&](Conv2DOp op) { return conv2d(op); })
      .Case([&](Conv2DBatchNormOp op) { return conv2d(op); })
      .Case([&](Conv2DGradInputOp op) {
        const Tensor &dy = in(op.getGradOutput()), &f = in(op.getFilter());
        Tensor dx = zeros(op.getGradInput());
        Window g(dx.shape, dy.shape, {f.dim(0), f.dim(1)}, op.getStrides(),
                 op.getPads(), op.getDilations());
        int64_t nf = f.dim(3), cg = f.dim(2), fg = nf / op.getGroups();
        // The transpose of the forward sum: every tap sends dy * w back to
        // the input element it read.
        g.forEachTap([&](int64_t b, int64_t oy, int64_t ox, int64_t ky,
                         int64_t kx, int64_t iy, int64_t ix) {
          for (int64_t o = 0; o < nf; ++o)
            for (int64_t ch = 0; ch < cg; ++ch)
              dx[g.inIndex(b, iy, ix, o / fg * cg + ch)] +=
                  dy[((b * g.oh + oy) * g.ow + ox) * nf + o] *
                  f[((ky * g.kw + kx) * cg + ch) * nf + o];
        });
        set(op.getGradInput(), std::move(dx));
        return absl::OkStatus();
      })
      .Case([&](Conv2DGradFilterOp op) {
        const Tensor &x = in(op.getInput()), &dy = in(op.getGradOutput());
        Tensor dw = zeros(op.getGradFilter());
        Window g(x.shape, dy.shape, {dw.dim(0), dw.dim(1)}, op.getStrides(),
                 op.getPads(), op.getDilations());
        int64_t nf = dw.dim(3), cg = dw.dim(2), fg = nf / op.getGroups();
        g.forEachTap([&](int64_t b, int64_t oy, int64_t ox, int64_t ky,
                         int64_t kx, int64_t iy, int64_t ix) {
          for (int64_t o = 0; o < nf; ++o)
            for (int64_t ch = 0; ch < cg; ++ch)
              dw[((ky * g.kw + kx) * cg + ch) * nf + o] +=
                  x[g.inIndex(b, iy, ix, o / fg * cg + ch)] *
                  dy[((b * g.oh + oy) * g.ow + ox) * nf + o];
        });
        set(op.getGradFilter(), std::move(dw));
        return absl::OkStatus();
      })
      .Case([&](MaxPool2DOp op) {
        return pool(op, op.getInput(), op.getWindow(), op.getStrides(),
                    op.getPads(), /*isMax=*/true);
      })
      .Case([&](AvgPool2DOp op) {
        return pool(op, op.getInput(), op.getWindow(), op.getStrides(),
                    op.getPads(), /*isMax=*/false);
      })
      .Case([&](MaxPool2DGradOp op) {
        return poolGrad(op, op.getInput(), op.getGradOutput(), op.getWindow(),
                        op.getStrides(), op.getPads(), /*isMax=*/true);
      })
      .Case([&](AvgPool2DGradOp op) {
        return poolGrad(op, op.getInput(), op.getGradOutput(), op.getWindow(),
                        op.getStrides(), op.getPads(), /*isMax=*/false);
      })
      .Case([&](DenseOp op) {
        const Tensor &x = in(op.getInput()), &w = in(op.getWeight());
        Tensor y = zeros(op.getOutput());
        const Tensor *bias = op.getBias() ? &in(op.getBias()) : nullptr;
        int64_t n = x.dim(0), k = x.dim(1), m = w.dim(1);
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < m; ++j) {
            T sum = bias ? (*bias)[j] : T(0);
            for (int64_t l = 0; l < k; ++l)
              sum += x[i * k + l] * w[l * m + j];
            y[i * m + j] = sum;
          }
        set(op.getOutput(), std::move(y));
        return absl::OkStatus();
      })
      .Case([&](MatmulOp op) {
        const Tensor &a = in(op.getLhs()), &b = in(op.getRhs());
        Tensor y = zeros(op.getOutput());
        bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
        int64_t m = y.dim(0), n = y.dim(1), k = ta ? a.dim(0) : a.dim(1);
        // op(a)[i, l] and op(b)[l, j], reading the stored matrices.
        auto at = [&](int64_t i, int64_t l) {
          return ta ? a[l * a.dim(1) + i] : a[i * a.dim(1) + l];
        };
        auto bt = [&](int64_t l, int64_t j) {
          return tb ? b[j * b.dim(1) + l] : b[l * b.dim(1) + j];
        };
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            T sum = 0;
            for (int64_t l = 0; l < k; ++l)
              sum += at(i, l) * bt(l, j);
            y[i * n + j] = sum;
          }
        set(op.getOutput(), std::move(y));
        return absl::OkStatus();
      })
      .Case([&](BiasGradOp op) {
        const Tensor &dy = in(op.getGradOutput());
        Tensor db = zeros(op.getGradBias());
        int64_t c = db.dim(0);
        for (int64_t i = 0; i < dy.numElements(); ++i)
          db[i % c] += dy[i];
        set(op.getGradBias(), std::move(db));
        return absl::OkStatus();
      })
      .template Case<FlattenOp, ReshapeOp>([&](Operation *op) {
        // Row-major data is unchanged; only the shape is new.
        Tensor y = in(op->getOperand(0));
        y.shape = shapeOf(op->getResult(0));
        set(op->getResult(0), std::move(y));
        return absl::OkStatus();
      })
      .template Case<ReluOp, SigmoidOp, TanhOp, LeakyReluOp>(
          [&](Operation *op) {
            Tensor y = in(op->getOperand(0));
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
            set(op->getResult(0), std::move(y));
            return absl::OkStatus();
          })
      .Case([&](SoftmaxOp op) { return lastDimNormalize(op, false); })
      .Case([&](LogSoftmaxOp op) { return lastDimNormalize(op, true); })
      .Case([&](PReluOp op) {
        Tensor y = in(op.getInput());
        const Tensor &alpha = in(op.getAlpha());
        int64_t c = alpha.dim(0);
        for (int64_t i = 0; i < y.numElements(); ++i)
          if (!(y[i] >= T(0)))
            y[i] *= alpha[i % c];
        set(op.getOutput(), std::move(y));
        return absl::OkStatus();
      })
      .Case([&](PReluGradOp op) {
        const Tensor &dy = in(op.getGradOutput()), &x = in(op.getInput()),
                     &alpha = in(op.getAlpha());
        Tensor dx = zeros(op.getGradInput()), da = zeros(op.getGradAlpha());
        int64_t c = alpha.dim(0);
        for (int64_t i = 0; i < x.numElements(); ++i) {
          bool pos = x[i] > T(0);
          dx[i] = pos ? dy[i] : alpha[i % c] * dy[i];
          if (!pos)
            da[i % c] += x[i] * dy[i];
        }
        set(op.getGradInput(), std::move(dx));
        set(op.getGradAlpha(), std::move(da));
        return absl::OkStatus();
      })
      .Case([&](ActivationGradOp op) { return activationGrad(op); })
      .Case([&](DropoutOp op) {
        Tensor y = in(op.getInput());
        if (op.getStep()) {
          int64_t s = step(op.getStep()), seed = op.getSeed();
          double rate = f64(op.getRate());
          T scale = T(1.0 / (1.0 - rate));
          for (int64_t i = 0; i < y.numElements(); ++i)
            y[i] = dropoutKeep(seed, s, i, rate) ? y[i] * scale : T(0);
        }
        set(op.getOutput(), std::move(y));
        return absl::OkStatus();
      })
      .Case([&](AddOp op) {
        Tensor y = in(op.getLhs());
        const Tensor &b = in(op.getRhs());
        for (int64_t i = 0; i < y.numElements(); ++i)
          y[i] += b[i];
        set(op.getOutput(), std::move(y));
        return absl::OkStatus();
      })
      .Case([&](ConstantOp op) {
        set(op.getOutput(),
            Tensor(shapeOf(op.getOutput()), T(f64(op.getValue()))));
        return absl::OkStatus();
      })
      .template Case<CrossEntropyOp, SoftmaxCrossEntropyOp,
                     BinaryCrossEntropyOp, MseOp, MaeOp, HuberOp, HingeOp,
                     SquaredHingeOp, CategoricalHingeOp>([&](auto op) {
        llvm::StringRef kind = op->getName().stripDialect();
        return loss(op, kind, f64(op.getDelta()));
      })
      .Case([&](LossGradOp op) { return lossGrad(op); })
      .Case([&](CorrectCountOp op) {
        const Tensor &p = in(op.getPredictions());
        const Labels &y = labels(op.getLabels());
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
        set(op.getCount(), I64::scalar(count));
        return absl::OkStatus();
      })
      .template Case<SgdUpdateOp, MomentumUpdateOp, RmspropUpdateOp,
                     AdamUpdateOp>([&](Operation *op) { return update(op); })
      .template Case<GlobalAvgPool2DOp, GlobalMaxPool2DOp>(
          [&](Operation *op) { return globalPool(op); })
      .Case([&](ConcatOp op) {
        Tensor y = zeros(op.getOutput());
        // Rows of the axis and everything after it, copied input by input.
        int64_t axis = op.getAxis(), outer = 1, offset = 0;
        for (int64_t d = 0; d < axis; ++d)
          outer *= y.dim(d);
        int64_t outRow = y.numElements() / outer;
        for (Value v : op.getInputs()) {
          const Tensor &x = in(v);
          int64_t row = x.numElements() / outer;
          for (int64_t i = 0; i < outer; ++i)
            for (int64_t j = 0; j < row; ++j)
              y[i * outRow + offset + j] = x[i * row + j];
          offset += row;
        }
        set(op.getOutput(), std::move(y));
        return absl::OkStatus();
      })
      .Case([&](SliceOp op) {
        const Tensor &x = in(op.getInput());
        Tensor y = zeros(op.getOutput());
        int64_t axis = op.getAxis(), outer = 1, inner = 1;
        for (int64_t d = 0; d < axis; ++d)
          outer *= x.dim(d);
        for (int64_t d = axis + 1; d < x.rank(); ++d)
          inner *= x.dim(d);
        int64_t size = op.getSize(), from = op.getOffset() * inner;
        for (int64_t i = 0; i < outer; ++i)
          for (int64_t j = 0; j < size * inner; ++j)
            y[i * size * inner + j] = x[i * x.dim(axis) * inner + from + j];
        set(op.getOutput(), std::move(y));
        return absl::OkStatus();
      })
      .Case([&](BatchNormOp op) {
        return batchNorm(op, op.getInput(), op.getGamma(), op.getBeta(),
                         &in(op.getMean()), &in(op.getVariance()),
                         f64(op.getEpsilon()));
      })
      .Case([&](BatchNormTrainOp op) {
        return batchNorm(op, op.getInput(), op.getGamma(), op.getBeta(),
                         nullptr, nullptr, f64(op.getEpsilon()));
      })
      .Case([&](BatchNormGradOp op) { return batchNormGrad(op); })
      .Case([&](MovingAverageOp op) {
        Tensor r = in(op.getRunning());
        const Tensor &v = in(op.getValue());
        T mu = T(f64(op.getMomentum())), k = T(f64(op.getScale()));
        for (int64_t i = 0; i < r.numElements(); ++i)
          r[i] = mu * r[i] + (T(1) - mu) * k * v[i];
        set(op.getNewRunning(), std::move(r));
        return absl::OkStatus();
      })
      .Default([&](Operation *op) {
        return absl::UnimplementedError(
            absl::StrCat("reference evaluator: unsupported op ", describe(op)));
      });
}

template <typename T> absl::Status Interpreter<T>::globalPool(Operation *op) {
  const Tensor &x = in(op->getOperand(0));
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
  set(op->getResult(0), std::move(y));
  return absl::OkStatus();
}

/// Per channel (the last dimension): with `mean`/`var` given, normalizes
/// with them; otherwise with the batch's mean and biased variance, which
/// become results 1 and 2.
template <typename T>
absl::Status Interpreter<T>::batchNorm(Operation *op, Value xv, Value gamma,
                                       Value beta, const Tensor *mean,
                                       const Tensor *var, double eps) {
  const Tensor &x = in(xv), &g = in(gamma), &bt = in(beta);
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
  set(op->getResult(0), std::move(y));
  if (!mean) {
    set(op->getResult(1), std::move(mu));
    set(op->getResult(2), std::move(sigma2));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status Interpreter<T>::batchNormGrad(BatchNormGradOp op) {
  const Tensor &dy = in(op.getGradOutput()), &x = in(op.getInput()),
               &g = in(op.getGamma()), &mu = in(op.getMean()),
               &var = in(op.getVariance());
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
  set(op.getGradInput(), std::move(dx));
  set(op.getGradGamma(), std::move(dgamma));
  set(op.getGradBeta(), std::move(dbeta));
  return absl::OkStatus();
}

template <typename T>
template <typename OpT>
absl::Status Interpreter<T>::conv2d(OpT op) {
  const Tensor &x = in(op.getInput()), &f = in(op.getFilter());
  Tensor y = zeros(op.getOutput());
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
  const Tensor *bias = op.getBias() ? &in(op.getBias()) : nullptr;
  for (int64_t i = 0; i < y.numElements(); ++i) {
    if (bias)
      y[i] += (*bias)[i % nf];
    if constexpr (std::is_same_v<OpT, Conv2DBatchNormOp>) {
      int64_t o = i % nf;
      T eps = T(f64(op.getEpsilon()));
      y[i] = (y[i] - in(op.getMean())[o]) /
                 std::sqrt(in(op.getVariance())[o] + eps) *
                 in(op.getGamma())[o] +
             in(op.getBeta())[o];
    }
    y[i] = activate<T>(op.getActivation(), y[i], alpha);
  }
  set(op.getOutput(), std::move(y));
  return absl::OkStatus();
}

template <typename T>
absl::Status Interpreter<T>::pool(Operation *op, Value input,
                                  llvm::ArrayRef<int64_t> window,
                                  llvm::ArrayRef<int64_t> strides,
                                  llvm::ArrayRef<int64_t> pads, bool isMax) {
  const Tensor &x = in(input);
  Value out = op->getResult(0);
  Tensor y = zeros(out);
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
  set(out, std::move(y));
  return absl::OkStatus();
}

template <typename T>
absl::Status Interpreter<T>::poolGrad(Operation *op, Value input, Value dyv,
                                      llvm::ArrayRef<int64_t> window,
                                      llvm::ArrayRef<int64_t> strides,
                                      llvm::ArrayRef<int64_t> pads,
                                      bool isMax) {
  const Tensor &x = in(input), &dy = in(dyv);
  Value out = op->getResult(0);
  Tensor dx = zeros(out);
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
  set(out, std::move(dx));
  return absl::OkStatus();
}

template <typename T>
absl::Status Interpreter<T>::lastDimNormalize(Operation *op, bool logSoftmax) {
  Tensor y = in(op->getOperand(0));
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
  set(op->getResult(0), std::move(y));
  return absl::OkStatus();
}

template <typename T>
absl::Status Interpreter<T>::activationGrad(ActivationGradOp op) {
  const Tensor &dy = in(op.getGradOutput()), &v = in(op.getValue());
  Tensor dx = zeros(op.getGradInput());
  llvm::StringRef kind = op.getKind();
  T alpha = T(f64(op.getAlpha()));
  int64_t n = dy.numElements(), c = dy.shape.empty() ? 1 : dy.shape.back();
  if (kind == "softmax" || kind == "log_softmax") {
    for (int64_t row = 0; row < n; row += c) {
      T sum = 0;
      for (int64_t j = row; j < row + c; ++j)
        sum += kind == "softmax" ? dy[j] * v[j] : dy[j];
      for (int64_t j = row; j < row + c; ++j)
        dx[j] = kind == "softmax" ? v[j] * (dy[j] - sum)
                                  : dy[j] - std::exp(v[j]) * sum;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      if (kind == "relu")
        dx[i] = v[i] > T(0) ? dy[i] : T(0);
      else if (kind == "leaky_relu")
        dx[i] = v[i] > T(0) ? dy[i] : alpha * dy[i];
      else if (kind == "sigmoid")
        dx[i] = dy[i] * v[i] * (T(1) - v[i]);
      else if (kind == "tanh")
        dx[i] = dy[i] * (T(1) - v[i] * v[i]);
      else
        return absl::UnimplementedError(
            absl::StrCat("reference evaluator: unsupported activation kind '",
                         kind.str(), "' of ", describe(op)));
    }
  }
  set(op.getGradInput(), std::move(dx));
  return absl::OkStatus();
}

//===----------------------------------------------------------------------===//
// Losses: one per-row formula and its derivative, side by side
//===----------------------------------------------------------------------===//

/// The per-row loss of `kind` and, when `grad` is set, its derivative with
/// respect to each prediction of the row (not yet divided by the batch).
/// `t(c)` is the target: onehot(label), or the label itself for one column.
template <typename T>
T rowLoss(llvm::StringRef kind, const T *p, int64_t c, int64_t label, T delta,
          T *grad) {
  auto target = [&](int64_t j) {
    return c == 1 ? T(label) : T(j == label ? 1 : 0);
  };
  T cT = T(c), loss = 0;
  if (kind == "cross_entropy") {
    T q = std::clamp(p[label], T(1e-7), T(1));
    if (grad)
      grad[label] = q == p[label] ? T(-1) / q : T(0);
    return -std::log(q);
  }
  if (kind == "softmax_cross_entropy") {
    T m = *std::max_element(p, p + c), sum = 0;
    for (int64_t j = 0; j < c; ++j)
      sum += std::exp(p[j] - m);
    if (grad)
      for (int64_t j = 0; j < c; ++j)
        grad[j] = std::exp(p[j] - m) / sum - target(j);
    return m + std::log(sum) - p[label];
  }
  if (kind == "categorical_hinge") {
    int64_t other = -1;
    for (int64_t j = 0; j < c; ++j)
      if (j != label && (other < 0 || p[j] > p[other]))
        other = j;
    T margin = p[other] - p[label] + T(1);
    if (grad && margin > T(0)) {
      grad[other] = 1;
      grad[label] = -1;
    }
    return std::max(margin, T(0));
  }
  // The rest average an elementwise term over the row's columns.
  for (int64_t j = 0; j < c; ++j) {
    T t = target(j), d = p[j] - t, term = 0, dterm = 0;
    T sign = d > T(0) ? T(1) : d < T(0) ? T(-1) : T(0);
    if (kind == "binary_cross_entropy") {
      T q = std::clamp(p[j], T(1e-7), T(1) - T(1e-7));
      term = -(t * std::log(q) + (T(1) - t) * std::log(T(1) - q));
      dterm = q == p[j] ? -t / q + (T(1) - t) / (T(1) - q) : T(0);
    } else if (kind == "mse") {
      term = d * d;
      dterm = T(2) * d;
    } else if (kind == "mae") {
      term = std::abs(d);
      dterm = sign;
    } else if (kind == "huber") {
      T a = std::abs(d);
      term = a <= delta ? T(0.5) * d * d : delta * (a - T(0.5) * delta);
      dterm = a <= delta ? d : delta * sign;
    } else if (kind == "hinge" || kind == "squared_hinge") {
      T s = T(2) * t - T(1), h = std::max(T(0), T(1) - s * p[j]);
      term = kind == "hinge" ? h : h * h;
      dterm = h > T(0) ? (kind == "hinge" ? -s : T(-2) * h * s) : T(0);
    }
    loss += term / cT;
    if (grad)
      grad[j] = dterm / cT;
  }
  return loss;
}

/// Checks that every label names a class (a 0/1 target for one column).
absl::Status checkLabels(Operation *op, const HostTensor<int32_t> &labels,
                         int64_t classes) {
  int64_t limit = std::max<int64_t>(classes, 2);
  for (int32_t l : labels.data)
    if (l < 0 || l >= limit)
      return absl::InvalidArgumentError(
          absl::StrCat("reference evaluator: label ", l, " out of range [0, ",
                       limit, ") in ", describe(op)));
  return absl::OkStatus();
}

template <typename T>
absl::Status Interpreter<T>::loss(Operation *op, llvm::StringRef kind,
                                  double delta) {
  const Tensor &p = in(op->getOperand(0));
  const Labels &y = labels(op->getOperand(1));
  int64_t n = p.dim(0), c = p.dim(1);
  if (absl::Status s = checkLabels(op, y, c); !s.ok())
    return s;
  T sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += rowLoss<T>(kind, &p[i * c], c, y[i], T(delta), nullptr);
  set(op->getResult(0), Tensor::scalar(sum / T(n)));
  return absl::OkStatus();
}

template <typename T> absl::Status Interpreter<T>::lossGrad(LossGradOp op) {
  const Tensor &p = in(op.getPredictions());
  const Labels &y = labels(op.getLabels());
  T dloss = in(op.getDloss())[0];
  int64_t n = p.dim(0), c = p.dim(1);
  if (absl::Status s = checkLabels(op, y, c); !s.ok())
    return s;
  Tensor dp = zeros(op.getGrad());
  for (int64_t i = 0; i < n; ++i)
    rowLoss<T>(op.getKind(), &p[i * c], c, y[i], T(f64(op.getDelta())),
               &dp[i * c]);
  for (T &g : dp.data)
    g = g / T(n) * dloss;
  set(op.getGrad(), std::move(dp));
  return absl::OkStatus();
}

//===----------------------------------------------------------------------===//
// Optimizer updates
//===----------------------------------------------------------------------===//

template <typename T> absl::Status Interpreter<T>::update(Operation *op) {
  auto attr = [&](llvm::StringRef name) {
    return T(cast<FloatAttr>(op->getAttr(name)).getValueAsDouble());
  };
  Tensor p = in(op->getOperand(0));
  const Tensor &g = in(op->getOperand(1));
  T lr = attr("learning_rate"), wd = attr("weight_decay");
  int64_t n = p.numElements();
  // g' = g + wd * p: weight decay as L2 added to the gradient.
  std::vector<T> gd(n);
  for (int64_t i = 0; i < n; ++i)
    gd[i] = g[i] + wd * p[i];

  if (isa<SgdUpdateOp>(op)) {
    for (int64_t i = 0; i < n; ++i)
      p[i] -= lr * gd[i];
    set(op->getResult(0), std::move(p));
  } else if (auto m = dyn_cast<MomentumUpdateOp>(op)) {
    Tensor v = in(m.getVelocity());
    T mu = attr("momentum");
    for (int64_t i = 0; i < n; ++i) {
      v[i] = mu * v[i] + gd[i];
      p[i] -= lr * (m.getNesterov() ? gd[i] + mu * v[i] : v[i]);
    }
    set(m.getNewParam(), std::move(p));
    set(m.getNewVelocity(), std::move(v));
  } else if (auto r = dyn_cast<RmspropUpdateOp>(op)) {
    Tensor s = in(r.getMeanSquare());
    T rho = attr("rho"), eps = attr("epsilon");
    for (int64_t i = 0; i < n; ++i) {
      s[i] = rho * s[i] + (T(1) - rho) * gd[i] * gd[i];
      p[i] -= lr * gd[i] / (std::sqrt(s[i]) + eps);
    }
    set(r.getNewParam(), std::move(p));
    set(r.getNewMeanSquare(), std::move(s));
  } else {
    auto a = cast<AdamUpdateOp>(op);
    Tensor m = in(a.getM()), v = in(a.getV());
    T b1 = attr("beta_1"), b2 = attr("beta_2"), eps = attr("epsilon");
    T t = T(step(a.getStep()) + 1);
    T c1 = T(1) - std::pow(b1, t), c2 = T(1) - std::pow(b2, t);
    for (int64_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (T(1) - b1) * gd[i];
      v[i] = b2 * v[i] + (T(1) - b2) * gd[i] * gd[i];
      p[i] -= lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
    }
    set(a.getNewParam(), std::move(p));
    set(a.getNewM(), std::move(m));
    set(a.getNewV(), std::move(v));
  }
  return absl::OkStatus();
}

} // namespace

template <typename T>
absl::StatusOr<std::vector<HostValue<T>>>
evaluate(func::FuncOp fn, std::vector<HostValue<T>> args,
         const EvalObserver<T> &observer) {
  std::vector<unsigned> all;
  if (!fn.isExternal())
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      all.push_back(i);
  return evaluateResults<T>(fn, std::move(args), all, observer);
}

template <typename T>
absl::StatusOr<std::vector<HostValue<T>>>
evaluateResults(func::FuncOp fn, std::vector<HostValue<T>> args,
                llvm::ArrayRef<unsigned> results,
                const EvalObserver<T> &observer) {
  return Interpreter<T>(observer).run(fn, std::move(args), results);
}

template absl::StatusOr<std::vector<HostValue<float>>>
evaluate<float>(func::FuncOp, std::vector<HostValue<float>>,
                const EvalObserver<float> &);
template absl::StatusOr<std::vector<HostValue<double>>>
evaluate<double>(func::FuncOp, std::vector<HostValue<double>>,
                 const EvalObserver<double> &);
template absl::StatusOr<std::vector<HostValue<float>>>
evaluateResults<float>(func::FuncOp, std::vector<HostValue<float>>,
                       llvm::ArrayRef<unsigned>, const EvalObserver<float> &);
template absl::StatusOr<std::vector<HostValue<double>>>
evaluateResults<double>(func::FuncOp, std::vector<HostValue<double>>,
                        llvm::ArrayRef<unsigned>, const EvalObserver<double> &);

} // namespace gradc
