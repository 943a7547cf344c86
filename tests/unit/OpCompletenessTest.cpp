//===- OpCompletenessTest.cpp - every nn op has all its parts -------------===//
//
// Walks every op the nn dialect registers and fails when one lacks a part
// of its family (ir/OpFamilies.def): a lowering pattern (LowerToLinalg's
// patterns), a reference kernel (ReferenceKernelOpInterface), a gradient
// rule (DifferentiableOpInterface) or the NN_NotDifferentiable declaration,
// or a lit case (the op's name in a file under tests/lit/). The second half
// tests the test: with a family's lowering left out, a kernel-less context
// or a lit text without an op, the same check names the ops.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"
#include "passes/Passes.h"
#include "passes/lowering/LinalgEmitter.h"
#include "runtime/evaluator/ReferenceEvaluator.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/PatternMatch.h"

#include "gtest/gtest.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace mlir;
using namespace gradc;

namespace {

/// Ops that may lack a part, each with the reason and where they are tested
/// instead. Keep it short: an entry here is a part the op really cannot
/// have.
const std::map<std::string, std::string> kNoKernel = {
    {"nn.allreduce_mean",
     "the mean over data-parallel ranks needs the other ranks' values "
     "(tested by e2e_mpi_data_parallel)"},
};

struct Gaps {
  std::vector<std::string> lowering, kernel, gradient, lit;
};

std::vector<RegisteredOperationName> nnOps(MLIRContext &ctx) {
  std::vector<RegisteredOperationName> ops;
  for (RegisteredOperationName name : ctx.getRegisteredOperations())
    if (name.getDialectNamespace() == "nn")
      ops.push_back(name);
  return ops;
}

/// The ops of `ctx` that lack a lowering in `patterns`, a reference kernel,
/// a gradient rule or a mention in `litText`.
Gaps findGaps(MLIRContext &ctx, RewritePatternSet &patterns,
              const std::string &litText) {
  std::set<std::string> lowered;
  for (const auto &p : patterns.getNativePatterns())
    if (std::optional<OperationName> root = p->getRootKind())
      lowered.insert(root->getStringRef().str());
  Gaps gaps;
  for (RegisteredOperationName name : nnOps(ctx)) {
    std::string op = name.getStringRef().str();
    if (!lowered.count(op))
      gaps.lowering.push_back(op);
    if (!name.hasInterface<nn::ReferenceKernelOpInterface>() &&
        !kNoKernel.count(op))
      gaps.kernel.push_back(op);
    if (!name.hasInterface<nn::DifferentiableOpInterface>() &&
        !name.hasTrait<nn::NotDifferentiable>())
      gaps.gradient.push_back(op);
    // "nn.add" but not "nn.add_grad": the name ends at a non-word character.
    std::regex mention(
        "\\b" + std::regex_replace(op, std::regex("\\."), "\\.") + "\\b");
    if (!std::regex_search(litText, mention))
      gaps.lit.push_back(op);
  }
  return gaps;
}

/// Every file under tests/lit/, concatenated.
std::string litFiles() {
  std::string text;
  for (const auto &e : std::filesystem::recursive_directory_iterator(
           std::string(GRADC_SOURCE_DIR) + "/tests/lit"))
    if (e.is_regular_file()) {
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      text += ss.str();
    }
  return text;
}

std::string join(const std::vector<std::string> &v) {
  std::string s;
  for (const std::string &x : v)
    s += (s.empty() ? "" : ", ") + x;
  return s;
}

bool contains(const std::vector<std::string> &v, const std::string &x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

class OpCompleteness : public testing::Test {
protected:
  OpCompleteness() {
    DialectRegistry registry;
    registerGradcDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }
  MLIRContext ctx;
};

TEST_F(OpCompleteness, EveryOpHasEveryPart) {
  attachReferenceKernels(&ctx);
  RewritePatternSet patterns(&ctx);
  populateLowerNNToLinalgPatterns(patterns);
  ASSERT_GT(nnOps(ctx).size(), 50u);
  Gaps gaps = findGaps(ctx, patterns, litFiles());
  EXPECT_TRUE(gaps.lowering.empty())
      << "no lowering pattern (passes/lowering/<Family>Lowering.cpp): "
      << join(gaps.lowering);
  EXPECT_TRUE(gaps.kernel.empty())
      << "no reference kernel (runtime/evaluator/kernels/<Family>Kernels.cpp): "
      << join(gaps.kernel);
  EXPECT_TRUE(gaps.gradient.empty())
      << "no gradient rule (NN_DiffOp) and not declared NN_NonDiffOp: "
      << join(gaps.gradient);
  EXPECT_TRUE(gaps.lit.empty())
      << "not in any lit test under tests/lit/: " << join(gaps.lit);
}

// The test of the test: each kind of gap is found and named.
TEST_F(OpCompleteness, NamesAnUnloweredFamily) {
  attachReferenceKernels(&ctx);
  RewritePatternSet patterns(&ctx);
  // Every family but Conv.
#define GRADC_OP_FAMILY(Name, Layers, Kernels)                                 \
  if (std::string(#Name) != "Conv")                                            \
    lowering::populate##Name##LoweringPatterns(patterns);
#include "ir/OpFamilies.def"
  Gaps gaps = findGaps(ctx, patterns, litFiles());
  EXPECT_TRUE(contains(gaps.lowering, "nn.conv2d")) << join(gaps.lowering);
  EXPECT_TRUE(contains(gaps.lowering, "nn.conv2d_grad_filter"));
  EXPECT_FALSE(contains(gaps.lowering, "nn.dense"));
}

TEST_F(OpCompleteness, NamesOpsWithoutKernelsOrLitCases) {
  RewritePatternSet patterns(&ctx);
  populateLowerNNToLinalgPatterns(patterns);
  // No kernels attached, and a lit text that mentions only nn.add_grad-like
  // names: nn.add itself is missing.
  Gaps gaps = findGaps(ctx, patterns, "%y = nn.add_other %x\n nn.relu %x");
  EXPECT_TRUE(contains(gaps.kernel, "nn.dense"));
  EXPECT_TRUE(contains(gaps.lit, "nn.add"));
  EXPECT_FALSE(contains(gaps.lit, "nn.relu"));
  EXPECT_TRUE(gaps.lowering.empty()) << join(gaps.lowering);
}

} // namespace
