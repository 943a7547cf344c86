//===- Compile.cpp - gradc compile ----------------------------------------===//
//
// Imports a model file and runs the pipeline up to --emit=STAGE, with
// MLIR's IR printing and timing instrumentation behind gradc's flags.
//
//===----------------------------------------------------------------------===//

#include "runtime/jit/Jit.h"
#include "tools/Commands.h"
#include "tools/EmitLibrary.h"
#include "tools/Session.h"

#include "mlir/IR/AsmState.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace llvm;
using namespace mlir;

namespace gradc {

cl::SubCommand &compileCommand() {
  static cl::SubCommand sub("compile",
                            "Compile a model file and print the IR of a stage");
  return sub;
}

namespace {
cl::opt<std::string> modelPath(cl::Positional, cl::desc("MODEL"), cl::Required,
                               cl::sub(compileCommand()));
cl::opt<std::string>
    emit("emit",
         cl::desc("Stage to print: nn, fused, train, linalg, llvm; or native "
                  "code: llvm-ir, asm, obj, lib (libNAME.so and NAME.h)"),
         cl::init("nn"), cl::sub(compileCommand()));
cl::opt<std::string> output("o", cl::desc("Output file (default: stdout)"),
                            cl::value_desc("FILE"), cl::init("-"),
                            cl::sub(compileCommand()));
cl::opt<int64_t> batchSize("batch-size",
                           cl::desc("Batch size (default: the model's)"),
                           cl::init(0), cl::sub(compileCommand()));
cl::opt<int> threads("threads",
                     cl::desc("Threads the code is compiled for (default 1; "
                              "more adds OpenMP parallel loops)"),
                     cl::init(1), cl::sub(compileCommand()));
cl::opt<int> optLevel("opt-level",
                      cl::desc("LLVM optimization level for llvm-ir, asm and "
                               "obj (0-3, default 2 as in the JIT)"),
                      cl::init(2), cl::sub(compileCommand()));
PipelineFlags flags(compileCommand());
} // namespace

int runCompile() {
  std::optional<NativeKind> native =
      llvm::StringSwitch<std::optional<NativeKind>>(emit.getValue())
          .Case("llvm-ir", NativeKind::LLVMIR)
          .Case("asm", NativeKind::Assembly)
          .Case("obj", NativeKind::Object)
          .Default(std::nullopt);
  bool library = emit == "lib";
  auto stage =
      native || library ? std::optional<Stage>(Stage::LLVM) : parseStage(emit);
  if (!stage) {
    errs() << "gradc compile: error: unknown --emit=" << emit
           << " (expected nn, fused, train, linalg, llvm, llvm-ir, asm, obj, "
              "lib)\n";
    return 1;
  }
  if (optLevel < 0 || optLevel > 3) {
    errs() << "gradc compile: error: --opt-level must be in [0, 3], got "
           << optLevel << "\n";
    return 1;
  }
  if (batchSize < 0 || batchSize > kMaxBatch) {
    errs() << "gradc compile: error: --batch-size must be in [1, " << kMaxBatch
           << "], got " << batchSize << "\n";
    return 1;
  }
  if (threads < 1 || threads > 256) {
    errs() << "gradc compile: error: --threads must be in [1, 256], got "
           << threads << "\n";
    return 1;
  }
  if (library && output == "-") {
    errs() << "gradc compile: error: --emit=lib needs -o libNAME.so\n";
    return 1;
  }
  Session session;
  const ResolvedModel *model = session.load(modelPath);
  if (!model)
    return 1;
  if (native || library)
    if (absl::Status s = checkCodeLimit(*model, "compile"); !s.ok()) {
      errs() << std::string(s.message()) << "\n";
      return 1;
    }
  auto module = session.importLoaded(batchSize);
  if (!module)
    return 1;
  if (failed(session.runPipeline(**module, *stage, &flags, threads)))
    return 1;
  if (library) {
    LibraryOptions options{output, threads, optLevel};
    absl::Status s = emitLibrary(
        *model, **module, batchSize > 0 ? int64_t(batchSize) : model->batchSize,
        options);
    if (!s.ok()) {
      errs() << std::string(s.message()) << "\n";
      return 1;
    }
    return 0;
  }
  std::string code;
  if (native) {
    auto emitted = emitNative(**module, *native, optLevel);
    if (!emitted.ok()) {
      errs() << "gradc compile: error: "
             << std::string(emitted.status().message()) << "\n";
      return 1;
    }
    code = std::move(*emitted);
  }
  std::string err;
  auto out = openOutputFile(output, &err);
  if (!out) {
    errs() << output << ": error: " << err << "\n";
    return 1;
  }
  if (native)
    out->os() << code;
  else
    (*module)->print(out->os(), OpPrintingFlags().enableDebugInfo(false));
  out->keep();
  return 0;
}

} // namespace gradc
