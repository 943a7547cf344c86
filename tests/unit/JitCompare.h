//===- JitCompare.h - JIT results against the evaluator ---------*- C++ -*-===//
//
// What the JIT tests share: MLIR text for one-op functions (`tt`, `ints`,
// `func`, `single`); lowering a module to the LLVM dialect and JIT-compiling
// it (`lowerAndJit`); buffers for the bufferized calling convention, where
// results an op updates in place are dropped from the signature
// (`inPlaceArguments`); and `expectJitMatches`, which runs @f through the
// reference evaluator in float and through the JIT on the same random
// arguments and compares every result within |a - b| <= 1e-4 max(1, |b|).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TESTS_UNIT_JITCOMPARE_H
#define GRADC_TESTS_UNIT_JITCOMPARE_H

#include "GradientCheck.h"

#include "runtime/jit/Jit.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gradc::test {

using FloatTensor = HostTensor<float>;
using Value32 = HostValue<float>;

//===----------------------------------------------------------------------===//
// MLIR text
//===----------------------------------------------------------------------===//

/// `tensor<2x3xf32>`, or `tensor<f32>` for a 0-D shape.
inline std::string tt(const std::vector<int64_t> &shape,
                      const char *elem = "f32") {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + elem + ">";
}

inline std::string ints(const std::vector<int64_t> &v) {
  if (v.empty())
    return "array<i64>";
  std::string s = "array<i64: ";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ">";
}

/// @f(args) -> (types of `returned`) running `body`.
inline std::string func(const std::string &args, const std::string &body,
                        const std::string &returned, const std::string &types) {
  return "func.func @f(" + args + ") -> (" + types + ") {\n" + body +
         "  return " + returned + " : " + types + "\n}\n";
}

/// @f(args) -> type returning %y = `op`.
inline std::string single(const std::string &args, const std::string &op,
                          const std::string &type) {
  return func(args, "  %y = " + op + "\n", "%y", type);
}

//===----------------------------------------------------------------------===//
// The comparison
//===----------------------------------------------------------------------===//

struct JitCase {
  CheckOptions opts;
  /// Rounds every float argument to a multiple of 0.25: ties in max pooling
  /// and argmax.
  bool quantize = false;
  /// Float arguments filled with this value (e.g. ties everywhere).
  std::optional<float> constant;
  /// Float results must be zero in exactly the same elements (dropout).
  bool sameZeros = false;
  /// The argument `quantize` and `constant` apply to; all when negative.
  int tiedArgument = -1;
  /// Appends the gradients of @f's first result (a 0-D loss) with respect
  /// to every float argument (differentiateFunction) before comparing: the
  /// gradient rules, composed of primitive ops, through the JIT.
  bool differentiate = false;
  /// The last this many labels are -1: padding rows of a partial batch.
  int paddingRows = 0;
};

inline void registerPassesOnce() {
  static bool done = (registerGradcPassesAndPipelines(), true);
  (void)done;
}

inline std::string shapeString(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? "x" : "") + std::to_string(s[i]);
  return r + "]";
}

/// Lowers `module` to the LLVM dialect and JIT-compiles it; a failure is
/// reported with the diagnostics.
inline std::unique_ptr<JitModule>
lowerAndJit(mlir::ModuleOp module,
            llvm::function_ref<void(mlir::OpPassManager &)> pipeline,
            int optLevel = 2) {
  registerPassesOnce();
  std::string diags;
  llvm::raw_string_ostream os(diags);
  mlir::ScopedDiagnosticHandler handler(
      module.getContext(), [&](mlir::Diagnostic &d) {
        os << d.getLocation() << ": " << d << "\n";
        return mlir::success();
      });
  mlir::PassManager pm(module.getContext());
  pipeline(pm);
  if (mlir::failed(pm.run(module))) {
    ADD_FAILURE() << "lowering failed:\n" << os.str();
    return nullptr;
  }
  JitOptions options;
  options.optLevel = optLevel;
  auto jit = JitModule::create(module, options);
  if (!jit.ok()) {
    ADD_FAILURE() << jit.status().message() << "\n" << os.str();
    return nullptr;
  }
  return std::move(*jit);
}

