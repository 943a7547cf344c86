//===- Compiler.cpp - a model's compiled steps, through the cache ---------===//

#include "tools/Compiler.h"
#include "support/Stopwatch.h"

#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <iostream>

namespace gradc {

Compiler::Compiler(Session &session, CompilerOptions options)
    : session(session), options(options) {
  if (options.useCache)
    cache.emplace(defaultCacheDir());
}

std::string Compiler::cacheKey(mlir::ModuleOp imported, int64_t batch) const {
  // The imported module is the model's meaning: layers, shapes, loss,
  // optimizer and seeds, without the file's path, comments or layout.
  std::string text;
  llvm::raw_string_ostream os(text);
  imported.print(os, mlir::OpPrintingFlags().enableDebugInfo(false));
  return CompileCache::key(
      {buildAndHostFingerprint(),
       absl::StrCat("batch ", batch, "; threads ", options.threads, "; opt ",
                    options.optLevel, fuseAttention() ? "" : "; unfused"),
       text});
}

absl::StatusOr<const JitModule *> Compiler::get(int64_t batch) {
  auto it = modules.find(batch);
  if (it != modules.end())
    return it->second.get();
  auto start = std::chrono::steady_clock::now();
  auto module = session.importLoaded(batch);
  if (!module)
    return absl::InvalidArgumentError("error: import failed");
  if (options.ranks > 1) {
    auto i64 = mlir::IntegerType::get((**module)->getContext(), 64);
    (**module)->setAttr("nn.data_parallel",
                        mlir::IntegerAttr::get(i64, options.ranks));
    // Each rank draws its own dropout masks: a mask is a function of
    // (seed, step, element), and the ranks' batches share step and
    // element indices.
    if (options.rank > 0)
      (**module)->walk([&](nn::DropoutOp op) {
        op.setSeed(op.getSeed() +
                   uint64_t(options.rank) * 0x9E3779B97F4A7C15ull);
      });
  }
  std::string key;
  std::optional<NativeCode> code;
  if (cache) {
    key = cacheKey(**module, batch);
    std::string warning;
    code = cache->lookup(key, &warning);
    if (!warning.empty())
      std::cerr << warning << "\n";
  }
  bool hit = code.has_value();
  double mlirSeconds = 0;
  if (!hit) {
    if (failed(session.runPipeline(**module, Stage::LLVM, nullptr,
                                   options.threads)))
      return absl::InternalError("error: compilation failed");
    mlirSeconds = secondsSince(start);
    JitOptions jitOptions;
    jitOptions.optLevel = options.optLevel;
    auto compiled = compileNative(**module, jitOptions);
    if (!compiled.ok())
      return compiled.status();
    code = std::move(*compiled);
    // The cache only saves time: a full disk is a warning, not an error.
    if (cache)
      if (absl::Status s = cache->store(key, *code); !s.ok())
        std::cerr << "gradc: warning: compiled code not cached: " << s.message()
                  << "\n";
  }
  auto jit = JitModule::load(*code);
  if (!jit.ok())
    return jit.status();
  double seconds = secondsSince(start);
  totalSeconds += seconds;
  if (options.timing) {
    if (hit) {
      std::cerr << absl::StrFormat(
          "compile cache hit for batch %d: loaded %s in %.2f s\n", batch,
          cache->path(key), seconds);
    } else {
      std::cerr << absl::StrFormat(
          "compiled for batch %d%s: MLIR pipeline %.2f s, LLVM %.2f s, "
          "linking %.2f s (%s)\n",
          batch, cache ? " (compile cache miss)" : "", mlirSeconds,
          code->seconds, (*jit)->compileSeconds(),
          JitModule::hostDescription());
      for (size_t i = 0; i < code->partitions.size(); ++i) {
        const PartitionStats &p = code->partitions[i];
        std::cerr << absl::StrFormat(
            "  piece %d (%s): LLVM %.2f s, %d bytes of code\n", i + 1,
            p.function, p.seconds, p.objectBytes);
      }
    }
  }
  const JitModule *raw = jit->get();
  modules[batch] = std::move(*jit);
  return raw;
}

} // namespace gradc
