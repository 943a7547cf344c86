//===- TrainCheckpoints.cpp - what training keeps of the weights ----------===//
//
// Saving the last and the best checkpoint, keeping and restoring the best
// weights, and the errors for non-finite losses and weights
// (runtime/trainer/TrainCheckpoints.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/trainer/TrainCheckpoints.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <fstream>

namespace gradc {

std::string CheckpointKeeper::keptCheckpoint(const char *adjective) const {
  bool kept = !options.checkpointPath.empty() &&
              std::ifstream(options.checkpointPath).good();
  return kept ? absl::StrCat(", the last ", adjective,
                             " checkpoint is kept in ", options.checkpointPath)
              : std::string(", no checkpoint was written");
}

absl::Status CheckpointKeeper::nonFiniteLoss(float loss, int64_t epoch,
                                             int64_t batchInEpoch) const {
  return absl::InternalError(
      absl::StrCat("error: loss is ", loss, " at step ", params.step + 1,
                   " (epoch ", epoch + 1, ", batch ", batchInEpoch + 1,
                   "); training stopped", keptCheckpoint("good")));
}

absl::Status CheckpointKeeper::checkFinite(int64_t epoch) const {
  std::string bad = params.firstNonFinite();
  if (bad.empty())
    return absl::OkStatus();
  return absl::InternalError(absl::StrCat(
      "error: '", bad, "' holds non-finite values after epoch ", epoch + 1,
      " (step ", params.step, "); training stopped", keptCheckpoint("finite")));
}

absl::Status CheckpointKeeper::saveTo(const std::string &path) const {
  if (path.empty())
    return absl::OkStatus();
  return params.save(path, model, options.seed, options.threads,
                     options.batchSize);
}

absl::Status CheckpointKeeper::save() const {
  return saveTo(options.checkpointPath);
}

absl::Status CheckpointKeeper::keepBest() {
  if (absl::Status s = saveTo(options.bestCheckpointPath); !s.ok())
    return s;
  if (model.earlyStopping.restoreBestWeights) {
    bestParams = params.params;
    bestBuffers = params.buffers;
  }
  return absl::OkStatus();
}

bool CheckpointKeeper::restoreBest() {
  const EarlyStoppingSpec &stopping = model.earlyStopping;
  if (!stopping.restoreBestWeights || bestParams.empty() ||
      params.monitors.stopBestEpoch == params.epoch)
    return false;
  params.params = std::move(bestParams);
  params.buffers = std::move(bestBuffers);
  out << absl::StrFormat("restored the weights of epoch %d (validation %s "
                         "%.4f)\n",
                         params.monitors.stopBestEpoch,
                         stopping.monitorAccuracy ? "accuracy" : "loss",
                         params.monitors.stopBest);
  return true;
}

} // namespace gradc
