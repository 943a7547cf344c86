//===- JitCodegen.cpp - MLIR's LLVM dialect to native code ----------------===//
//
// The code-generation half of runtime/jit/Jit.h: translates an LLVM-dialect
// module to LLVM IR, adds a packed wrapper to every C interface, splits the
// module into pieces compiled in parallel, and optimizes and compiles them
// for the host CPU (its target machine, features and the opt level) into
// relocatable objects, or textual IR and assembly for `gradc compile`.
// Loading the objects is runtime/jit/JitLoader.cpp's job.
//
//===----------------------------------------------------------------------===//

#include "runtime/jit/Jit.h"
#include "runtime/jit/JitTarget.h"
#include "support/Stopwatch.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <malloc.h>
#include <map>
#include <thread>

namespace gradc {

std::string errorString(llvm::Error err) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << err;
  return s;
}

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

constexpr const char *kEntryPoints[] = {"train_step", "eval_step", "predict"};

/// A target machine for the host CPU and its features, emitting
/// position-independent code (linkable into a shared library, and loadable
/// anywhere by the JIT).
absl::StatusOr<std::unique_ptr<llvm::TargetMachine>>
hostTargetMachine(int optLevel) {
  initializeNativeTarget();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return absl::InternalError(errorString(builder.takeError()));
  builder->setCodeGenOptLevel(codeGenLevel(optLevel));
  builder->setRelocationModel(llvm::Reloc::PIC_);
  auto tm = builder->createTargetMachine();
  if (!tm)
    return absl::InternalError(errorString(tm.takeError()));
  return std::move(*tm);
}

/// For each C interface _mlir_ciface_F, defines `void _mlir__mlir_ciface_F(
/// void **args)` that loads each argument through args[i] and calls it: the
/// packed calling convention of MLIR's ExecutionEngine, which lets one
/// caller pass any number of buffers.
void packCInterfaces(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::IRBuilder<> b(ctx);
  std::vector<llvm::Function *> interfaces;
  for (llvm::Function &f : module)
    if (!f.isDeclaration() && f.getName().starts_with(kCInterface))
      interfaces.push_back(&f);
  for (llvm::Function *f : interfaces) {
    auto *type = llvm::FunctionType::get(b.getVoidTy(), b.getPtrTy(), false);
    auto *packed =
        llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                               (kPacked + f->getName()).str(), module);
    b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", packed));
    std::vector<llvm::Value *> args;
    for (auto [i, arg] : llvm::enumerate(f->args())) {
      llvm::Value *slot =
          b.CreateGEP(b.getPtrTy(), packed->getArg(0), b.getInt64(i));
      llvm::Value *ptr = b.CreateLoad(b.getPtrTy(), slot);
      args.push_back(b.CreateLoad(arg.getType(), ptr));
    }
    b.CreateCall(f, args);
    b.CreateRetVoid();
  }
}

/// The entry point a global belongs to (its name without the C-interface
/// prefixes), or -1.
int entryIndex(llvm::StringRef name) {
  name.consume_front(kPacked);
  name.consume_front(kCInterface);
  for (int i = 0; i < int(std::size(kEntryPoints)); ++i)
    if (name == kEntryPoints[i])
      return i;
  return -1;
}

/// Splits `module` into at most `pieces` modules of about equal size, so
/// that LLVM compiles them in parallel: the functions the OpenMP lowering
/// outlines from an entry point's parallel loops are functions of their
/// own, so a large @train_step spreads over several pieces. An entry point
/// stays with its C interfaces; internal functions become external (their
/// names are unique in the module) so that any piece may define them, and
/// each piece keeps a copy of the internal constants it uses. The greedy
/// assignment (largest function first, to the lightest piece) balances
/// the pieces by instruction count.
std::vector<std::pair<std::string, std::unique_ptr<llvm::Module>>>
splitModule(llvm::Module &module, size_t pieces) {
  struct Group {
    std::string name;
    std::vector<llvm::Function *> functions;
    size_t cost = 0;
  };
  std::vector<Group> groups;
  std::map<int, size_t> entryGroup;
  for (llvm::Function &f : module) {
    if (f.isDeclaration())
      continue;
    if (f.hasLocalLinkage()) {
      f.setLinkage(llvm::GlobalValue::ExternalLinkage);
      f.setVisibility(llvm::GlobalValue::DefaultVisibility);
    }
    size_t cost = f.getInstructionCount();
    int e = entryIndex(f.getName());
    size_t g;
    if (e >= 0 && entryGroup.count(e)) {
      g = entryGroup[e];
    } else {
      g = groups.size();
      groups.push_back({e >= 0 ? kEntryPoints[e] : f.getName().str(), {}, 0});
      if (e >= 0)
        entryGroup[e] = g;
    }
    groups[g].functions.push_back(&f);
    groups[g].cost += cost;
  }
  std::stable_sort(
      groups.begin(), groups.end(),
      [](const Group &a, const Group &b) { return a.cost > b.cost; });
  pieces = std::max<size_t>(1, std::min(pieces, groups.size()));
  std::vector<size_t> load(pieces, 0);
  std::vector<std::vector<std::string>> names(pieces);
  std::map<const llvm::GlobalValue *, size_t> owner;
  for (const Group &g : groups) {
    size_t k =
        size_t(std::min_element(load.begin(), load.end()) - load.begin());
    load[k] += g.cost;
    if (names[k].size() < 3)
      names[k].push_back(g.name);
    else if (names[k].size() == 3)
      names[k].push_back("...");
    for (llvm::Function *f : g.functions)
      owner[f] = k;
  }
  std::vector<std::pair<std::string, std::unique_ptr<llvm::Module>>> out;
  for (size_t k = 0; k < pieces; ++k) {
    llvm::ValueToValueMapTy map;
    std::unique_ptr<llvm::Module> piece =
        llvm::CloneModule(module, map, [&](const llvm::GlobalValue *gv) {
          if (gv->hasLocalLinkage())
            return true; // a constant, copied where it is used
          auto it = owner.find(gv);
          // Other external definitions (globals) live in the first piece.
          return it == owner.end() ? k == 0 : it->second == k;
        });
    // Drop the internal constants and helpers no code of this piece uses.
    for (bool changed = true; changed;) {
      changed = false;
      for (llvm::Function &f : llvm::make_early_inc_range(*piece))
        if (f.hasLocalLinkage() && f.use_empty()) {
          f.eraseFromParent();
          changed = true;
        }
      for (llvm::GlobalVariable &g :
           llvm::make_early_inc_range(piece->globals()))
        if (g.hasLocalLinkage() && g.use_empty()) {
          g.eraseFromParent();
          changed = true;
        }
    }
    std::string name;
    for (const std::string &n : names[k])
      name += (name.empty() ? "" : " ") + n;
    out.emplace_back(name, std::move(piece));
  }
  return out;
}

