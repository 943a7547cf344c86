//===- ModelChecker.h - validate a model and resolve its shapes -*- C++ -*-===//
//
// Checks a whole model file and reports every problem at once, one line
// each. A model that passes comes back resolved: layers in topological order
// with their output shapes, windows, parameters and the training recipe
// (frontend/TrainingRecipe.h).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_MODELCHECKER_H
#define GRADC_FRONTEND_MODELCHECKER_H

#include "frontend/ModelLoader.h"
#include "frontend/TrainingRecipe.h"
#include "ir/ShapeRules.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gradc {

/// A trainable parameter: `layer.kernel`, `layer.bias`, `layer.alpha`.
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  Initializer init; // kind unset: the parameter's default
  int64_t fanIn = 1, fanOut = 1;
  float constant = 0.0f; // value for a constant initializer (PReLU alpha)
  /// Starting values given by the model file (ONNX initializers), which
  /// replace the initializer; owned by the ModelFile.
  const std::vector<float> *values = nullptr;
};

struct ResolvedLayer {
  const Layer *layer = nullptr;
  int fileIndex = 0;
  Layer::KindCase kind = Layer::KIND_NOT_SET;
  /// Producers: an index into `layers`, or -1 - k for the model's input k.
  std::vector<int> inputs;
  /// Output shape per example (no batch dimension).
  std::vector<int64_t> shape;
  Window2D window; // conv and pooling
  /// Forward floating-point operations per example (a multiply-add is 2):
  /// set by the layer's check where it computes more than one per output
  /// element, else the output's element count.
  double flops = -1;
  /// Machine code the layer adds to the compiled module at least (its
  /// forward, gradient and update code in @train_step, @eval_step and
  /// @predict; frontend/ModelBudget.h): set by the layer's check from sizes
  /// measured on this compiler. Elementwise layers, fused into their
  /// neighbours' loops, add next to nothing and keep 0.
  int64_t codeBytes = 0;
  Activation activation = LINEAR;
  double alpha = 0.0; // leaky ReLU slope, PReLU's initial alpha, ELU's alpha,
                      // the hard sigmoid's slope
  /// The layer's other settings with their defaults resolved, by field name
  /// ("rate", "groups", "epsilon", ...).
  std::map<std::string, double> attrs;
  /// Indices into ResolvedModel::params and ::buffers by role ("kernel",
  /// "bias", "gamma", "moving_mean", ...).
  std::map<std::string, int> params, buffers;

  double attr(const std::string &name) const { return attrs.at(name); }
  int param(const std::string &role) const {
    auto it = params.find(role);
    return it == params.end() ? -1 : it->second;
  }
  int buffer(const std::string &role) const {
    auto it = buffers.find(role);
    return it == buffers.end() ? -1 : it->second;
  }
};

struct ResolvedModel {
  const ModelFile *file = nullptr;
  std::string name;
  /// The model's inputs, each with its shape per example and its element
  /// type. Training feeds the first (the dataset's examples) and takes no
  /// other; a prediction (the ONNX conformance runner's) feeds them all.
  struct Input {
    std::string name;
    std::vector<int64_t> shape;
    /// FLOAT, or integer ids (INT32, INT64) that only an embedding reads.
    gradc::Input::DType dtype = gradc::Input::FLOAT;
    bool integer() const { return dtype != gradc::Input::FLOAT; }
  };
  std::vector<Input> inputs;
  std::vector<ResolvedLayer>
      layers; // topological order; the last is the output
  std::vector<ParamSpec> params;
  /// Non-trainable state updated by training (running statistics), each
  /// starting at its `constant`.
  std::vector<ParamSpec> buffers;
  std::string lossKind; // an nn loss op name, e.g. "cross_entropy"
  /// Value targets (loss { regression: true }): the steps take a targets
  /// argument [N, outputs] besides the labels.
  bool regression = false;
  double huberDelta = 1.0;
  /// A label equal to it counts in neither the loss nor the accuracy
  /// (sparse_categorical_crossentropy's ignore_index).
  std::optional<int32_t> ignoreIndex;
  OptimizerSpec optimizer;
  ScheduleSpec schedule;
  EarlyStoppingSpec earlyStopping;
  int64_t batchSize = 32, epochs = 1, seed = 0;
  bool shuffle = true, dropLast = false;
  double validationSplit = 0.0;
  /// The model's data { ... } (checked), for the data loader.
  Data data;

  /// The first input's name and shape (empty when the inputs failed).
  const std::string &inputName() const { return firstInput().name; }
  const std::vector<int64_t> &inputShape() const { return firstInput().shape; }
  const Input &firstInput() const {
    static const Input none;
    return inputs.empty() ? none : inputs[0];
  }
  /// The per-example shape of producer `p` (ResolvedLayer::inputs).
  const std::vector<int64_t> &shapeOf(int p) const {
    return p < 0 ? inputs[-1 - p].shape : layers[p].shape;
  }
  const std::vector<int64_t> &outputShape() const {
    return layers.back().shape;
  }
  /// The width of the model's output, and of each example's targets: the
  /// number of classes for classification (1 for one sigmoid unit, which
  /// tells two classes apart), the number of values each example has as
  /// targets for regression.
  int64_t outputWidth() const { return outputShape().back(); }
  /// Labels per example: 1, or one per position of a classifier's output
  /// [T..., classes] (a language model's per-token labels).
  int64_t labelsPerExample() const {
    int64_t n = 1;
    if (!regression && !layers.empty())
      for (size_t d = 0; d + 1 < outputShape().size(); ++d)
        n *= outputShape()[d];
    return n;
  }
  /// The old name of outputWidth(), for the callers in tools/Train.cpp
  /// until they switch; do not use in new code.
  int64_t numClasses() const { return outputWidth(); }
};

/// Validates `file` and resolves it. On failure the status message has one
/// "file:line:col: error: layer 'x': ..." line per problem. Without
/// `forTraining` (a graph run for prediction alone, as the ONNX conformance
/// runner's) no loss is needed.
absl::StatusOr<ResolvedModel> checkModel(const ModelFile &file,
                                         bool forTraining = true);

/// Largest size accepted for one dimension, and for the batch.
constexpr int64_t kMaxDim = 1 << 20;
constexpr int64_t kMaxBatch = 1 << 16;
/// Largest tensor accepted, in elements (per example for activations): 8 GiB
/// of floats, and far from overflowing any size computed from it.
constexpr int64_t kMaxElements = int64_t(1) << 31;

} // namespace gradc

#endif // GRADC_FRONTEND_MODELCHECKER_H
