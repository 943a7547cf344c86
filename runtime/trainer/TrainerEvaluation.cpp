//===- TrainerEvaluation.cpp - a trained model measured on a data set -----===//
//
// Trainer::evaluate runs @eval_step (and @predict for a confusion matrix or
// regression errors) over a data set, each rank on its share of every
// batch, and sums the figures over the ranks; and the ways its result is
// printed: one line, or a confusion matrix with class names.
//
//===----------------------------------------------------------------------===//

#include "runtime/trainer/TrainProgress.h"
#include "runtime/trainer/Trainer.h"

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

#include <algorithm>
#include <cmath>

namespace gradc {

std::vector<std::string> fashionMnistClassNames() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

absl::StatusOr<EvalResult> Trainer::evaluate(const Dataset &data,
                                             bool confusion) {
  EvalResult r;
  // Classes, or target columns (regression).
  int64_t classes = model.outputWidth();
  bool regression = model.regression;
  // Rows of predictions per example: 1, or a language model's tokens,
  // whose classes (a vocabulary) make no matrix to print.
  int64_t per = model.labelsPerExample();
  confusion = confusion && per == 1;
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
  std::vector<float> probs(batch * per * classes);
  double lossSum = 0;
  int64_t correct = 0, counted = 0;
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
    StepResult result;
    if (absl::Status s =
            (*jit)->call("eval_step", evalStepArguments(params, model, batches,
                                                        batch, result));
        !s.ok())
      return s;
    lossSum += double(result.loss) * batches.counted();
    correct += result.count;
    counted += batches.counted();
    examples += n;
    if (!confusion && !regression)
      continue;
    if (absl::Status s =
            (*jit)->call("predict", predictArguments(params, model, batches,
                                                     batch, probs.data()));
        !s.ok())
      return s;
    for (int64_t i = 0; i < n * per; ++i) {
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
      // (Per-token models keep no examples of mistakes: they are images'.)
      if (classes > 1 && per == 1 && best != truth)
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
    std::vector<double> sums{lossSum, double(correct), double(examples),
                             double(counted)};
    for (auto *v : {&absErr, &sqErr, &tSum, &tSq})
      sums.insert(sums.end(), v->begin(), v->end());
    sums.insert(sums.end(), r.confusion.begin(), r.confusion.end());
    options.sumOverRanks(sums.data(), int64_t(sums.size()));
    lossSum = sums[0];
    correct = int64_t(sums[1]);
    examples = int64_t(sums[2]);
    counted = int64_t(sums[3]);
    size_t k = 4;
    for (auto *v : {&absErr, &sqErr, &tSum, &tSq})
      for (double &x : *v)
        x = sums[k++];
    for (int64_t &c : r.confusion)
      c = int64_t(sums[k++]);
  }
  r.examples = examples;
  if (r.examples) {
    double n = double(r.examples);
    // Means over the labels that count (the examples, or their tokens).
    double labels = double(std::max<int64_t>(counted, 1));
    r.loss = lossSum / labels;
    r.accuracy = regression ? 0 : double(correct) / labels;
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
  return absl::StrFormat("loss %.4f%s  accuracy %.2f%%", r.loss,
                         languageMetric(model, r.loss), 100 * r.accuracy);
}

void Trainer::printConfusion(const EvalResult &r) const {
  int64_t classes = model.outputWidth();
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

absl::StatusOr<EvalResult> Trainer::evaluateAndPrint(const Dataset &data,
                                                     const char *label) {
  auto r = evaluate(data, false);
  if (r.ok())
    out << label << describe(*r) << "\n";
  return r;
}

} // namespace gradc
