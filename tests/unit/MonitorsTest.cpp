//===- MonitorsTest.cpp - reduce-on-plateau and early stopping ------------===//
//
// Reduce-on-plateau's rate after every epoch of a scripted validation-loss
// sequence equals PyTorch's ReduceLROnPlateau (threshold_mode 'abs'), run by
// Debian's python3-torch in the test (skipped without it); early stopping
// stops at the epoch Keras's EarlyStopping rule gives, computed by hand.
//
//===----------------------------------------------------------------------===//

#include "TorchScript.h"

#include "runtime/trainer/Monitors.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace gradc;

namespace {

/// A loss that improves, stalls, dips by less than min_delta, improves
/// again and stalls for good.
const std::vector<double> kLosses = {
    1.0, 0.8,  0.8,  0.79995, 0.81, 0.7,  0.7, 0.71, 0.72, 0.69999,
    0.6, 0.65, 0.66, 0.67,    0.68, 0.69, 0.7, 0.71, 0.72, 0.73};

/// The rate after each epoch's scheduler step, by PyTorch.
bool torchPlateauRates(const ScheduleSpec &s, std::vector<double> &rates) {
  std::ostringstream py;
  py.precision(17);
  py << "import torch\n"
     << "p = torch.nn.Parameter(torch.zeros(1))\n"
     << "opt = torch.optim.SGD([p], lr=0.1)\n"
     << "sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode='"
     << (s.monitorAccuracy ? "max" : "min") << "', factor=" << s.factor
     << ", patience=" << s.patience << ", threshold=" << s.minDelta
     << ", threshold_mode='abs', cooldown=" << s.cooldown
     << ", min_lr=" << s.minLr << ")\n"
     << "for loss in [";
  for (double l : kLosses)
    py << (s.monitorAccuracy ? 1 - l : l) << ", ";
  py << "]:\n"
     << "    sched.step(loss)\n"
     << "    print(repr(opt.param_groups[0]['lr']))\n";
  return test::runTorchScript(py.str(), rates);
}

void expectPlateauMatchesTorch(const ScheduleSpec &s) {
  std::vector<double> torch;
  if (!torchPlateauRates(s, torch))
    GTEST_SKIP() << "python3-torch is not available";
  ASSERT_EQ(torch.size(), kLosses.size());
  MonitorState state;
  bool reduced = false;
  for (size_t e = 0; e < kLosses.size(); ++e) {
    double metric = s.monitorAccuracy ? 1 - kLosses[e] : kLosses[e];
    double lr = reduceOnPlateau(s, 0.1, state, metric);
    EXPECT_NEAR(lr, torch[e], 1e-12) << "after epoch " << e + 1;
    reduced |= lr < 0.1;
  }
  EXPECT_TRUE(reduced) << "the sequence never reduces the rate";
}

TEST(ReduceOnPlateau, MatchesPyTorch) {
  ScheduleSpec s;
  s.kind = "plateau";
  s.factor = 0.5;
  s.patience = 1;
  s.minDelta = 1e-3;
  expectPlateauMatchesTorch(s);
}

TEST(ReduceOnPlateau, CooldownAndMinimumMatchPyTorch) {
  ScheduleSpec s;
  s.kind = "plateau";
  s.factor = 0.1;
  s.patience = 0;
  s.minDelta = 0;
  s.cooldown = 2;
  s.minLr = 0.0005;
  expectPlateauMatchesTorch(s);
}

TEST(ReduceOnPlateau, AccuracyIsMaximizedAsPyTorchModeMax) {
  ScheduleSpec s;
  s.kind = "plateau";
  s.monitorAccuracy = true;
  s.factor = 0.2;
  s.patience = 2;
  s.minDelta = 1e-4;
  expectPlateauMatchesTorch(s);
}

/// The epoch (from 1) at which early stopping stops, or 0; and the best
/// epoch.
std::pair<int64_t, int64_t> stopEpoch(const EarlyStoppingSpec &spec,
                                      const std::vector<double> &metrics) {
  MonitorState s;
  for (size_t e = 0; e < metrics.size(); ++e)
    if (earlyStopping(spec, s, int64_t(e) + 1, metrics[e]) ==
        StopDecision::Stop)
      return {int64_t(e) + 1, s.stopBestEpoch};
  return {0, s.stopBestEpoch};
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  EarlyStoppingSpec spec;
  spec.enabled = true;
  // With min_delta 0 the tiny dip of epoch 4 (0.79995 < 0.8) improves;
  // epoch 6 (0.7) is the last improvement, then 0.7, 0.71, 0.72 are three
  // bad epochs.
  spec.patience = 3;
  EXPECT_EQ(stopEpoch(spec, kLosses), std::make_pair(int64_t(9), int64_t(6)));
  // With min_delta 1e-3, epoch 4 is no improvement: epochs 3, 4, 5 are bad.
  spec.minDelta = 1e-3;
  EXPECT_EQ(stopEpoch(spec, kLosses), std::make_pair(int64_t(5), int64_t(2)));
  // Patience 0 stops at the first bad epoch (Keras: not before epoch 2).
  spec.minDelta = 0;
  spec.patience = 0;
  EXPECT_EQ(stopEpoch(spec, kLosses), std::make_pair(int64_t(3), int64_t(2)));
  EXPECT_EQ(stopEpoch(spec, {1.0}), std::make_pair(int64_t(0), int64_t(1)));
}

TEST(EarlyStopping, AccuracyIsMaximized) {
  EarlyStoppingSpec spec;
  spec.enabled = true;
  spec.monitorAccuracy = true;
  spec.patience = 2;
  EXPECT_EQ(stopEpoch(spec, {0.5, 0.6, 0.55, 0.58, 0.61}),
            std::make_pair(int64_t(4), int64_t(2)));
}

TEST(EarlyStopping, NanIsNeverAnImprovement) {
  EarlyStoppingSpec spec;
  spec.enabled = true;
  spec.patience = 1;
  EXPECT_EQ(stopEpoch(spec, {1.0, NAN, NAN}),
            std::make_pair(int64_t(2), int64_t(1)));
}

} // namespace
