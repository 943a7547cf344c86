//===- Cache.cpp - gradc cache info | clear -------------------------------===//
//
// The compile cache's directory, entries, size and bound; or empties it.
//
//===----------------------------------------------------------------------===//

#include "runtime/jit/CompileCache.h"
#include "tools/Commands.h"

#include "absl/strings/str_format.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace gradc {

cl::SubCommand &cacheCommand() {
  static cl::SubCommand sub("cache",
                            "Show (info) or empty (clear) the compile cache");
  return sub;
}

namespace {
cl::opt<std::string> cacheAction(cl::Positional, cl::desc("info|clear"),
                                 cl::Required, cl::sub(cacheCommand()));
} // namespace

int runCache() {
  CompileCache cache(defaultCacheDir());
  if (cacheAction == "info") {
    CompileCache::Info info = cache.info();
    outs() << absl::StrFormat(
        "compile cache %s: %d entries, %.1f MiB of %.0f MiB "
        "(GRADC_CACHE_MAX_MB; least recently used evicted first)\n",
        cache.directory(), info.entries, double(info.bytes) / (1 << 20),
        double(cache.sizeBound()) / (1 << 20));
    return 0;
  }
  if (cacheAction == "clear") {
    CompileCache::Info info = cache.info();
    if (absl::Status s = cache.clear(); !s.ok()) {
      errs() << std::string(s.message()) << "\n";
      return 1;
    }
    outs() << absl::StrFormat("compile cache %s: removed %d entries\n",
                              cache.directory(), info.entries);
    return 0;
  }
  errs() << "gradc cache: error: unknown action '" << cacheAction
         << "', expected info or clear\n";
  return 1;
}

} // namespace gradc
