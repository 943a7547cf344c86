//===- Session.h - what every gradc subcommand shares -----------*- C++ -*-===//
//
// An MLIR context with gradc's dialects, model import with user-facing
// errors, and the pipeline runner behind --print-ir-after-all,
// --print-ir-after=PASS and --timing.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TOOLS_SESSION_H
#define GRADC_TOOLS_SESSION_H

#include "frontend/ModelChecker.h"
#include "passes/Passes.h"

#include "absl/status/status.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/CommandLine.h"

#include <memory>
#include <optional>

namespace gradc {

/// The IR-dump and timing flags of a subcommand that runs pipelines.
struct PipelineFlags {
  explicit PipelineFlags(llvm::cl::SubCommand &sub);
  llvm::cl::opt<bool> printAfterAll;
  llvm::cl::list<std::string> printAfter;
  llvm::cl::opt<bool> timing;
};

/// The code budget (frontend/ModelBudget.h) of a command that compiles
/// `model` to native code, with the limit of its --code-limit MIB when given:
/// an error line for a model beyond it or for a non-positive limit.
absl::Status checkCodeLimit(const ResolvedModel &model, const char *command);

/// False with --unfused-attention: attention stays matmul, mask, softmax,
/// matmul (to compare the fused form against).
bool fuseAttention();

/// --emit names: nn, fused, train, linalg, llvm.
std::optional<Stage> parseStage(llvm::StringRef name);

class Session {
public:
  Session();

  mlir::MLIRContext &context() { return ctx; }

  /// Loads and checks a model file; prints the errors and returns nullptr
  /// when it is bad.
  const ResolvedModel *load(const std::string &path);

  /// load() + import with a static batch (the model's when 0).
  std::optional<mlir::OwningOpRef<mlir::ModuleOp>>
  import(const std::string &path, int64_t batchSize = 0);

  /// Imports the already loaded model with a static batch.
  std::optional<mlir::OwningOpRef<mlir::ModuleOp>>
  importLoaded(int64_t batchSize);

  /// Runs the pipeline up to `stage`; diagnostics go to stderr in the
  /// "file:line:col: error: layer 'x': ..." form.
  mlir::LogicalResult runPipeline(mlir::ModuleOp module, Stage stage,
                                  const PipelineFlags *flags = nullptr,
                                  int threads = 1);
  mlir::LogicalResult runPipeline(mlir::ModuleOp module, Stage stage,
                                  const PipelineFlags &flags) {
    return runPipeline(module, stage, &flags);
  }

private:
  mlir::MLIRContext ctx;
  std::unique_ptr<ModelFile> file;
  std::unique_ptr<ResolvedModel> model;
};

} // namespace gradc

#endif // GRADC_TOOLS_SESSION_H
