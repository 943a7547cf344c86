//===- GradientTest.cpp - every gradient rule against finite differences --===//
//
// Each differentiable op alone, in several shapes and attribute settings
// (odd sizes, stride 2, asymmetric pads, dilation, fused activations), has
// its DifferentiableOpInterface rule evaluated by the reference evaluator
// and compared with central differences (whole graphs: GraphGradientTest).
// The gradient
// checks only prove that forward and backward agree, so the evaluator's
// forward semantics (padding offsets, first-max ties, dropout masks, loss
// values) are pinned down by hand-computed cases first.
//
//===----------------------------------------------------------------------===//

#include "GradientCheck.h"

#include "ir/DropoutMask.h"
#include "ir/UnaryFunctions.h"

using namespace gradc;
using namespace gradc::test;

namespace {

/// A function @f(args) -> type returning the result of one op line that
/// defines %y.
std::string fn(const std::string &args, const std::string &op,
               const std::string &resultType) {
  return "func.func @f(" + args + ") -> " + resultType + " {\n  %y = " + op +
         "\n  return %y : " + resultType + "\n}\n";
}

/// Runs @f of `src` on `args` in double and returns its float results.
std::vector<Tensor> run(const std::string &src, std::vector<Value64> args) {
  auto ctx = makeContext();
  auto module = parse(*ctx, src);
  if (!module)
    return {};
  auto results = valueOrFail(evaluate<double>(
      module->lookupSymbol<mlir::func::FuncOp>("f"), std::move(args)));
  std::vector<Tensor> out;
  for (Value64 &v : results)
    if (auto *t = std::get_if<Tensor>(&v))
      out.push_back(*t);
  return out;
}

void expectNear(const Tensor &actual, const std::vector<double> &expected,
                double tol = 1e-12) {
  ASSERT_EQ(actual.data.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual.data[i], expected[i], tol) << "element " << i;
}

//===----------------------------------------------------------------------===//
// Forward semantics of the evaluator, by hand
//===----------------------------------------------------------------------===//

TEST(EvaluatorSemantics, ConvPadsShiftTheInputDownAndRight) {
  // Taps (0,0) weight 1 and (1,1) weight 2 with one row of padding on top
  // and one column on the left: out[y][x] = x[y-1][x-1] + 2 x[y][x] + 0.5.
  auto out = run(fn("%x: tensor<1x3x3x1xf32>, %w: tensor<2x2x1x1xf32>, "
                    "%b: tensor<1xf32>",
                    "nn.conv2d %x, %w, %b {pads = array<i64: 1, 0, 1, 0>} : "
                    "(tensor<1x3x3x1xf32>, tensor<2x2x1x1xf32>, "
                    "tensor<1xf32>) -> tensor<1x3x3x1xf32>",
                    "tensor<1x3x3x1xf32>"),
                 {Tensor({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9}),
                  Tensor({2, 2, 1, 1}, {1, 0, 0, 2}), Tensor({1}, {0.5})});
  ASSERT_EQ(out.size(), 1u);
  expectNear(out[0], {2.5, 4.5, 6.5, 8.5, 11.5, 14.5, 14.5, 20.5, 23.5});
}

TEST(EvaluatorSemantics, AnOpWithoutAKernelIsAnErrorNamingIt) {
  auto ctx = makeContext();
  auto module =
      parse(*ctx, fn("%x: tensor<2xf32>", "arith.addf %x, %x : tensor<2xf32>",
                     "tensor<2xf32>"));
  ASSERT_TRUE(module);
  auto result = evaluate<double>(module->lookupSymbol<mlir::func::FuncOp>("f"),
                                 {Tensor({2}, {1, 2})});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message())
                .find("no reference kernel for 'arith.addf'"),
            std::string::npos)
      << result.status().message();
}

TEST(EvaluatorSemantics, ConvStrideAndDilation) {
  // x[r][c] = 5r + c; taps (0,0) and (1,1) dilated by 2, stride 2:
  // out[y][x] = x[2y][2x] + x[2y+2][2x+2].
  Tensor x({1, 5, 5, 1});
  for (int64_t i = 0; i < 25; ++i)
    x[i] = double(i);
  auto out = run(fn("%x: tensor<1x5x5x1xf32>, %w: tensor<2x2x1x1xf32>",
                    "nn.conv2d %x, %w {strides = array<i64: 2, 2>, "
                    "dilations = array<i64: 2, 2>} : (tensor<1x5x5x1xf32>, "
                    "tensor<2x2x1x1xf32>) -> tensor<1x2x2x1xf32>",
                    "tensor<1x2x2x1xf32>"),
                 {x, Tensor({2, 2, 1, 1}, {1, 0, 0, 1})});
  ASSERT_EQ(out.size(), 1u);
  expectNear(out[0], {12, 16, 32, 36});
}

