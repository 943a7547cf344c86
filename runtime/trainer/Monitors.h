//===- Monitors.h - epoch-end decisions on a validation metric -*- C++ -*-===//
//
// Reduce-on-plateau (PyTorch's ReduceLROnPlateau) and early stopping
// (Keras's EarlyStopping) watch a validation metric at each epoch end. Their
// state is plain data, saved in checkpoints so that a resumed run decides as
// the uninterrupted one would.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_MONITORS_H
#define GRADC_RUNTIME_MONITORS_H

#include "frontend/ModelChecker.h"

#include <cmath>
#include <cstdint>

namespace gradc {

struct MonitorState {
  /// Reduce-on-plateau: the current rate (0 until the first reduction: the
  /// base rate), the best metric (NaN before the first epoch), bad epochs in
  /// a row and cooldown epochs left.
  double plateauLr = 0, plateauBest = NAN;
  int64_t plateauBad = 0, plateauCooldown = 0;
  /// Early stopping: the best metric, epochs since it, and its epoch (from
  /// 1; 0 before the first).
  double stopBest = NAN;
  int64_t stopWait = 0, stopBestEpoch = 0;
};

/// Whether `current` beats `best` (NaN: none yet) by more than `minDelta`.
bool improves(double current, double best, bool higherIsBetter,
              double minDelta);

/// PyTorch's ReduceLROnPlateau.step(metric) with threshold_mode 'abs' and
/// eps 1e-8: updates `s` and returns the rate of the next epoch.
double reduceOnPlateau(const ScheduleSpec &spec, double baseLr, MonitorState &s,
                       double metric);

enum class StopDecision { Improved, Continue, Stop };

/// Keras's EarlyStopping.on_epoch_end for epoch `epoch` (from 1).
StopDecision earlyStopping(const EarlyStoppingSpec &spec, MonitorState &s,
                           int64_t epoch, double metric);

} // namespace gradc

#endif // GRADC_RUNTIME_MONITORS_H
