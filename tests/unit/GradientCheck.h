//===- GradientCheck.h - finite-difference checks for tests -----*- C++ -*-===//
//-*-===//
//
// The machinery the gradient, optimizer and softmax tests share: parse a
// function from MLIR text, fill its arguments with random tensors, build
// its gradient either from one op's DifferentiableOpInterface or with
// differentiateFunction, and compare it with central differences computed
// by the reference evaluator in double. The criterion is Caffe's,
// |g - g'| <= tol * max(|g|, |g'|, 1).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TESTS_UNIT_GRADIENTCHECK_H
#define GRADC_TESTS_UNIT_GRADIENTCHECK_H

#include "passes/Passes.h"
#include "runtime/evaluator/ReferenceEvaluator.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/STLExtras.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <utility>

namespace gradc::test {

using Tensor = HostTensor<double>;
using Value64 = HostValue<double>;

/// A context with the dialects nn functions use.
inline std::unique_ptr<mlir::MLIRContext> makeContext() {
  mlir::DialectRegistry registry;
  registerGradcDialects(registry);
  auto ctx = std::make_unique<mlir::MLIRContext>(registry);
  ctx->loadAllAvailableDialects();
  return ctx;
}

/// Parses and verifies `src`; a parse error fails the calling test.
inline mlir::OwningOpRef<mlir::ModuleOp> parse(mlir::MLIRContext &ctx,
                                               llvm::StringRef src) {
  auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &ctx);
  EXPECT_TRUE(module) << "cannot parse:\n" << src.str();
  return module;
}

/// The inputs [lo, hi] of the tests of nn.unary's `name`, moved into its
/// domain: [positiveLo, hi] where x > 0 (log, sqrt, rsqrt, reciprocal),
/// 1 more for acosh (x > 1), within (-1, 1) for atanh, asin and acos, away
/// from tan's
/// poles.
inline std::pair<double, double> unaryRange(const std::string &name, double lo,
                                            double hi, double positiveLo) {
  if (name == "log" || name == "sqrt" || name == "rsqrt" ||
      name == "reciprocal")
    return {positiveLo, hi};
  if (name == "acosh")
    return {1 + positiveLo, 1 + hi};
  if (name == "atanh" || name == "asin" || name == "acos")
    return {-0.9, 0.9};
  if (name == "tan")
    return {std::max(lo, -1.3), std::min(hi, 1.3)};
  return {lo, hi};
}

/// The attribute dictionary of nn.matmul / nn.batch_matmul's transposes,
/// followed by a space ("" when neither is set).
inline std::string transposeAttrs(bool lhs, bool rhs) {
  if (!lhs && !rhs)
    return "";
  return std::string("{") + (lhs ? "transpose_lhs" : "") +
         (lhs && rhs ? ", " : "") + (rhs ? "transpose_rhs" : "") + "} ";
}

inline std::vector<int64_t> shapeOf(mlir::Type t) {
  auto shape = mlir::cast<mlir::RankedTensorType>(t).getShape();
  return {shape.begin(), shape.end()};
}

inline bool isFloatTensor(mlir::Type t) {
  return mlir::isa<mlir::FloatType>(
      mlir::cast<mlir::RankedTensorType>(t).getElementType());
}

/// The indices of `fn`'s float tensor arguments.
inline llvm::SmallVector<unsigned> floatArguments(mlir::func::FuncOp fn) {
  llvm::SmallVector<unsigned> indices;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i)
    if (isFloatTensor(fn.getArgument(i).getType()))
      indices.push_back(i);
  return indices;
}

