//===- Compiler.h - a model's compiled steps, through the cache -*- C++ -*-===//
//
// Compiles the loaded model once per batch size, on demand: a compile cache
// hit loads the stored code without running the MLIR pipeline or LLVM; a
// miss compiles and stores.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TOOLS_COMPILER_H
#define GRADC_TOOLS_COMPILER_H

#include "tools/Session.h"

#include "runtime/jit/CompileCache.h"
#include "runtime/jit/Jit.h"

#include "absl/status/statusor.h"

#include <map>
#include <memory>
#include <optional>

namespace gradc {

struct CompilerOptions {
  int threads = 1;
  int optLevel = 2;
  bool useCache = true;
  /// Print hit or miss and the compile times to stderr.
  bool timing = false;
  /// Data-parallel ranks (mpirun -np P): the train step averages its
  /// gradients over them (module attribute nn.data_parallel).
  int64_t ranks = 1;
  /// This process's rank: its dropout masks differ from the other ranks'.
  int64_t rank = 0;
};

class Compiler {
public:
  Compiler(Session &session, CompilerOptions options);

  absl::StatusOr<const JitModule *> get(int64_t batch);

  /// MLIR and LLVM time (or cache loading time) of every module so far.
  double totalSeconds = 0;

private:
  /// The key of the imported module at `batch` with these options.
  std::string cacheKey(mlir::ModuleOp imported, int64_t batch) const;

  Session &session;
  CompilerOptions options;
  std::optional<CompileCache> cache;
  std::map<int64_t, std::unique_ptr<JitModule>> modules;
};

} // namespace gradc

#endif // GRADC_TOOLS_COMPILER_H
