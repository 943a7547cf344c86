//===- Parameters.h - parameter and optimizer-state buffers -----*- C++ -*-===//
//
// The runtime owns every parameter and optimizer-state buffer; the compiled
// train step updates them in place. Initializers follow Keras (glorot_uniform
// kernels and zero biases by default) with a seeded, platform-independent
// generator. Checkpoints are written atomically.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_PARAMETERS_H
#define GRADC_RUNTIME_PARAMETERS_H

#include "frontend/ModelChecker.h"
#include "runtime/trainer/Monitors.h"

#include "absl/status/statusor.h"
#include <string>
#include <vector>

namespace gradc {

struct Buffer {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Parameters in @train_step's order, the buffers (non-trainable state such
/// as running statistics) in theirs, then the optimizer state (for each
/// parameter, its slots: velocity; mean_square; or m, v). The entry points
/// take them in that order: params, buffers, [state].
struct ParameterStore {
  std::vector<Buffer> params;
  std::vector<Buffer> buffers;
  std::vector<Buffer> state;
  int64_t step = 0;  // optimizer steps taken
  int64_t epoch = 0; // epochs completed
  MonitorState monitors;
  /// A language model's tokens, entry k token k's text (data { text }):
  /// saved with the weights, so that `gradc generate` needs no data.
  std::vector<std::string> vocabulary;
  /// What the checkpoint was trained with (set by load(); -1 when unknown).
  int64_t savedSeed = -1, savedThreads = -1, savedBatchSize = -1;

  /// FNV-1a over the bytes of the trainable parameters: equal on every
  /// rank of a data-parallel run (buffers such as batch norm's running
  /// statistics are per rank).
  uint64_t hash() const;
  /// The name of the first parameter, buffer or optimizer slot holding a
  /// NaN or an infinity, or "" when all are finite.
  std::string firstNonFinite() const;

  /// Fresh parameters from the model's initializers and `seed`, zero state.
  static ParameterStore initialize(const ResolvedModel &model, uint64_t seed);

  /// Writes a checkpoint atomically: a temporary file in the same directory,
  /// fsync, rename.
  absl::Status save(const std::string &path, const ResolvedModel &model,
                    int64_t seed, int64_t threads, int64_t batchSize) const;
  /// Loads a checkpoint written by save(); checks every name and shape
  /// against the model. With `weightsOnly`, optimizer state and position are
  /// left as they are (parameters and buffers are the weights).
  /// With `resumeOf`, the checkpoint must also come from a run of that
  /// model (its name) with its optimizer: a resume continues that run.
  absl::Status load(const std::string &path, bool weightsOnly,
                    const ResolvedModel *resumeOf = nullptr);
};

} // namespace gradc

#endif // GRADC_RUNTIME_PARAMETERS_H
