//===- Trainer.cpp - the training loop over JIT-compiled steps ------------===//
//
// Trainer::train: epochs of @train_step over the training set, each ended by
// the sums over the ranks, the evaluation, the monitors (reduce on plateau,
// early stopping), the metrics, the checkpoint and the report. The
// arguments of the steps are runtime/trainer/StepArguments.h's, the reporting
// runtime/trainer/TrainProgress.h's, the checkpoints
// runtime/trainer/TrainCheckpoints.h's and the evaluation
// runtime/trainer/TrainerEvaluation.cpp's.
//
//===----------------------------------------------------------------------===//

#include "runtime/trainer/Trainer.h"
#include "runtime/trainer/LearningRate.h"
#include "runtime/trainer/Monitors.h"
#include "runtime/trainer/TrainCheckpoints.h"
#include "runtime/trainer/TrainProgress.h"
#include "support/Stopwatch.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace gradc {

using Clock = std::chrono::steady_clock;

Trainer::Trainer(const ResolvedModel &model, ParameterStore &params,
                 CompileFn compile, TrainOptions options, std::ostream &out)
    : model(model), params(params), compile(std::move(compile)),
      options(std::move(options)), out(out) {}

double secondsSinceProcessStart() {
  // Field 22 of /proc/self/stat is the start time in clock ticks since
  // boot; /proc/uptime is now, in seconds since boot.
  std::ifstream stat("/proc/self/stat"), uptime("/proc/uptime");
  std::string line;
  double now = 0;
  if (!std::getline(stat, line) || !(uptime >> now))
    return 0;
  // The command name (field 2) may hold spaces: count from its ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i)
    ;
  return now - std::stod(field) / double(sysconf(_SC_CLK_TCK));
}

struct Trainer::Run {
  explicit Run(Trainer &t) : checkpoints(t.model, t.params, t.options, t.out) {}

  CheckpointKeeper checkpoints;
  int64_t stepsPerEpoch = 0;
  /// Steps this call has run, over all epochs.
  int64_t totalSteps = 0;
  /// The rate of the last step run.
  float lastLr = 0;
  /// Reduce on plateau sets the rate; the best epoch is tracked (early
  /// stopping, --checkpoint-best).
  bool plateau = false, trackBest = false;
};

absl::Status Trainer::train(const DataSplits &data) {
  BatchOptions bo{options.batchSize, options.shuffle, options.seed,
                  options.dropLast, options.augment};
  // Data parallelism: this rank's share of every global batch.
  bo.shards = options.ranks;
  bo.shard = options.rank;
  auto itOr = BatchIterator::create(data.train, bo);
  if (!itOr.ok())
    return itOr.status();
  BatchIterator &it = *itOr;
  Run run(*this);
  run.stepsPerEpoch = it.stepsPerEpoch();
  if (run.stepsPerEpoch == 0)
    return absl::InvalidArgumentError(
        absl::StrCat("error: the training set has ", data.train.size(),
                     " examples, fewer than one batch of ", options.batchSize));
  MetricsLog metrics;
  if (absl::Status s = metrics.open(options.metricsPath); !s.ok())
    return s;
  run.plateau = model.schedule.kind == "plateau";
  run.trackBest =
      model.earlyStopping.enabled || !options.bestCheckpointPath.empty();
  if ((run.plateau || run.trackBest) && data.validation.size() == 0)
    return absl::InvalidArgumentError(
        "error: reduce_on_plateau, early_stopping and --checkpoint-best need "
        "validation data (validation_split > 0)");
  run.lastLr = float(model.optimizer.learningRate);
  for (int64_t epoch = params.epoch; epoch < options.epochs; ++epoch) {
    EpochRecord e;
    e.epoch = epoch;
    // A checkpoint taken mid-epoch (--max-steps) resumes at its next batch:
    // an epoch's order depends on the seed and the epoch alone, the rate and
    // dropout on the step, so the run is bit-identical to one that never
    // stopped.
    if (epoch == params.epoch) {
      int64_t into = params.step - epoch * run.stepsPerEpoch;
      if (into > 0 && into < run.stepsPerEpoch)
        e.steps = into;
    }
    if (absl::Status s = it.seek(epoch, e.steps); !s.ok())
      return s;
    auto start = Clock::now();
    // Batches are assembled on a second thread while the step runs; a
    // partial last batch runs padded: one module serves every batch.
    BatchPipeline batches(it);
    if (absl::Status s = runSteps(run, batches, start, e); !s.ok())
      return s;
    if (options.ranks > 1)
      if (absl::Status s = sumOverRanks(e); !s.ok())
        return s;
    e.seconds = secondsSince(start);
    e.imagesPerSecond = e.seen / std::max(e.seconds, 1e-9);
    e.dataWait = batches.waitSeconds();
    e.dataAssemble = batches.assembleSeconds();
    e.learningRate = run.lastLr;
    printEpochTimes(out, options, model, e);
    if (absl::Status s = evaluateEpoch(data, e); !s.ok())
      return s;
    bool completed = !e.stopped || e.steps == run.stepsPerEpoch;
    if (completed)
      params.epoch = epoch + 1;
    bool earlyStop = false;
    if (completed && (run.plateau || run.trackBest)) {
      auto stop = watchValidation(run, e);
      if (!stop.ok())
        return stop.status();
      earlyStop = *stop;
    }
    if (absl::Status s = metrics.write(e, model, options.threads); !s.ok())
      return s;
    if (absl::Status s = run.checkpoints.checkFinite(epoch); !s.ok())
      return s;
    if (absl::Status s = run.checkpoints.save(); !s.ok())
      return s;
    if (options.report)
      if (absl::Status s = reportEpoch(options, e, run.stepsPerEpoch); !s.ok())
        return s;
    if (e.stopped || earlyStop)
      break;
  }
  if (run.checkpoints.restoreBest()) {
    if (data.test.size())
      if (auto r = evaluateAndPrint(data.test, "  test:       "); !r.ok())
        return r.status();
    return run.checkpoints.save();
  }
  return absl::OkStatus();
}

