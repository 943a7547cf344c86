//===- ModelBudgetTest.cpp - memory and code budgets ----------------------===//
//
// The memory budget (frontend/ModelBudget.h) counts parameters, optimizer
// slots and activations, refuses at the layer that crosses the limit and
// saturates instead of overflowing; the code budget sums the layers'
// estimates and refuses thousands of groups by default.
//
//===----------------------------------------------------------------------===//

#include "ModelCheckerHelpers.h"

#include "frontend/ModelBudget.h"

#include "gtest/gtest.h"

using namespace gradc;
using namespace gradc::test;

//===----------------------------------------------------------------------===//
// Memory budget (frontend/ModelBudget.h)
//===----------------------------------------------------------------------===//

namespace {
const char *kBudgetModel = R"(name: "budget"
input { name: "x" shape: [8, 8, 1] }
layer { name: "conv" conv2d { filters: 4 kernel_size: [3, 3] } }
layer { name: "flat" flatten {} }
layer { name: "out" dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
optimizer { adam {} }
)";
} // namespace

TEST(MemoryBudget, CountsParametersSlotsAndActivations) {
  Checked c = check(kBudgetModel);
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  // Parameters: conv 3*3*1*4 + 4 = 40, dense 144*10 + 10 = 1450.
  int64_t params = 40 + 1450;
  // Per example: the input 64, conv 6*6*4 = 144, flat 144, out 10, out's
  // softmax is the same layer.
  int64_t outputs = 144 + 144 + 10;
  // Inference: each parameter once, the input and outputs once.
  EXPECT_EQ(stepMemoryBytes(*c.model, 2, false),
            4 * (params + 2 * (64 + outputs)));
  // Training with Adam: parameter, gradient, m and v; outputs and their
  // gradients.
  EXPECT_EQ(stepMemoryBytes(*c.model, 2, true),
            4 * (4 * params + 2 * 64 + 2 * 2 * outputs));
}

