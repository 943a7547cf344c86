//===- Jit.cpp - JIT-compiled entry points of a gradc module --------------===//
//
// Memref arguments travel as pointers to strided-memref descriptors
// {allocated, aligned, offset, sizes[r], strides[r]}, the layout of MLIR's
// C interface; the packed wrapper takes a pointer to each of those pointers.
//
//===----------------------------------------------------------------------===//

#include "runtime/Jit.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"

#include <chrono>
#include <fstream>
#include <limits>
#include <malloc.h>
#include <unistd.h>

namespace gradc {

JitModule::~JitModule() = default;

namespace {
llvm::CodeGenOptLevel codeGenLevel(int level) {
  switch (level) {
  case 0:
    return llvm::CodeGenOptLevel::None;
  case 1:
    return llvm::CodeGenOptLevel::Less;
  case 3:
    return llvm::CodeGenOptLevel::Aggressive;
  default:
    return llvm::CodeGenOptLevel::Default;
  }
}

std::string errorString(llvm::Error err) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << err;
  return s;
}
// Appends the JIT-compiled functions to /tmp/perf-PID.map, the file in
// which `perf report` looks up symbols of anonymous executable memory. The
// object file is dumped and its text symbols are placed relative to
// train_step (or eval_step/predict), whose address the engine knows.
void writePerfMap(mlir::ExecutionEngine &engine) {
  std::string objPath = absl::StrCat("/tmp/gradc-jit-", getpid(), ".o");
  engine.dumpToObjectFile(objPath);
  auto obj = llvm::object::ObjectFile::createObjectFile(objPath);
  if (!obj) {
    llvm::consumeError(obj.takeError());
    return;
  }
  struct Sym {
    std::string name;
    uint64_t offset, size;
  };
  std::vector<Sym> syms;
  int64_t base = -1;
  for (const llvm::object::SymbolRef &sym : obj->getBinary()->symbols()) {
    auto type = sym.getType();
    auto name = sym.getName();
    auto value = sym.getValue();
    if (!type || !name || !value ||
        *type != llvm::object::SymbolRef::ST_Function) {
      if (!type)
        llvm::consumeError(type.takeError());
      if (!name)
        llvm::consumeError(name.takeError());
      if (!value)
        llvm::consumeError(value.takeError());
      continue;
    }
    uint64_t size = llvm::object::ELFSymbolRef(sym).getSize();
    syms.push_back({name->str(), *value, size});
    if (base < 0 &&
        (*name == "train_step" || *name == "eval_step" || *name == "predict")) {
      auto addr = engine.lookup(*name);
      if (addr)
        base = reinterpret_cast<int64_t>(*addr) - int64_t(*value);
      else
        llvm::consumeError(addr.takeError());
    }
  }
  if (base < 0)
    return;
  std::ofstream map(absl::StrCat("/tmp/perf-", getpid(), ".map"),
                    std::ios::app);
  for (const Sym &s : syms)
    map << std::hex << base + int64_t(s.offset) << " " << s.size << " "
        << s.name << std::dec << "\n";
}
} // namespace

std::string JitModule::hostDescription() {
  std::string s = llvm::sys::getHostCPUName().str();
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  for (const char *f : {"avx512f", "avx2", "fma"})
    if (features.lookup(f))
      s += absl::StrCat(" +", f);
  return s;
}

namespace {
void initializeNativeTarget() {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // The compiled steps malloc and free their activations every call.
    // glibc serves blocks over 128 KiB with fresh mmaps, so every step
    // would page-fault its whole working set again (5-10 % of a CNN step);
    // keep blocks up to 32 MiB (glibc's maximum) in the heap and do not
    // return freed memory to the system.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    // A step's working set (a ResNet's at batch 128: several hundred MiB)
    // may exceed any fixed threshold; once grown, the heap stays.
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
    return true;
  }();
  (void)initialized;
}

/// A target machine for the host CPU and its features.
absl::StatusOr<std::unique_ptr<llvm::TargetMachine>>
hostTargetMachine(int optLevel) {
  initializeNativeTarget();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return absl::InternalError(errorString(builder.takeError()));
  builder->setCodeGenOptLevel(codeGenLevel(optLevel));
  auto tm = builder->createTargetMachine();
  if (!tm)
    return absl::InternalError(errorString(tm.takeError()));
  return std::move(*tm);
}
} // namespace