TEST(EvaluatorSemantics, PaddingNeverWinsAMaxAndIsNotAveraged) {
  std::string args = "%x: tensor<1x2x2x1xf32>";
  std::string attrs = "{window = array<i64: 2, 2>, strides = array<i64: 1, 1>,"
                      " pads = array<i64: 1, 0, 1, 0>} : "
                      "(tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>";
  auto max = run(fn(args, "nn.max_pool2d %x " + attrs, "tensor<1x2x2x1xf32>"),
                 {Tensor({1, 2, 2, 1}, {-4, -3, -2, -1})});
  ASSERT_EQ(max.size(), 1u);
  expectNear(max[0], {-4, -3, -2, -1});
  auto avg = run(fn(args, "nn.avg_pool2d %x " + attrs, "tensor<1x2x2x1xf32>"),
                 {Tensor({1, 2, 2, 1}, {1, 2, 3, 4})});
  ASSERT_EQ(avg.size(), 1u);
  expectNear(avg[0], {1, 1.5, 2, 2.5});
}

TEST(EvaluatorSemantics, MaxPoolGradientGoesToTheFirstMaxOfEachWindow) {
  // Two 2x2 windows: [1 3; 3 3] sends dy to its first 3, the all-equal
  // [2 2; 2 2] to its first element.
  auto out = run(fn("%x: tensor<1x2x4x1xf32>, %dy: tensor<1x1x2x1xf32>",
                    "nn.max_pool2d_grad %x, %dy {window = array<i64: 2, 2>, "
                    "strides = array<i64: 2, 2>} : (tensor<1x2x4x1xf32>, "
                    "tensor<1x1x2x1xf32>) -> tensor<1x2x4x1xf32>",
                    "tensor<1x2x4x1xf32>"),
                 {Tensor({1, 2, 4, 1}, {1, 3, 2, 2, 3, 3, 2, 2}),
                  Tensor({1, 1, 2, 1}, {10, 20})});
  ASSERT_EQ(out.size(), 1u);
  expectNear(out[0], {0, 10, 20, 0, 0, 0, 0, 0});

  // Overlapping windows of a constant row: each window's own first element
  // wins, and an element winning twice accumulates.
  auto overlap = run(
      fn("%x: tensor<1x1x4x1xf32>, %dy: tensor<1x1x3x1xf32>",
         "nn.max_pool2d_grad %x, %dy {window = array<i64: 1, "
         "2>, strides = array<i64: 1, 1>} : "
         "(tensor<1x1x4x1xf32>, tensor<1x1x3x1xf32>) -> "
         "tensor<1x1x4x1xf32>",
         "tensor<1x1x4x1xf32>"),
      {Tensor({1, 1, 4, 1}, {4, 4, 5, 5}), Tensor({1, 1, 3, 1}, {1, 2, 4})});
  ASSERT_EQ(overlap.size(), 1u);
  expectNear(overlap[0], {1, 0, 6, 0});
}

TEST(EvaluatorSemantics, MaxPoolTiesThroughTheGradientRule) {
  // The same first-max rule when the gradient comes from MaxPool2DOp's own
  // rule, with ties across channels handled independently.
  auto ctx = makeContext();
  auto module = parse(*ctx, fn("%x: tensor<1x2x2x2xf32>",
                               "nn.max_pool2d %x {window = array<i64: 2, 2>, "
                               "strides = array<i64: 2, 2>} : "
                               "(tensor<1x2x2x2xf32>) -> tensor<1x1x1x2xf32>",
                               "tensor<1x1x1x2xf32>"));
  ASSERT_TRUE(module);
  auto f = module->lookupSymbol<mlir::func::FuncOp>("f");
  buildOpGradient(*module, f);
  auto g = module->lookupSymbol<mlir::func::FuncOp>("f_grad");
  // Channel 0: [7 7; 7 7]; channel 1: [1 5; 9 9].
  auto grads = valueOrFail(
      evaluate<double>(g, {Tensor({1, 2, 2, 2}, {7, 1, 7, 5, 7, 9, 7, 9}),
                           Tensor({1, 1, 1, 2}, {3, 4})}));
  ASSERT_EQ(grads.size(), 1u);
  expectNear(floats(grads[0]), {3, 0, 0, 0, 0, 4, 0, 0});
}

