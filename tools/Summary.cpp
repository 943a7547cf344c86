//===- Summary.cpp - gradc summary ----------------------------------------===//
//
// Prints a model's layers, output shapes, parameter counts and forward
// MFLOPs, as Keras's model.summary() does.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelSummary.h"
#include "tools/Commands.h"
#include "tools/Session.h"

#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace gradc {

cl::SubCommand &summaryCommand() {
  static cl::SubCommand sub(
      "summary", "Print a model's layers, shapes, parameters and FLOPs");
  return sub;
}

namespace {
cl::opt<std::string> summaryModel(cl::Positional, cl::desc("MODEL"),
                                  cl::Required, cl::sub(summaryCommand()));
} // namespace

int runSummary() {
  Session session;
  const ResolvedModel *model = session.load(summaryModel);
  if (!model)
    return 1;
  outs() << modelSummary(*model);
  outs().flush();
  return 0;
}

} // namespace gradc