/// The number of classes labels `a` index: the column count C of the
/// predictions [N, C] of their loss (or of the one-hot targets a gradient
/// rule makes of them), at least 2 (0/1 for one column). Batch statistics
/// read the labels only to skip padding rows and do not count.
inline int64_t labelClasses(mlir::BlockArgument a) {
  int64_t classes = 2;
  for (mlir::Operation *user : a.getUsers()) {
    if (mlir::isa<nn::BatchNormTrainOp, nn::BatchNormGradOp,
                  nn::MovingAverageOp>(user))
      continue;
    mlir::Type p = mlir::isa<nn::OneHotOp>(user)
                       ? user->getResult(0).getType()
                       : user->getOperand(0).getType();
    if (shapeOf(p).size() == 2)
      classes = std::max<int64_t>(classes, shapeOf(p).back());
  }
  return classes;
}

/// The rows of the smallest table an embedding (or its gradient) reads at
/// the ids `a`, or 0 when no embedding reads them.
inline int64_t embeddingRows(mlir::BlockArgument a) {
  int64_t rows = 0;
  for (mlir::Operation *user : a.getUsers()) {
    int64_t r = 0;
    if (auto e = mlir::dyn_cast<nn::EmbeddingOp>(user))
      r = shapeOf(e.getTable().getType())[0];
    else if (auto g = mlir::dyn_cast<nn::EmbeddingGradOp>(user))
      r = shapeOf(g.getOutput().getType())[0];
    if (r && (!rows || r < rows))
      rows = r;
  }
  return rows;
}

/// Unwraps an evaluator result, failing the test with its message.
template <typename T>
std::vector<HostValue<T>>
valueOrFail(absl::StatusOr<std::vector<HostValue<T>>> result) {
  EXPECT_TRUE(result.ok()) << result.status().message();
  return result.ok() ? std::move(*result) : std::vector<HostValue<T>>{};
}

inline const Tensor &floats(const Value64 &v) { return std::get<Tensor>(v); }

struct CheckOptions {
  /// Range of the random values of every float argument, unless `ranges`
  /// names the argument.
  double lo = -1.0, hi = 1.0;
  std::map<unsigned, std::pair<double, double>> ranges;
  /// Value of a 0-D int64 argument (a dropout step).
  int64_t step = 3;
  double eps = 1e-6, tol = 1e-6;
  /// Elements checked per argument (all of them when there are fewer).
  int64_t maxElements = 80;
  uint64_t seed = 1;
};

/// Random arguments for `fn`: uniform floats, embedding ids below the
/// table's rows, labels in [0, labelClasses), and `opts.step` for int64
/// scalars.
inline std::vector<Value64> randomArgs(mlir::func::FuncOp fn,
                                       const CheckOptions &opts,
                                       std::mt19937_64 &rng) {
  std::vector<Value64> args;
  for (mlir::BlockArgument a : fn.getArguments()) {
    std::vector<int64_t> shape = shapeOf(a.getType());
    auto elem =
        mlir::cast<mlir::RankedTensorType>(a.getType()).getElementType();
    if (mlir::isa<mlir::FloatType>(elem)) {
      auto [lo, hi] = opts.ranges.count(a.getArgNumber())
                          ? opts.ranges.at(a.getArgNumber())
                          : std::make_pair(opts.lo, opts.hi);
      std::uniform_real_distribution<double> u(lo, hi);
      Tensor t(shape);
      for (double &v : t.data)
        v = u(rng);
      args.push_back(std::move(t));
    } else if (int64_t rows = embeddingRows(a)) {
      // Embedding ids (i32 or i64), repeating when there are more than rows.
      if (elem.isSignlessInteger(32)) {
        HostTensor<int32_t> t(shape);
        for (int32_t &v : t.data)
          v = int32_t(rng() % uint64_t(rows));
        args.push_back(std::move(t));
      } else {
        HostTensor<int64_t> t(shape);
        for (int64_t &v : t.data)
          v = int64_t(rng() % uint64_t(rows));
        args.push_back(std::move(t));
      }
    } else if (elem.isSignlessInteger(32)) {
      int64_t classes = labelClasses(a);
      HostTensor<int32_t> t(shape);
      for (int32_t &v : t.data)
        v = int32_t(rng() % uint64_t(classes));
      args.push_back(std::move(t));
    } else {
      args.push_back(HostTensor<int64_t>(shape, opts.step));
    }
  }
  return args;
}

