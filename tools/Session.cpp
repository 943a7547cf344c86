//===- Session.cpp - what every gradc subcommand shares -------------------===//

#include "tools/Session.h"

#include "frontend/Diagnostics.h"
#include "frontend/Importer.h"
#include "frontend/ModelBudget.h"
#include "tools/Commands.h"

#include "absl/strings/str_cat.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace gradc {

PipelineFlags::PipelineFlags(llvm::cl::SubCommand &sub)
    : printAfterAll("print-ir-after-all",
                    llvm::cl::desc("Print the IR after every pass"),
                    llvm::cl::sub(sub)),
      printAfter("print-ir-after",
                 llvm::cl::desc("Print the IR after the named pass "
                                "(e.g. gradc-autodiff, canonicalize)"),
                 llvm::cl::value_desc("PASS"), llvm::cl::sub(sub)),
      timing("timing", llvm::cl::desc("Report the time of every pass"),
             llvm::cl::sub(sub)) {}

namespace {
llvm::cl::opt<double> codeLimit(
    "code-limit",
    llvm::cl::desc("Refuse a model whose compiled code needs more than this "
                   "many MiB (default 16)"),
    llvm::cl::value_desc("MIB"), llvm::cl::init(0),
    llvm::cl::sub(compileCommand()), llvm::cl::sub(trainCommand()),
    llvm::cl::sub(evalCommand()), llvm::cl::sub(reportCommand()),
    llvm::cl::sub(predictCommand()));
llvm::cl::opt<bool> unfusedAttention(
    "unfused-attention",
    llvm::cl::desc("Keep attention as matmul, mask, softmax and matmul "
                   "(slower, more memory: for comparison)"),
    llvm::cl::sub(compileCommand()), llvm::cl::sub(trainCommand()),
    llvm::cl::sub(evalCommand()), llvm::cl::sub(reportCommand()),
    llvm::cl::sub(predictCommand()));
} // namespace

bool fuseAttention() { return !unfusedAttention; }

absl::Status checkCodeLimit(const ResolvedModel &model, const char *command) {
  if (!codeLimit.getNumOccurrences())
    return checkCodeBudget(model, kDefaultCodeLimitBytes, "the default");
  if (!(codeLimit > 0) || codeLimit > 1e12)
    return absl::InvalidArgumentError(
        absl::StrCat("gradc ", command,
                     ": error: --code-limit must be a positive number of MiB"));
  return checkCodeBudget(model, int64_t(codeLimit * double(1 << 20)),
                         "--code-limit");
}

std::optional<Stage> parseStage(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Stage>>(name)
      .Case("nn", Stage::NN)
      .Case("fused", Stage::Fused)
      .Case("train", Stage::Train)
      .Case("linalg", Stage::Linalg)
      .Case("llvm", Stage::LLVM)
      .Default(std::nullopt);
}

Session::Session() {
  registerGradcPassesAndPipelines();
  DialectRegistry registry;
  registerGradcDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
}

const ResolvedModel *Session::load(const std::string &path) {
  auto loaded = loadModelFile(path);
  if (!loaded.ok()) {
    llvm::errs() << std::string(loaded.status().message()) << "\n";
    return nullptr;
  }
  file = std::move(*loaded);
  auto checked = checkModel(*file);
  if (!checked.ok()) {
    llvm::errs() << std::string(checked.status().message()) << "\n";
    return nullptr;
  }
  model = std::make_unique<ResolvedModel>(std::move(*checked));
  return model.get();
}

std::optional<OwningOpRef<ModuleOp>> Session::importLoaded(int64_t batchSize) {
  auto module = importModel(ctx, *model, batchSize);
  if (!module.ok()) {
    llvm::errs() << std::string(module.status().message()) << "\n";
    return std::nullopt;
  }
  return std::move(*module);
}

std::optional<OwningOpRef<ModuleOp>> Session::import(const std::string &path,
                                                     int64_t batchSize) {
  if (!load(path))
    return std::nullopt;
  return importLoaded(batchSize);
}

LogicalResult Session::runPipeline(ModuleOp module, Stage stage,
                                   const PipelineFlags *flags, int threads) {
  PassManager pm(&ctx, "builtin.module");
  buildPipeline(pm, stage, threads, fuseAttention());
  if (flags) {
    std::vector<std::string> after(flags->printAfter.begin(),
                                   flags->printAfter.end());
    bool all = flags->printAfterAll;
    if (all || !after.empty()) {
      ctx.disableMultithreading();
      pm.enableIRPrinting(
          /*shouldPrintBeforePass=*/[](Pass *, Operation *) { return false; },
          /*shouldPrintAfterPass=*/
          [all, after](Pass *pass, Operation *) {
            return all || llvm::is_contained(after, pass->getArgument().str());
          },
          /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false,
          /*printAfterOnlyOnFailure=*/false, llvm::errs());
    }
    if (flags->timing)
      pm.enableTiming();
  }
  DiagnosticCollector diags(ctx);
  if (failed(pm.run(module))) {
    llvm::errs() << diags.str() << "\n";
    return failure();
  }
  return success();
}

} // namespace gradc
