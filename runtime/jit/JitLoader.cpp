//===- JitLoader.cpp - compiled objects linked in and called --------------===//
//
// The loading half of runtime/jit/Jit.h: links the objects code generation made
// (runtime/jit/JitCodegen.cpp) into the process with LLVM's ORC JIT, resolving
// the C library, MLIR's C runner utilities, the OpenMP runtime and the
// runtime functions compiled steps call (the data-parallel allreduce), and
// calls the entry points. Memref arguments travel as pointers to
// strided-memref descriptors {allocated, aligned, offset, sizes[r],
// strides[r]}, the layout of MLIR's C interface; the packed wrapper takes a
// pointer to each of those pointers.
//
//===----------------------------------------------------------------------===//

#include "runtime/jit/Collective.h"
#include "runtime/jit/Jit.h"
#include "runtime/jit/JitTarget.h"
#include "support/Stopwatch.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/RTDyldObjectLinkingLayer.h"
#include "llvm/ExecutionEngine/SectionMemoryManager.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <malloc.h>
#include <unistd.h>

namespace gradc {

JitModule::~JitModule() = default;

namespace {
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

/// A step allocates its temporaries with malloc and frees each after its
/// last use (gradc-early-deallocation), so later buffers of the same step
/// reuse the memory. glibc would map each buffer of 32 MiB or more afresh
/// and unmap it on free, and hand the top of its heap back to the kernel,
/// page-faulting the same memory in again moments later (a 512-token
/// attention step took 1.4x as long, an unfused one 2x): keep every buffer
/// in the heap and freed memory there for the next ones.
void keepFreedStepMemory() {
  static bool once = [] {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
    return true;
  }();
  (void)once;
}
} // namespace
absl::StatusOr<std::unique_ptr<JitModule>>
JitModule::load(const NativeCode &code) {
  auto start = std::chrono::steady_clock::now();
  initializeNativeTarget();
  keepFreedStepMemory();
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

} // namespace gradc
