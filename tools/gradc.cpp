//===- gradc.cpp - the gradc command line ---------------------------------===//
//
// gradc compile | gradcheck | train | eval | predict | report | summary |
// export | cache. Bad
// input (model files, data) is reported as one "file:line:col: error: ..." line
// per problem with exit status 1. Running out of memory, in gradc's code or
// in LLVM's, is one "gradc: error: out of memory" line with exit status 1
// too, not a stack dump.
//
//===----------------------------------------------------------------------===//

#include "tools/Commands.h"
#include "tools/TrainReport.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <unistd.h>

using namespace llvm;

namespace gradc {
ArrayRef<Command> commands() {
  static const Command all[] = {
      {compileCommand(), runCompile}, {gradcheckCommand(), runGradcheck},
      {trainCommand(), runTrain},     {evalCommand(), runEval},
      {predictCommand(), runPredict}, {reportCommand(), runReport},
      {summaryCommand(), runSummary}, {exportCommand(), runExport},
      {cacheCommand(), runCache}, {generateCommand(), runGenerate},
  };
  return all;
}
} // namespace gradc

namespace {

/// One line and exit status 1, without allocating: memory is out. The
/// budget (frontend/ModelBudget.h) refuses most runs that would get here.
[[noreturn]] void outOfMemory(const char *reason) {
  std::fflush(stdout);
  const char *parts[] = {"gradc: error: out of memory (", reason,
                         "): reduce the batch or the model, or run with more "
                         "memory\n"};
  for (const char *part : parts)
    if (::write(2, part, std::strlen(part)) < 0)
      break;
  ::_exit(1);
}

/// LLVM's: what InitLLVM's new-handler and LLVM's own allocations report,
/// "LLVM ERROR: out of memory" and abort() otherwise.
void llvmOutOfMemory(void *, const char *reason, bool) {
  outOfMemory(reason && *reason ? reason : "allocation failed");
}

std::terminate_handler defaultTerminate;

/// A std::bad_alloc that nothing caught, on any thread.
[[noreturn]] void onTerminate() {
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::bad_alloc &) {
      outOfMemory("std::bad_alloc");
    } catch (...) {
    }
  }
  if (defaultTerminate)
    defaultTerminate();
  std::abort();
}

int run(int argc, char **argv) {
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

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // InitLLVM's new-handler reports a failed operator new to LLVM's bad-alloc
  // handler, as do LLVM's own allocations.
  install_bad_alloc_error_handler(llvmOutOfMemory);
  defaultTerminate = std::set_terminate(onTerminate);
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc &) {
    outOfMemory("std::bad_alloc");
  }
}
