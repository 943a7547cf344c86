//===- Trainer.h - the training loop over JIT-compiled steps ----*- C++ -*-===//
//
// Runs epochs of @train_step over a dataset, evaluates with @eval_step,
// reports progress, metrics and a confusion matrix, writes checkpoints, and
// stops on a non-finite loss. The loop is runtime/trainer/Trainer.cpp; its pieces:
// evaluation (TrainerEvaluation.cpp), the entry points' arguments
// (StepArguments.h), what it reports (TrainProgress.h) and what it keeps of
// the weights (TrainCheckpoints.h).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_TRAINER_H
#define GRADC_RUNTIME_TRAINER_H

#include "runtime/data/IdxDataset.h"
#include "runtime/jit/Jit.h"
#include "runtime/params/Parameters.h"
#include "runtime/report/Report.h"
#include "runtime/trainer/StepArguments.h"

#include <chrono>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace gradc {

struct EpochRecord;

/// Compiles (or returns the already compiled) module for a batch size.
using CompileFn = std::function<absl::StatusOr<const JitModule *>(int64_t)>;

struct TrainOptions {
  int64_t epochs = 1;
  int64_t batchSize = 32;
  uint64_t seed = 0;
  bool shuffle = true;
  bool dropLast = false;
  /// Training batches only: random flips and crops.
  Augmentation augment;
  int64_t maxSteps = -1; // stop after this many steps in total
  int64_t threads = 1;
  std::string checkpointPath;
  /// Written whenever the monitored validation metric improves (Keras's
  /// ModelCheckpoint(save_best_only=True)).
  std::string bestCheckpointPath;
  std::string metricsPath;
  /// Progress bar redrawn in place (a terminal) or plain lines.
  bool interactive = false;
  std::vector<std::string> classNames;
  /// With a directory, the HTML report is filled (steps, epochs) and
  /// rewritten there at every epoch end.
  std::string reportDir;
  ReportData *report = nullptr;
  /// Say on stderr when the first step has run, in seconds since the
  /// process started (--timing).
  bool timing = false;
  /// Data parallelism (mpirun): this process is rank `rank` of `ranks`; it
  /// trains and evaluates on its share of every batch (batchSize / ranks
  /// rows, the compiled batch) and these add up statistics over the ranks
  /// and compare the weights.
  int rank = 0, ranks = 1;
  std::function<void(double *, int64_t)> sumOverRanks;
  std::function<bool(uint64_t)> sameOnAllRanks;
};

/// Seconds since this process started (exec included), from /proc.
double secondsSinceProcessStart();

struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  /// Regression (value targets): mean absolute error, root mean squared
  /// error and R^2 (per output, averaged), over every target value.
  double mae = 0, rmse = 0, r2 = 0;
  int64_t examples = 0;
  /// confusion[true * C + predicted], when asked for.
  std::vector<int64_t> confusion;
  /// With the confusion matrix: the most confidently misclassified
  /// examples (index, predicted class, its probability), most confident
  /// first.
  struct Mistake {
    int64_t index, predicted;
    double probability;
  };
  std::vector<Mistake> mistakes;
};

class Trainer {
public:
  Trainer(const ResolvedModel &model, ParameterStore &params, CompileFn compile,
          TrainOptions options, std::ostream &out);

  /// Trains on `data.train`, evaluating on the validation and test sets
  /// after each epoch.
  absl::Status train(const DataSplits &data);

  /// Loss and accuracy over `data`; with `confusion`, runs @predict as well
  /// to fill the confusion matrix.
  absl::StatusOr<EvalResult> evaluate(const Dataset &data, bool confusion);

  /// Prints a confusion matrix with class names.
  void printConfusion(const EvalResult &r) const;

  /// "loss L  accuracy A%", or for regression "loss L  mae M  rmse R  r2 Q".
  std::string describe(const EvalResult &r) const;

private:
  /// Where a call of train() stands across its epochs, and what it keeps
  /// of the weights (Trainer.cpp).
  struct Run;

  /// The steps of epoch `e.epoch` from `e.steps` on, over `batches`,
  /// `start` being the epoch's start.
  absl::Status runSteps(Run &run, BatchPipeline &batches,
                        std::chrono::steady_clock::time_point start,
                        EpochRecord &e);
  /// With data parallelism: the epoch's training figures summed over the
  /// ranks, and the ranks' weights compared.
  absl::Status sumOverRanks(EpochRecord &e);
  /// Evaluates and prints the validation and test sets into `e`.
  absl::Status evaluateEpoch(const DataSplits &data, EpochRecord &e);
  /// Evaluates `data` and prints `label` and the result.
  absl::StatusOr<EvalResult> evaluateAndPrint(const Dataset &data,
                                              const char *label);
  /// Reduce on plateau and early stopping on the epoch's validation
  /// metric; whether to stop.
  absl::StatusOr<bool> watchValidation(Run &run, const EpochRecord &e);

  const ResolvedModel &model;
  ParameterStore &params;
  CompileFn compile;
  TrainOptions options;
  std::ostream &out;
};

/// Fashion-MNIST's class names.
std::vector<std::string> fashionMnistClassNames();

} // namespace gradc

#endif // GRADC_RUNTIME_TRAINER_H
