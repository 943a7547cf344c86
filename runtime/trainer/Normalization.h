//===- Normalization.h - adapting normalization layers to data --*- C++ -*-===//
//
// Keras's Normalization.adapt(): before the first epoch, every
// `normalization` layer's per-channel shift and scale are computed from the
// training examples and stored in its buffers, which checkpoints save and
// eval, predict and the exporters read.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_NORMALIZATION_H
#define GRADC_RUNTIME_NORMALIZATION_H

#include "runtime/data/Dataset.h"
#include "runtime/params/Parameters.h"

#include "absl/status/status.h"

#include <ostream>

namespace gradc {

/// Per channel c (the last axis of an example): STANDARDIZE gives shift =
/// mean and scale = 1 / standard deviation (population, as Keras), MIN_MAX
/// gives shift = min and scale = 1 / (max - min); a constant channel gets
/// scale 1. Prints one line per layer to `out`. Does nothing for a model
/// without normalization layers.
absl::Status adaptNormalization(const ResolvedModel &m, ParameterStore &params,
                                const Dataset &train, std::ostream &out);

} // namespace gradc

#endif // GRADC_RUNTIME_NORMALIZATION_H
