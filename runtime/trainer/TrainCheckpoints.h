//===- TrainCheckpoints.h - what training keeps of the weights --*- C++ -*-===//
//
// The checkpoint written after every epoch (--checkpoint), the best one
// (--checkpoint-best) and the best weights early stopping restores
// (restore_best_weights); and the refusal to go on, or to save, once the
// loss or the weights are not finite, saying which checkpoint is kept.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_TRAINCHECKPOINTS_H
#define GRADC_RUNTIME_TRAINCHECKPOINTS_H

#include "runtime/trainer/Trainer.h"

#include <ostream>
#include <vector>

namespace gradc {

class CheckpointKeeper {
public:
  CheckpointKeeper(const ResolvedModel &model, ParameterStore &params,
                   const TrainOptions &options, std::ostream &out)
      : model(model), params(params), options(options), out(out) {}

  /// The error that stops training on a non-finite `loss` at the step
  /// about to be counted (batch `batchInEpoch` of `epoch`, both from 0).
  absl::Status nonFiniteLoss(float loss, int64_t epoch,
                             int64_t batchInEpoch) const;

  /// An error when a weight holds non-finite values after `epoch` (from 0):
  /// a finite loss can still leave them (the update after it overflowed),
  /// and such weights are never saved.
  absl::Status checkFinite(int64_t epoch) const;

  /// Writes the checkpoint (--checkpoint), if there is one to write.
  absl::Status save() const;

  /// The monitored metric improved: writes --checkpoint-best, and keeps the
  /// weights for restore_best_weights.
  absl::Status keepBest();

  /// At the end of training, with restore_best_weights: puts the best
  /// epoch's weights back unless they are the last ones, and says so.
  /// Whether it did.
  bool restoreBest();

private:
  /// Writes a checkpoint to `path` (none for an empty path).
  absl::Status saveTo(const std::string &path) const;
  /// ", the last <adjective> checkpoint is kept in PATH" when one exists,
  /// else ", no checkpoint was written" (none is before the first epoch
  /// ends).
  std::string keptCheckpoint(const char *adjective) const;

  const ResolvedModel &model;
  ParameterStore &params;
  const TrainOptions &options;
  std::ostream &out;
  /// The weights of the best epoch, for early stopping's restore.
  std::vector<Buffer> bestParams, bestBuffers;
};

} // namespace gradc

#endif // GRADC_RUNTIME_TRAINCHECKPOINTS_H