/// Number of arguments of the C-interface wrapper of @name.
inline int64_t cInterfaceArity(mlir::ModuleOp module, const std::string &name) {
  auto fn = module.lookupSymbol<mlir::LLVM::LLVMFuncOp>("_mlir_ciface_" + name);
  return fn ? int64_t(fn.getNumArguments()) : -1;
}

/// Argument values in float, from the double ones of randomArgs.
inline std::vector<Value32> toFloat(const std::vector<Value64> &args,
                                    const JitCase &c) {
  std::vector<Value32> out;
  for (const Value64 &v : args) {
    if (auto *t = std::get_if<Tensor>(&v)) {
      bool tie = c.tiedArgument < 0 || c.tiedArgument == int(out.size());
      FloatTensor f(t->shape);
      for (int64_t i = 0; i < t->numElements(); ++i) {
        double x = (*t)[i];
        if (tie && c.quantize)
          x = std::round(x * 4) / 4;
        f[i] = tie && c.constant ? *c.constant : float(x);
      }
      out.push_back(std::move(f));
    } else if (auto *l = std::get_if<HostTensor<int32_t>>(&v)) {
      HostTensor<int32_t> labels = *l;
      for (int i = 0; i < c.paddingRows && i < int(labels.data.size()); ++i)
        labels.data[labels.data.size() - 1 - i] = -1;
      out.push_back(std::move(labels));
    } else {
      out.push_back(std::get<HostTensor<int64_t>>(v));
    }
  }
  return out;
}

/// A zero tensor of `type`'s shape and kind.
inline Value32 zerosOf(mlir::Type type) {
  auto t = mlir::cast<mlir::RankedTensorType>(type);
  std::vector<int64_t> shape(t.getShape().begin(), t.getShape().end());
  if (mlir::isa<mlir::FloatType>(t.getElementType()))
    return FloatTensor(shape);
  if (t.getElementType().isSignlessInteger(32))
    return HostTensor<int32_t>(shape);
  return HostTensor<int64_t>(shape);
}

inline BufferRef refTo(Value32 &v) {
  BufferRef r;
  std::visit(
      [&](auto &t) {
        r.data = t.data.data();
        r.shape.assign(t.shape.begin(), t.shape.end());
      },
      v);
  return r;
}

/// The argument a result is written into in place, or -1: the arguments of
/// an optimizer update it rewrites (result 0 into the parameter, result k
/// into state operand k + 1), and arguments returned as they are. The
/// bufferization ABI drops these results from the signature.
inline std::vector<int> inPlaceArguments(mlir::func::FuncOp fn) {
  auto ret = fn.getBody().front().getTerminator();
  std::vector<int> alias;
  for (mlir::Value v : ret->getOperands()) {
    int a = -1;
    if (auto arg = mlir::dyn_cast<mlir::BlockArgument>(v)) {
      a = int(arg.getArgNumber());
    } else if (mlir::isa<nn::SgdUpdateOp, nn::MomentumUpdateOp,
                         nn::RmspropUpdateOp, nn::AdamUpdateOp>(
                   v.getDefiningOp())) {
      unsigned r = mlir::cast<mlir::OpResult>(v).getResultNumber();
      mlir::Value operand = v.getDefiningOp()->getOperand(r == 0 ? 0 : r + 1);
      if (auto arg = mlir::dyn_cast<mlir::BlockArgument>(operand))
        a = int(arg.getArgNumber());
    } else if (auto avg = mlir::dyn_cast_or_null<nn::MovingAverageOp>(
                   v.getDefiningOp())) {
      if (auto arg = mlir::dyn_cast<mlir::BlockArgument>(avg.getRunning()))
        a = int(arg.getArgNumber());
    }
    alias.push_back(a);
  }
  return alias;
}

