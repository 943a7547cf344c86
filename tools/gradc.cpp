//===- gradc.cpp - the gradc command line ---------------------------------===//
//
// gradc compile | gradcheck | train | eval | predict | report | summary |
// export | cache. Bad
// input (model files, data) is reported as one "file:line:col: error: ..." line
// per problem with exit status 1.
//
//===----------------------------------------------------------------------===//

#include "tools/Commands.h"
#include "tools/TrainReport.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace gradc {
ArrayRef<Command> commands() {
  static const Command all[] = {
      {compileCommand(), runCompile}, {gradcheckCommand(), runGradcheck},
      {trainCommand(), runTrain},     {evalCommand(), runEval},
      {predictCommand(), runPredict}, {reportCommand(), runReport},
      {summaryCommand(), runSummary}, {exportCommand(), runExport},
      {cacheCommand(), runCache},
  };
  return all;
}
} // namespace gradc

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  for (int i = 0; i < argc; ++i)
    gradc::processCommandLine() += (i ? " " : "") + std::string(argv[i]);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "gradc: a training compiler for neural networks on the CPU\n",
          &errs()))
    return 1;
  for (const gradc::Command &c : gradc::commands())
    if (c.sub)
      return c.run();
  errs() << "usage: gradc <command> MODEL [options]; commands:";
  for (const gradc::Command &c : gradc::commands())
    errs() << " " << c.sub.getName();
  errs() << "\n       gradc <command> --help\n";
  return 1;
}
