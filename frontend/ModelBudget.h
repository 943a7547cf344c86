//===- ModelBudget.h - memory a run needs, checked before it runs -*- C++
//-*-===//
//
// Before gradc allocates or compiles for a batch, it estimates from the
// resolved model the memory a step holds: the parameters (with their
// gradients and optimizer slots when training) and every layer's output for
// the whole batch (with its gradient when training). The estimate is a
// lower bound, so a model it refuses cannot run; the limit is the machine's
// physical memory unless --memory-limit says otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_MODELBUDGET_H
#define GRADC_FRONTEND_MODELBUDGET_H

#include "frontend/ModelChecker.h"

#include "absl/status/status.h"

#include <cstdint>

namespace gradc {

/// The machine's physical memory in bytes (0 when unknown).
int64_t physicalMemoryBytes();

/// The bytes a step of `batch` examples holds at least: parameters and
/// buffers, layer outputs, and when `training` their gradients and the
/// optimizer's slots.
int64_t stepMemoryBytes(const ResolvedModel &model, int64_t batch,
                        bool training);

/// Refuses a run whose step needs more than `limitBytes`, in one line naming
/// the layer at which the memory crosses the limit and the flag that raises
/// it. `limitSource` says where the limit came from.
absl::Status checkMemoryBudget(const ResolvedModel &model, int64_t batch,
                               bool training, int64_t limitBytes,
                               const char *limitSource);

} // namespace gradc

#endif // GRADC_FRONTEND_MODELBUDGET_H
