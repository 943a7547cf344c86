//===- LearningRate.cpp - the learning rate of each training step ---------===//

#include "runtime/trainer/LearningRate.h"

#include <algorithm>
#include <cmath>

namespace gradc {

double learningRateAt(const ScheduleSpec &s, double lr, int64_t step,
                      int64_t stepsPerEpoch, int64_t epochs) {
  int64_t epoch = step / std::max<int64_t>(stepsPerEpoch, 1);
  if (s.kind == "step")
    return lr * std::pow(s.gamma, double(epoch / s.stepEpochs));
  if (s.kind == "exponential")
    return lr * std::pow(s.gamma, double(epoch));
  if (s.kind == "cosine") {
    int64_t total = stepsPerEpoch * epochs;
    int64_t warmup = std::llround(s.warmupEpochs * double(stepsPerEpoch));
    if (step < warmup)
      return lr * double(step + 1) / double(warmup);
    double minLr = lr * s.alpha;
    double span = double(std::max<int64_t>(total - warmup, 1));
    double t = std::min(double(step - warmup), span);
    return minLr + (lr - minLr) * (1 + std::cos(M_PI * t / span)) / 2;
  }
  return lr;
}

} // namespace gradc