/// Optimizes `module` at `optLevel` for the host and emits `kind`.
absl::StatusOr<std::string> optimizeAndEmit(llvm::Module &module,
                                            NativeKind kind, int optLevel) {
  auto tm = hostTargetMachine(optLevel);
  if (!tm.ok())
    return tm.status();
  module.setDataLayout((*tm)->createDataLayout());
  module.setTargetTriple((*tm)->getTargetTriple().getTriple());
  auto optimize =
      mlir::makeOptimizingTransformer(optLevel, /*sizeLevel=*/0, tm->get());
  if (llvm::Error err = optimize(&module))
    return absl::InternalError(errorString(std::move(err)));
  std::string out;
  llvm::raw_string_ostream os(out);
  if (kind == NativeKind::LLVMIR) {
    module.print(os, nullptr);
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
  codegen.run(module);
  return std::string(buffer.str());
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

absl::StatusOr<NativeCode> compileNative(mlir::ModuleOp module,
                                         const JitOptions &options) {
  auto start = std::chrono::steady_clock::now();
  initializeNativeTarget();
  size_t threads = options.compileThreads > 0
                       ? size_t(options.compileThreads)
                       : std::max(1u, std::thread::hardware_concurrency());
  NativeCode code;
  // The C interfaces take one memref descriptor per buffer.
  // (Declarations are runtime functions the code calls, not entries.)
  module.walk([&](mlir::LLVM::LLVMFuncOp fn) {
    llvm::StringRef name = fn.getName();
    if (!fn.isExternal() && name.consume_front(kCInterface))
      code.arity[name.str()] = fn.getNumArguments();
  });
  // Each piece travels to its thread as bitcode: an LLVMContext is not
  // thread-safe, so every thread reads its piece into a context of its own.
  std::vector<std::string> bitcode;
  {
    llvm::LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> llvmModule =
        mlir::translateModuleToLLVMIR(module, llvmContext);
    if (!llvmModule)
      return absl::InternalError("translation to LLVM IR failed");
    packCInterfaces(*llvmModule);
    for (auto &[name, piece] : splitModule(*llvmModule, threads)) {
      code.partitions.push_back({name, 0, 0});
      llvm::raw_string_ostream os(bitcode.emplace_back());
      llvm::WriteBitcodeToFile(*piece, os);
    }
  }
  size_t n = bitcode.size();
  code.objects.resize(n);
  std::vector<absl::Status> status(n);
  // The largest piece first: @train_step alone takes about as long as the
  // others together.
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return bitcode[a].size() > bitcode[b].size();
  });
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < n;) {
      size_t k = order[i];
      auto pieceStart = std::chrono::steady_clock::now();
      llvm::LLVMContext llvmContext;
      auto piece = llvm::parseBitcodeFile(
          llvm::MemoryBufferRef(bitcode[k], code.partitions[k].function),
          llvmContext);
      if (!piece) {
        status[k] = absl::InternalError(errorString(piece.takeError()));
        continue;
      }
      auto object =
          optimizeAndEmit(**piece, NativeKind::Object, options.optLevel);
      if (!object.ok()) {
        status[k] = object.status();
        continue;
      }
      code.objects[k] = std::move(*object);
      code.partitions[k].objectBytes = int64_t(code.objects[k].size());
      code.partitions[k].seconds = secondsSince(pieceStart);
    }
  };
  threads = std::min(threads, n);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
  for (const absl::Status &s : status)
    if (!s.ok())
      return s;
  code.seconds = secondsSince(start);
  return code;
}

absl::StatusOr<std::string> emitNative(mlir::ModuleOp module, NativeKind kind,
                                       int optLevel) {
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return absl::InternalError("translation to LLVM IR failed");
  // The JIT's own pipeline, on the whole module.
  return optimizeAndEmit(*llvmModule, kind, optLevel);
}

} // namespace gradc
