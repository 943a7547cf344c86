//===- Commands.h - gradc's subcommands ------------------------*- C++ -*-===//
//
// Each subcommand lives in its own file and registers its llvm::cl options
// under its cl::SubCommand.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TOOLS_COMMANDS_H
#define GRADC_TOOLS_COMMANDS_H

#include "llvm/Support/CommandLine.h"

#include "absl/status/status.h"

#include <string>

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
llvm::cl::SubCommand &exportCommand();
int runExport();
llvm::cl::SubCommand &cacheCommand();
int runCache();

llvm::cl::SubCommand &generateCommand();
int runGenerate();

/// Prints `s` as one "error: ..." line (unless it has one); returns 1.
int fail(const absl::Status &s);
/// A flag given on the command line must lie in [lo, hi] (an absent one
/// takes its default); else one error line naming `command`.
bool flagInRange(const char *command, const llvm::cl::opt<int64_t> &flag,
                 int64_t lo, int64_t hi);

struct ResolvedModel;
struct ParameterStore;
/// Writes `model` with the weights of `params` as an ONNX model.
absl::Status exportOnnxWeights(const ResolvedModel &model,
                               const ParameterStore &params,
                               const std::string &path);
/// Whether the model file gives every parameter's and buffer's values (an
/// ONNX model): then --weights may be left out.
bool givesAllWeights(const ResolvedModel &model);

} // namespace gradc

#endif // GRADC_TOOLS_COMMANDS_H