TEST(EvaluatorSemantics, DropoutMaskScaleAndIdentity) {
  std::string args = "%x: tensor<4x6xf32>, %s: tensor<i64>";
  auto out = run(fn(args,
                    "nn.dropout %x, %s {rate = 3.0e-01 : f64, seed = 5 : i64}"
                    " : tensor<4x6xf32>, tensor<i64>",
                    "tensor<4x6xf32>"),
                 {Tensor({4, 6}, 2.0), HostTensor<int64_t>({}, {7})});
  ASSERT_EQ(out.size(), 1u);
  int kept = 0;
  for (int64_t i = 0; i < 24; ++i) {
    bool keep = dropoutKeep(5, 7, i, 0.3);
    kept += keep;
    EXPECT_DOUBLE_EQ(out[0][i], keep ? 2.0 / 0.7 : 0.0) << "element " << i;
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 24);
  auto identity = run(fn("%x: tensor<4x6xf32>",
                         "nn.dropout %x {rate = 3.0e-01 : f64, seed = 5 : "
                         "i64} : tensor<4x6xf32>",
                         "tensor<4x6xf32>"),
                      {Tensor({4, 6}, 2.0)});
  ASSERT_EQ(identity.size(), 1u);
  expectNear(identity[0], std::vector<double>(24, 2.0));
}

/// The value of loss `op` (with `attrs`) on predictions `p` [N, C].
double lossValue(const std::string &op, const std::string &attrs,
                 const Tensor &p, std::vector<int32_t> labels) {
  std::string n = std::to_string(p.dim(0)), c = std::to_string(p.dim(1));
  std::string pt = "tensor<" + n + "x" + c + "xf32>",
              lt = "tensor<" + n + "xi32>";
  auto out = run(fn("%p: " + pt + ", %l: " + lt,
                    "nn." + op + " %p, %l " + attrs + " : (" + pt + ", " + lt +
                        ") -> tensor<f32>",
                    "tensor<f32>"),
                 {p, HostTensor<int32_t>({p.dim(0)}, std::move(labels))});
  return out.empty() ? std::nan("") : out[0][0];
}

TEST(EvaluatorSemantics, LossValues) {
  // One row p = [0.5, 0.2], label 1: t = [0, 1], t' = [-1, 1].
  Tensor p({1, 2}, {0.5, 0.2});
  EXPECT_NEAR(lossValue("cross_entropy", "", p, {1}), -std::log(0.2), 1e-12);
  EXPECT_NEAR(lossValue("binary_cross_entropy", "", p, {1}),
              -(std::log(0.5) + std::log(0.2)) / 2, 1e-12);
  EXPECT_NEAR(lossValue("mse", "", p, {1}), (0.25 + 0.64) / 2, 1e-12);
  EXPECT_NEAR(lossValue("mae", "", p, {1}), (0.5 + 0.8) / 2, 1e-12);
  EXPECT_NEAR(lossValue("huber", "{delta = 5.0e-01 : f64}", p, {1}),
              (0.5 * 0.25 + 0.5 * (0.8 - 0.25)) / 2, 1e-12);
  EXPECT_NEAR(lossValue("hinge", "", p, {1}), (1.5 + 0.8) / 2, 1e-12);
  EXPECT_NEAR(lossValue("squared_hinge", "", p, {1}), (2.25 + 0.64) / 2, 1e-12);
  EXPECT_NEAR(lossValue("categorical_hinge", "", p, {1}), 1.3, 1e-12);
  EXPECT_NEAR(lossValue("softmax_cross_entropy", "", p, {1}),
              std::log(std::exp(0.5) + std::exp(0.2)) - 0.2, 1e-12);
  // A margin already met costs nothing.
  EXPECT_NEAR(
      lossValue("categorical_hinge", "", Tensor({1, 3}, {0, 3, 1}), {1}), 0.0,
      1e-12);
  // One column: the label itself is the target; mean over the batch.
  Tensor q({2, 1}, {0.3, 0.6});
  EXPECT_NEAR(lossValue("mse", "", q, {1, 0}), (0.49 + 0.36) / 2, 1e-12);
  EXPECT_NEAR(lossValue("hinge", "", q, {1, 0}), (0.7 + 1.6) / 2, 1e-12);
  EXPECT_NEAR(lossValue("binary_cross_entropy", "", q, {1, 0}),
              -(std::log(0.3) + std::log(0.4)) / 2, 1e-12);
  // Probabilities below 1e-7 are clamped.
  EXPECT_NEAR(lossValue("cross_entropy", "", Tensor({1, 2}, {1.0, 1e-9}), {1}),
              -std::log(1e-7), 1e-9);
}

