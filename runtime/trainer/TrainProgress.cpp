//===- TrainProgress.cpp - what the training loop reports -----------------===//
//
// The progress line, the epoch's time and learning-rate lines, the metrics
// file's JSON lines and the HTML report's figures
// (runtime/trainer/TrainProgress.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/trainer/TrainProgress.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace gradc {

namespace {
std::string clock(double seconds) {
  int64_t s = int64_t(seconds + 0.5);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}
} // namespace

void EpochRecord::addStep(const StepResult &result, int64_t rows,
                          int64_t labels) {
  lossSum += double(result.loss) * labels;
  correct += result.count;
  seen += rows;
  counted += labels;
}

double EpochRecord::trainLoss() const {
  return lossSum / std::max<int64_t>(counted, 1);
}

double EpochRecord::trainAccuracy() const {
  return double(correct) / std::max<int64_t>(counted, 1);
}

std::string languageMetric(const ResolvedModel &model, double loss) {
  if (model.data.has_text())
    return absl::StrFormat("  bpc %.3f", loss / std::log(2.0));
  if (model.labelsPerExample() > 1)
    return absl::StrFormat("  ppl %.2f", std::exp(loss));
  return "";
}

void ProgressLine::update(const EpochRecord &e, double elapsed, bool last) {
  bool due = options.interactive ? elapsed - lastPrint >= 0.2
                                 : elapsed - lastPrint >= 10.0;
  if (!due && !last)
    return;
  lastPrint = elapsed;
  // The throughput of all ranks; loss and accuracy of this rank's share
  // until the epoch's sums.
  double rate = double(e.seen * options.ranks) / std::max(elapsed, 1e-9);
  double eta = (stepsPerEpoch - e.steps) * elapsed / e.steps;
  int width = 30, filled = int(width * e.steps / stepsPerEpoch);
  std::string bar = std::string(filled, '=') + (filled < width ? ">" : "") +
                    std::string(std::max(0, width - filled - 1), ' ');
  std::string acc =
      model.regression
          ? std::string()
          : absl::StrFormat("  acc %.2f%%", 100.0 * e.trainAccuracy());
  std::string line =
      absl::StrFormat("epoch %d/%d [%s] %d/%d  %.0f %s/s  loss %.4f%s%s  %s %s",
                      e.epoch + 1, options.epochs, bar, e.steps, stepsPerEpoch,
                      rate, model.inputShape().size() == 3 ? "img" : "ex",
                      e.trainLoss(), languageMetric(model, e.trainLoss()), acc,
                      last ? "took" : "ETA", clock(last ? elapsed : eta));
  if (options.interactive)
    out << "\r" << line << "\033[K" << (last ? "\n" : "") << std::flush;
  else
    out << line << "\n" << std::flush;
}

void printEpochTimes(std::ostream &out, const TrainOptions &options,
                     const ResolvedModel &model, const EpochRecord &e) {
  // Data time: what the steps waited for batches (the background assembly
  // overlaps the steps), next to the steps' own time.
  if (options.timing)
    out << absl::StrFormat(
        "  time: steps %.3f s, waiting for data %.3f s (%.1f%%), batches "
        "assembled in %.3f s in the background\n",
        e.stepTotal, e.dataWait, 100 * e.dataWait / std::max(e.stepTotal, 1e-9),
        e.dataAssemble);
  if (model.schedule.kind != "constant")
    out << absl::StrFormat("  learning rate: %.4g (%s schedule)\n",
                           e.learningRate, model.schedule.kind);
}

absl::Status MetricsLog::open(const std::string &metricsPath) {
  path = metricsPath;
  if (path.empty())
    return absl::OkStatus();
  file.open(path, std::ios::app);
  if (!file)
    return absl::UnavailableError(
        absl::StrCat(path, ": error: cannot write metrics"));
  return absl::OkStatus();
}

absl::Status MetricsLog::write(const EpochRecord &e, const ResolvedModel &model,
                               int64_t threads) {
  if (!file.is_open())
    return absl::OkStatus();
  std::vector<double> steps = e.stepSeconds;
  double stepMin = 0, stepMedian = 0;
  if (!steps.empty()) {
    std::sort(steps.begin(), steps.end());
    stepMin = steps.front();
    stepMedian = steps[steps.size() / 2];
  }
  const EvalResult &val = e.validation, &test = e.test;
  file << absl::StrFormat(
      "{\"epoch\": %d, \"steps\": %d, \"train_loss\": %.6f, "
      "\"train_accuracy\": %.6f, \"validation_loss\": %.6f, "
      "\"validation_accuracy\": %.6f, \"test_loss\": %.6f, "
      "\"test_accuracy\": %.6f, \"images_per_second\": %.2f, "
      "\"seconds\": %.3f, \"step_ms_min\": %.3f, "
      "\"step_ms_median\": %.3f, \"threads\": %d, "
      "\"learning_rate\": %.9g, \"step_seconds\": %.4f, "
      "\"data_wait_seconds\": %.4f, \"data_assemble_seconds\": %.4f%s%s}\n",
      e.epoch + 1, e.steps, e.trainLoss(), e.trainAccuracy(), val.loss,
      val.accuracy, test.loss, test.accuracy, e.imagesPerSecond, e.seconds,
      1e3 * stepMin, 1e3 * stepMedian, threads, e.learningRate, e.stepTotal,
      e.dataWait, e.dataAssemble,
      model.regression
          ? absl::StrFormat(", \"validation_mae\": %.6f, "
                            "\"validation_rmse\": %.6f, "
                            "\"validation_r2\": %.6f, \"test_mae\": %.6f, "
                            "\"test_rmse\": %.6f, \"test_r2\": %.6f",
                            val.mae, val.rmse, val.r2, test.mae, test.rmse,
                            test.r2)
          : std::string(),
      model.data.has_text()
          ? absl::StrFormat(", \"train_bpc\": %.6f, \"validation_bpc\": "
                            "%.6f, \"test_bpc\": %.6f",
                            e.trainLoss() / std::log(2.0),
                            val.loss / std::log(2.0), test.loss / std::log(2.0))
          : std::string());
  file.flush();
  if (!file)
    return absl::UnavailableError(absl::StrCat(
        path, ": error: cannot write metrics: ", std::strerror(errno)));
  return absl::OkStatus();
}

void reportStep(ReportData &report, const StepResult &result, int64_t rows,
                float rate) {
  report.stepLoss.push_back(result.loss);
  report.stepAccuracy.push_back(double(result.count) /
                                double(std::max<int64_t>(rows, 1)));
  report.stepLr.push_back(rate);
}

absl::Status reportEpoch(const TrainOptions &options, const EpochRecord &e,
                         int64_t stepsPerEpoch) {
  ReportData::Epoch r;
  r.epoch = e.epoch + 1;
  r.trainLoss = e.trainLoss();
  r.trainAccuracy = e.trainAccuracy();
  r.hasValidation = e.hasValidation;
  r.validationLoss = e.validation.loss;
  r.validationAccuracy = e.validation.accuracy;
  r.hasTest = e.hasTest;
  r.testLoss = e.test.loss;
  r.testAccuracy = e.test.accuracy;
  r.validationMae = e.validation.mae;
  r.testMae = e.test.mae;
  r.testRmse = e.test.rmse;
  r.testR2 = e.test.r2;
  r.imagesPerSecond = e.imagesPerSecond;
  r.seconds = e.seconds;
  options.report->stepsPerEpoch = stepsPerEpoch;
  options.report->epochs.push_back(r);
  if (options.reportDir.empty())
    return absl::OkStatus();
  return writeReport(options.reportDir, *options.report);
}

} // namespace gradc
