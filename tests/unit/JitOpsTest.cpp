//===- JitOpsTest.cpp - JIT-compiled nn ops against the evaluator ---------===//
//
// Every nn op, alone in a function, is lowered with buildLoweringPipeline
// to the LLVM dialect, JIT-compiled and called on random arguments; its
// results must match the reference evaluator run in float on the same
// arguments, within |a - b| <= 1e-4 max(1, |b|). The backward ops are ops
// too, so this also pins the compiled gradients to the evaluator, which the
// gradient tests pin to finite differences. Shapes are odd on purpose, and
// the window ops run with stride 2, asymmetric pads, dilation, windows that
// leave the last rows unread, and tied inputs. A last group calls
// @train_step, @eval_step and @predict of whole models compiled by `gradc`'s
// pipeline and compares them with the evaluator on the Stage::Train module.
//
//===----------------------------------------------------------------------===//

#include "GradientCheck.h"

#include "frontend/Importer.h"
#include "runtime/Jit.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"

#include <filesystem>
#include <optional>
#include <sstream>

using namespace gradc;
using namespace gradc::test;

namespace {

using FloatTensor = HostTensor<float>;
using Value32 = HostValue<float>;

//===----------------------------------------------------------------------===//
// MLIR text
//===----------------------------------------------------------------------===//

/// `tensor<2x3xf32>`, or `tensor<f32>` for a 0-D shape.
std::string tt(const std::vector<int64_t> &shape, const char *elem = "f32") {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + elem + ">";
}

std::string ints(const std::vector<int64_t> &v) {
  if (v.empty())
    return "array<i64>";
  std::string s = "array<i64: ";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ">";
}

/// @f(args) -> (types of `returned`) running `body`.
std::string func(const std::string &args, const std::string &body,
                 const std::string &returned, const std::string &types) {
  return "func.func @f(" + args + ") -> (" + types + ") {\n" + body +
         "  return " + returned + " : " + types + "\n}\n";
}

/// @f(args) -> type returning %y = `op`.
std::string single(const std::string &args, const std::string &op,
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

void registerPassesOnce() {
  static bool done = (registerGradcPassesAndPipelines(), true);
  (void)done;
}

std::string shapeString(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? "x" : "") + std::to_string(s[i]);
  return r + "]";
}

/// Lowers `module` to the LLVM dialect and JIT-compiles it; a failure is
/// reported with the diagnostics.
std::unique_ptr<JitModule>
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
int64_t cInterfaceArity(mlir::ModuleOp module, const std::string &name) {
  auto fn = module.lookupSymbol<mlir::LLVM::LLVMFuncOp>("_mlir_ciface_" + name);
  return fn ? int64_t(fn.getNumArguments()) : -1;
}

/// Argument values in float, from the double ones of randomArgs.
std::vector<Value32> toFloat(const std::vector<Value64> &args,
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
Value32 zerosOf(mlir::Type type) {
  auto t = mlir::cast<mlir::RankedTensorType>(type);
  std::vector<int64_t> shape(t.getShape().begin(), t.getShape().end());
  if (mlir::isa<mlir::FloatType>(t.getElementType()))
    return FloatTensor(shape);
  if (t.getElementType().isSignlessInteger(32))
    return HostTensor<int32_t>(shape);
  return HostTensor<int64_t>(shape);
}

BufferRef refTo(Value32 &v) {
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
std::vector<int> inPlaceArguments(mlir::func::FuncOp fn) {
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
void expectClose(const Value32 &actual, const Value32 &expected,
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

/// Runs @f of `src` through the evaluator (in float) and through the JIT on
/// the same random arguments and compares every result.
void expectJitMatches(const std::string &src, const JitCase &c = {}) {
  SCOPED_TRACE(src);
  auto ctx = makeContext();
  auto module = parse(*ctx, src);
  ASSERT_TRUE(module);
  ASSERT_TRUE(mlir::succeeded(mlir::verify(*module)));
  auto f = module->lookupSymbol<mlir::func::FuncOp>("f");
  ASSERT_TRUE(f);
  if (c.differentiate) {
    llvm::SmallVector<unsigned> wrt;
    for (unsigned i = 0; i < f.getNumArguments(); ++i)
      if (isFloatTensor(f.getArgument(i).getType()))
        wrt.push_back(i);
    ASSERT_TRUE(mlir::succeeded(differentiateFunction(f, wrt)));
    ASSERT_TRUE(mlir::succeeded(mlir::verify(*module)));
  }

  std::mt19937_64 rng(c.opts.seed);
  std::vector<Value32> args = toFloat(randomArgs(f, c.opts, rng), c);
  std::vector<Value32> expected = valueOrFail(evaluate<float>(f, args));
  ASSERT_EQ(expected.size(), f.getNumResults());
  std::vector<int> alias = inPlaceArguments(f);

  mlir::OwningOpRef<mlir::ModuleOp> lowered = module->clone();
  auto jit = lowerAndJit(*lowered, [](mlir::OpPassManager &pm) {
    buildLoweringPipeline(pm, Stage::LLVM);
  });
  ASSERT_TRUE(jit);

  // Arguments (updated in place by the optimizer ops), then out-parameters.
  std::vector<Value32> buffers = args;
  std::vector<int> outIndex(alias.size(), -1);
  for (size_t r = 0; r < alias.size(); ++r)
    if (alias[r] < 0) {
      outIndex[r] = int(buffers.size());
      buffers.push_back(zerosOf(f.getResultTypes()[r]));
    }
  ASSERT_EQ(cInterfaceArity(*lowered, "f"), int64_t(buffers.size()))
      << "unexpected bufferized signature";
  std::vector<BufferRef> refs;
  for (Value32 &b : buffers)
    refs.push_back(refTo(b));
  absl::Status s = jit->call("f", refs);
  ASSERT_TRUE(s.ok()) << s.message();
  for (size_t r = 0; r < alias.size(); ++r)
    expectClose(buffers[alias[r] >= 0 ? alias[r] : outIndex[r]], expected[r],
                "result " + std::to_string(r), c.sameZeros);
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

struct ConvGeom {
  std::string name;
  int64_t n, h, w, c, kh, kw, f;
  std::vector<int64_t> strides{1, 1}, pads{0, 0, 0, 0}, dilations{1, 1};
  bool bias = false;
  std::string activation = "none";

  int64_t out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0,
              int64_t p1) const {
    return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
  }
  std::vector<int64_t> x() const { return {n, h, w, c}; }
  std::vector<int64_t> filter() const { return {kh, kw, c, f}; }
  std::vector<int64_t> y() const {
    return {n, out(h, kh, strides[0], dilations[0], pads[0], pads[1]),
            out(w, kw, strides[1], dilations[1], pads[2], pads[3]), f};
  }
  std::string attrs(bool forward) const {
    std::string a = "{strides = " + ints(strides) + ", pads = " + ints(pads) +
                    ", dilations = " + ints(dilations);
    if (forward)
      a += ", activation = #nn.activation<" + activation +
           ">, alpha = 2.0e-01 : f64";
    return a + "}";
  }
};

std::ostream &operator<<(std::ostream &os, const ConvGeom &g) {
  return os << g.name;
}

class JitConv : public ::testing::TestWithParam<ConvGeom> {};

TEST(JitCall, ChecksTheEntryPointAndItsArity) {
  auto ctx = makeContext();
  auto module = parse(*ctx, "func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> "
                            "{\n  %y = nn.relu %x : tensor<2xf32>\n  return "
                            "%y : tensor<2xf32>\n}\n");
  ASSERT_TRUE(module);
  auto jit = lowerAndJit(*module, [](mlir::OpPassManager &pm) {
    buildLoweringPipeline(pm, Stage::LLVM);
  });
  ASSERT_TRUE(jit);
  FloatTensor x({2}, {-1.0f, 2.0f}), y({2});
  Value32 xv = x, yv = y;
  absl::Status missing = jit->call("f", {refTo(xv)});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.message()).find("@f takes 2 buffers, got 1"),
            std::string::npos)
      << missing.message();
  EXPECT_FALSE(jit->call("train_step", {refTo(xv), refTo(yv)}).ok());
  ASSERT_TRUE(jit->call("f", {refTo(xv), refTo(yv)}).ok());
  EXPECT_EQ(std::get<FloatTensor>(yv).data, (std::vector<float>{0.0f, 2.0f}));
}

TEST_P(JitConv, Forward) {
  const ConvGeom &g = GetParam();
  std::string args = "%x: " + tt(g.x()) + ", %w: " + tt(g.filter());
  std::string operands = "%x, %w", types = tt(g.x()) + ", " + tt(g.filter());
  if (g.bias) {
    args += ", %b: " + tt({g.f});
    operands += ", %b";
    types += ", " + tt({g.f});
  }
  expectJitMatches(single(args,
                          "nn.conv2d " + operands + " " + g.attrs(true) +
                              " : (" + types + ") -> " + tt(g.y()),
                          tt(g.y())));
}

TEST_P(JitConv, GradInput) {
  const ConvGeom &g = GetParam();
  expectJitMatches(single("%dy: " + tt(g.y()) + ", %w: " + tt(g.filter()),
                          "nn.conv2d_grad_input %dy, %w " + g.attrs(false) +
                              " : (" + tt(g.y()) + ", " + tt(g.filter()) +
                              ") -> " + tt(g.x()),
                          tt(g.x())));
}

TEST_P(JitConv, GradFilter) {
  const ConvGeom &g = GetParam();
  expectJitMatches(single("%x: " + tt(g.x()) + ", %dy: " + tt(g.y()),
                          "nn.conv2d_grad_filter %x, %dy " + g.attrs(false) +
                              " : (" + tt(g.x()) + ", " + tt(g.y()) + ") -> " +
                              tt(g.filter()),
                          tt(g.filter())));
}

ConvGeom conv(std::string name, std::vector<int64_t> s, bool bias = false,
              std::string activation = "none") {
  ConvGeom g{std::move(name), s[0], s[1], s[2], s[3], s[4], s[5], s[6]};
  g.bias = bias;
  g.activation = std::move(activation);
  return g;
}

ConvGeom with(ConvGeom g, std::vector<int64_t> strides,
              std::vector<int64_t> pads, std::vector<int64_t> dilations) {
  g.strides = std::move(strides);
  g.pads = std::move(pads);
  g.dilations = std::move(dilations);
  return g;
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, JitConv,
    ::testing::Values(
        conv("Basic3x3Bias", {2, 7, 6, 3, 3, 3, 5}, true),
        conv("NoBiasRelu", {2, 6, 5, 2, 3, 3, 4}, false, "relu"),
        conv("BiasLeakyRelu", {1, 5, 7, 3, 2, 3, 3}, true, "leaky_relu"),
        conv("OneByOne", {3, 5, 5, 1, 1, 1, 1}, true),
        with(conv("Stride2", {2, 9, 8, 3, 3, 3, 4}, true, "relu"), {2, 2},
             {0, 0, 0, 0}, {1, 1}),
        with(conv("AsymmetricPads", {2, 7, 6, 2, 3, 2, 3}, true), {1, 1},
             {1, 0, 2, 1}, {1, 1}),
        with(conv("Dilation2", {1, 9, 10, 2, 3, 3, 3}, false, "leaky_relu"),
             {1, 1}, {0, 0, 0, 0}, {2, 2}),
        with(conv("Stride2PadsDilation2", {2, 11, 9, 3, 3, 2, 5}, true), {2, 2},
             {2, 1, 0, 1}, {2, 2}),
        with(conv("Stride3LeavesLastRows", {2, 10, 11, 2, 2, 2, 3}, true),
             {3, 3}, {0, 0, 0, 0}, {1, 1}),
        with(conv("Stride2x1PadsLeaveRows", {1, 8, 7, 3, 3, 3, 2}, false,
                  "relu"),
             {2, 1}, {0, 1, 1, 0}, {1, 1}),
        with(conv("SamePadding", {2, 6, 6, 4, 3, 3, 4}, true, "relu"), {1, 1},
             {1, 1, 1, 1}, {1, 1}),
        with(conv("MixedStridesDilations", {1, 12, 9, 2, 2, 3, 3}, false),
             {3, 2}, {1, 2, 0, 2}, {2, 1})),
    [](const ::testing::TestParamInfo<ConvGeom> &info) {
      return info.param.name;
    });

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct PoolGeom {
  std::string name;
  std::vector<int64_t> x; // N H W C
  std::vector<int64_t> window, strides, pads{0, 0, 0, 0};

  std::vector<int64_t> y() const {
    auto out = [&](int i) {
      return (x[1 + i] + pads[2 * i] + pads[2 * i + 1] - window[i]) /
                 strides[i] +
             1;
    };
    return {x[0], out(0), out(1), x[3]};
  }
  std::string attrs() const {
    return "{window = " + ints(window) + ", strides = " + ints(strides) +
           ", pads = " + ints(pads) + "}";
  }
};

std::ostream &operator<<(std::ostream &os, const PoolGeom &g) {
  return os << g.name;
}

/// The tied-input variants every pooling geometry also runs with.
enum class Ties { None, Quantized, Constant };

JitCase tiesCase(Ties t) {
  JitCase c;
  c.quantize = t == Ties::Quantized;
  if (t == Ties::Constant)
    c.constant = 0.5f;
  return c;
}

using PoolParam = std::tuple<PoolGeom, Ties>;

class JitPool : public ::testing::TestWithParam<PoolParam> {};

std::string poolTestName(const ::testing::TestParamInfo<PoolParam> &info) {
  const char *ties[] = {"", "Quantized", "Constant"};
  return std::get<0>(info.param).name + ties[int(std::get<1>(info.param))];
}

std::string poolSrc(const PoolGeom &g, const std::string &op) {
  return single("%x: " + tt(g.x),
                "nn." + op + " %x " + g.attrs() + " : (" + tt(g.x) + ") -> " +
                    tt(g.y()),
                tt(g.y()));
}

std::string poolGradSrc(const PoolGeom &g, const std::string &op) {
  return single("%x: " + tt(g.x) + ", %dy: " + tt(g.y()),
                "nn." + op + " %x, %dy " + g.attrs() + " : (" + tt(g.x) + ", " +
                    tt(g.y()) + ") -> " + tt(g.x),
                tt(g.x));
}

TEST_P(JitPool, Max) {
  auto [g, ties] = GetParam();
  expectJitMatches(poolSrc(g, "max_pool2d"), tiesCase(ties));
}

TEST_P(JitPool, Avg) {
  auto [g, ties] = GetParam();
  expectJitMatches(poolSrc(g, "avg_pool2d"), tiesCase(ties));
}

TEST_P(JitPool, MaxGrad) {
  auto [g, ties] = GetParam();
  // Ties in the input only: the output gradient stays random, so that a
  // gradient sent to the wrong one of tied elements shows.
  JitCase c = tiesCase(ties);
  c.tiedArgument = 0;
  expectJitMatches(poolGradSrc(g, "max_pool2d_grad"), c);
}

TEST_P(JitPool, AvgGrad) {
  auto [g, ties] = GetParam();
  expectJitMatches(poolGradSrc(g, "avg_pool2d_grad"), tiesCase(ties));
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, JitPool,
    ::testing::Combine(
        ::testing::Values(
            PoolGeom{"Window2Stride2", {2, 6, 8, 3}, {2, 2}, {2, 2}},
            PoolGeom{"Overlapping3x3Stride2", {2, 7, 9, 2}, {3, 3}, {2, 2}},
            PoolGeom{"Overlapping3x3Stride2Pads",
                     {1, 8, 7, 3},
                     {3, 3},
                     {2, 2},
                     {1, 1, 1, 1}},
            PoolGeom{"AsymmetricPadsStride2x1",
                     {2, 7, 6, 2},
                     {3, 3},
                     {2, 1},
                     {0, 1, 2, 0}},
            PoolGeom{
                "Window2x3Stride3LeavesLastRows", {1, 8, 8, 3}, {2, 3}, {3, 3}},
            PoolGeom{"Stride1", {2, 5, 4, 1}, {2, 2}, {1, 1}, {1, 0, 0, 1}},
            // Windows of more than 16 offsets: the gradient scatters them
            // in a loop instead of straight-line code.
            PoolGeom{"Window5x4Stride2PadsLooped",
                     {2, 9, 8, 3},
                     {5, 4},
                     {2, 2},
                     {1, 2, 0, 1}},
            PoolGeom{"GlobalWindow7x6Looped", {2, 7, 6, 2}, {7, 6}, {1, 1}}),
        ::testing::Values(Ties::None, Ties::Quantized, Ties::Constant)),
    poolTestName);

/// Constant inputs at several values: every window is one tie, which the
/// gradient must resolve to its first element in row-major order.
TEST(JitMaxPoolGradTies, FirstMaximumOfEachWindowGetsTheGradient) {
  for (const PoolGeom &g :
       {PoolGeom{"", {2, 7, 6, 2}, {3, 3}, {2, 2}, {1, 1, 1, 1}},
        PoolGeom{"", {2, 7, 6, 2}, {3, 2}, {2, 1}, {0, 2, 1, 0}}})
    for (double v : {0.0, -3.0, 1e30}) {
      JitCase c;
      c.opts.ranges[0] = {v, v};
      expectJitMatches(poolGradSrc(g, "max_pool2d_grad"), c);
      expectJitMatches(poolSrc(g, "max_pool2d"), c);
    }
}

//===----------------------------------------------------------------------===//
// Dense, matmul, bias_grad, reshapes
//===----------------------------------------------------------------------===//

TEST(JitOps, Dense) {
  expectJitMatches(single("%x: tensor<3x7xf32>, %w: tensor<7x5xf32>, %b: "
                          "tensor<5xf32>",
                          "nn.dense %x, %w, %b : (tensor<3x7xf32>, "
                          "tensor<7x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>",
                          "tensor<3x5xf32>"));
  expectJitMatches(single("%x: tensor<1x9xf32>, %w: tensor<9x1xf32>",
                          "nn.dense %x, %w : (tensor<1x9xf32>, "
                          "tensor<9x1xf32>) -> tensor<1x1xf32>",
                          "tensor<1x1xf32>"));
  expectJitMatches(single("%x: tensor<5x33xf32>, %w: tensor<33x17xf32>",
                          "nn.dense %x, %w : (tensor<5x33xf32>, "
                          "tensor<33x17xf32>) -> tensor<5x17xf32>",
                          "tensor<5x17xf32>"));
}

TEST(JitOps, MatmulEveryTransposeCombination) {
  // op(lhs) is 5x7, op(rhs) is 7x3.
  for (auto [ta, tb] : {std::pair{false, false}, std::pair{true, false},
                        std::pair{false, true}, std::pair{true, true}}) {
    std::string lhs = ta ? "tensor<7x5xf32>" : "tensor<5x7xf32>";
    std::string rhs = tb ? "tensor<3x7xf32>" : "tensor<7x3xf32>";
    std::string attrs;
    if (ta || tb)
      attrs = std::string("{") + (ta ? "transpose_lhs" : "") +
              (ta && tb ? ", " : "") + (tb ? "transpose_rhs" : "") + "} ";
    expectJitMatches(single("%a: " + lhs + ", %b: " + rhs,
                            "nn.matmul %a, %b " + attrs + ": (" + lhs + ", " +
                                rhs + ") -> tensor<5x3xf32>",
                            "tensor<5x3xf32>"));
  }
}

TEST(JitOps, Primitives) {
  for (std::string t : {"tensor<6x5xf32>", "tensor<2x3x5x7xf32>"}) {
    std::string two = "%a: " + t + ", %b: " + t;
    for (std::string op : {"sub", "mul", "div", "maximum", "minimum"})
      expectJitMatches(single(two, "nn." + op + " %a, %b : " + t, t));
    JitCase positive;
    positive.opts.lo = 0.1;
    for (std::string op : {"exp", "log", "rsqrt"})
      expectJitMatches(single("%a: " + t, "nn." + op + " %a : " + t, t),
                       positive);
    JitCase ties; // equal operands and zeros
    ties.quantize = true;
    expectJitMatches(single("%a: " + t, "nn.sign %a : " + t, t), ties);
    for (std::string p : {"gt", "ge", "lt", "le", "eq"})
      expectJitMatches(single(two,
                              "nn.compare %a, %b {predicate = #nn.compare<" +
                                  p + ">} : " + t,
                              t),
                       ties);
    expectJitMatches(
        single(two + ", %c: " + t, "nn.select %c, %a, %b : " + t, t), ties);
  }
  // Reductions over leading, inner and all axes, and their inverses.
  std::string x = "tensor<2x3x5x7xf32>";
  for (auto [axes, kept] :
       {std::pair<std::vector<int64_t>, std::vector<int64_t>>{{0, 1, 2}, {7}},
        {{3}, {2, 3, 5}},
        {{1, 3}, {2, 5}},
        {{0, 1, 2, 3}, {}}}) {
    for (std::string op : {"reduce_sum", "reduce_max"})
      expectJitMatches(single("%x: " + x,
                              "nn." + op + " %x {axes = " + ints(axes) +
                                  "} : (" + x + ") -> " + tt(kept),
                              tt(kept)));
    std::vector<int64_t> dims;
    for (int64_t d = 0; d < 4; ++d)
      if (!llvm::is_contained(axes, d))
        dims.push_back(d);
    expectJitMatches(single("%v: " + tt(kept),
                            "nn.broadcast %v {dims = " + ints(dims) + "} : (" +
                                tt(kept) + ") -> " + x,
                            x));
  }
  for (int64_t c : {int64_t(1), int64_t(4)})
    expectJitMatches(single("%l: tensor<5xi32>",
                            "nn.one_hot %l : (tensor<5xi32>) -> " + tt({5, c}),
                            tt({5, c})));
  JitCase ties;
  ties.quantize = true;
  expectJitMatches(func("%x: tensor<6x4xf32>",
                        "  %i = nn.argmax %x : (tensor<6x4xf32>) -> "
                        "tensor<6xi32>\n"
                        "  %y = nn.one_hot %i : (tensor<6xi32>) -> "
                        "tensor<6x4xf32>\n",
                        "%y", "tensor<6x4xf32>"),
                   ties);
}

TEST(JitOps, FlattenAndReshape) {
  expectJitMatches(single("%x: tensor<2x3x5x7xf32>",
                          "nn.flatten %x : (tensor<2x3x5x7xf32>) -> "
                          "tensor<2x105xf32>",
                          "tensor<2x105xf32>"));
  expectJitMatches(single("%x: tensor<6x10xf32>",
                          "nn.reshape %x : (tensor<6x10xf32>) -> "
                          "tensor<3x4x5xf32>",
                          "tensor<3x4x5xf32>"));
  expectJitMatches(single("%x: tensor<2x3x4xf32>",
                          "nn.reshape %x : (tensor<2x3x4xf32>) -> "
                          "tensor<24xf32>",
                          "tensor<24xf32>"));
  // Computed values through a reshape, and a reshape feeding an op.
  expectJitMatches(func("%x: tensor<2x3x3x2xf32>",
                        "  %r = nn.relu %x : tensor<2x3x3x2xf32>\n"
                        "  %y = nn.flatten %r : (tensor<2x3x3x2xf32>) -> "
                        "tensor<2x18xf32>\n"
                        "  %z = nn.reshape %y : (tensor<2x18xf32>) -> "
                        "tensor<6x6xf32>\n"
                        "  %s = nn.softmax %z : tensor<6x6xf32>\n",
                        "%y, %s", "tensor<2x18xf32>, tensor<6x6xf32>"));
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

TEST(JitOps, Activations) {
  for (std::string shape : {"tensor<3x7xf32>", "tensor<2x3x4x5xf32>"}) {
    for (std::string op : {"relu", "sigmoid", "tanh", "softmax", "log_softmax"})
      for (double range : {1.0, 30.0}) {
        JitCase c;
        c.opts.lo = -range;
        c.opts.hi = range;
        expectJitMatches(
            single("%x: " + shape, "nn." + op + " %x : " + shape, shape), c);
      }
    expectJitMatches(single(
        "%x: " + shape,
        "nn.leaky_relu %x {alpha = 1.000000e-01 : f64} : " + shape, shape));
  }
  // One class: softmax is 1, log_softmax 0.
  for (std::string op : {"softmax", "log_softmax"})
    expectJitMatches(single("%x: tensor<4x1xf32>",
                            "nn." + op + " %x : tensor<4x1xf32>",
                            "tensor<4x1xf32>"));
}

/// @f(x, labels) = mse(`op`(x)) for x of `shape` [.., C].
std::string activationLoss(const std::string &op, const std::string &shape) {
  std::string y = "  %y = " + op + "\n";
  std::string p = shape, flat = shape;
  if (shape != "tensor<4x6xf32>") { // rank 4: flatten for the loss
    flat = "tensor<2x45xf32>";
    y += "  %z = nn.flatten %y : (" + shape + ") -> " + flat + "\n";
  }
  std::string last = shape != "tensor<4x6xf32>" ? "%z" : "%y";
  std::string n = shape != "tensor<4x6xf32>" ? "2" : "4";
  return func("%x: " + shape + ", %l: tensor<" + n + "xi32>",
              y + "  %loss = nn.mse " + last + ", %l : (" + flat + ", tensor<" +
                  n + "xi32>) -> tensor<f32>\n",
              "%loss", "tensor<f32>");
}

TEST(JitOps, ActivationGradients) {
  for (std::string shape : {"tensor<4x6xf32>", "tensor<2x3x3x5xf32>"})
    for (std::string op :
         {"nn.relu %x : " + shape, "nn.sigmoid %x : " + shape,
          "nn.tanh %x : " + shape, "nn.softmax %x : " + shape,
          "nn.log_softmax %x : " + shape,
          "nn.leaky_relu %x {alpha = 3.000000e-01 : f64} : " + shape}) {
      JitCase c;
      c.differentiate = true;
      c.opts.lo = -3;
      c.opts.hi = 3;
      expectJitMatches(activationLoss(op, shape), c);
      // Zeros in the input: the kink of relu and leaky_relu.
      c.quantize = true;
      expectJitMatches(activationLoss(op, shape), c);
    }
}

TEST(JitOps, PRelu) {
  for (auto [x, a] :
       {std::pair<std::string, std::string>{"tensor<4x6xf32>", "tensor<6xf32>"},
        {"tensor<2x3x4x5xf32>", "tensor<5xf32>"},
        {"tensor<7xf32>", "tensor<7xf32>"}}) {
    expectJitMatches(single("%x: " + x + ", %a: " + a,
                            "nn.prelu %x, %a : (" + x + ", " + a + ") -> " + x,
                            x));
    // Its gradients, through mse over the flattened output.
    int64_t n = x == "tensor<7xf32>" ? 1 : (x == "tensor<4x6xf32>" ? 4 : 2);
    std::string flat = x == "tensor<4x6xf32>" ? x
                       : x == "tensor<7xf32>" ? "tensor<1x7xf32>"
                                              : "tensor<2x60xf32>";
    std::string labels = "tensor<" + std::to_string(n) + "xi32>";
    std::string reshape =
        x == flat ? "" : "  %z = nn.reshape %y : (" + x + ") -> " + flat + "\n";
    std::string grad =
        func("%x: " + x + ", %a: " + a + ", %l: " + labels,
             "  %y = nn.prelu %x, %a : (" + x + ", " + a + ") -> " + x + "\n" +
                 reshape + "  %loss = nn.mse " + (x == flat ? "%y" : "%z") +
                 ", %l : (" + flat + ", " + labels + ") -> tensor<f32>\n",
             "%loss", "tensor<f32>");
    JitCase c;
    c.differentiate = true;
    expectJitMatches(grad, c);
    c.quantize = true; // zeros in the input
    expectJitMatches(grad, c);
  }
}

TEST(JitOps, DropoutMasksAgreeExactly) {
  struct Dropout {
    std::string shape;
    double rate;
    int64_t seed, step;
  };
  for (const Dropout &d : {Dropout{"tensor<4x33xf32>", 0.5, 42, 3},
                           Dropout{"tensor<2x5x5x3xf32>", 0.5, 42, 0},
                           Dropout{"tensor<64x17xf32>", 0.1, 7, 123456789},
                           Dropout{"tensor<3x100xf32>", 0.9, 0, 1000000007},
                           Dropout{"tensor<8x9xf32>", 0.25, -5, 77},
                           Dropout{"tensor<5x6xf32>", 0.0, 1, 2}}) {
    JitCase c;
    c.sameZeros = true;
    c.opts.step = d.step;
    c.opts.lo = 0.5; // no zeros in the input: a zero means dropped
    c.opts.hi = 2.0;
    std::ostringstream attrs;
    attrs << "{rate = " << std::scientific << d.rate
          << " : f64, seed = " << d.seed << " : i64}";
    expectJitMatches(single("%x: " + d.shape + ", %step: tensor<i64>",
                            "nn.dropout %x, %step " + attrs.str() + " : " +
                                d.shape + ", tensor<i64>",
                            d.shape),
                     c);
  }
  // Without a step dropout is the identity.
  expectJitMatches(func("%x: tensor<3x4xf32>",
                        "  %d = nn.dropout %x {rate = 5.000000e-01 : f64} : "
                        "tensor<3x4xf32>\n"
                        "  %y = nn.tanh %d : tensor<3x4xf32>\n",
                        "%y", "tensor<3x4xf32>"));
}

TEST(JitOps, AddAndConstant) {
  expectJitMatches(single("%a: tensor<3x5x7xf32>, %b: tensor<3x5x7xf32>",
                          "nn.add %a, %b : tensor<3x5x7xf32>",
                          "tensor<3x5x7xf32>"));
  expectJitMatches(func("",
                        "  %c = nn.constant 1.500000e+00 : tensor<3x4xf32>\n",
                        "%c", "tensor<3x4xf32>"));
  expectJitMatches(func("%x: tensor<f32>",
                        "  %c = nn.constant -2.500000e-01 : tensor<f32>\n"
                        "  %y = nn.add %x, %c : tensor<f32>\n",
                        "%y", "tensor<f32>"));
}

//===----------------------------------------------------------------------===//
// Losses, loss gradients, correct_count
//===----------------------------------------------------------------------===//

struct LossKind {
  std::string kind;
  double lo, hi;      // range of the predictions
  bool oneClass;      // also with C == 1
  double delta = 1.0; // huber
};

const LossKind kLosses[] = {
    {"cross_entropy", 0.01, 1.0, false},
    {"cross_entropy", -0.1, 1.1, false}, // clamped outside (0, 1]
    {"softmax_cross_entropy", -5.0, 5.0, false},
    {"binary_cross_entropy", 0.01, 0.99, true},
    {"binary_cross_entropy", -0.1, 1.1, true},
    {"mse", -2.0, 2.0, true},
    {"mae", -2.0, 2.0, true},
    {"huber", -3.0, 3.0, true},
    {"huber", -3.0, 3.0, true, 0.5},
    {"huber", -3.0, 3.0, true, 2.0},
    {"hinge", -2.0, 2.0, true},
    {"squared_hinge", -2.0, 2.0, true},
    {"categorical_hinge", -1.5, 1.5, false},
};

std::string deltaAttr(double delta) {
  std::ostringstream s;
  s << "delta = " << std::scientific << delta << " : f64";
  return s.str();
}

/// Calls `check` for every loss and class count (4, 1 where the loss
/// allows one class, 11) with a case whose predictions lie in the loss's
/// range, and the types of 5 predictions and their labels.
template <typename Check> void forEachLossCase(Check check) {
  for (const LossKind &k : kLosses)
    for (int64_t c : {int64_t(4), int64_t(1), int64_t(11)}) {
      if (c == 1 && !k.oneClass)
        continue;
      // Also with padding rows (label -1): left out of the mean, and all
      // five rows padding (a loss of 0).
      for (int padding : {0, 2, 5}) {
        SCOPED_TRACE("padding rows: " + std::to_string(padding));
        JitCase jc;
        jc.opts.ranges[0] = {k.lo, k.hi};
        jc.paddingRows = padding;
        check(k, jc, tt({5, c}), std::string("tensor<5xi32>"));
      }
    }
}

TEST(JitOps, Losses) {
  forEachLossCase([](const LossKind &k, JitCase &jc, const std::string &p,
                     const std::string &l) {
    expectJitMatches(single("%p: " + p + ", %l: " + l,
                            "nn." + k.kind + " %p, %l {" + deltaAttr(k.delta) +
                                "} : (" + p + ", " + l + ") -> tensor<f32>",
                            "tensor<f32>"),
                     jc);
  });
}

TEST(JitOps, LossGradients) {
  forEachLossCase([](const LossKind &k, JitCase &jc, const std::string &p,
                     const std::string &l) {
    jc.differentiate = true;
    expectJitMatches(single("%p: " + p + ", %l: " + l,
                            "nn." + k.kind + " %p, %l {" + deltaAttr(k.delta) +
                                "} : (" + p + ", " + l + ") -> tensor<f32>",
                            "tensor<f32>"),
                     jc);
  });
}

TEST(JitOps, CorrectCount) {
  for (int64_t c : {int64_t(4), int64_t(1), int64_t(10)})
    for (bool ties : {false, true}) {
      JitCase jc;
      jc.quantize = ties;            // ties go to the first maximum
      jc.paddingRows = ties ? 0 : 3; // padding rows are never counted
      if (c == 1)
        jc.opts.ranges[0] = {0.0, 1.0};
      std::string p = tt({9, c}), l = "tensor<9xi32>";
      expectJitMatches(single("%p: " + p + ", %l: " + l,
                              "nn.correct_count %p, %l : (" + p + ", " + l +
                                  ") -> tensor<i64>",
                              "tensor<i64>"),
                       jc);
    }
  // Every row tied: the prediction is class 0.
  JitCase tied;
  tied.constant = 0.25f;
  expectJitMatches(single("%p: tensor<6x3xf32>, %l: tensor<6xi32>",
                          "nn.correct_count %p, %l : (tensor<6x3xf32>, "
                          "tensor<6xi32>) -> tensor<i64>",
                          "tensor<i64>"),
                   tied);
}

/// Batch statistics over the rows that count: batch_norm_train,
/// batch_norm_grad and the unbiased moving average with `rows`, the last
/// rows labelled -1 (padding): none, two or four of the five rows.
TEST(JitOps, BatchNormSkipsPaddingRows) {
  std::string x = tt({5, 3, 2, 4}), c = tt({4}), l = "tensor<5xi32>";
  std::string body =
      "  %y, %m, %v = nn.batch_norm_train %x, %g, %b rows %l {epsilon = "
      "1.0e-3 : f64} : (" +
      x + ", " + c + ", " + c + ", " + l + ") -> (" + x + ", " + c + ", " + c +
      ")\n"
      "  %dx, %dg, %db = nn.batch_norm_grad %dy, %x, %g, %m, %v rows %l "
      "{epsilon = 1.0e-3 : f64} : (" +
      x + ", " + x + ", " + c + ", " + c + ", " + c + ", " + l + ") -> (" + x +
      ", " + c + ", " + c +
      ")\n"
      "  %r = nn.moving_average %run, %v rows %l {momentum = 0.9 : f64, "
      "per_row = 6 : i64} : (" +
      c + ", " + c + ", " + l + ") -> " + c + "\n";
  std::string src =
      func("%x: " + x + ", %g: " + c + ", %b: " + c + ", %dy: " + x +
               ", %run: " + c + ", %l: " + l,
           body, "%y, %m, %v, %dx, %dg, %db, %r",
           x + ", " + c + ", " + c + ", " + x + ", " + c + ", " + c + ", " + c);
  for (int padding : {0, 2, 4}) {
    SCOPED_TRACE("padding rows: " + std::to_string(padding));
    JitCase jc;
    jc.paddingRows = padding;
    jc.opts.ranges[4] = {0.5, 1.5}; // a running variance
    expectJitMatches(src, jc);
  }
}

//===----------------------------------------------------------------------===//
// Optimizer updates: the state is rewritten in the argument buffers.
//===----------------------------------------------------------------------===//

/// @f(p, g, state..., [step]) returning every result of one update op.
std::string updateSrc(const std::string &op, const std::string &attrs,
                      const std::string &t, int numState, bool withStep) {
  std::string args = "%p: " + t + ", %g: " + t, operands = "%p, %g",
              types = t + ", " + t;
  for (int i = 0; i < numState; ++i) {
    std::string name = "%s" + std::to_string(i);
    args += ", " + name + ": " + t;
    operands += ", " + name;
    types += ", " + t;
  }
  if (withStep) {
    args += ", %step: tensor<i64>";
    operands += ", %step";
    types += ", tensor<i64>";
  }
  int results = 1 + numState;
  std::string resultTypes, returned;
  for (int i = 0; i < results; ++i) {
    resultTypes += std::string(i ? ", " : "") + t;
    returned += std::string(i ? ", " : "") + "%r#" + std::to_string(i);
  }
  return func(args,
              "  %r:" + std::to_string(results) + " = nn." + op + " " +
                  operands + " " + attrs + " : (" + types + ") -> (" +
                  resultTypes + ")\n",
              returned, resultTypes);
}

TEST(JitOps, OptimizerUpdatesInPlace) {
  for (std::string t :
       {"tensor<7xf32>", "tensor<3x5xf32>", "tensor<3x3x2x4xf32>"})
    for (std::string wd : {"", ", weight_decay = 1.000000e-02 : f64"}) {
      expectJitMatches(updateSrc(
          "sgd_update", "{learning_rate = 1.000000e-01 : f64" + wd + "}", t, 0,
          false));
      for (std::string nesterov : {"", ", nesterov"})
        expectJitMatches(updateSrc("momentum_update",
                                   "{learning_rate = 5.000000e-02 : f64, "
                                   "momentum = 9.000000e-01 : f64" +
                                       nesterov + wd + "}",
                                   t, 1, false));
      JitCase rms;
      rms.opts.ranges[2] = {0.0, 1.0}; // mean square
      expectJitMatches(updateSrc("rmsprop_update",
                                 "{learning_rate = 1.000000e-02 : f64, rho = "
                                 "9.000000e-01 : f64, epsilon = 1.000000e-07 "
                                 ": f64" +
                                     wd + "}",
                                 t, 1, false),
                       rms);
      for (int64_t step : {0, 9, 1000}) {
        JitCase adam;
        adam.opts.ranges[3] = {0.0, 1.0}; // second moment
        adam.opts.step = step;
        expectJitMatches(updateSrc("adam_update",
                                   "{learning_rate = 1.000000e-03 : f64, "
                                   "beta_1 = 9.000000e-01 : f64, beta_2 = "
                                   "9.990000e-01 : f64, epsilon = "
                                   "1.000000e-07 : f64" +
                                       wd + "}",
                                   t, 2, true),
                         adam);
      }
    }
}

//===----------------------------------------------------------------------===//
// Whole models: one training step through gradc's pipeline
//===----------------------------------------------------------------------===//

class JitModel : public ::testing::TestWithParam<std::string> {};

/// Random arguments of an entry point: parameters in [-0.3, 0.3],
/// non-negative optimizer second moments, images in [0, 1], labels below
/// the number of classes, and step 4.
std::vector<Value32> modelArgs(mlir::func::FuncOp fn, std::mt19937_64 &rng) {
  std::vector<Value32> args;
  // The images come last, or just before the labels.
  unsigned n = fn.getNumArguments();
  unsigned image = isFloatTensor(fn.getArgumentTypes().back()) ? n - 1 : n - 2;
  for (mlir::BlockArgument a : fn.getArguments()) {
    Value32 v = zerosOf(a.getType());
    if (auto *t = std::get_if<FloatTensor>(&v)) {
      bool isImage = a.getArgNumber() == image;
      bool secondMoment = llvm::any_of(a.getUses(), [](mlir::OpOperand &u) {
        return (mlir::isa<nn::RmspropUpdateOp>(u.getOwner()) &&
                u.getOperandNumber() == 2) ||
               (mlir::isa<nn::AdamUpdateOp>(u.getOwner()) &&
                u.getOperandNumber() == 3);
      });
      // Running variances of batch norm's inference form: positive.
      bool variance = llvm::any_of(a.getUses(), [](mlir::OpOperand &u) {
        return (mlir::isa<nn::BatchNormOp>(u.getOwner()) &&
                u.getOperandNumber() == 4) ||
               (mlir::isa<nn::Conv2DBatchNormOp>(u.getOwner()) &&
                u.getOperandNumber() == 6);
      });
      double lo = isImage || secondMoment ? 0.0 : variance ? 0.5 : -0.3;
      double hi = isImage ? 1.0 : secondMoment ? 0.01 : variance ? 1.5 : 0.3;
      std::uniform_real_distribution<double> u(lo, hi);
      for (float &x : t->data)
        x = float(u(rng));
    } else if (auto *l = std::get_if<HostTensor<int32_t>>(&v)) {
      int64_t classes = 2;
      // The class count of the predictions [N, C] the labels are scored
      // against (the one-hot targets of gradient rules index the same C).
      for (mlir::Operation *user : a.getUsers()) {
        // Batch statistics read the labels only to skip padding rows.
        if (mlir::isa<nn::BatchNormTrainOp, nn::BatchNormGradOp,
                      nn::MovingAverageOp>(user))
          continue;
        mlir::Type p = mlir::isa<nn::OneHotOp>(user)
                           ? user->getResult(0).getType()
                           : user->getOperand(0).getType();
        if (shapeOf(p).size() == 2)
          classes = std::max<int64_t>(classes, shapeOf(p).back());
      }
      for (int32_t &x : l->data)
        x = int32_t(rng() % uint64_t(classes));
    } else {
      std::get<HostTensor<int64_t>>(v).data[0] = 4;
    }
    args.push_back(std::move(v));
  }
  return args;
}

/// Calls @name of `jit` and compares with the evaluator on `reference`:
/// results that update an argument in place are read back from it.
void expectStepMatches(const JitModule &jit, mlir::ModuleOp lowered,
                       mlir::func::FuncOp reference, const std::string &name,
                       std::mt19937_64 &rng) {
  SCOPED_TRACE("@" + name);
  std::vector<Value32> args = modelArgs(reference, rng);
  std::vector<Value32> expected = valueOrFail(evaluate<float>(reference, args));
  ASSERT_EQ(expected.size(), reference.getNumResults());
  std::vector<int> alias = inPlaceArguments(reference);
  std::vector<Value32> buffers = args;
  std::vector<int> outIndex(alias.size(), -1);
  for (size_t r = 0; r < alias.size(); ++r)
    if (alias[r] < 0) {
      outIndex[r] = int(buffers.size());
      buffers.push_back(zerosOf(reference.getResultTypes()[r]));
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
                "result " + std::to_string(r));
}

/// One call of each entry point (@train_step, then @eval_step and @predict
/// on fresh arguments) of a model at batch 3.
TEST_P(JitModel, StepsMatchEvaluator) {
  auto ctx = makeContext();
  registerPassesOnce();
  auto imported = importModelFile(*ctx, GetParam(), /*batchSize=*/3);
  ASSERT_TRUE(imported.ok()) << imported.status().message();

  mlir::OwningOpRef<mlir::ModuleOp> train = (*imported)->clone();
  mlir::PassManager pm(ctx.get());
  buildPipeline(pm, Stage::Train);
  ASSERT_TRUE(mlir::succeeded(pm.run(*train)));

  mlir::OwningOpRef<mlir::ModuleOp> lowered = (*imported)->clone();
  auto jit = lowerAndJit(
      *lowered, [](mlir::OpPassManager &p) { buildPipeline(p, Stage::LLVM); });
  ASSERT_TRUE(jit);

  std::mt19937_64 rng(11);
  for (const char *name : {"train_step", "eval_step", "predict"}) {
    auto fn = train->lookupSymbol<mlir::func::FuncOp>(name);
    ASSERT_TRUE(fn) << name;
    expectStepMatches(*jit, *lowered, fn, name, rng);
  }
}

/// A partial batch of 3 examples run padded to 5 (zero images, labels -1)
/// by the batch-5 module gives what the module compiled for exactly 3
/// gives: loss, correct count, updated parameters, optimizer state and
/// running statistics (batch norm's statistics skip the padding rows),
/// within 1e-6 relative.
TEST_P(JitModel, PaddedPartialBatchMatchesExactBatch) {
  auto ctx = makeContext();
  registerPassesOnce();
  std::unique_ptr<JitModule> jits[2];
  mlir::OwningOpRef<mlir::ModuleOp> modules[2];
  const int64_t sizes[2] = {3, 5};
  for (int k = 0; k < 2; ++k) {
    auto imported = importModelFile(*ctx, GetParam(), sizes[k]);
    ASSERT_TRUE(imported.ok()) << imported.status().message();
    modules[k] = std::move(*imported);
    // Both at -O0: the comparison is of two modules, and quick.
    jits[k] = lowerAndJit(
        *modules[k],
        [](mlir::OpPassManager &p) { buildPipeline(p, Stage::LLVM); },
        /*optLevel=*/0);
    ASSERT_TRUE(jits[k]);
  }
  // The Stage::Train module of batch 3 gives the argument types.
  auto train = importModelFile(*ctx, GetParam(), 3);
  ASSERT_TRUE(train.ok());
  mlir::PassManager pm(ctx.get());
  buildPipeline(pm, Stage::Train);
  ASSERT_TRUE(mlir::succeeded(pm.run(**train)));

  std::mt19937_64 rng(5);
  for (const char *name : {"train_step", "eval_step"}) {
    SCOPED_TRACE(name);
    auto fn = (*train)->lookupSymbol<mlir::func::FuncOp>(name);
    ASSERT_TRUE(fn);
    std::vector<Value32> exact = modelArgs(fn, rng);
    // Pad the images, labels and (regression) targets to 5 rows.
    std::vector<Value32> padded = exact;
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      if (fn.getArgAttr(i, "nn.labels")) {
        auto &labels = std::get<HostTensor<int32_t>>(padded[i]);
        labels.shape[0] = 5;
        labels.data.resize(5, -1);
      } else if (fn.getArgAttr(i, "nn.input") ||
                 fn.getArgAttr(i, "nn.targets")) {
        auto &x = std::get<FloatTensor>(padded[i]);
        x.shape[0] = 5;
        x.data.resize(x.data.size() / 3 * 5, 0.0f);
      }
    }
    std::vector<int> alias = inPlaceArguments(fn);
    std::vector<Value32> results[2];
    for (int k = 0; k < 2; ++k) {
      std::vector<Value32> buffers = k ? padded : exact;
      size_t numArgs = buffers.size();
      for (size_t r = 0; r < alias.size(); ++r)
        if (alias[r] < 0)
          buffers.push_back(zerosOf(fn.getResultTypes()[r]));
      std::vector<BufferRef> refs;
      for (Value32 &b : buffers)
        refs.push_back(refTo(b));
      absl::Status s = jits[k]->call(name, refs);
      ASSERT_TRUE(s.ok()) << s.message();
      size_t out = numArgs;
      for (size_t r = 0; r < alias.size(); ++r)
        results[k].push_back(buffers[alias[r] >= 0 ? alias[r] : out++]);
    }
    for (size_t r = 0; r < alias.size(); ++r) {
      SCOPED_TRACE("result " + std::to_string(r));
      if (auto *a = std::get_if<FloatTensor>(&results[1][r])) {
        const auto &b = std::get<FloatTensor>(results[0][r]);
        ASSERT_EQ(a->data.size(), b.data.size());
        for (size_t i = 0; i < a->data.size(); ++i)
          EXPECT_NEAR(a->data[i], b.data[i],
                      1e-6 * std::max(1.0f, std::abs(b.data[i])))
              << "element " << i;
      } else if (auto *c = std::get_if<HostTensor<int64_t>>(&results[1][r])) {
        EXPECT_EQ(c->data, std::get<HostTensor<int64_t>>(results[0][r]).data);
      }
    }
  }
}

std::vector<std::string> modelFiles() {
  std::vector<std::string> files;
  for (const char *dir :
       {GRADC_SOURCE_DIR "/examples", GRADC_SOURCE_DIR "/tests/models"})
    for (auto &entry : std::filesystem::directory_iterator(dir))
      if (entry.path().extension() == ".pbtxt")
        files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(
    Models, JitModel, ::testing::ValuesIn(modelFiles()),
    [](const ::testing::TestParamInfo<std::string> &info) {
      return std::filesystem::path(info.param).stem().string();
    });

} // namespace
