//===- JitLinearOpsTest.cpp - JIT-compiled dense, matmuls, embedding ------===//
//
// As JitOpsTest.cpp (whose binary this file is part of): dense, matmul with
// every transpose, batch_matmul with every transpose and broadcast, and
// embedding and its gradient (ids clamped into the table by the compiled
// code), each JIT-compiled alone and compared with the reference evaluator.
//
//===----------------------------------------------------------------------===//

#include "GradientCheck.h"
#include "JitCompare.h"

#include "gtest/gtest.h"

#include <algorithm>

using namespace gradc;
using namespace gradc::test;

namespace {

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
    std::string attrs = transposeAttrs(ta, tb);
    expectJitMatches(single("%a: " + lhs + ", %b: " + rhs,
                            "nn.matmul %a, %b " + attrs + ": (" + lhs + ", " +
                                rhs + ") -> tensor<5x3xf32>",
                            "tensor<5x3xf32>"));
  }
}

/// Rows of a table at i32 and i64 ids of rank 1 and 2, and the scatter-add
/// of the gradient with more ids than rows (so ids repeat).
TEST(JitOps, EmbeddingAndItsGradient) {
  for (std::string ids : {"tensor<12xi32>", "tensor<3x8xi64>"}) {
    std::string out =
        ids == "tensor<12xi32>" ? "tensor<12x5xf32>" : "tensor<3x8x5xf32>";
    expectJitMatches(single(
        "%i: " + ids + ", %t: tensor<7x5xf32>",
        "nn.embedding %i, %t : (" + ids + ", tensor<7x5xf32>) -> " + out, out));
    expectJitMatches(single("%i: " + ids + ", %dy: " + out,
                            "nn.embedding_grad %i, %dy : (" + ids + ", " + out +
                                ") -> tensor<7x5xf32>",
                            "tensor<7x5xf32>"));
  }
}

/// Ids outside the table (negative, at and beyond its rows) are clamped
/// into it by the compiled code, never read outside it: the results equal
/// the evaluator's on the clamped ids (the evaluator itself refuses them).
TEST(JitOps, EmbeddingClampsIdsOutOfRange) {
  std::string src =
      func("%i: tensor<2x3xi64>, %t: tensor<4x2xf32>, %dy: tensor<2x3x2xf32>",
           "  %y = nn.embedding %i, %t : (tensor<2x3xi64>, tensor<4x2xf32>) -> "
           "tensor<2x3x2xf32>\n"
           "  %g = nn.embedding_grad %i, %dy : (tensor<2x3xi64>, "
           "tensor<2x3x2xf32>) -> tensor<4x2xf32>\n",
           "%y, %g", "tensor<2x3x2xf32>, tensor<4x2xf32>");
  auto ctx = makeContext();
  auto module = parse(*ctx, src);
  ASSERT_TRUE(module);
  auto f = module->lookupSymbol<mlir::func::FuncOp>("f");
  std::vector<Value32> args = {
      HostTensor<int64_t>({2, 3}, {-5, 0, 3, 4, 1000000, 2}),
      FloatTensor({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}),
      FloatTensor({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})};
  EXPECT_FALSE(evaluate<float>(f, args).ok());
  std::vector<Value32> clamped = args;
  clamped[0] = HostTensor<int64_t>({2, 3}, {0, 0, 3, 3, 3, 2});
  std::vector<Value32> expected = valueOrFail(evaluate<float>(f, clamped));
  ASSERT_EQ(expected.size(), 2u);
  mlir::OwningOpRef<mlir::ModuleOp> lowered = module->clone();
  auto jit = lowerAndJit(*lowered, [](mlir::OpPassManager &pm) {
    buildLoweringPipeline(pm, Stage::LLVM);
  });
  ASSERT_TRUE(jit);
  expectCallMatches(*jit, *lowered, f, "f", args, expected);
}

TEST(JitOps, BatchMatmulTransposesAndBroadcasts) {
  // op(lhs) is [.., 8, 16], op(rhs) [.., 16, 32] (whole register tiles) or
  // [.., 5, 7] x [.., 7, 3] (partial ones); the rhs has the lhs's batch
  // dimensions, a broadcast one (size 1), fewer, or none.
  for (auto [m, k, n] : {std::tuple{8, 16, 32}, std::tuple{5, 7, 3}})
    for (auto [ta, tb] : {std::pair{false, false}, std::pair{true, false},
                          std::pair{false, true}, std::pair{true, true}})
      for (std::string rhsBatch : {"2x3x", "2x1x", "3x", ""}) {
        auto t = [](std::string batch, int r, int c) {
          return "tensor<" + batch + std::to_string(r) + "x" +
                 std::to_string(c) + "xf32>";
        };
        std::string lhs = ta ? t("2x3x", k, m) : t("2x3x", m, k);
        std::string rhs = tb ? t(rhsBatch, n, k) : t(rhsBatch, k, n);
        std::string out = t("2x3x", m, n);
        std::string attrs = transposeAttrs(ta, tb);
        SCOPED_TRACE(lhs + " x " + rhs + " " + attrs);
        expectJitMatches(single("%a: " + lhs + ", %b: " + rhs,
                                "nn.batch_matmul %a, %b " + attrs + ": (" +
                                    lhs + ", " + rhs + ") -> " + out,
                                out));
      }
}

/// nn.attention and its gradient, decomposed into tiles of 64 keys, against
/// the reference kernels (which materialize every score): causal and not,
/// several tiles with a partial last one, more keys than queries (causal:
/// tiles no query sees), fewer keys than queries, rank 2 to 4, scale 1.
/// The loss is sum(output * w), so the output's gradient is w.
TEST(JitOps, AttentionAndItsGradientInTiles) {
  struct Shapes {
    std::string batch;
    int t, s, d, e;
    std::string attrs;
  };
  for (const Shapes &c :
       {Shapes{"2x3x", 70, 70, 8, 5, "{causal, scale = 3.500000e-01 : f64}"},
        Shapes{"", 40, 150, 8, 6, "{causal, scale = 1.000000e+00 : f64}"},
        Shapes{"3x", 130, 65, 4, 4, "{scale = 5.000000e-01 : f64}"},
        Shapes{"2x", 9, 9, 3, 2, "{causal, scale = 7.000000e-01 : f64}"}}) {
    auto tensor = [&](int rows, int cols) {
      return "tensor<" + c.batch + std::to_string(rows) +
             (cols ? "x" + std::to_string(cols) : "") + "xf32>";
    };
    std::string q = tensor(c.t, c.d), k = tensor(c.s, c.d),
                v = tensor(c.s, c.e), y = tensor(c.t, c.e), l = tensor(c.t, 0);
    std::string all;
    for (int a = 0, rank = int(std::count(y.begin(), y.end(), 'x')); a < rank;
         ++a)
      all += (a ? ", " : "") + std::to_string(a);
    std::string body =
        "  %y, %l = nn.attention %q, %k, %v " + c.attrs + " : (" + q + ", " +
        k + ", " + v + ") -> (" + y + ", " + l + ")\n" +
        "  %p = nn.mul %y, %w : " + y + "\n" +
        "  %loss = nn.reduce_sum %p {axes = array<i64: " + all + ">} : (" + y +
        ") -> tensor<f32>\n";
    JitCase jc;
    jc.differentiate = true;
    expectJitMatches(
        func("%q: " + q + ", %k: " + k + ", %v: " + v + ", %w: " + y, body,
             "%loss", "tensor<f32>"),
        jc);
  }
}

} // namespace
