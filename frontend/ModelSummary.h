//===- ModelSummary.h - Keras's model.summary() for a model ----*- C++ -*-===//
//
// The table `gradc summary MODEL` prints: per layer its kind, output shape,
// parameters and forward MFLOPs per example, then the totals (trainable
// parameters, non-trainable buffers such as batch-norm statistics).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_MODELSUMMARY_H
#define GRADC_FRONTEND_MODELSUMMARY_H

#include "frontend/ModelChecker.h"

#include <string>

namespace gradc {

struct ModelTotals {
  int64_t trainable = 0, nonTrainable = 0;
  double flops = 0; // forward, per example
};

ModelTotals modelTotals(const ResolvedModel &model);

/// The summary table, one line per layer, ending in a newline.
std::string modelSummary(const ResolvedModel &model);

} // namespace gradc

#endif // GRADC_FRONTEND_MODELSUMMARY_H
