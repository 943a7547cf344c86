//===- StepArguments.h - the buffers of each compiled entry point -*- C++
//-*-===//
//
// The bufferized ABI of the compiled functions, in one place: every call
// passes the weights first (parameters, then buffers), in the order the
// train-step builder derives from @predict's tags, then
//   @train_step: the optimizer state, step, rate, x, labels, [targets,]
//                loss_out, count_out (weights and state updated in place);
//   @eval_step:  x, labels, [targets,] loss_out, count_out;
//   @predict:    x, probabilities_out.
// Targets [N, outputs] are there for a regression model alone.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_STEPARGUMENTS_H
#define GRADC_RUNTIME_STEPARGUMENTS_H

#include "runtime/data/Dataset.h"
#include "runtime/jit/Jit.h"
#include "runtime/params/Parameters.h"

#include <cstdint>
#include <vector>

namespace gradc {

/// The out-parameters of @train_step and @eval_step: the batch's mean loss
/// and its number of correct predictions.
struct StepResult {
  float loss = 0;
  int64_t count = 0;
};

/// The leading arguments of every entry point, in the order the train-step
/// builder derives from @predict's tags: parameters (nn.param), buffers
/// (nn.buffer) and, for @train_step, the optimizer state.
std::vector<BufferRef> entryArguments(ParameterStore &params, bool withState);

/// @train_step's arguments for the current batch of `batches` (`batch`
/// rows): it reads `step` and `rate` and writes `result`.
std::vector<BufferRef> trainStepArguments(ParameterStore &params,
                                          const ResolvedModel &model,
                                          BatchPipeline &batches, int64_t batch,
                                          int64_t &step, float &rate,
                                          StepResult &result);

/// @eval_step's arguments for the current batch of `batches`.
std::vector<BufferRef> evalStepArguments(ParameterStore &params,
                                         const ResolvedModel &model,
                                         BatchPipeline &batches, int64_t batch,
                                         StepResult &result);

/// @predict's arguments for the current batch of `batches`: it writes
/// [batch, outputs] floats to `probabilities`.
std::vector<BufferRef> predictArguments(ParameterStore &params,
                                        const ResolvedModel &model,
                                        BatchPipeline &batches, int64_t batch,
                                        float *probabilities);

} // namespace gradc

#endif // GRADC_RUNTIME_STEPARGUMENTS_H