TEST(EvaluatorSemantics, ClampedCrossEntropyHasNoGradient) {
  // The true class's probability is below the 1e-7 clamp, where the loss
  // is flat: the rule's range mask gives it a zero gradient.
  auto ctx = makeContext();
  auto module = parse(*ctx, fn("%p: tensor<1x2xf32>, %l: tensor<1xi32>",
                               "nn.cross_entropy %p, %l : (tensor<1x2xf32>, "
                               "tensor<1xi32>) -> tensor<f32>",
                               "tensor<f32>"));
  ASSERT_TRUE(module);
  auto f = module->lookupSymbol<mlir::func::FuncOp>("f");
  ASSERT_TRUE(mlir::succeeded(differentiateFunction(f, {0})));
  auto results = valueOrFail(evaluate<double>(
      f, {Tensor({1, 2}, {1.0, 1e-9}), HostTensor<int32_t>({1}, {1})}));
  ASSERT_EQ(results.size(), 2u);
  expectNear(std::get<Tensor>(results[1]), {0, 0});
}

TEST(EvaluatorSemantics, CorrectCountUsesTheFirstArgmax) {
  auto count = [](const Tensor &p, std::vector<int32_t> labels) -> int64_t {
    std::string n = std::to_string(p.dim(0)), c = std::to_string(p.dim(1));
    std::string pt = "tensor<" + n + "x" + c + "xf32>",
                lt = "tensor<" + n + "xi32>";
    auto ctx = makeContext();
    auto module = parse(*ctx, fn("%p: " + pt + ", %l: " + lt,
                                 "nn.correct_count %p, %l : (" + pt + ", " +
                                     lt + ") -> tensor<i64>",
                                 "tensor<i64>"));
    auto results = valueOrFail(
        evaluate<double>(module->lookupSymbol<mlir::func::FuncOp>("f"),
                         {p, HostTensor<int32_t>({p.dim(0)}, labels)}));
    return results.empty() ? -1 : std::get<HostTensor<int64_t>>(results[0])[0];
  };
  // Row 0 ties between classes 1 and 2 (first wins: correct); row 1 is
  // wrong.
  EXPECT_EQ(count(Tensor({2, 3}, {0.1, 0.7, 0.7, 0.9, 0.0, 0.1}), {1, 2}), 1);
  EXPECT_EQ(count(Tensor({2, 3}, {0.1, 0.7, 0.7, 0.9, 0.0, 0.1}), {2, 0}), 1);
  // One column: class 1 when p > 0.5.
  EXPECT_EQ(count(Tensor({3, 1}, {0.6, 0.4, 0.5}), {1, 0, 1}), 2);
}

TEST(EvaluatorSemantics, UnsupportedOpsAndBadArgumentsAreErrors) {
  auto ctx = makeContext();
  auto module = parse(*ctx, R"mlir(
    func.func private @g(tensor<2xf32>) -> tensor<2xf32>
    func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
      %y = func.call @g(%x) : (tensor<2xf32>) -> tensor<2xf32>
      return %y : tensor<2xf32>
    })mlir");
  ASSERT_TRUE(module);
  auto f = module->lookupSymbol<mlir::func::FuncOp>("f");
  auto result = evaluate<double>(f, {Tensor({2}, {1, 2})});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("func.call"), std::string::npos)
      << result.status().message();

  auto badShape = evaluate<double>(f, {Tensor({3}, {1, 2, 3})});
  ASSERT_FALSE(badShape.ok());
  EXPECT_NE(badShape.status().message().find("shape"), std::string::npos);
  auto badKind = evaluate<double>(f, {HostTensor<int32_t>({2}, {1, 2})});
  EXPECT_FALSE(badKind.ok());
  EXPECT_FALSE(evaluate<double>(f, {}).ok());
}

TEST(EvaluatorSemantics, FloatAndDoubleAgree) {
  auto ctx = makeContext();
  auto module =
      parse(*ctx, fn("%x: tensor<2x3xf32>", "nn.softmax %x : tensor<2x3xf32>",
                     "tensor<2x3xf32>"));
  auto f = module->lookupSymbol<mlir::func::FuncOp>("f");
  std::vector<double> x = {0.1, -2, 3, 1, 1, 1};
  auto d = valueOrFail(evaluate<double>(f, {Tensor({2, 3}, x)}));
  auto s = valueOrFail(evaluate<float>(
      f, {HostTensor<float>({2, 3}, std::vector<float>(x.begin(), x.end()))}));
  ASSERT_EQ(d.size(), 1u);
  ASSERT_EQ(s.size(), 1u);
  for (int i = 0; i < 6; ++i)
    EXPECT_NEAR(std::get<HostTensor<float>>(s[0])[i], floats(d[0])[i], 1e-6);
}

