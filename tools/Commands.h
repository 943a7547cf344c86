//===- Commands.h - gradc's subcommands ------------------------*- C++ -*-===//
//
// Each subcommand lives in its own file and registers its llvm::cl options
// under its cl::SubCommand.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TOOLS_COMMANDS_H
#define GRADC_TOOLS_COMMANDS_H

#include "llvm/Support/CommandLine.h"

namespace gradc {

struct Command {
  llvm::cl::SubCommand &sub;
  int (*run)();
};

/// Every subcommand, in the order `gradc --help` lists them.
llvm::ArrayRef<Command> commands();

llvm::cl::SubCommand &compileCommand();
int runCompile();
llvm::cl::SubCommand &gradcheckCommand();
int runGradcheck();
llvm::cl::SubCommand &trainCommand();
int runTrain();
llvm::cl::SubCommand &evalCommand();
int runEval();
llvm::cl::SubCommand &predictCommand();
int runPredict();
llvm::cl::SubCommand &reportCommand();
int runReport();
llvm::cl::SubCommand &summaryCommand();
int runSummary();

} // namespace gradc

#endif // GRADC_TOOLS_COMMANDS_H
