//===- TrainingRecipe.h - loss, optimizer, schedule, training ---*- C++ -*-===//
//
// How a model is trained, as checkModel resolves it from the model file:
// the optimizer, the learning-rate schedule and early stopping with their
// defaults (model.proto), and the check that fills them, the loss and the
// training and data settings of a ResolvedModel (frontend/ModelChecker.h).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_TRAININGRECIPE_H
#define GRADC_FRONTEND_TRAININGRECIPE_H

#include <cstdint>
#include <string>
#include <vector>

namespace gradc {

struct ModelFile;
struct ResolvedModel;

/// The optimizer with its defaults resolved (model.proto).
struct OptimizerSpec {
  std::string kind = "adam"; // sgd, momentum, rmsprop, adam
  double learningRate = 0.001, momentum = 0.9, rho = 0.9, beta1 = 0.9,
         beta2 = 0.999, epsilon = 1e-7, weightDecay = 0.0;
  bool nesterov = false;
};

/// The learning-rate schedule with its defaults resolved (model.proto).
struct ScheduleSpec {
  std::string kind = "constant"; // step, exponential, cosine, plateau
  int64_t stepEpochs = 1;
  double gamma = 0.1, warmupEpochs = 0.0, alpha = 0.0;
  // plateau (PyTorch's ReduceLROnPlateau)
  bool monitorAccuracy = false;
  double factor = 0.1, minDelta = 1e-4, minLr = 0.0;
  int64_t patience = 10, cooldown = 0;
};

/// Keras's EarlyStopping, when `enabled`.
struct EarlyStoppingSpec {
  bool enabled = false;
  bool monitorAccuracy = false;
  double minDelta = 0.0;
  int64_t patience = 0;
  bool restoreBestWeights = false;
};

/// Resolves the training recipe of `file` into `r`, whose input and layers
/// are already resolved (the loss is checked against the output layer):
/// the loss (only `forTraining`), the optimizer, the training settings,
/// the schedule, early stopping and the data block. Appends one
/// "file:line:col: error: ..." line per problem to `errors`.
void checkTrainingRecipe(const ModelFile &file, bool forTraining,
                         ResolvedModel &r, std::vector<std::string> &errors);

} // namespace gradc

#endif // GRADC_FRONTEND_TRAININGRECIPE_H
