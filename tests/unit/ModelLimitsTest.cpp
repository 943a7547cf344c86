//===- ModelLimitsTest.cpp - models at the edges of the sizes -------------===//
//
// Sizes that would overflow int64 or allocate absurd buffers are refused
// by the checker; the largest input, a dropout rate just below 1 and
// extreme seeds import; graphs too deep for a recursive walk, long cycles
// and wide adds are handled.
//
//===----------------------------------------------------------------------===//

#include "ModelCheckerHelpers.h"

#include "frontend/Importer.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "gtest/gtest.h"

using namespace gradc;
using namespace gradc::test;

namespace {

//===----------------------------------------------------------------------===//
// Limits: sizes that would overflow int64 or allocate absurd buffers, and
// models too big for a recursive walk
//===----------------------------------------------------------------------===//

TEST(CheckerLimits, HugeConvOutputIsRejected) {
  // 3*2^20 x (2^21+64) x 2^20 elements per example: more than int64 holds
  // once flattened.
  std::string err = errorOf(
      "input { name: \"image\" shape: [1048576, 64, 1] }\n"
      "layer { name: \"c\" conv2d { filters: 1048576 kernel_size: [1] pads: "
      "[1048576, 1048576, 1048576, 1048576] } }\n"
      "layer { name: \"f\" flatten {} }\n"
      "layer { name: \"out\" dense { units: 2 activation: SOFTMAX } }\n"
      "loss { mse {} }\n");
  EXPECT_EQ(err.rfind("model.pbtxt:2:1: error: layer 'c': output [N, "
                      "3145728, 2097216, 1048576] has more than ",
                      0),
            0u)
      << err;
}

TEST(CheckerLimits, HugeKernelIsRejected) {
  std::string err = errorOf(
      "input { name: \"image\" shape: [4, 4, 1048576] }\n"
      "layer { name: \"c\" conv2d { filters: 1048576 kernel_size: [3] } }\n"
      "layer { name: \"f\" flatten {} }\n"
      "layer { name: \"out\" dense { units: 2 activation: SOFTMAX } }\n"
      "loss { mse {} }\n");
  EXPECT_EQ(err.rfind("model.pbtxt:2:1: error: layer 'c': kernel [3, 3, "
                      "1048576, 1048576] has more than ",
                      0),
            0u)
      << err;
}

TEST(CheckerLimits, HugeDenseKernelIsRejected) {
  std::string err = errorOf(
      "input { name: \"image\" shape: [1024, 1024, 64] }\n"
      "layer { name: \"f\" flatten {} }\n"
      "layer { name: \"out\" dense { units: 1048576 activation: SOFTMAX } "
      "}\n"
      "loss { mse {} }\n");
  EXPECT_EQ(err.rfind("model.pbtxt:3:1: error: layer 'out': kernel "
                      "[67108864, 1048576] has more than ",
                      0),
            0u)
      << err;
}

TEST(CheckerLimits, LargestInputImports) {
  Checked c = check("input { shape: [1048576, 64, 1] }\n"
                    "layer { name: \"p\" max_pool2d { pool_size: [64] } }\n"
                    "layer { name: \"f\" flatten {} }\n"
                    "layer { name: \"out\" dense { units: 2 activation: "
                    "SOFTMAX } }\n"
                    "loss { mse {} }\n");
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  EXPECT_EQ(findLayer(*c.model, "f")->shape, (Shape{16384}));
}

TEST(CheckerLimits, DropoutRateJustBelowOneImports) {
  // 0.99999994 is the float below 1; the rate the IR gets must stay below 1.
  Checked c = check(model("layer { name: \"f\" flatten {} }\n"
                          "layer { name: \"d\" dropout { rate: 0.99999994 } "
                          "}\n"
                          "layer { name: \"a\" activation { kind: LEAKY_RELU "
                          "alpha: 0.9999999 } }\n" +
                          std::string(kOutput)));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  EXPECT_LT(findLayer(*c.model, "d")->attr("rate"), 1.0);
  EXPECT_LT(findLayer(*c.model, "a")->alpha, 1.0);
  mlir::MLIRContext ctx;
  ctx.loadDialect<gradc::nn::NNDialect, mlir::func::FuncDialect>();
  auto module = importModel(ctx, *c.model, 2);
  EXPECT_TRUE(module.ok()) << module.status().message();
}

TEST(CheckerLimits, ExtremeSeedImports) {
  for (const char *seed : {"9223372036854775807", "-9223372036854775808"}) {
    Checked c = check(model(
        "layer { name: \"f\" flatten {} }\n"
        "layer { name: \"d\" dropout { rate: 0.5 } }\n" +
            std::string(kOutput),
        absl::StrCat("loss { mse {} }\ntraining { seed: ", seed, " }\n")));
    ASSERT_TRUE(c.model.ok()) << c.model.status().message();
    mlir::MLIRContext ctx;
    ctx.loadDialect<gradc::nn::NNDialect, mlir::func::FuncDialect>();
    auto module = importModel(ctx, *c.model, 2);
    EXPECT_TRUE(module.ok()) << module.status().message();
  }
}

/// A chain of `n` dense layers where each names the next one as its input,
/// so the file lists them in reverse order of computation.
std::string reverseChain(int n) {
  std::string text = "input { name: \"x\" shape: [4] }\n";
  for (int i = 0; i < n; ++i)
    absl::StrAppend(&text, "layer { name: \"l", i,
                    "\" activation { kind: "
                    "RELU } inputs: [\"",
                    i + 1 < n ? absl::StrCat("l", i + 1) : "x", "\"] }\n");
  // The output is the last layer of the file: make it the end of the chain.
  absl::StrAppend(&text, "layer { name: \"out\" dense { units: 2 activation: "
                         "SOFTMAX } inputs: [\"l0\"] }\n"
                         "loss { mse {} }\n");
  return text;
}

TEST(CheckerLimits, DeepGraphsDoNotExhaustTheStack) {
  Checked c = check(reverseChain(100000));
  ASSERT_TRUE(c.model.ok()) << c.model.status().message().substr(0, 500);
  EXPECT_EQ(c.model->layers.size(), 100001u);
  EXPECT_EQ(c.model->layers.front().layer->name(), "l99999");
}

TEST(CheckerLimits, LongCycleIsReported) {
  std::string text = reverseChain(50000);
  // Close the chain: the last layer of the chain reads the first.
  size_t p = text.find("inputs: [\"x\"]");
  ASSERT_NE(p, std::string::npos);
  text.replace(p, 14, "inputs: [\"l0\"]");
  std::vector<std::string> errs = errorsOf(text);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].rfind("model.pbtxt:2:1: error: layer 'l0': cycle through "
                          "l0 -> l1 -> ",
                          0),
            0u)
      << errs[0].substr(0, 200);
}

TEST(CheckerLimits, WideAddImports) {
  std::string text = "input { name: \"x\" shape: [4] }\n"
                     "layer { name: \"a\" add {} inputs: [";
  for (int i = 0; i < 5000; ++i)
    absl::StrAppend(&text, i ? ", " : "", "\"x\"");
  text += "] }\nlayer { name: \"out\" dense { units: 2 } }\nloss { mse {} "
          "}\n";
  Checked c = check(text);
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  mlir::MLIRContext ctx;
  ctx.loadDialect<gradc::nn::NNDialect, mlir::func::FuncDialect>();
  auto module = importModel(ctx, *c.model, 2);
  ASSERT_TRUE(module.ok()) << module.status().message();
}

} // namespace