absl::StatusOr<std::unique_ptr<JitModule>>
JitModule::create(mlir::ModuleOp module, const JitOptions &options) {
  auto tm = hostTargetMachine(options.optLevel);
  if (!tm.ok())
    return tm.status();

  auto transformer =
      mlir::makeOptimizingTransformer(options.optLevel,
                                      /*sizeLevel=*/0, tm->get());
  mlir::ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = codeGenLevel(options.optLevel);
  // memrefCopy (strided copies) lives in MLIR's C runner utilities; the
  // thread-parallel loops call the OpenMP runtime.
  llvm::StringRef libs[] = {GRADC_C_RUNNER_UTILS, GRADC_OPENMP_RUNTIME};
  engineOptions.sharedLibPaths = libs;
  engineOptions.enableGDBNotificationListener = false;
  engineOptions.enablePerfNotificationListener = false;
  // GRADC_PERF_MAP=1: keep the object code so that writePerfMap can name
  // the JIT-compiled functions for `perf report`.
  bool perfMap = getenv("GRADC_PERF_MAP") != nullptr;
  engineOptions.enableObjectDump = perfMap;

  // The C interfaces take one memref descriptor per buffer.
  std::map<std::string, size_t> arity;
  module.walk([&](mlir::LLVM::LLVMFuncOp fn) {
    llvm::StringRef name = fn.getName();
    if (name.consume_front("_mlir_ciface_"))
      arity[name.str()] = fn.getNumArguments();
  });

  auto start = std::chrono::steady_clock::now();
  auto engine =
      mlir::ExecutionEngine::create(module, engineOptions, std::move(*tm));
  if (!engine)
    return absl::InternalError(absl::StrCat("JIT compilation failed: ",
                                            errorString(engine.takeError())));
  std::unique_ptr<JitModule> jit(new JitModule());
  jit->engine = std::move(*engine);
  jit->arity = std::move(arity);
  // Materialize everything now so that compile time is not charged to the
  // first step.
  for (const char *fn : {"train_step", "eval_step", "predict"})
    if (auto sym = jit->engine->lookupPacked(absl::StrCat("_mlir_ciface_", fn));
        !sym)
      llvm::consumeError(sym.takeError());
  if (perfMap)
    writePerfMap(*jit->engine);
  jit->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return jit;
}

absl::Status JitModule::call(const std::string &function,
                             llvm::ArrayRef<BufferRef> args) const {
  auto it = arity.find(function);
  if (it == arity.end())
    return absl::NotFoundError(
        absl::StrCat("internal error: the compiled module has no @", function));
  if (args.size() != it->second)
    return absl::InvalidArgumentError(
        absl::StrCat("internal error: @", function, " takes ", it->second,
                     " buffers, got ", args.size()));
  std::vector<std::vector<int64_t>> descriptors;
  descriptors.reserve(args.size());
  for (const BufferRef &a : args) {
    size_t rank = a.shape.size();
    std::vector<int64_t> d(3 + 2 * rank);
    d[0] = reinterpret_cast<int64_t>(a.data);
    d[1] = reinterpret_cast<int64_t>(a.data);
    d[2] = 0;
    int64_t stride = 1;
    for (size_t i = rank; i-- > 0;) {
      d[3 + i] = a.shape[i];
      d[3 + rank + i] = stride;
      stride *= a.shape[i];
    }
    descriptors.push_back(std::move(d));
  }
  std::vector<void *> descPtrs;
  for (auto &d : descriptors)
    descPtrs.push_back(d.data());
  llvm::SmallVector<void *> packed;
  for (void *&p : descPtrs)
    packed.push_back(&p);
  if (llvm::Error err =
          engine->invokePacked(absl::StrCat("_mlir_ciface_", function), packed))
    return absl::InternalError(errorString(std::move(err)));
  return absl::OkStatus();
}

absl::StatusOr<std::string> emitNative(mlir::ModuleOp module, NativeKind kind,
                                       int optLevel) {
  auto tm = hostTargetMachine(optLevel);
  if (!tm.ok())
    return tm.status();
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return absl::InternalError("translation to LLVM IR failed");
  llvmModule->setDataLayout((*tm)->createDataLayout());
  llvmModule->setTargetTriple((*tm)->getTargetTriple().getTriple());
  // The JIT's own pipeline: ExecutionEngine applies this transformer.
  auto optimize =
      mlir::makeOptimizingTransformer(optLevel, /*sizeLevel=*/0, tm->get());
  if (llvm::Error err = optimize(llvmModule.get()))
    return absl::InternalError(errorString(std::move(err)));
  std::string out;
  llvm::raw_string_ostream os(out);
  if (kind == NativeKind::LLVMIR) {
    llvmModule->print(os, nullptr);
    return out;
  }
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream bos(buffer);
  llvm::legacy::PassManager codegen;
  if ((*tm)->addPassesToEmitFile(codegen, bos, nullptr,
                                 kind == NativeKind::Assembly
                                     ? llvm::CodeGenFileType::AssemblyFile
                                     : llvm::CodeGenFileType::ObjectFile))
    return absl::InternalError("the host target cannot emit this file type");
  codegen.run(*llvmModule);
  return std::string(buffer.str());
}

} // namespace gradc