/// The element indices of `n` to check: all, or a random subset.
inline std::vector<int64_t> sampleIndices(int64_t n, int64_t max,
                                          std::mt19937_64 &rng) {
  std::vector<int64_t> all(n);
  for (int64_t i = 0; i < n; ++i)
    all[i] = i;
  if (n > max) {
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(max);
  }
  return all;
}

/// Compares `analytic[k]`, the gradient with respect to float argument
/// `argIndex[k]`, with central differences of `objective`.
inline void expectMatchesFiniteDifferences(
    const std::function<double(const std::vector<Value64> &)> &objective,
    const std::vector<Value64> &args, llvm::ArrayRef<unsigned> argIndex,
    llvm::ArrayRef<Tensor> analytic, const CheckOptions &opts,
    std::mt19937_64 &rng, const std::string &what) {
  ASSERT_EQ(argIndex.size(), analytic.size()) << what;
  for (auto [a, g] : llvm::zip(argIndex, analytic)) {
    const Tensor &x = floats(args[a]);
    ASSERT_EQ(g.shape, x.shape) << what << ": gradient of argument " << a;
    for (int64_t i : sampleIndices(x.numElements(), opts.maxElements, rng)) {
      std::vector<Value64> plus = args, minus = args;
      std::get<Tensor>(plus[a])[i] += opts.eps;
      std::get<Tensor>(minus[a])[i] -= opts.eps;
      double numeric = (objective(plus) - objective(minus)) / (2 * opts.eps);
      double scale = std::max({std::abs(g[i]), std::abs(numeric), 1.0});
      EXPECT_LE(std::abs(g[i] - numeric), opts.tol * scale)
          << what << ": argument " << a << " element " << i << ": analytic "
          << g[i] << ", numeric " << numeric;
    }
  }
}

/// Builds @f_grad(args..., dy...) -> (d/d float arg...) from the one op of
/// @f that implements DifferentiableOpInterface: the op's own gradient
/// rule, given random result gradients dy. Gradients of an argument the op
/// reads twice are summed. Returns the float argument numbers, in order.
inline std::vector<unsigned> buildOpGradient(mlir::ModuleOp module,
                                             mlir::func::FuncOp f) {
  auto g = f.clone();
  g.setName("f_grad");
  module.push_back(g);
  mlir::Block &block = g.getBody().front();
  mlir::Operation *ret = block.getTerminator();
  nn::DifferentiableOpInterface diff;
  for (mlir::Operation &op : block.without_terminator())
    if (auto d = mlir::dyn_cast<nn::DifferentiableOpInterface>(op))
      diff = d;
  EXPECT_TRUE(diff) << "no differentiable op in @f";
  if (!diff)
    return {};
  mlir::Operation *op = diff.getOperation();
  llvm::SmallVector<mlir::Value> dys;
  for (mlir::Value r : op->getResults())
    dys.push_back(block.addArgument(r.getType(), r.getLoc()));
  mlir::OpBuilder b(ret);
  llvm::SmallVector<mlir::Value> operandGrads;
  EXPECT_TRUE(mlir::succeeded(diff.buildGradients(b, dys, operandGrads)));
  EXPECT_EQ(operandGrads.size(), op->getNumOperands());

  std::vector<unsigned> wrt;
  llvm::SmallVector<mlir::Value> results;
  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    if (!isFloatTensor(f.getArgument(i).getType()))
      continue;
    mlir::Value sum;
    for (auto [operand, grad] : llvm::zip(op->getOperands(), operandGrads))
      if (operand == block.getArgument(i) && grad)
        sum = sum ? b.create<nn::AddOp>(op->getLoc(), sum, grad) : grad;
    EXPECT_TRUE(sum) << "no gradient for argument " << i;
    if (!sum)
      continue;
    wrt.push_back(i);
    results.push_back(sum);
  }
  ret->setOperands(results);
  g.setFunctionType(b.getFunctionType(block.getArgumentTypes(),
                                      mlir::ValueRange(results).getTypes()));
  return wrt;
}

