//===- Jit.cpp - JIT-compiled entry points of a gradc module --------------===//
//
// Memref arguments travel as pointers to strided-memref descriptors
// {allocated, aligned, offset, sizes[r], strides[r]}, the layout of MLIR's
// C interface; the packed wrapper takes a pointer to each of those pointers.
//
//===----------------------------------------------------------------------===//

#include "runtime/Jit.h"
#include "runtime/Collective.h"
#include "runtime/Stopwatch.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/RTDyldObjectLinkingLayer.h"
#include "llvm/ExecutionEngine/SectionMemoryManager.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <limits>
#include <malloc.h>
#include <thread>
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

constexpr const char *kEntryPoints[] = {"train_step", "eval_step", "predict"};
constexpr llvm::StringLiteral kCInterface = "_mlir_ciface_";
constexpr llvm::StringLiteral kPacked = "_mlir_";

/// Appends the JIT-compiled functions to /tmp/perf-PID.map, the file in
/// which `perf report` looks up symbols of anonymous executable memory. Each
/// object's text symbols are placed relative to one of its exported
/// functions, whose address the JIT knows.
void writePerfMap(llvm::orc::LLJIT &jit, const NativeCode &code) {
  std::ofstream map(absl::StrCat("/tmp/perf-", getpid(), ".map"),
                    std::ios::app);
  for (const std::string &bytes : code.objects) {
    auto obj = llvm::object::ObjectFile::createObjectFile(
        llvm::MemoryBufferRef(bytes, "gradc-jit"));
    if (!obj) {
      llvm::consumeError(obj.takeError());
      continue;
    }
    struct Sym {
      std::string name;
      uint64_t offset, size;
    };
    std::vector<Sym> syms;
    int64_t base = -1;
    for (const llvm::object::SymbolRef &sym : (*obj)->symbols()) {
      auto type = sym.getType();
      auto name = sym.getName();
      auto value = sym.getValue();
      auto flags = sym.getFlags();
      if (!type || !name || !value || !flags ||
          *type != llvm::object::SymbolRef::ST_Function) {
        if (!type)
          llvm::consumeError(type.takeError());
        if (!name)
          llvm::consumeError(name.takeError());
        if (!value)
          llvm::consumeError(value.takeError());
        if (!flags)
          llvm::consumeError(flags.takeError());
        continue;
      }
      uint64_t size = llvm::object::ELFSymbolRef(sym).getSize();
      syms.push_back({name->str(), *value, size});
      if (base < 0 && (*flags & llvm::object::SymbolRef::SF_Global)) {
        auto addr = jit.lookup(*name);
        if (addr)
          base = int64_t(addr->getValue()) - int64_t(*value);
        else
          llvm::consumeError(addr.takeError());
      }
    }
    if (base < 0)
      continue;
    for (const Sym &s : syms)
      map << std::hex << base + int64_t(s.offset) << " " << s.size << " "
          << s.name << std::dec << "\n";
  }
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

absl::StatusOr<std::unique_ptr<JitModule>>
JitModule::load(const NativeCode &code) {
  auto start = std::chrono::steady_clock::now();
  initializeNativeTarget();
  auto jitOr =
      llvm::orc::LLJITBuilder()
          .setObjectLinkingLayerCreator([](llvm::orc::ExecutionSession &es,
                                           const llvm::Triple &) {
            return std::make_unique<llvm::orc::RTDyldObjectLinkingLayer>(
                es,
                [] { return std::make_unique<llvm::SectionMemoryManager>(); });
          })
          .create();
  if (!jitOr)
    return absl::InternalError(
        absl::StrCat("JIT set-up failed: ", errorString(jitOr.takeError())));
  std::unique_ptr<llvm::orc::LLJIT> jit = std::move(*jitOr);
  char prefix = jit->getDataLayout().getGlobalPrefix();
  llvm::orc::JITDylib &main = jit->getMainJITDylib();
  // memrefCopy (strided copies) lives in MLIR's C runner utilities; the
  // thread-parallel loops call the OpenMP runtime; malloc and the math
  // functions come from the process.
  for (const char *lib : {GRADC_C_RUNNER_UTILS, GRADC_OPENMP_RUNTIME}) {
    auto gen = llvm::orc::DynamicLibrarySearchGenerator::Load(lib, prefix);
    if (!gen)
      return absl::InternalError(absl::StrCat("cannot load ", lib, ": ",
                                              errorString(gen.takeError())));
    main.addGenerator(std::move(*gen));
  }
  auto process =
      llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix);
  if (!process)
    return absl::InternalError(errorString(process.takeError()));
  main.addGenerator(std::move(*process));
  // The runtime functions compiled code calls: the data-parallel
  // allreduce.
  if (llvm::Error err = main.define(llvm::orc::absoluteSymbols(
          {{jit->mangleAndIntern(kAllreduceSymbol),
            {llvm::orc::ExecutorAddr::fromPtr(&gradcAllreduceMeanEntry),
             llvm::JITSymbolFlags::Exported}}})))
    return absl::InternalError(errorString(std::move(err)));
  for (size_t i = 0; i < code.objects.size(); ++i)
    if (llvm::Error err = jit->addObjectFile(llvm::MemoryBuffer::getMemBuffer(
            code.objects[i], absl::StrCat("gradc-", i), false)))
      return absl::InternalError(
          absl::StrCat("JIT linking failed: ", errorString(std::move(err))));
  std::unique_ptr<JitModule> module(new JitModule());
  module->arity = code.arity;
  // Link everything now, so that no step is charged for it.
  for (auto &[name, arity] : code.arity) {
    auto sym = jit->lookup((kPacked + kCInterface + name).str());
    if (!sym)
      return absl::InternalError(
          absl::StrCat("JIT linking failed: ", errorString(sym.takeError())));
    module->entries[name] = sym->toPtr<void (*)(void **)>();
  }
  if (getenv("GRADC_PERF_MAP"))
    writePerfMap(*jit, code);
  module->jit = std::move(jit);
  module->seconds = secondsSince(start);
  return module;
}

absl::StatusOr<std::unique_ptr<JitModule>>
JitModule::create(mlir::ModuleOp module, const JitOptions &options) {
  auto code = compileNative(module, options);
  if (!code.ok())
    return code.status();
  auto jit = load(*code);
  if (!jit.ok())
    return jit.status();
  (*jit)->seconds += code->seconds;
  return jit;
}

absl::Status JitModule::call(const std::string &function,
                             llvm::ArrayRef<BufferRef> args) const {
  auto it = arity.find(function);
  auto entry = entries.find(function);
  if (it == arity.end() || entry == entries.end())
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
  entry->second(packed.data());
  return absl::OkStatus();
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