//===----------------------------------------------------------------------===//
// Gradient rules of the forward ops
//===----------------------------------------------------------------------===//

/// A conv2d of input `x`, filter `w` (with a bias when `bias`), output `y`
/// and attribute dictionary `attrs`.
std::string conv(const std::string &x, const std::string &w, bool bias,
                 const std::string &y, const std::string &attrs) {
  std::string b = w.substr(w.rfind('x') + 1); // the filter count
  std::string tx = "tensor<" + x + "xf32>", tw = "tensor<" + w + "xf32>",
              tb = "tensor<" + b + "xf32>", ty = "tensor<" + y + "xf32>";
  return fn("%x: " + tx + ", %w: " + tw + (bias ? ", %b: " + tb : ""),
            "nn.conv2d %x, %w" + std::string(bias ? ", %b " : " ") + attrs +
                " : (" + tx + ", " + tw + (bias ? ", " + tb : "") + ") -> " +
                ty,
            ty);
}

TEST(ConvGradient, Plain) {
  expectOpGradientsMatch(conv("1x5x5x2", "3x3x2x3", true, "1x3x3x3", ""));
}

TEST(ConvGradient, OddSizesStride2NoBias) {
  expectOpGradientsMatch(conv("2x7x6x3", "3x2x3x2", false, "2x3x3x2",
                              "{strides = array<i64: 2, 2>}"));
}

TEST(ConvGradient, SameStyleAsymmetricPadsStride2) {
  // TensorFlow's SAME for 6x5, kernel 3, stride 2: pads [0, 1, 1, 1].
  expectOpGradientsMatch(
      conv("2x6x5x2", "3x3x2x2", true, "2x3x3x2",
           "{strides = array<i64: 2, 2>, pads = array<i64: 0, 1, 1, 1>}"));
  expectOpGradientsMatch(conv("1x4x5x1", "2x2x1x2", true, "1x7x5x2",
                              "{pads = array<i64: 1, 3, 0, 1>}"));
}

TEST(ConvGradient, Dilation2) {
  expectOpGradientsMatch(conv("1x7x7x2", "2x3x2x2", true, "1x5x3x2",
                              "{dilations = array<i64: 2, 2>}"));
  expectOpGradientsMatch(conv("1x8x8x1", "3x3x1x2", true, "1x3x3x2",
                              "{strides = array<i64: 2, 2>, dilations = "
                              "array<i64: 2, 2>, pads = array<i64: 1, 1, 1, "
                              "1>}"));
}

TEST(ConvGradient, FusedRelu) {
  expectOpGradientsMatch(conv("2x5x5x2", "3x3x2x3", true, "2x3x3x3",
                              "{activation = #nn.activation<relu>}"));
}

TEST(ConvGradient, FusedLeakyRelu) {
  expectOpGradientsMatch(
      conv("2x6x5x2", "3x3x2x2", true, "2x3x3x2",
           "{activation = #nn.activation<leaky_relu>, alpha = 2.0e-01 "
           ": f64, strides = array<i64: 2, 2>, pads = "
           "array<i64: 0, 1, 1, 1>}"));
}

/// A pooling op `op` over `x` to `y` with `attrs`.
std::string pool(const std::string &op, const std::string &x,
                 const std::string &y, const std::string &attrs) {
  std::string tx = "tensor<" + x + "xf32>", ty = "tensor<" + y + "xf32>";
  return fn("%x: " + tx,
            "nn." + op + " %x " + attrs + " : (" + tx + ") -> " + ty, ty);
}

TEST(PoolGradient, MaxAndAverage) {
  for (std::string op : {"max_pool2d", "avg_pool2d"}) {
    SCOPED_TRACE(op);
    // Odd input, the last row and column unused.
    expectOpGradientsMatch(pool(op, "1x5x5x2", "1x2x2x2",
                                "{window = array<i64: 2, 2>, strides = "
                                "array<i64: 2, 2>}"));
    // Padding on every side, stride 2.
    expectOpGradientsMatch(pool(op, "2x5x6x2", "2x3x3x2",
                                "{window = array<i64: 3, 3>, strides = "
                                "array<i64: 2, 2>, pads = array<i64: 1, 1, "
                                "1, 1>}"));
    // Overlapping non-square windows, asymmetric pads.
    expectOpGradientsMatch(pool(op, "1x4x5x3", "1x3x5x3",
                                "{window = array<i64: 3, 2>, strides = "
                                "array<i64: 1, 1>, pads = array<i64: 0, 1, "
                                "1, 0>}"));
  }
}