/// Checks the gradient rule of the one differentiable op in @f of `src`
/// (whose results @f returns) against central differences of
/// sum_k sum(result_k * dy_k), with random dy.
inline void expectOpGradientsMatch(llvm::StringRef src,
                                   const CheckOptions &opts = {}) {
  auto ctx = makeContext();
  auto module = parse(*ctx, src);
  ASSERT_TRUE(module);
  auto f = module->lookupSymbol<mlir::func::FuncOp>("f");
  ASSERT_TRUE(f);
  std::vector<unsigned> wrt = buildOpGradient(*module, f);
  auto g = module->lookupSymbol<mlir::func::FuncOp>("f_grad");
  ASSERT_TRUE(mlir::succeeded(mlir::verify(*module))) << src.str();

  std::mt19937_64 rng(opts.seed);
  std::vector<Value64> args = randomArgs(f, opts, rng);
  std::vector<Tensor> dys;
  std::vector<Value64> gradArgs = args;
  for (mlir::Type t : f.getResultTypes()) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    Tensor dy(shapeOf(t));
    for (double &v : dy.data)
      v = u(rng);
    dys.push_back(dy);
    gradArgs.push_back(dy);
  }
  std::vector<Tensor> analytic;
  for (Value64 &v : valueOrFail(evaluate<double>(g, gradArgs)))
    analytic.push_back(floats(v));
  if (analytic.size() != wrt.size())
    return; // already reported

  auto objective = [&](const std::vector<Value64> &a) {
    double sum = 0;
    auto results = valueOrFail(evaluate<double>(f, a));
    if (results.size() != dys.size())
      return std::nan("");
    for (size_t k = 0; k < results.size(); ++k)
      for (int64_t i = 0; i < dys[k].numElements(); ++i)
        sum += floats(results[k])[i] * dys[k][i];
    return sum;
  };
  expectMatchesFiniteDifferences(objective, args, wrt, analytic, opts, rng,
                                 src.str());
}

/// Checks differentiateFunction on @f of `src`, whose first result is a 0-D
/// loss, against central differences of that loss, for every float
/// argument.
inline void expectFunctionGradientsMatch(llvm::StringRef src,
                                         const CheckOptions &opts = {}) {
  auto ctx = makeContext();
  auto module = parse(*ctx, src);
  ASSERT_TRUE(module);
  auto f = module->lookupSymbol<mlir::func::FuncOp>("f");
  ASSERT_TRUE(f);
  auto g = f.clone();
  g.setName("f_grad");
  module->push_back(g);
  llvm::SmallVector<unsigned> wrt = floatArguments(f);
  ASSERT_TRUE(mlir::succeeded(differentiateFunction(g, wrt)));
  ASSERT_TRUE(mlir::succeeded(mlir::verify(*module)));

  std::mt19937_64 rng(opts.seed);
  std::vector<Value64> args = randomArgs(f, opts, rng);
  auto results = valueOrFail(evaluate<double>(g, args));
  ASSERT_EQ(results.size(), f.getNumResults() + wrt.size());
  std::vector<Tensor> analytic;
  for (size_t k = f.getNumResults(); k < results.size(); ++k)
    analytic.push_back(floats(results[k]));
  auto objective = [&](const std::vector<Value64> &a) {
    auto loss = valueOrFail(evaluateResults<double>(f, a, {0}));
    return loss.empty() ? std::nan("") : floats(loss[0])[0];
  };
  std::vector<unsigned> wrtVec(wrt.begin(), wrt.end());
  expectMatchesFiniteDifferences(objective, args, wrtVec, analytic, opts, rng,
                                 src.str());
}

} // namespace gradc::test

#endif // GRADC_TESTS_UNIT_GRADIENTCHECK_H
