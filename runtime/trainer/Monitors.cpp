//===- Monitors.cpp - reduce-on-plateau and early stopping ----------------===//

#include "runtime/trainer/Monitors.h"

#include <algorithm>

namespace gradc {

bool improves(double current, double best, bool higherIsBetter,
              double minDelta) {
  if (std::isnan(current))
    return false;
  if (std::isnan(best))
    return true;
  return higherIsBetter ? current > best + minDelta : current < best - minDelta;
}

double reduceOnPlateau(const ScheduleSpec &spec, double baseLr, MonitorState &s,
                       double metric) {
  double lr = s.plateauLr > 0 ? s.plateauLr : baseLr;
  if (improves(metric, s.plateauBest, spec.monitorAccuracy, spec.minDelta)) {
    s.plateauBest = metric;
    s.plateauBad = 0;
  } else {
    ++s.plateauBad;
  }
  if (s.plateauCooldown > 0) {
    --s.plateauCooldown;
    s.plateauBad = 0;
  }
  if (s.plateauBad > spec.patience) {
    double reduced = std::max(lr * spec.factor, spec.minLr);
    if (lr - reduced > 1e-8)
      lr = reduced;
    s.plateauCooldown = spec.cooldown;
    s.plateauBad = 0;
  }
  s.plateauLr = lr;
  return lr;
}

StopDecision earlyStopping(const EarlyStoppingSpec &spec, MonitorState &s,
                           int64_t epoch, double metric) {
  ++s.stopWait;
  if (improves(metric, s.stopBest, spec.monitorAccuracy, spec.minDelta)) {
    s.stopBest = metric;
    s.stopBestEpoch = epoch;
    s.stopWait = 0;
    return StopDecision::Improved;
  }
  return s.stopWait >= spec.patience && epoch > 1 ? StopDecision::Stop
                                                  : StopDecision::Continue;
}

} // namespace gradc