TEST(DenseGradient, WithAndWithoutBias) {
  expectOpGradientsMatch(fn("%x: tensor<3x4xf32>, %w: tensor<4x5xf32>, %b: "
                            "tensor<5xf32>",
                            "nn.dense %x, %w, %b : (tensor<3x4xf32>, "
                            "tensor<4x5xf32>, tensor<5xf32>) -> "
                            "tensor<3x5xf32>",
                            "tensor<3x5xf32>"));
  expectOpGradientsMatch(fn("%x: tensor<2x3xf32>, %w: tensor<3x1xf32>",
                            "nn.dense %x, %w : (tensor<2x3xf32>, "
                            "tensor<3x1xf32>) -> tensor<2x1xf32>",
                            "tensor<2x1xf32>"));
}

/// The table's gradient: 12 ids into 5 rows repeat, and their rows' dy add
/// up; i32 ids of rank 1 too.
TEST(EmbeddingGradient, RepeatedIdsAddUp) {
  expectOpGradientsMatch(fn("%i: tensor<4x3xi64>, %t: tensor<5x2xf32>",
                            "nn.embedding %i, %t : (tensor<4x3xi64>, "
                            "tensor<5x2xf32>) -> tensor<4x3x2xf32>",
                            "tensor<4x3x2xf32>"));
  expectOpGradientsMatch(fn("%i: tensor<6xi32>, %t: tensor<3x4xf32>",
                            "nn.embedding %i, %t : (tensor<6xi32>, "
                            "tensor<3x4xf32>) -> tensor<6x4xf32>",
                            "tensor<6x4xf32>"));
}

TEST(BatchMatmulGradient, EveryTransposeAndBroadcast) {
  // op(lhs) is [.., 3, 4], op(rhs) [.., 4, 2]; the rhs is broadcast along
  // the head dimension (size 1), missing it, or a single matrix.
  for (auto [ta, tb] : {std::pair{false, false}, std::pair{true, false},
                        std::pair{false, true}, std::pair{true, true}})
    for (std::string rhsBatch : {"2x3x", "2x1x", ""}) {
      std::string lhs = ta ? "tensor<2x3x4x3xf32>" : "tensor<2x3x3x4xf32>";
      std::string rhs = "tensor<" + rhsBatch + (tb ? "2x4" : "4x2") + "xf32>";
      std::string attrs = transposeAttrs(ta, tb);
      SCOPED_TRACE(lhs + " x " + rhs + " " + attrs);
      expectOpGradientsMatch(fn("%a: " + lhs + ", %b: " + rhs,
                                "nn.batch_matmul %a, %b " + attrs + ": (" +
                                    lhs + ", " + rhs +
                                    ") -> tensor<2x3x3x2xf32>",
                                "tensor<2x3x3x2xf32>"));
    }
}

TEST(TransposeGradient, InversePermutation) {
  expectOpGradientsMatch(fn("%x: tensor<2x3x4xf32>",
                            "nn.transpose %x {perm = array<i64: 0, 2, 1>} : "
                            "(tensor<2x3x4xf32>) -> tensor<2x4x3xf32>",
                            "tensor<2x4x3xf32>"));
  expectOpGradientsMatch(fn("%x: tensor<2x3x4x2xf32>",
                            "nn.transpose %x {perm = array<i64: 3, 1, 0, 2>} "
                            ": (tensor<2x3x4x2xf32>) -> tensor<2x3x2x4xf32>",
                            "tensor<2x3x2x4xf32>"));
}

TEST(ReshapeGradient, FlattenAndReshape) {
  expectOpGradientsMatch(fn("%x: tensor<2x3x2x2xf32>",
                            "nn.flatten %x : (tensor<2x3x2x2xf32>) -> "
                            "tensor<2x12xf32>",
                            "tensor<2x12xf32>"));
  expectOpGradientsMatch(fn("%x: tensor<2x6xf32>",
                            "nn.reshape %x : (tensor<2x6xf32>) -> "
                            "tensor<3x4xf32>",
                            "tensor<3x4xf32>"));
}

