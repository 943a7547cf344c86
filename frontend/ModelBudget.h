//===- ModelBudget.h - memory and code a run needs, checked first -*- C++
//-*-===//
//
// Before gradc allocates or compiles for a batch, it estimates from the
// resolved model the memory a step holds: the parameters (with their
// gradients and optimizer slots when training) and every layer's output for
// the whole batch (with its gradient when training). The estimate is a
// lower bound, so a model it refuses cannot run; the limit is the machine's
// physical memory unless --memory-limit says otherwise.
//
// Before LLVM compiles a model, gradc likewise estimates the machine code
// the module will hold, from each layer's measured lower bound
// (ResolvedLayer::codeBytes), and refuses a model beyond a limit
// (kDefaultCodeLimitBytes unless --code-limit says otherwise): LLVM
// compiles 25 to 110 KiB of such code a second here (bench/code_size.py),
// so the limit keeps a compile within minutes instead of hours.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_MODELBUDGET_H
#define GRADC_FRONTEND_MODELBUDGET_H

#include "frontend/ModelChecker.h"

#include "absl/status/status.h"

#include <cstdint>
#include <string>

namespace gradc {

/// The machine's physical memory in bytes (0 when unknown).
int64_t physicalMemoryBytes();

/// "512 bytes", "28.4 KiB", "3.1 GiB".
std::string humanBytes(int64_t bytes);

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

/// Machine code every compiled module holds at least, whatever its layers:
/// the loss, the optimizer's update and the entry points (a one-layer model
/// compiles to 70 KiB).
constexpr int64_t kModuleCodeBytes = int64_t(48) << 10;
/// The default limit on a module's estimated machine code.
constexpr int64_t kDefaultCodeLimitBytes = int64_t(16) << 20;

/// The machine code the compiled module holds at least:
/// kModuleCodeBytes plus every layer's codeBytes.
int64_t moduleCodeBytes(const ResolvedModel &model);

/// Refuses a model whose compiled module needs more than `limitBytes` of
/// machine code, in one line naming the layer at which the estimate crosses
/// the limit and the flag that raises it.
absl::Status checkCodeBudget(const ResolvedModel &model, int64_t limitBytes,
                             const char *limitSource);

} // namespace gradc

#endif // GRADC_FRONTEND_MODELBUDGET_H
