//===- Trainer.cpp - the training loop over JIT-compiled steps ------------===//
//
// Every call goes through the bufferized ABI of the compiled functions:
// @train_step(params..., state..., step, x, labels, loss_out, count_out)
// updates params and state in place; @eval_step(params..., x, labels,
// loss_out, count_out); @predict(params..., x, probabilities_out).
//
//===----------------------------------------------------------------------===//

#include "runtime/Trainer.h"
#include "runtime/LearningRate.h"
#include "runtime/Monitors.h"
#include "runtime/Stopwatch.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace gradc {

namespace {
using Clock = std::chrono::steady_clock;

std::string clock(double seconds) {
  int64_t s = int64_t(seconds + 0.5);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

std::vector<int64_t> batchShape(int64_t batch, const std::vector<int64_t> &ex) {
  std::vector<int64_t> s{batch};
  s.insert(s.end(), ex.begin(), ex.end());
  return s;
}

BufferRef ref(void *p, std::vector<int64_t> shape) {
  BufferRef r;
  r.data = p;
  r.shape.assign(shape.begin(), shape.end());
  return r;
}
} // namespace

std::vector<std::string> fashionMnistClassNames() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

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

std::vector<BufferRef> entryArguments(ParameterStore &params, bool withState) {
  std::vector<BufferRef> refs;
  for (Buffer &b : params.params)
    refs.push_back(ref(b.data.data(), b.shape));
  for (Buffer &b : params.buffers)
    refs.push_back(ref(b.data.data(), b.shape));
  if (withState)
    for (Buffer &b : params.state)
      refs.push_back(ref(b.data.data(), b.shape));
  return refs;
}

absl::StatusOr<EvalResult> Trainer::evaluate(const Dataset &data,
                                             bool confusion) {
  EvalResult r;
  int64_t classes = model.numClasses();
  bool regression = model.regression;
  if (confusion && !regression)
    r.confusion.assign(classes * classes, 0);
  // Data parallelism: each rank evaluates its share of every batch, and
  // the sums are added up over the ranks.
  int64_t batch = options.batchSize / options.ranks;
  BatchOptions bo{options.batchSize, /*shuffle=*/false, 0, false};
  bo.shards = options.ranks;
  bo.shard = options.rank;
  auto it = BatchIterator::create(data, bo);
  if (!it.ok())
    return it.status();
  std::vector<float> probs(batch * classes);
  double lossSum = 0;
  int64_t correct = 0;
  // Regression: per output column, sums of |e|, e^2, t and t^2 (R^2 per
  // column, averaged as scikit-learn's r2_score does).
  std::vector<double> absErr(classes), sqErr(classes), tSum(classes),
      tSq(classes);
  BatchPipeline batches(*it);
  int64_t examples = 0;
  while (batches.next()) {
    int64_t n = batches.count();
    auto jit = compile(batch);
    if (!jit.ok())
      return jit.status();
    float loss = 0;
    int64_t count = 0;
    std::vector<BufferRef> args = entryArguments(params, false);
    args.push_back(ref(batches.x(), batchShape(batch, model.inputShape)));
    args.push_back(ref(batches.labels(), {batch}));
    if (regression)
      args.push_back(ref(batches.targets(), {batch, classes}));
    args.push_back(ref(&loss, {}));
    args.push_back(ref(&count, {}));
    if (absl::Status s = (*jit)->call("eval_step", args); !s.ok())
      return s;
    lossSum += double(loss) * n;
    correct += count;
    examples += n;
    if (!confusion && !regression)
      continue;
    args.resize(params.params.size() + params.buffers.size() + 1);
    args.push_back(ref(probs.data(), {batch, classes}));
    if (absl::Status s = (*jit)->call("predict", args); !s.ok())
      return s;
    for (int64_t i = 0; i < n; ++i) {
      const float *row = probs.data() + i * classes;
      if (regression) {
        const float *t = batches.targets() + i * classes;
        for (int64_t c = 0; c < classes; ++c) {
          double e = double(row[c]) - double(t[c]);
          absErr[c] += std::abs(e);
          sqErr[c] += e * e;
          tSum[c] += t[c];
          tSq[c] += double(t[c]) * t[c];
        }
        continue;
      }
      int64_t best = classes == 1 ? (row[0] > 0.5f)
                                  : std::max_element(row, row + classes) - row;
      int64_t truth = batches.labels()[i];
      if (truth >= 0 && truth < classes && best < classes)
        r.confusion[truth * classes + best]++;
      if (classes > 1 && best != truth)
        r.mistakes.push_back({examples - n + i, best, row[best]});
    }
  }
  std::stable_sort(
      r.mistakes.begin(), r.mistakes.end(),
      [](const EvalResult::Mistake &a, const EvalResult::Mistake &b) {
        return a.probability > b.probability;
      });
  if (r.mistakes.size() > 16)
    r.mistakes.resize(16);
  if (options.ranks > 1) {
    std::vector<double> sums{lossSum, double(correct), double(examples)};
    for (auto *v : {&absErr, &sqErr, &tSum, &tSq})
      sums.insert(sums.end(), v->begin(), v->end());
    sums.insert(sums.end(), r.confusion.begin(), r.confusion.end());
    options.sumOverRanks(sums.data(), int64_t(sums.size()));
    lossSum = sums[0];
    correct = int64_t(sums[1]);
    examples = int64_t(sums[2]);
    size_t k = 3;
    for (auto *v : {&absErr, &sqErr, &tSum, &tSq})
      for (double &x : *v)
        x = sums[k++];
    for (int64_t &c : r.confusion)
      c = int64_t(sums[k++]);
  }
  r.examples = examples;
  if (r.examples) {
    double n = double(r.examples);
    r.loss = lossSum / n;
    r.accuracy = regression ? 0 : double(correct) / n;
    if (regression) {
      double abs = 0, sq = 0, r2 = 0;
      for (int64_t c = 0; c < classes; ++c) {
        abs += absErr[c];
        sq += sqErr[c];
        double total = tSq[c] - tSum[c] * tSum[c] / n;
        // A constant target: R^2 is 1 for a perfect fit, else 0 (as
        // scikit-learn's r2_score).
        r2 += total > 0 ? 1 - sqErr[c] / total : (sqErr[c] == 0 ? 1 : 0);
      }
      r.mae = abs / (n * classes);
      r.rmse = std::sqrt(sq / (n * classes));
      r.r2 = r2 / classes;
    }
  }
  return r;
}

std::string Trainer::describe(const EvalResult &r) const {
  if (model.regression)
    return absl::StrFormat("loss %.4f  mae %.4f  rmse %.4f  r2 %.4f", r.loss,
                           r.mae, r.rmse, r.r2);
  return absl::StrFormat("loss %.4f  accuracy %.2f%%", r.loss,
                         100 * r.accuracy);
}

void Trainer::printConfusion(const EvalResult &r) const {
  int64_t classes = model.numClasses();
  if (classes < 2 || r.confusion.empty())
    return;
  std::vector<std::string> names = options.classNames;
  if (int64_t(names.size()) != classes) {
    names.clear();
    for (int64_t c = 0; c < classes; ++c)
      names.push_back(std::to_string(c));
  }
  size_t width = 5;
  for (auto &n : names)
    width = std::max(width, n.size());
  out << "Confusion matrix (rows: true class, columns: predicted)\n";
  out << std::string(width + 2, ' ');
  for (int64_t c = 0; c < classes; ++c)
    out << absl::StrFormat("%6d", c);
  out << "   recall\n";
  for (int64_t t = 0; t < classes; ++t) {
    int64_t rowTotal = 0;
    for (int64_t p = 0; p < classes; ++p)
      rowTotal += r.confusion[t * classes + p];
    out << absl::StrFormat("%*s %d", int(width), names[t], int(t));
    for (int64_t p = 0; p < classes; ++p)
      out << absl::StrFormat("%6d", r.confusion[t * classes + p]);
    double recall =
        rowTotal ? double(r.confusion[t * classes + t]) / rowTotal : 0;
    out << absl::StrFormat("   %5.1f%%\n", 100 * recall);
  }
}

absl::Status Trainer::train(const DataSplits &data) {
  int64_t batch = options.batchSize;
  // Data parallelism: this rank's share of every global batch.
  int64_t local = batch / options.ranks;
  BatchOptions bo{batch, options.shuffle, options.seed, options.dropLast,
                  options.augment};
  bo.shards = options.ranks;
  bo.shard = options.rank;
  auto itOr = BatchIterator::create(data.train, bo);
  if (!itOr.ok())
    return itOr.status();
  BatchIterator &it = *itOr;
  int64_t stepsPerEpoch = it.stepsPerEpoch();
  if (stepsPerEpoch == 0)
    return absl::InvalidArgumentError(
        absl::StrCat("error: the training set has ", data.train.size(),
                     " examples, fewer than one batch of ", batch));
  std::ofstream metrics;
  if (!options.metricsPath.empty()) {
    metrics.open(options.metricsPath, std::ios::app);
    if (!metrics)
      return absl::UnavailableError(
          absl::StrCat(options.metricsPath, ": error: cannot write metrics"));
  }
  bool plateau = model.schedule.kind == "plateau";
  const EarlyStoppingSpec &stopping = model.earlyStopping;
  bool trackBest = stopping.enabled || !options.bestCheckpointPath.empty();
  if ((plateau || trackBest) && data.validation.size() == 0)
    return absl::InvalidArgumentError(
        "error: reduce_on_plateau, early_stopping and --checkpoint-best need "
        "validation data (validation_split > 0)");
  // The weights of the best epoch, for early stopping's restore.
  std::vector<Buffer> bestParams, bestBuffers;
  int64_t totalSteps = 0;
  float lastLr = float(model.optimizer.learningRate);
  for (int64_t epoch = params.epoch; epoch < options.epochs; ++epoch) {
    // A checkpoint taken mid-epoch (--max-steps) resumes at its next batch:
    // an epoch's order depends on the seed and the epoch alone, the rate and
    // dropout on the step, so the run is bit-identical to one that never
    // stopped.
    int64_t stepInEpoch = 0;
    if (epoch == params.epoch) {
      int64_t into = params.step - epoch * stepsPerEpoch;
      if (into > 0 && into < stepsPerEpoch)
        stepInEpoch = into;
    }
    if (absl::Status s = it.seek(epoch, stepInEpoch); !s.ok())
      return s;
    auto start = Clock::now();
    double lossSum = 0;
    int64_t correct = 0, seen = 0;
    double lastPrint = -1;
    bool stop = false;
    // Times of the full-batch steps alone: their minimum and median are
    // robust to the machine's noise, unlike images per second.
    std::vector<double> stepSeconds;
    double stepTotal = 0;
    // Batches are assembled on a second thread while the step runs; a
    // partial last batch runs padded: one module serves every batch.
    BatchPipeline batches(it);
    while (batches.next()) {
      int64_t n = batches.count();
      auto jit = compile(local);
      if (!jit.ok())
        return jit.status();
      float loss = 0;
      int64_t count = 0;
      int64_t step = params.step;
      float lr = float(plateau && params.monitors.plateauLr > 0
                           ? params.monitors.plateauLr
                           : learningRateAt(model.schedule,
                                            model.optimizer.learningRate, step,
                                            stepsPerEpoch, options.epochs));
      lastLr = lr;
      std::vector<BufferRef> args = entryArguments(params, true);
      args.push_back(ref(&step, {}));
      args.push_back(ref(&lr, {}));
      args.push_back(ref(batches.x(), batchShape(local, model.inputShape)));
      args.push_back(ref(batches.labels(), {local}));
      if (model.regression)
        args.push_back(ref(batches.targets(), {local, model.numClasses()}));
      args.push_back(ref(&loss, {}));
      args.push_back(ref(&count, {}));
      auto stepStart = Clock::now();
      if (absl::Status s = (*jit)->call("train_step", args); !s.ok())
        return s;
      double stepTime = secondsSince(stepStart);
      stepTotal += stepTime;
      if (n == local)
        stepSeconds.push_back(stepTime);
      if (options.timing && totalSteps == 0)
        std::cerr << absl::StrFormat(
            "first training step done %.2f s after the process started\n",
            secondsSinceProcessStart());
      if (!std::isfinite(loss)) {
        // Only point at a checkpoint that exists: none is written before
        // the first epoch ends.
        bool kept = !options.checkpointPath.empty() &&
                    std::ifstream(options.checkpointPath).good();
        return absl::InternalError(absl::StrCat(
            "error: loss is ", loss, " at step ", params.step + 1, " (epoch ",
            epoch + 1, ", batch ", stepInEpoch + 1, "); training stopped",
            kept ? absl::StrCat(", the last good checkpoint is kept in ",
                                options.checkpointPath)
                 : std::string(", no checkpoint was written")));
      }
      if (options.report) {
        options.report->stepLoss.push_back(loss);
        options.report->stepAccuracy.push_back(double(count) /
                                               double(std::max<int64_t>(n, 1)));
        options.report->stepLr.push_back(lr);
      }
      params.step++;
      stepInEpoch++;
      totalSteps++;
      lossSum += double(loss) * n;
      correct += count;
      seen += n;
      double elapsed = secondsSince(start);
      bool last = stepInEpoch == stepsPerEpoch;
      if (options.maxSteps >= 0 && totalSteps >= options.maxSteps)
        stop = last = true;
      bool due = options.interactive ? elapsed - lastPrint >= 0.2
                                     : elapsed - lastPrint >= 10.0;
      if (due || last) {
        lastPrint = elapsed;
        // The throughput of all ranks; loss and accuracy of this rank's
        // share until the epoch's sums below.
        double rate = double(seen * options.ranks) / std::max(elapsed, 1e-9);
        double eta = (stepsPerEpoch - stepInEpoch) * elapsed / stepInEpoch;
        int width = 30, filled = int(width * stepInEpoch / stepsPerEpoch);
        std::string bar = std::string(filled, '=') +
                          (filled < width ? ">" : "") +
                          std::string(std::max(0, width - filled - 1), ' ');
        std::string acc =
            model.regression
                ? std::string()
                : absl::StrFormat("  acc %.2f%%", 100.0 * correct / seen);
        std::string line = absl::StrFormat(
            "epoch %d/%d [%s] %d/%d  %.0f %s/s  loss %.4f%s  %s %s", epoch + 1,
            options.epochs, bar, stepInEpoch, stepsPerEpoch, rate,
            model.inputShape.size() == 3 ? "img" : "ex", lossSum / seen, acc,
            last ? "took" : "ETA", clock(last ? elapsed : eta));
        if (options.interactive)
          out << "\r" << line << "\033[K" << (last ? "\n" : "") << std::flush;
        else
          out << line << "\n" << std::flush;
      }
      if (stop)
        break;
    }
    if (options.ranks > 1) {
      // The epoch's figures over every rank's share; and every rank must
      // hold the same weights (the averaged gradients make them so).
      double sums[3] = {lossSum, double(correct), double(seen)};
      options.sumOverRanks(sums, 3);
      lossSum = sums[0];
      correct = int64_t(sums[1]);
      seen = int64_t(sums[2]);
      uint64_t hash = params.hash();
      if (!options.sameOnAllRanks(hash))
        return absl::InternalError(absl::StrCat(
            "error: the ranks' weights differ after epoch ", epoch + 1));
      if (options.timing)
        out << absl::StrFormat("  weights identical on all %d ranks (hash "
                               "%016x)\n",
                               options.ranks, hash);
    }
    double seconds = secondsSince(start);
    double ips = seen / std::max(seconds, 1e-9);
    // Data time: what the steps waited for batches (the background
    // assembly overlaps the steps), next to the steps' own time.
    double dataWait = batches.waitSeconds();
    if (options.timing)
      out << absl::StrFormat(
          "  time: steps %.3f s, waiting for data %.3f s (%.1f%%), batches "
          "assembled in %.3f s in the background\n",
          stepTotal, dataWait, 100 * dataWait / std::max(stepTotal, 1e-9),
          batches.assembleSeconds());
    if (model.schedule.kind != "constant")
      out << absl::StrFormat("  learning rate: %.4g (%s schedule)\n", lastLr,
                             model.schedule.kind);
    EvalResult val, test;
    if (data.validation.size()) {
      auto r = evaluate(data.validation, false);
      if (!r.ok())
        return r.status();
      val = *r;
      out << "  validation: " << describe(val) << "\n";
    }
    if (data.test.size()) {
      auto r = evaluate(data.test, false);
      if (!r.ok())
        return r.status();
      test = *r;
      out << "  test:       " << describe(test) << "\n";
    }
    bool completed = !stop || stepInEpoch == stepsPerEpoch;
    if (completed)
      params.epoch = epoch + 1;
    bool earlyStop = false;
    if (completed && (plateau || trackBest)) {
      if (plateau) {
        double metric =
            model.schedule.monitorAccuracy ? val.accuracy : val.loss;
        double next =
            reduceOnPlateau(model.schedule, model.optimizer.learningRate,
                            params.monitors, metric);
        if (next < lastLr)
          out << absl::StrFormat(
              "  reduce on plateau: learning rate %.4g -> %.4g\n", lastLr,
              next);
      }
      if (trackBest) {
        double metric = stopping.monitorAccuracy ? val.accuracy : val.loss;
        StopDecision d =
            earlyStopping(stopping, params.monitors, epoch + 1, metric);
        if (d == StopDecision::Improved) {
          if (!options.bestCheckpointPath.empty())
            if (absl::Status s =
                    params.save(options.bestCheckpointPath, model, options.seed,
                                options.threads, batch);
                !s.ok())
              return s;
          if (stopping.restoreBestWeights) {
            bestParams = params.params;
            bestBuffers = params.buffers;
          }
        } else if (d == StopDecision::Stop && stopping.enabled) {
          earlyStop = true;
          out << absl::StrFormat(
              "  early stopping: validation %s has not improved for %d "
              "epoch(s); best %.4f at epoch %d\n",
              stopping.monitorAccuracy ? "accuracy" : "loss",
              params.monitors.stopWait, params.monitors.stopBest,
              params.monitors.stopBestEpoch);
        }
      }
    }
    double stepMin = 0, stepMedian = 0;
    if (!stepSeconds.empty()) {
      std::sort(stepSeconds.begin(), stepSeconds.end());
      stepMin = stepSeconds.front();
      stepMedian = stepSeconds[stepSeconds.size() / 2];
    }
    if (metrics.is_open()) {
      metrics << absl::StrFormat(
          "{\"epoch\": %d, \"steps\": %d, \"train_loss\": %.6f, "
          "\"train_accuracy\": %.6f, \"validation_loss\": %.6f, "
          "\"validation_accuracy\": %.6f, \"test_loss\": %.6f, "
          "\"test_accuracy\": %.6f, \"images_per_second\": %.2f, "
          "\"seconds\": %.3f, \"step_ms_min\": %.3f, "
          "\"step_ms_median\": %.3f, \"threads\": %d, "
          "\"learning_rate\": %.9g, \"step_seconds\": %.4f, "
          "\"data_wait_seconds\": %.4f, \"data_assemble_seconds\": %.4f%s}\n",
          epoch + 1, stepInEpoch, lossSum / std::max<int64_t>(seen, 1),
          double(correct) / std::max<int64_t>(seen, 1), val.loss, val.accuracy,
          test.loss, test.accuracy, ips, seconds, 1e3 * stepMin,
          1e3 * stepMedian, options.threads, lastLr, stepTotal, dataWait,
          batches.assembleSeconds(),
          model.regression
              ? absl::StrFormat(", \"validation_mae\": %.6f, "
                                "\"validation_rmse\": %.6f, "
                                "\"validation_r2\": %.6f, \"test_mae\": %.6f, "
                                "\"test_rmse\": %.6f, \"test_r2\": %.6f",
                                val.mae, val.rmse, val.r2, test.mae, test.rmse,
                                test.r2)
              : std::string());
      metrics.flush();
      if (!metrics)
        return absl::UnavailableError(absl::StrCat(
            options.metricsPath,
            ": error: cannot write metrics: ", std::strerror(errno)));
    }
    // A finite loss can still leave non-finite weights (the update after
    // it overflowed): such weights are never saved.
    if (std::string bad = params.firstNonFinite(); !bad.empty()) {
      bool kept = !options.checkpointPath.empty() &&
                  std::ifstream(options.checkpointPath).good();
      return absl::InternalError(absl::StrCat(
          "error: '", bad, "' holds non-finite values after epoch ", epoch + 1,
          " (step ", params.step, "); training stopped",
          kept ? absl::StrCat(", the last finite checkpoint is kept in ",
                              options.checkpointPath)
               : std::string(", no checkpoint was written")));
    }
    if (!options.checkpointPath.empty()) {
      if (absl::Status s = params.save(options.checkpointPath, model,
                                       options.seed, options.threads, batch);
          !s.ok())
        return s;
    }
    if (options.report) {
      ReportData::Epoch e;
      e.epoch = epoch + 1;
      e.trainLoss = lossSum / std::max<int64_t>(seen, 1);
      e.trainAccuracy = double(correct) / std::max<int64_t>(seen, 1);
      e.hasValidation = data.validation.size() > 0;
      e.validationLoss = val.loss;
      e.validationAccuracy = val.accuracy;
      e.hasTest = data.test.size() > 0;
      e.testLoss = test.loss;
      e.testAccuracy = test.accuracy;
      e.validationMae = val.mae;
      e.testMae = test.mae;
      e.testRmse = test.rmse;
      e.testR2 = test.r2;
      e.imagesPerSecond = ips;
      e.seconds = seconds;
      options.report->stepsPerEpoch = stepsPerEpoch;
      options.report->epochs.push_back(e);
      if (!options.reportDir.empty())
        if (absl::Status s = writeReport(options.reportDir, *options.report);
            !s.ok())
          return s;
    }
    if (stop || earlyStop)
      break;
  }
  if (stopping.restoreBestWeights && !bestParams.empty() &&
      params.monitors.stopBestEpoch != params.epoch) {
    params.params = std::move(bestParams);
    params.buffers = std::move(bestBuffers);
    out << absl::StrFormat("restored the weights of epoch %d (validation %s "
                           "%.4f)\n",
                           params.monitors.stopBestEpoch,
                           stopping.monitorAccuracy ? "accuracy" : "loss",
                           params.monitors.stopBest);
    if (data.test.size()) {
      auto r = evaluate(data.test, false);
      if (!r.ok())
        return r.status();
      out << "  test:       " << describe(*r) << "\n";
    }
    if (!options.checkpointPath.empty())
      if (absl::Status s = params.save(options.checkpointPath, model,
                                       options.seed, options.threads, batch);
          !s.ok())
        return s;
  }
  return absl::OkStatus();
}

} // namespace gradc
