//===- JitOpsTest.cpp - JIT-compiled nn ops against the evaluator ---------===//
//
// Every nn op but the window ops, alone in a function, is lowered with
// buildLoweringPipeline to the LLVM dialect, JIT-compiled and called on
// random arguments; its results must match the reference evaluator run in
// float on the same arguments (JitCompare.h): the primitives (dense, the
// matmuls and embedding in JitLinearOpsTest.cpp),
// reshapes, activations and their gradients, dropout masks, losses and their
// gradients, correct_count, batch norm with padding rows, layer norm and
// its gradient, and the optimizer updates, which rewrite their state in
// the argument buffers. The backward ops are ops too, so this also pins the
// compiled gradients to the evaluator, which the gradient tests pin to finite
// differences. Also: a call checks the entry point and its arity. Convolutions
// and pooling are in JitWindowOpsTest.cpp, whole models in JitModelTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "JitCompare.h"
#include "ir/UnaryFunctions.h"

#include "gtest/gtest.h"

#include <sstream>

using namespace gradc;
using namespace gradc::test;

namespace {

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

//===----------------------------------------------------------------------===//
// Primitives, reshapes (dense, the matmuls, embedding: JitLinearOpsTest.cpp)
//===----------------------------------------------------------------------===//

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

TEST(JitOps, Transpose) {
  expectJitMatches(single("%x: tensor<2x3x5xf32>",
                          "nn.transpose %x {perm = array<i64: 0, 2, 1>} : "
                          "(tensor<2x3x5xf32>) -> tensor<2x5x3xf32>",
                          "tensor<2x5x3xf32>"));
  expectJitMatches(single("%x: tensor<2x3x4x5xf32>",
                          "nn.transpose %x {perm = array<i64: 2, 0, 3, 1>} : "
                          "(tensor<2x3x4x5xf32>) -> tensor<4x2x5x3xf32>",
                          "tensor<4x2x5x3xf32>"));
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
    for (double range : {1.0, 30.0}) {
      JitCase c;
      c.opts.lo = -range;
      c.opts.hi = range;
      for (std::string attrs : {"", " {approximate = true}"})
        expectJitMatches(
            single("%x: " + shape, "nn.gelu %x" + attrs + " : " + shape, shape),
            c);
    }
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
          "nn.leaky_relu %x {alpha = 3.000000e-01 : f64} : " + shape,
          "nn.gelu %x : " + shape,
          "nn.gelu %x {approximate = true} : " + shape}) {
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

/// Every function of ir/UnaryFunctions.def and its gradient: small and
/// large inputs, in its domain (unaryRange).
TEST(JitOps, UnaryFunctions) {
  for (const nn::UnaryFnInfo &f : nn::unaryFns()) {
    std::string name = f.name;
    std::string attrs =
        f.defaultAlpha == 0 ? "" : " {alpha = 6.000000e-01 : f64}";
    for (std::string shape : {"tensor<3x7xf32>", "tensor<2x3x4x5xf32>"})
      for (double range : {1.0, 30.0}) {
        SCOPED_TRACE(name + " " + shape + " " + std::to_string(range));
        JitCase c;
        std::tie(c.opts.lo, c.opts.hi) =
            unaryRange(name, -range, range, range / 100);
        expectJitMatches(
            single("%x: " + shape,
                   "nn.unary \"" + name + "\" %x" + attrs + " : " + shape,
                   shape),
            c);
      }
    for (std::string shape : {"tensor<4x6xf32>", "tensor<2x3x3x5xf32>"}) {
      SCOPED_TRACE(name + " gradient " + shape);
      JitCase c;
      c.differentiate = true;
      std::tie(c.opts.lo, c.opts.hi) = unaryRange(name, -3, 3, 0.5);
      expectJitMatches(
          activationLoss("nn.unary \"" + name + "\" %x" + attrs + " : " + shape,
                         shape),
          c);
    }
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

/// Layer normalization over the last dimension of ranks 2, 3 and 4 (odd
/// sizes, one feature), and its gradient (nn.layer_norm_grad) through mse
/// of the flattened output.
TEST(JitOps, LayerNorm) {
  struct Case {
    std::string x, g, flat;
    int64_t n;
  };
  for (const Case &k :
       {Case{"tensor<4x6xf32>", "tensor<6xf32>", "", 4},
        Case{"tensor<3x5x7xf32>", "tensor<7xf32>", "tensor<3x35xf32>", 3},
        Case{"tensor<2x3x4x5xf32>", "tensor<5xf32>", "tensor<2x60xf32>", 2},
        Case{"tensor<3x2x1xf32>", "tensor<1xf32>", "tensor<3x2xf32>", 3}}) {
    SCOPED_TRACE(k.x);
    std::string ln = "nn.layer_norm %x, %g, %b {epsilon = 1.0e-03 : f64} : (" +
                     k.x + ", " + k.g + ", " + k.g + ") -> " + k.x;
    std::string args = "%x: " + k.x + ", %g: " + k.g + ", %b: " + k.g;
    expectJitMatches(single(args, ln, k.x));
    std::string labels = "tensor<" + std::to_string(k.n) + "xi32>";
    std::string flat = k.flat.empty() ? k.x : k.flat;
    std::string reshape = k.flat.empty() ? ""
                                         : "  %z = nn.reshape %y : (" + k.x +
                                               ") -> " + flat + "\n";
    std::string grad =
        func(args + ", %l: " + labels,
             "  %y = " + ln + "\n" + reshape + "  %loss = nn.mse " +
                 (k.flat.empty() ? "%y" : "%z") + ", %l : (" + flat + ", " +
                 labels + ") -> tensor<f32>\n",
             "%loss", "tensor<f32>");
    JitCase c;
    c.differentiate = true;
    expectJitMatches(grad, c);
  }
}

/// nn.reduce of each kind over leading, middle, trailing and all
/// per-example axes, and its gradient through mse of the flattened output;
/// quantized inputs give max and min ties, whose gradient is split.
TEST(JitOps, Reduce) {
  struct Case {
    std::string x, axes, y, flat;
    int64_t n;
  };
  for (const char *kind : {"mean", "sum", "max", "min"})
    for (const Case &k :
         {Case{"tensor<4x6xf32>", "1", "tensor<4xf32>", "tensor<4x1xf32>", 4},
          Case{"tensor<2x3x4x5xf32>", "1, 2", "tensor<2x5xf32>", "", 2},
          Case{"tensor<3x5x7xf32>", "2", "tensor<3x5xf32>", "", 3},
          Case{"tensor<2x3x4x5xf32>", "3", "tensor<2x3x4xf32>",
               "tensor<2x12xf32>", 2},
          Case{"tensor<2x3x4x5xf32>", "1, 2, 3", "tensor<2xf32>",
               "tensor<2x1xf32>", 2}}) {
      SCOPED_TRACE(std::string(kind) + " " + k.x + " " + k.axes);
      std::string op = "nn.reduce %x {axes = array<i64: " + k.axes +
                       ">, kind = #nn.reduce<" + kind + ">} : (" + k.x +
                       ") -> " + k.y;
      expectJitMatches(single("%x: " + k.x, op, k.y));
      std::string labels = "tensor<" + std::to_string(k.n) + "xi32>";
      std::string flat = k.flat.empty() ? k.y : k.flat;
      std::string reshape = k.flat.empty() ? ""
                                           : "  %z = nn.reshape %y : (" + k.y +
                                                 ") -> " + flat + "\n";
      std::string grad =
          func("%x: " + k.x + ", %l: " + labels,
               "  %y = " + op + "\n" + reshape + "  %loss = nn.mse " +
                   (k.flat.empty() ? "%y" : "%z") + ", %l : (" + flat + ", " +
                   labels + ") -> tensor<f32>\n",
               "%loss", "tensor<f32>");
      JitCase c;
      c.differentiate = true;
      expectJitMatches(grad, c);
      c.quantize = true; // ties for max and min
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

} // namespace