TEST(MemoryBudget, RefusesAtTheLayerThatCrossesTheLimit) {
  Checked c = check(kBudgetModel);
  ASSERT_TRUE(c.model.ok());
  EXPECT_TRUE(checkMemoryBudget(*c.model, 2, true, 1 << 20, "test").ok());
  // Parameters and slots take 23,840 bytes, the input 512 at batch 2; the
  // conv's output and gradient 2,304 more: a limit of 25,000 is crossed at
  // the conv.
  absl::Status s = checkMemoryBudget(*c.model, 2, true, 25000, "test");
  ASSERT_FALSE(s.ok());
  std::string m(s.message());
  EXPECT_NE(m.find("model.pbtxt: error: a training step at a batch of 2 "
                   "needs at least 28.4 KiB; the limit of 24.4 KiB (test) is "
                   "crossed at layer 'conv' (output [2, 6, 6, 4])"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("--memory-limit"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  // Below the parameters alone: the parameters are named.
  s = checkMemoryBudget(*c.model, 2, true, 1000, "test");
  EXPECT_NE(std::string(s.message()).find("crossed at its parameters"),
            std::string::npos)
      << s.message();
}

TEST(MemoryBudget, HugeModelsSaturateInsteadOfOverflowing) {
  // A million filters on a large input: about 52 GB a step at batch 32.
  Checked c = check(R"(name: "huge"
input { name: "x" shape: [28, 28, 1] }
layer { name: "conv" conv2d { filters: 1048576 kernel_size: [3, 3] } }
layer { name: "gap" global_avg_pool2d {} }
layer { name: "out" dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
)");
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  EXPECT_GT(stepMemoryBytes(*c.model, 32, true), int64_t(50) << 30);
  EXPECT_GT(stepMemoryBytes(*c.model, 65536, true), int64_t(0));
  absl::Status s = checkMemoryBudget(*c.model, 32, true, int64_t(24) << 30,
                                     "the machine's memory");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("layer 'conv'"), std::string::npos)
      << s.message();
}

TEST(MemoryBudget, AnEnforcedLimitIsNamedAndNotRaisedByTheFlag) {
  // A limit set by an rlimit or a cgroup (detectMemoryLimit): the error
  // names it, and --memory-limit cannot raise it.
  Checked c = check(kBudgetModel);
  ASSERT_TRUE(c.model.ok());
  MemoryLimit limit{25000,
                    "the process's address-space limit (RLIMIT_AS) of 1.0 GiB "
                    "less the 1.0 GiB already mapped",
                    true};
  absl::Status s = checkMemoryBudget(*c.model, 2, true, limit);
  ASSERT_FALSE(s.ok());
  std::string m(s.message());
  EXPECT_NE(m.find("the limit of 24.4 KiB (the process's address-space limit "
                   "(RLIMIT_AS) of 1.0 GiB less the 1.0 GiB already mapped) "
                   "is crossed at layer 'conv' (output [2, 6, 6, 4]): reduce "
                   "the batch or the model, or raise that limit"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("--memory-limit"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  limit.bytes = 1 << 20;
  EXPECT_TRUE(checkMemoryBudget(*c.model, 2, true, limit).ok());
}

//===----------------------------------------------------------------------===//
// Code budget (frontend/ModelBudget.h)
//===----------------------------------------------------------------------===//

TEST(CodeBudget, SumsTheLayersEstimates) {
  Checked c = check(kBudgetModel);
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  // The module's own 48 KiB, 16 KiB for the conv and the dense layer;
  // flatten adds nothing.
  EXPECT_EQ(moduleCodeBytes(*c.model), int64_t(80) << 10);
  EXPECT_TRUE(checkCodeBudget(*c.model, int64_t(80) << 10, "test").ok());

  // Grouped convolutions lower one convolution per group for the forward
  // and both gradients; depthwise ones take one each.
  Checked g = check(R"(name: "grouped"
input { name: "x" shape: [8, 8, 64] }
layer { name: "g" conv2d { filters: 64 kernel_size: [3, 3] groups: 8 } }
layer { name: "dw" conv2d { filters: 64 kernel_size: [3, 3] groups: 64 } }
layer { name: "gap" global_avg_pool2d {} }
layer { name: "out" dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
)");
  ASSERT_TRUE(g.model.ok()) << g.model.status().message();
  EXPECT_EQ(g.model->layers[0].codeBytes, 3 * 8 * 2560);
  EXPECT_EQ(g.model->layers[1].codeBytes, int64_t(16) << 10);
  EXPECT_EQ(g.model->layers[2].codeBytes, 0);
}

TEST(CodeBudget, RefusesAtTheLayerThatCrossesTheLimit) {
  Checked c = check(kBudgetModel);
  ASSERT_TRUE(c.model.ok());
  // 48 KiB + the conv's 16 KiB cross a limit of 60 KiB at the conv.
  absl::Status s = checkCodeBudget(*c.model, 60 << 10, "test");
  ASSERT_FALSE(s.ok());
  std::string m(s.message());
  EXPECT_NE(m.find("model.pbtxt: error: the compiled model needs at least "
                   "80.0 KiB of machine code; the limit of 60.0 KiB (test) is "
                   "crossed at layer 'conv' (conv2d, 16.0 KiB): reduce the "
                   "model, or raise --code-limit"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  // Below the module's own code: no layer is to blame.
  s = checkCodeBudget(*c.model, 1000, "test");
  EXPECT_NE(std::string(s.message()).find("crossed at the module's own code"),
            std::string::npos)
      << s.message();
}

TEST(CodeBudget, ThousandsOfGroupsAreRefusedByDefault) {
  // 4,096 groups of one channel and two filters: 3 * 4,096 convolutions of
  // at least 2.5 KiB, 30 MiB.
  Checked c = check(R"(name: "groups"
input { name: "x" shape: [4, 4, 4096] }
layer { name: "wide" conv2d { filters: 8192 kernel_size: [1, 1] groups: 4096 } }
layer { name: "gap" global_avg_pool2d {} }
layer { name: "out" dense { units: 10 activation: SOFTMAX } }
loss { sparse_categorical_crossentropy {} }
)");
  ASSERT_TRUE(c.model.ok()) << c.model.status().message();
  EXPECT_EQ(c.model->layers[0].codeBytes, int64_t(30) << 20);
  absl::Status s =
      checkCodeBudget(*c.model, kDefaultCodeLimitBytes, "the default");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("crossed at layer 'wide'"),
            std::string::npos)
      << s.message();
}
