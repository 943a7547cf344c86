//===- LearningRateTest.cpp - schedules against PyTorch's lr_scheduler ----===//
//
// Each schedule's learning rate per step equals its PyTorch counterpart,
// computed by Debian's python3-torch in the test (skipped without it):
// StepLR and ExponentialLR stepped per epoch, CosineAnnealingLR per step,
// and the warm-up as SequentialLR(LinearLR, CosineAnnealingLR).
//
//===----------------------------------------------------------------------===//

#include "TorchScript.h"

#include "runtime/trainer/LearningRate.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace gradc;

namespace {

constexpr double kLr = 0.1;
constexpr int64_t kStepsPerEpoch = 7, kEpochs = 6;

/// A PyTorch script training loop of kEpochs x kStepsPerEpoch steps that
/// prints the rate of every step; `perStep` steps the scheduler after each
/// batch, otherwise after each epoch.
std::string script(const std::string &scheduler, bool perStep) {
  std::ostringstream s;
  s << "import torch\n"
    << "p = torch.nn.Parameter(torch.zeros(1))\n"
    << "opt = torch.optim.SGD([p], lr=" << kLr << ")\n"
    << "S = torch.optim.lr_scheduler\n"
    << "sched = " << scheduler << "\n"
    << "for epoch in range(" << kEpochs << "):\n"
    << "    for step in range(" << kStepsPerEpoch << "):\n"
    << "        print(repr(opt.param_groups[0]['lr']))\n"
    << "        opt.step()\n"
    << (perStep ? "        sched.step()\n" : "    sched.step()\n");
  return s.str();
}

void expectMatchesTorch(const ScheduleSpec &spec, const std::string &sched,
                        bool perStep) {
  std::vector<double> torch;
  if (!test::runTorchScript(script(sched, perStep), torch))
    GTEST_SKIP() << "python3-torch is not available";
  ASSERT_EQ(torch.size(), size_t(kEpochs * kStepsPerEpoch));
  for (int64_t step = 0; step < kEpochs * kStepsPerEpoch; ++step)
    EXPECT_NEAR(learningRateAt(spec, kLr, step, kStepsPerEpoch, kEpochs),
                torch[step], 1e-9 + 1e-6 * torch[step])
        << spec.kind << " at step " << step;
}

TEST(LearningRate, ConstantByDefault) {
  ScheduleSpec constant;
  for (int64_t step : {0, 5, 41})
    EXPECT_EQ(learningRateAt(constant, kLr, step, kStepsPerEpoch, kEpochs),
              kLr);
}

TEST(LearningRate, StepDecayIsStepLR) {
  ScheduleSpec s;
  s.kind = "step";
  s.stepEpochs = 2;
  s.gamma = 0.5;
  expectMatchesTorch(s, "S.StepLR(opt, step_size=2, gamma=0.5)", false);
}

TEST(LearningRate, ExponentialDecayIsExponentialLR) {
  ScheduleSpec s;
  s.kind = "exponential";
  s.gamma = 0.8;
  expectMatchesTorch(s, "S.ExponentialLR(opt, gamma=0.8)", false);
}

TEST(LearningRate, CosineDecayIsCosineAnnealingLR) {
  ScheduleSpec s;
  s.kind = "cosine";
  s.alpha = 0.1;
  expectMatchesTorch(s, "S.CosineAnnealingLR(opt, T_max=42, eta_min=0.1 * 0.1)",
                     true);
}

TEST(LearningRate, CosineWarmUpIsLinearThenCosineAnnealing) {
  ScheduleSpec s;
  s.kind = "cosine";
  s.warmupEpochs = 1; // 7 steps
  expectMatchesTorch(
      s,
      "S.SequentialLR(opt, [S.LinearLR(opt, start_factor=1/7, "
      "end_factor=1.0, total_iters=6), S.CosineAnnealingLR(opt, T_max=35)], "
      "milestones=[7])",
      true);
  // The first step already trains, and the warm-up ends at the base rate.
  EXPECT_NEAR(learningRateAt(s, kLr, 0, kStepsPerEpoch, kEpochs), kLr / 7,
              1e-12);
  EXPECT_NEAR(learningRateAt(s, kLr, 7, kStepsPerEpoch, kEpochs), kLr, 1e-12);
}

} // namespace
