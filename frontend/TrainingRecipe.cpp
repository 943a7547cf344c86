//===- TrainingRecipe.cpp - check and resolve the training recipe ---------===//
//
// The half of checkModel after the graph: the loss (and whether it fits the
// output layer), the optimizer, the training settings, the learning-rate
// schedule, early stopping and the data block, each with its defaults
// resolved into the ResolvedModel and every problem reported, one line each.
//
//===----------------------------------------------------------------------===//

#include "frontend/TrainingRecipe.h"
#include "frontend/LayerDef.h"
#include "frontend/ModelChecker.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cmath>

namespace gradc {
namespace {

class RecipeChecker {
public:
  RecipeChecker(const ModelFile &file, ResolvedModel &r,
                std::vector<std::string> &errors)
      : file(file), m(file.model), r(r), errors(errors) {}

  void checkLoss();
  void checkOptimizer();
  void checkTraining();

private:
  void error(SourceLoc loc, const std::string &msg) {
    errors.push_back(file.error(loc, msg));
  }

  void checkSchedule(const LearningRateSchedule &ls);
  void checkEarlyStopping(const Training &t);
  void checkData(const Data &d);

  const ModelFile &file;
  const Model &m;
  ResolvedModel &r;
  std::vector<std::string> &errors;
};

void RecipeChecker::checkLoss() {
  if (!m.has_loss() || m.loss().kind_case() == Loss::KIND_NOT_SET) {
    error(file.modelLoc, "expects a loss { ... }");
    return;
  }
  const Loss &loss = m.loss();
  switch (loss.kind_case()) {
  case Loss::kCategoricalCrossentropy:
    r.lossKind = "cross_entropy";
    break;
  case Loss::kSparseCategoricalCrossentropy:
    r.lossKind = "cross_entropy";
    if (loss.sparse_categorical_crossentropy().has_ignore_index())
      r.ignoreIndex = loss.sparse_categorical_crossentropy().ignore_index();
    break;
  case Loss::kBinaryCrossentropy:
    r.lossKind = "binary_cross_entropy";
    break;
  case Loss::kMse:
    r.lossKind = "mse";
    break;
  case Loss::kMae:
    r.lossKind = "mae";
    break;
  case Loss::kHuber:
    r.lossKind = "huber";
    r.huberDelta =
        loss.huber().has_delta() ? fromFloat(loss.huber().delta()) : 1.0;
    if (!(r.huberDelta > 0))
      error(file.lossLoc,
            absl::StrCat("huber delta must be positive, got ", r.huberDelta));
    break;
  case Loss::kHinge:
    r.lossKind = "hinge";
    break;
  case Loss::kSquaredHinge:
    r.lossKind = "squared_hinge";
    break;
  case Loss::kCategoricalHinge:
    r.lossKind = "categorical_hinge";
    break;
  case Loss::KIND_NOT_SET:
    break;
  }
  if (r.layers.empty())
    return;
  const ResolvedLayer &out = r.layers.back();
  std::string where = absl::StrCat("loss ", r.lossKind, " on output layer '",
                                   out.layer->name(), "'");
  // A classifier of more dimensions, [N, T..., classes], has a label per
  // position (per-token labels).
  bool perPosition = loss.has_sparse_categorical_crossentropy() &&
                     !loss.regression() && out.shape.size() > 1;
  if (out.shape.size() != 1 && !perPosition) {
    error(file.lossLoc,
          absl::StrCat(where, " expects a 2-D output [N, classes], got [N, ",
                       absl::StrJoin(out.shape, ", "),
                       "]; add a flatten or global pooling layer before it",
                       r.lossKind == "cross_entropy"
                           ? " (sparse_categorical_crossentropy takes a "
                             "label per position of [N, T..., classes])"
                           : ""));
    return;
  }
  int64_t classes = out.shape.back();
  bool isCE = r.lossKind == "cross_entropy";
  if ((isCE || r.lossKind == "categorical_hinge") && classes < 2)
    error(file.lossLoc,
          absl::StrCat(where, " expects at least 2 classes, got ", classes));
  r.regression = loss.regression();
  if (r.regression &&
      (r.lossKind != "mse" && r.lossKind != "mae" && r.lossKind != "huber"))
    error(file.lossLoc,
          absl::StrCat(where, ": regression takes mse, mae or huber"));
  if (r.regression && (out.activation == SOFTMAX || out.activation == SIGMOID ||
                       out.activation == LOG_SOFTMAX))
    error(file.lossLoc,
          absl::StrCat(where, ": regression fits numbers; end the output layer "
                              "without softmax or sigmoid (a linear output)"));
  if (isCE && out.activation != SOFTMAX)
    error(file.lossLoc,
          absl::StrCat(where,
                       " expects probabilities: end the output layer with "
                       "activation: SOFTMAX"));
  if (r.lossKind == "binary_cross_entropy" && out.activation != SIGMOID &&
      out.activation != SOFTMAX)
    error(file.lossLoc,
          absl::StrCat(where, " expects probabilities: end the output layer "
                              "with activation: SIGMOID or SOFTMAX"));
}

void RecipeChecker::checkOptimizer() {
  OptimizerSpec &o = r.optimizer;
  const Optimizer &opt = m.optimizer();
  // An explicit value, zero included, is kept; only an absent one defaults.
#define GRADC_OR_DEFAULT(msg, field, d)                                        \
  ((msg).has_##field() ? fromFloat((msg).field()) : (d))
  switch (opt.kind_case()) {
  case Optimizer::kSgd:
    o.kind = "sgd";
    o.learningRate = GRADC_OR_DEFAULT(opt.sgd(), learning_rate, 0.01);
    o.weightDecay = fromFloat(opt.sgd().weight_decay());
    break;
  case Optimizer::kMomentum:
    o.kind = "momentum";
    o.learningRate = GRADC_OR_DEFAULT(opt.momentum(), learning_rate, 0.01);
    o.momentum = GRADC_OR_DEFAULT(opt.momentum(), momentum, 0.9);
    o.nesterov = opt.momentum().nesterov();
    o.weightDecay = fromFloat(opt.momentum().weight_decay());
    break;
  case Optimizer::kRmsprop:
    o.kind = "rmsprop";
    o.learningRate = GRADC_OR_DEFAULT(opt.rmsprop(), learning_rate, 0.001);
    o.rho = GRADC_OR_DEFAULT(opt.rmsprop(), rho, 0.9);
    o.epsilon = GRADC_OR_DEFAULT(opt.rmsprop(), epsilon, 1e-7);
    o.weightDecay = fromFloat(opt.rmsprop().weight_decay());
    break;
  case Optimizer::kAdam:
  case Optimizer::KIND_NOT_SET: // Keras's default optimizer
    o.kind = "adam";
    o.learningRate = GRADC_OR_DEFAULT(opt.adam(), learning_rate, 0.001);
    o.beta1 = GRADC_OR_DEFAULT(opt.adam(), beta_1, 0.9);
    o.beta2 = GRADC_OR_DEFAULT(opt.adam(), beta_2, 0.999);
    o.epsilon = GRADC_OR_DEFAULT(opt.adam(), epsilon, 1e-7);
    o.weightDecay = fromFloat(opt.adam().weight_decay());
    break;
  }
#undef GRADC_OR_DEFAULT
  auto check = [&](bool ok, const std::string &msg) {
    if (!ok)
      error(file.optimizerLoc, absl::StrCat("optimizer ", o.kind, ": ", msg));
  };
  check(o.learningRate > 0 && std::isfinite(o.learningRate),
        absl::StrCat("learning_rate must be positive, got ", o.learningRate));
  check(o.weightDecay >= 0 && std::isfinite(o.weightDecay),
        absl::StrCat("weight_decay must be >= 0, got ", o.weightDecay));
  check(o.momentum >= 0 && o.momentum < 1,
        absl::StrCat("momentum must be in [0, 1), got ", o.momentum));
  check(o.rho > 0 && o.rho < 1,
        absl::StrCat("rho must be in (0, 1), got ", o.rho));
  check(o.beta1 >= 0 && o.beta1 < 1,
        absl::StrCat("beta_1 must be in [0, 1), got ", o.beta1));
  check(o.beta2 >= 0 && o.beta2 < 1,
        absl::StrCat("beta_2 must be in [0, 1), got ", o.beta2));
  check(o.epsilon > 0 && std::isfinite(o.epsilon),
        absl::StrCat("epsilon must be positive, got ", o.epsilon));
}

void RecipeChecker::checkTraining() {
  const Training &t = m.training();
  r.batchSize = t.has_batch_size() ? t.batch_size() : 32;
  r.epochs = t.has_epochs() ? t.epochs() : 1;
  r.seed = t.seed();
  r.shuffle = !t.has_shuffle() || t.shuffle();
  r.dropLast = t.drop_last();
  r.validationSplit = fromFloat(t.validation_split());
  if (r.batchSize < 1 || r.batchSize > kMaxBatch)
    error(file.trainingLoc, absl::StrCat("batch_size must be in [1, ",
                                         kMaxBatch, "], got ", r.batchSize));
  if (r.epochs < 1 || r.epochs > 1000000)
    error(file.trainingLoc,
          absl::StrCat("epochs must be in [1, 1000000], got ", r.epochs));
  if (!(r.validationSplit >= 0 && r.validationSplit < 1))
    error(file.trainingLoc,
          absl::StrCat("validation_split must be in [0, 1), got ",
                       r.validationSplit));
  checkData(m.data());
  checkSchedule(t.lr_schedule());
  checkEarlyStopping(t);
}

void RecipeChecker::checkData(const Data &d) {
  r.data = d;
  auto check = [&](bool ok, const std::string &msg) {
    if (!ok)
      error(file.dataLoc, absl::StrCat("data: ", msg));
  };
  double testSplit = fromFloat(d.test_split());
  check(testSplit >= 0 && testSplit < 1,
        absl::StrCat("test_split must be in [0, 1), got ", testSplit));
  const Data::Augment &a = d.augment();
  bool image = r.inputShape().size() == 3;
  check(!(a.horizontal_flip() || a.crop_padding()) || image,
        "augment needs an image input [H, W, C]");
  check(!(a.horizontal_flip() || a.crop_padding()) || r.labelsPerExample() == 1,
        "augment moves an image, not its labels per position: a model "
        "with a label per position of its output takes no augment");
  if (image)
    check(a.crop_padding() >= 0 &&
              a.crop_padding() <=
                  std::min(r.inputShape()[0], r.inputShape()[1]),
          absl::StrCat("augment crop_padding must be in [0, ",
                       std::min(r.inputShape()[0], r.inputShape()[1]),
                       "], got ", a.crop_padding()));
  if (d.has_csv())
    check(!d.csv().target().empty(),
          "csv needs target: the column(s) to predict");
  if (d.has_csv() && !r.regression)
    check(d.csv().target_size() <= 1,
          "csv: class labels come from one target column (several are "
          "regression targets: loss { regression: true })");
  if (d.has_text()) {
    const std::vector<int64_t> &in = r.inputShape();
    check(in.size() == 1 && r.firstInput().integer(),
          "text needs an input of token ids: input { shape: [CONTEXT] "
          "dtype: INT64 }");
    check(d.text().context() == 0 ||
              (in.size() == 1 && d.text().context() == in[0]),
          absl::StrCat("text context ", d.text().context(),
                       " differs from the input's length ",
                       in.empty() ? 0 : in[0]));
    check(r.lossKind.empty() ||
              (!r.regression && r.lossKind == "cross_entropy"),
          "text trains a classifier of the next token: loss { "
          "sparse_categorical_crossentropy {} }");
  }
  if (d.has_numpy())
    check(d.numpy().file().empty() !=
              (d.numpy().x().empty() && d.numpy().y().empty()),
          "numpy needs either file (.npz) or x and y (.npy)");
}

void RecipeChecker::checkSchedule(const LearningRateSchedule &ls) {
  ScheduleSpec &s = r.schedule;
  auto check = [&](bool ok, const std::string &msg) {
    if (!ok)
      error(file.trainingLoc, absl::StrCat("lr_schedule ", s.kind, ": ", msg));
  };
  switch (ls.kind_case()) {
  case LearningRateSchedule::kStepDecay:
    s.kind = "step";
    s.stepEpochs = ls.step_decay().step_epochs();
    s.gamma =
        ls.step_decay().has_gamma() ? fromFloat(ls.step_decay().gamma()) : 0.1;
    check(s.stepEpochs >= 1,
          absl::StrCat("step_epochs must be >= 1, got ", s.stepEpochs));
    check(s.gamma > 0 && s.gamma <= 1,
          absl::StrCat("gamma must be in (0, 1], got ", s.gamma));
    break;
  case LearningRateSchedule::kExponentialDecay:
    s.kind = "exponential";
    s.gamma = fromFloat(ls.exponential_decay().gamma());
    check(s.gamma > 0 && s.gamma <= 1,
          absl::StrCat("gamma must be in (0, 1], got ", s.gamma));
    break;
  case LearningRateSchedule::kCosineDecay:
    s.kind = "cosine";
    s.warmupEpochs = fromFloat(ls.cosine_decay().warmup_epochs());
    s.alpha = fromFloat(ls.cosine_decay().alpha());
    check(s.warmupEpochs >= 0 && s.warmupEpochs < r.epochs,
          absl::StrCat("warmup_epochs must be in [0, epochs = ", r.epochs,
                       "), got ", s.warmupEpochs));
    check(s.alpha >= 0 && s.alpha <= 1,
          absl::StrCat("alpha must be in [0, 1], got ", s.alpha));
    break;
  case LearningRateSchedule::kReduceOnPlateau: {
    const auto &p = ls.reduce_on_plateau();
    s.kind = "plateau";
    s.monitorAccuracy = p.monitor() == VAL_ACCURACY;
    check(!(s.monitorAccuracy && r.regression),
          "a regression model has no accuracy to monitor (VAL_LOSS)");
    s.factor = p.has_factor() ? fromFloat(p.factor()) : 0.1;
    s.patience = p.has_patience() ? p.patience() : 10;
    s.minDelta = p.has_min_delta() ? fromFloat(p.min_delta()) : 1e-4;
    s.cooldown = p.cooldown();
    s.minLr = fromFloat(p.min_lr());
    check(s.factor > 0 && s.factor < 1,
          absl::StrCat("factor must be in (0, 1), got ", s.factor));
    check(s.patience >= 0 && s.patience <= 1000000,
          absl::StrCat("patience must be in [0, 1000000], got ", s.patience));
    check(s.cooldown >= 0 && s.cooldown <= 1000000,
          absl::StrCat("cooldown must be in [0, 1000000], got ", s.cooldown));
    check(s.minDelta >= 0 && std::isfinite(s.minDelta),
          absl::StrCat("min_delta must be >= 0, got ", s.minDelta));
    check(s.minLr >= 0 && std::isfinite(s.minLr),
          absl::StrCat("min_lr must be >= 0, got ", s.minLr));
    check(r.validationSplit > 0,
          "needs validation data to monitor (validation_split > 0)");
    break;
  }
  case LearningRateSchedule::KIND_NOT_SET:
    break;
  }
}

void RecipeChecker::checkEarlyStopping(const Training &t) {
  if (!t.has_early_stopping())
    return;
  const EarlyStopping &es = t.early_stopping();
  EarlyStoppingSpec &s = r.earlyStopping;
  s.enabled = true;
  s.monitorAccuracy = es.monitor() == VAL_ACCURACY;
  if (s.monitorAccuracy && r.regression)
    error(file.trainingLoc, "early_stopping: a regression model has no "
                            "accuracy to monitor (VAL_LOSS)");
  s.minDelta = fromFloat(es.min_delta());
  s.patience = es.patience();
  s.restoreBestWeights = es.restore_best_weights();
  auto check = [&](bool ok, const std::string &msg) {
    if (!ok)
      error(file.trainingLoc, absl::StrCat("early_stopping: ", msg));
  };
  check(s.minDelta >= 0 && std::isfinite(s.minDelta),
        absl::StrCat("min_delta must be >= 0, got ", s.minDelta));
  check(s.patience >= 0 && s.patience <= 1000000,
        absl::StrCat("patience must be in [0, 1000000], got ", s.patience));
  check(r.validationSplit > 0,
        "needs validation data to monitor (validation_split > 0)");
}

} // namespace

void checkTrainingRecipe(const ModelFile &file, bool forTraining,
                         ResolvedModel &r, std::vector<std::string> &errors) {
  RecipeChecker checker(file, r, errors);
  if (forTraining)
    checker.checkLoss();
  checker.checkOptimizer();
  checker.checkTraining();
}

} // namespace gradc