TEST(ActivationGradient, Elementwise) {
  for (std::string op :
       {"nn.relu", "nn.sigmoid", "nn.tanh", "nn.leaky_relu", "nn.softmax",
        "nn.log_softmax", "nn.gelu", "nn.gelu approximate"}) {
    for (std::string type : {"tensor<3x5xf32>", "tensor<2x3x4xf32>"}) {
      SCOPED_TRACE(op + " " + type);
      std::string attrs = op == "nn.leaky_relu" ? " {alpha = 1.0e-01 : f64}"
                          : op == "nn.gelu approximate"
                              ? " {approximate = true}"
                              : "";
      std::string name = op == "nn.gelu approximate" ? "nn.gelu" : op;
      CheckOptions opts;
      opts.lo = -3; // saturated and linear regions alike
      opts.hi = 3;
      expectOpGradientsMatch(
          fn("%x: " + type, name + " %x" + attrs + " : " + type, type), opts);
    }
  }
}

/// Every function of ir/UnaryFunctions.def, on its domain (unaryRange) and
/// away from its kinks.
TEST(ActivationGradient, UnaryFunctions) {
  for (const nn::UnaryFnInfo &f : nn::unaryFns()) {
    std::string name = f.name;
    for (double alpha : {f.defaultAlpha, f.defaultAlpha == 0 ? 0.0 : 0.7}) {
      std::string attrs =
          alpha == 0 ? "" : " {alpha = " + std::to_string(alpha) + " : f64}";
      for (std::string type : {"tensor<3x5xf32>", "tensor<2x3x4xf32>"}) {
        SCOPED_TRACE(name + attrs + " " + type);
        CheckOptions opts;
        std::tie(opts.lo, opts.hi) = unaryRange(name, -2.2, 2.2, 0.5);
        expectOpGradientsMatch(
            fn("%x: " + type,
               "nn.unary \"" + name + "\" %x" + attrs + " : " + type, type),
            opts);
      }
    }
  }
}

/// dy between zeros: a slice at the start, in the middle and at the end.
TEST(SliceGradient, ZerosAroundTheSlice) {
  for (auto [offset, size] :
       {std::pair{0, 2}, std::pair{1, 3}, std::pair{3, 2}}) {
    std::string out = "tensor<2x" + std::to_string(size) + "x3xf32>";
    SCOPED_TRACE(out + " from " + std::to_string(offset));
    expectOpGradientsMatch(
        fn("%x: tensor<2x5x3xf32>",
           "nn.slice %x {axis = 1 : i64, offset = " + std::to_string(offset) +
               " : i64, size = " + std::to_string(size) +
               " : i64} : (tensor<2x5x3xf32>) -> " + out,
           out));
  }
}

TEST(ActivationGradient, PReluWithPositiveAndNegativeAlpha) {
  CheckOptions opts;
  opts.ranges[1] = {-0.5, 0.5};
  expectOpGradientsMatch(fn("%x: tensor<2x3x4xf32>, %a: tensor<4xf32>",
                            "nn.prelu %x, %a : (tensor<2x3x4xf32>, "
                            "tensor<4xf32>) -> tensor<2x3x4xf32>",
                            "tensor<2x3x4xf32>"),
                         opts);
}

TEST(DropoutGradient, WithAndWithoutStep) {
  for (int64_t step : {0, 3, 1000}) {
    CheckOptions opts;
    opts.step = step;
    expectOpGradientsMatch(fn("%x: tensor<4x6xf32>, %s: tensor<i64>",
                              "nn.dropout %x, %s {rate = 4.0e-01 : f64, seed "
                              "= 9 : i64} : tensor<4x6xf32>, tensor<i64>",
                              "tensor<4x6xf32>"),
                           opts);
  }
  expectOpGradientsMatch(fn("%x: tensor<4x6xf32>",
                            "nn.dropout %x {rate = 4.0e-01 : f64} : "
                            "tensor<4x6xf32>",
                            "tensor<4x6xf32>"));
}

TEST(AddGradient, TwoOperandsAndOneUsedTwice) {
  expectOpGradientsMatch(fn("%a: tensor<3x4xf32>, %b: tensor<3x4xf32>",
                            "nn.add %a, %b : tensor<3x4xf32>",
                            "tensor<3x4xf32>"));
  expectOpGradientsMatch(fn("%a: tensor<3x4xf32>",
                            "nn.add %a, %a : tensor<3x4xf32>",
                            "tensor<3x4xf32>"));
}

//===----------------------------------------------------------------------===//
// Losses alone
//===----------------------------------------------------------------------===//

