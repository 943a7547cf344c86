//===- TrainProgress.h - what the training loop reports ---------*- C++ -*-===//
//
// The figures of an epoch as the loop gathers them, and every way they are
// reported: the progress line (redrawn on a terminal, plain lines
// otherwise), the epoch's time and learning-rate lines, one JSON line per
// epoch in the metrics file (--metrics) and the HTML report's steps and
// epochs (--report).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_TRAINPROGRESS_H
#define GRADC_RUNTIME_TRAINPROGRESS_H

#include "runtime/trainer/Trainer.h"

#include <fstream>
#include <ostream>
#include <string>
#include <vector>

namespace gradc {

/// One epoch of training as the loop measures it. With data parallelism the
/// training figures are this rank's share until the epoch's end, where the
/// trainer sums them over the ranks.
struct EpochRecord {
  int64_t epoch = 0; // from 0
  /// The epoch's steps done so far, those before a resumed checkpoint
  /// included.
  int64_t steps = 0;
  /// --max-steps ended the run within this epoch.
  bool stopped = false;
  /// Sum of loss times the labels that count, correct predictions, rows
  /// seen and labels that count (as many as the rows, but for per-token
  /// labels: the tokens less the ignored ones).
  double lossSum = 0;
  int64_t correct = 0, seen = 0, counted = 0;
  /// Times of the full-batch steps alone (their minimum and median are
  /// robust to the machine's noise), and of all steps.
  std::vector<double> stepSeconds;
  double stepTotal = 0;
  /// Wall time, throughput, and what the steps waited for batches and the
  /// batches took to assemble (on the background thread).
  double seconds = 0, imagesPerSecond = 0, dataWait = 0, dataAssemble = 0;
  /// The rate of the epoch's last step.
  double learningRate = 0;
  bool hasValidation = false, hasTest = false;
  EvalResult validation, test;

  /// Counts one step of `rows` real rows and `counted` labels that count.
  void addStep(const StepResult &result, int64_t rows, int64_t counted);
  /// Mean loss and accuracy over the labels that count (0 for none).
  double trainLoss() const;
  double trainAccuracy() const;
};

/// The line that shows how far the epoch is: printed when due (every 0.2 s
/// on a terminal, every 10 s otherwise) and at the epoch's last step.
class ProgressLine {
public:
  ProgressLine(std::ostream &out, const TrainOptions &options,
               const ResolvedModel &model, int64_t stepsPerEpoch)
      : out(out), options(options), model(model), stepsPerEpoch(stepsPerEpoch) {
  }

  /// After a step, `elapsed` seconds into the epoch; `last`: its last step.
  void update(const EpochRecord &e, double elapsed, bool last);

private:
  std::ostream &out;
  const TrainOptions &options;
  const ResolvedModel &model;
  int64_t stepsPerEpoch;
  double lastPrint = -1;
};

/// A language model's loss as it is quoted: "  bpc B" (bits per character,
/// the loss in nats / ln 2) for a model trained on text, "  ppl P" (the
/// perplexity per token, e^loss) for other models with labels per position;
/// "" otherwise.
std::string languageMetric(const ResolvedModel &model, double loss);

/// The epoch's time lines (--timing) and its learning rate (with a schedule).
void printEpochTimes(std::ostream &out, const TrainOptions &options,
                     const ResolvedModel &model, const EpochRecord &e);

/// The metrics file (--metrics): one JSON object per epoch, appended.
class MetricsLog {
public:
  /// Opens `path` for appending; an empty path writes nothing.
  absl::Status open(const std::string &path);
  absl::Status write(const EpochRecord &e, const ResolvedModel &model,
                     int64_t threads);

private:
  std::string path;
  std::ofstream file;
};

/// The HTML report (--report): a step's loss, accuracy and rate.
void reportStep(ReportData &report, const StepResult &result, int64_t rows,
                float rate);
/// The HTML report: the epoch's figures, the report rewritten when it has a
/// directory.
absl::Status reportEpoch(const TrainOptions &options, const EpochRecord &e,
                         int64_t stepsPerEpoch);

} // namespace gradc

#endif // GRADC_RUNTIME_TRAINPROGRESS_H
