//===- StepArguments.cpp - the buffers of each compiled entry point -------===//
//
// Builds the argument lists of @train_step, @eval_step and @predict from the
// parameter store and the current batch (runtime/trainer/StepArguments.h).
//
//===----------------------------------------------------------------------===//

#include "runtime/trainer/StepArguments.h"

#include <utility>

namespace gradc {

namespace {
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

/// The arguments both steps end with: x, labels, for a regression model
/// targets, and the loss and count out-parameters.
std::vector<BufferRef> withBatch(std::vector<BufferRef> args,
                                 const ResolvedModel &model,
                                 BatchPipeline &batches, int64_t batch,
                                 StepResult &result) {
  args.push_back(ref(batches.x(), batchShape(batch, model.inputShape())));
  args.push_back(ref(batches.labels(), {batch * model.labelsPerExample()}));
  if (model.regression)
    args.push_back(ref(batches.targets(), {batch, model.outputWidth()}));
  args.push_back(ref(&result.loss, {}));
  args.push_back(ref(&result.count, {}));
  return args;
}
} // namespace

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

std::vector<BufferRef> trainStepArguments(ParameterStore &params,
                                          const ResolvedModel &model,
                                          BatchPipeline &batches, int64_t batch,
                                          int64_t &step, float &rate,
                                          StepResult &result) {
  std::vector<BufferRef> args = entryArguments(params, true);
  args.push_back(ref(&step, {}));
  args.push_back(ref(&rate, {}));
  return withBatch(std::move(args), model, batches, batch, result);
}

std::vector<BufferRef> evalStepArguments(ParameterStore &params,
                                         const ResolvedModel &model,
                                         BatchPipeline &batches, int64_t batch,
                                         StepResult &result) {
  return withBatch(entryArguments(params, false), model, batches, batch,
                   result);
}

std::vector<BufferRef> predictArguments(ParameterStore &params,
                                        const ResolvedModel &model,
                                        BatchPipeline &batches, int64_t batch,
                                        float *probabilities) {
  std::vector<BufferRef> args = entryArguments(params, false);
  args.push_back(ref(batches.x(), batchShape(batch, model.inputShape())));
  args.push_back(ref(probabilities, batchShape(batch, model.outputShape())));
  return args;
}

} // namespace gradc