/// A loss op over [n, c] predictions.
std::string loss(const std::string &op, int n, int c,
                 const std::string &attrs = "") {
  std::string pt = "tensor<" + std::to_string(n) + "x" + std::to_string(c) +
                   "xf32>",
              lt = "tensor<" + std::to_string(n) + "xi32>";
  return fn("%p: " + pt + ", %l: " + lt,
            "nn." + op + " %p, %l " + attrs + " : (" + pt + ", " + lt +
                ") -> tensor<f32>",
            "tensor<f32>");
}

TEST(LossGradient, EveryLoss) {
  struct Case {
    std::string op, attrs;
    double lo, hi;
  };
  std::vector<Case> cases = {
      {"cross_entropy", "", 0.05, 0.95},
      {"softmax_cross_entropy", "", -3, 3},
      {"binary_cross_entropy", "", 0.05, 0.95},
      {"mse", "", -1, 2},
      {"mae", "", -1, 2},
      {"huber", "", -2, 3},
      {"huber", "{delta = 3.0e-01 : f64}", -1, 2},
      {"hinge", "", -2, 2},
      {"squared_hinge", "", -2, 2},
      {"categorical_hinge", "", -1, 1},
  };
  for (const Case &c : cases) {
    for (int classes : {1, 3, 5}) {
      bool needsClasses = c.op == "cross_entropy" ||
                          c.op == "softmax_cross_entropy" ||
                          c.op == "categorical_hinge";
      if (needsClasses && classes == 1)
        continue;
      SCOPED_TRACE(c.op + " " + c.attrs + " with " + std::to_string(classes) +
                   " classes");
      CheckOptions opts;
      opts.lo = c.lo;
      opts.hi = c.hi;
      expectOpGradientsMatch(loss(c.op, 6, classes, c.attrs), opts);
      // Through autodiff too: the seed gradient of 1 and loss_grad.
      expectFunctionGradientsMatch(loss(c.op, 4, classes, c.attrs), opts);
    }
  }
}

/// A regression loss op over [n, c] predictions and value targets.
std::string valueLoss(const std::string &op, int n, int c,
                      const std::string &attrs = "") {
  std::string pt = "tensor<" + std::to_string(n) + "x" + std::to_string(c) +
                   "xf32>",
              lt = "tensor<" + std::to_string(n) + "xi32>";
  return fn("%p: " + pt + ", %l: " + lt + ", %t: " + pt,
            "nn." + op + " %p, %l targets %t " + attrs + " : (" + pt + ", " +
                lt + ", " + pt + ") -> tensor<f32>",
            "tensor<f32>");
}

TEST(LossGradient, ValueTargets) {
  // Gradients with respect to both the predictions and the targets.
  for (auto [op, attrs] : std::vector<std::pair<std::string, std::string>>{
           {"mse", ""}, {"mae", ""}, {"huber", "{delta = 3.0e-01 : f64}"}})
    for (int outputs : {1, 3}) {
      SCOPED_TRACE(op + " with " + std::to_string(outputs) + " outputs");
      CheckOptions opts;
      opts.lo = -2;
      opts.hi = 2;
      expectOpGradientsMatch(valueLoss(op, 5, outputs, attrs), opts);
      expectFunctionGradientsMatch(valueLoss(op, 4, outputs, attrs), opts);
    }
}

TEST(EvaluatorSemantics, ValueTargetLosses) {
  // Two rows, two outputs; the second row is padding (label -1).
  auto value = [](const std::string &op, const std::string &attrs) {
    std::string pt = "tensor<2x2xf32>", lt = "tensor<2xi32>";
    auto out = run(fn("%p: " + pt + ", %l: " + lt + ", %t: " + pt,
                      "nn." + op + " %p, %l targets %t " + attrs + " : (" + pt +
                          ", " + lt + ", " + pt + ") -> tensor<f32>",
                      "tensor<f32>"),
                   {Tensor({2, 2}, {1.5, -1.0, 9, 9}),
                    HostTensor<int32_t>({2}, {0, -1}),
                    Tensor({2, 2}, {0.5, 1.0, 0, 0})});
    return out.empty() ? std::nan("") : out[0][0];
  };
  // Errors 1 and -2 on the row that counts.
  EXPECT_NEAR(value("mse", ""), (1 + 4) / 2.0, 1e-12);
  EXPECT_NEAR(value("mae", ""), (1 + 2) / 2.0, 1e-12);
  EXPECT_NEAR(value("huber", "{delta = 1.5 : f64}"),
              (0.5 + 1.5 * (2 - 0.75)) / 2, 1e-12);
}

} // namespace