absl::Status Trainer::runSteps(Run &run, BatchPipeline &batches,
                               Clock::time_point start, EpochRecord &e) {
  int64_t local = options.batchSize / options.ranks;
  ProgressLine progress(out, options, model, run.stepsPerEpoch);
  while (batches.next()) {
    int64_t n = batches.count();
    auto jit = compile(local);
    if (!jit.ok())
      return jit.status();
    int64_t step = params.step;
    float lr =
        float(run.plateau && params.monitors.plateauLr > 0
                  ? params.monitors.plateauLr
                  : learningRateAt(model.schedule, model.optimizer.learningRate,
                                   step, run.stepsPerEpoch, options.epochs));
    run.lastLr = lr;
    StepResult result;
    std::vector<BufferRef> args =
        trainStepArguments(params, model, batches, local, step, lr, result);
    auto stepStart = Clock::now();
    if (absl::Status s = (*jit)->call("train_step", args); !s.ok())
      return s;
    double stepTime = secondsSince(stepStart);
    e.stepTotal += stepTime;
    if (n == local)
      e.stepSeconds.push_back(stepTime);
    if (options.timing && run.totalSteps == 0)
      std::cerr << absl::StrFormat(
          "first training step done %.2f s after the process started\n",
          secondsSinceProcessStart());
    if (!std::isfinite(result.loss))
      return run.checkpoints.nonFiniteLoss(result.loss, e.epoch, e.steps);
    if (options.report)
      reportStep(*options.report, result, batches.counted(), lr);
    params.step++;
    e.steps++;
    run.totalSteps++;
    e.addStep(result, n, batches.counted());
    bool last = e.steps == run.stepsPerEpoch;
    if (options.maxSteps >= 0 && run.totalSteps >= options.maxSteps)
      e.stopped = last = true;
    progress.update(e, secondsSince(start), last);
    if (e.stopped)
      break;
  }
  return absl::OkStatus();
}

absl::Status Trainer::sumOverRanks(EpochRecord &e) {
  // The epoch's figures over every rank's share; and every rank must hold
  // the same weights (the averaged gradients make them so).
  double sums[4] = {e.lossSum, double(e.correct), double(e.seen),
                    double(e.counted)};
  options.sumOverRanks(sums, 4);
  e.lossSum = sums[0];
  e.correct = int64_t(sums[1]);
  e.seen = int64_t(sums[2]);
  e.counted = int64_t(sums[3]);
  uint64_t hash = params.hash();
  if (!options.sameOnAllRanks(hash))
    return absl::InternalError(absl::StrCat(
        "error: the ranks' weights differ after epoch ", e.epoch + 1));
  if (options.timing)
    out << absl::StrFormat("  weights identical on all %d ranks (hash "
                           "%016x)\n",
                           options.ranks, hash);
  return absl::OkStatus();
}

absl::Status Trainer::evaluateEpoch(const DataSplits &data, EpochRecord &e) {
  e.hasValidation = data.validation.size() > 0;
  e.hasTest = data.test.size() > 0;
  if (e.hasValidation) {
    auto r = evaluateAndPrint(data.validation, "  validation: ");
    if (!r.ok())
      return r.status();
    e.validation = *r;
  }
  if (e.hasTest) {
    auto r = evaluateAndPrint(data.test, "  test:       ");
    if (!r.ok())
      return r.status();
    e.test = *r;
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Trainer::watchValidation(Run &run, const EpochRecord &e) {
  const EvalResult &val = e.validation;
  if (run.plateau) {
    double metric = model.schedule.monitorAccuracy ? val.accuracy : val.loss;
    double next = reduceOnPlateau(model.schedule, model.optimizer.learningRate,
                                  params.monitors, metric);
    if (next < run.lastLr)
      out << absl::StrFormat(
          "  reduce on plateau: learning rate %.4g -> %.4g\n", run.lastLr,
          next);
  }
  if (!run.trackBest)
    return false;
  const EarlyStoppingSpec &stopping = model.earlyStopping;
  double metric = stopping.monitorAccuracy ? val.accuracy : val.loss;
  StopDecision d =
      earlyStopping(stopping, params.monitors, e.epoch + 1, metric);
  if (d == StopDecision::Improved) {
    if (absl::Status s = run.checkpoints.keepBest(); !s.ok())
      return s;
    return false;
  }
  if (d != StopDecision::Stop || !stopping.enabled)
    return false;
  out << absl::StrFormat(
      "  early stopping: validation %s has not improved for %d "
      "epoch(s); best %.4f at epoch %d\n",
      stopping.monitorAccuracy ? "accuracy" : "loss", params.monitors.stopWait,
      params.monitors.stopBest, params.monitors.stopBestEpoch);
  return true;
}

} // namespace gradc