/// Compares JIT results (`actual`) with the evaluator's (`expected`).
inline void expectClose(const Value32 &actual, const Value32 &expected,
                        const std::string &what, bool sameZeros = false) {
  ASSERT_EQ(actual.index(), expected.index()) << what;
  if (auto *e = std::get_if<FloatTensor>(&expected)) {
    const FloatTensor &a = std::get<FloatTensor>(actual);
    ASSERT_EQ(a.shape, e->shape) << what;
    int64_t reported = 0;
    for (int64_t i = 0; i < e->numElements() && reported < 8; ++i) {
      float x = a[i], y = (*e)[i];
      bool ok = std::abs(x - y) <= 1e-4f * std::max(1.0f, std::abs(y)) ||
                (std::isinf(y) && x == y);
      if (sameZeros)
        ok = ok && ((x == 0) == (y == 0));
      if (!ok) {
        ++reported;
        ADD_FAILURE() << what << " element " << i << " of "
                      << shapeString(e->shape) << ": JIT " << x
                      << ", evaluator " << y;
      }
    }
    return;
  }
  if (auto *e = std::get_if<HostTensor<int64_t>>(&expected)) {
    EXPECT_EQ(std::get<HostTensor<int64_t>>(actual).data, e->data) << what;
    return;
  }
  EXPECT_EQ(std::get<HostTensor<int32_t>>(actual).data,
            std::get<HostTensor<int32_t>>(expected).data)
      << what;
}

/// Calls @name of `jit`, compiled from `lowered`, on `args` and compares
/// each result with `expected`, the evaluator's results of `fn` (@name
/// before lowering). The buffers are the arguments, updated in place by the
/// ops that rewrite them (inPlaceArguments: those results are read back
/// from their argument), then one out-parameter per other result.
inline void expectCallMatches(const JitModule &jit, mlir::ModuleOp lowered,
                              mlir::func::FuncOp fn, const std::string &name,
                              std::vector<Value32> args,
                              const std::vector<Value32> &expected,
                              bool sameZeros = false) {
  std::vector<int> alias = inPlaceArguments(fn);
  std::vector<Value32> buffers = std::move(args);
  std::vector<int> outIndex(alias.size(), -1);
  for (size_t r = 0; r < alias.size(); ++r)
    if (alias[r] < 0) {
      outIndex[r] = int(buffers.size());
      buffers.push_back(zerosOf(fn.getResultTypes()[r]));
    }
  ASSERT_EQ(cInterfaceArity(lowered, name), int64_t(buffers.size()))
      << "unexpected bufferized signature";
  std::vector<BufferRef> refs;
  for (Value32 &b : buffers)
    refs.push_back(refTo(b));
  absl::Status s = jit.call(name, refs);
  ASSERT_TRUE(s.ok()) << s.message();
  for (size_t r = 0; r < alias.size(); ++r)
    expectClose(buffers[alias[r] >= 0 ? alias[r] : outIndex[r]], expected[r],
                "result " + std::to_string(r), sameZeros);
}

/// Runs @f of `src` through the evaluator (in float) and through the JIT on
/// the same random arguments and compares every result.
inline void expectJitMatches(const std::string &src, const JitCase &c = {}) {
  SCOPED_TRACE(src);
  auto ctx = makeContext();
  auto module = parse(*ctx, src);
  ASSERT_TRUE(module);
  ASSERT_TRUE(mlir::succeeded(mlir::verify(*module)));
  auto f = module->lookupSymbol<mlir::func::FuncOp>("f");
  ASSERT_TRUE(f);
  if (c.differentiate) {
    ASSERT_TRUE(mlir::succeeded(differentiateFunction(f, floatArguments(f))));
    ASSERT_TRUE(mlir::succeeded(mlir::verify(*module)));
  }

  std::mt19937_64 rng(c.opts.seed);
  std::vector<Value32> args = toFloat(randomArgs(f, c.opts, rng), c);
  std::vector<Value32> expected = valueOrFail(evaluate<float>(f, args));
  ASSERT_EQ(expected.size(), f.getNumResults());

  mlir::OwningOpRef<mlir::ModuleOp> lowered = module->clone();
  auto jit = lowerAndJit(*lowered, [](mlir::OpPassManager &pm) {
    buildLoweringPipeline(pm, Stage::LLVM);
  });
  ASSERT_TRUE(jit);
  expectCallMatches(*jit, *lowered, f, "f", std::move(args), expected,
                    c.sameZeros);
}

} // namespace gradc::test

#endif // GRADC_TESTS_UNIT_JITCOMPARE_H
