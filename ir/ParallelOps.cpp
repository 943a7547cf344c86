//===- ParallelOps.cpp - data-parallel collectives: verifiers -------------===//
//
// nn.allreduce_mean returns one tensor per input, of the input's type.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"

using namespace mlir;
using namespace gradc::nn;

LogicalResult AllreduceMeanOp::verify() {
  if (getInputs().size() != getOutputs().size())
    return emitOpError() << "expects one result per input, got "
                         << getOutputs().size() << " for "
                         << getInputs().size();
  for (auto [i, in, out] :
       llvm::enumerate(getInputs().getTypes(), getOutputs().getTypes()))
    if (in != out)
      return emitOpError() << "result " << i << " has type " << out
                           << ", its input " << in;
  if (getRanks() < 2)
    return emitOpError() << "expects at least 2 ranks, got " << getRanks();
  return success();
}
