//===- LearningRate.h - the learning rate of each training step -*- C++ -*-===//
//
// The schedules of model.proto's LearningRateSchedule as pure functions of
// the global step, so that a resumed run gets the same rates. The trainer
// passes the rate to @train_step as its `lr` input.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_LEARNINGRATE_H
#define GRADC_RUNTIME_LEARNINGRATE_H

#include "frontend/ModelChecker.h"

#include <cstdint>

namespace gradc {

/// The learning rate of global step `step` (from 0) of a run of `epochs`
/// epochs of `stepsPerEpoch` steps, for base rate `lr`.
double learningRateAt(const ScheduleSpec &schedule, double lr, int64_t step,
                      int64_t stepsPerEpoch, int64_t epochs);

} // namespace gradc

#endif // GRADC_RUNTIME_LEARNINGRATE_H
