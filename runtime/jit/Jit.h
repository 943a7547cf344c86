//===- Jit.h - JIT-compiled entry points of a gradc module ------*- C++ -*-===//
//
// Compiles an LLVM-dialect module for the host CPU (its features: AVX-512
// where present, AVX2 otherwise) into relocatable objects, one per entry
// point and in parallel, links them into the process with LLVM's ORC JIT,
// and calls their C-interface entry points with caller-owned buffers.
// Code generation is runtime/jit/JitCodegen.cpp, loading and calling
// runtime/jit/JitLoader.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_JIT_H
#define GRADC_RUNTIME_JIT_H

#include "absl/status/statusor.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llvm::orc {
class LLJIT;
}

namespace gradc {

/// A caller-owned dense row-major buffer passed as a memref.
struct BufferRef {
  void *data = nullptr;
  llvm::SmallVector<int64_t, 4> shape;
};

struct JitOptions {
  /// LLVM optimization level for IR and code generation (0-3).
  int optLevel = 2;
  /// Threads LLVM compiles on, each a piece of the module.
  int compileThreads = 0; // 0: every core
};

/// What LLVM spent on one piece of a module: the functions it holds (the
/// largest first: entry points, or the parallel loops the OpenMP lowering
/// outlines from them).
struct PartitionStats {
  std::string function;
  int64_t objectBytes = 0;
  double seconds = 0; // LLVM IR optimization and code generation
};

/// A module compiled to native code: relocatable ELF objects, one per
/// piece of the module (compiled concurrently), which JitModule::load links
/// into the process and a compile cache can store.
struct NativeCode {
  std::vector<std::string> objects;
  /// Buffers each entry point takes (its C interface's arguments).
  std::map<std::string, size_t> arity;
  std::vector<PartitionStats> partitions;
  /// Wall time of translation to LLVM IR, optimization and code generation.
  double seconds = 0;
};

/// Translates `module` (already lowered to the LLVM dialect) to LLVM IR,
/// splits it into one piece of about equal size per compile thread, and
/// optimizes and compiles the pieces for the host CPU on
/// `options.compileThreads` threads. The objects are position-independent.
absl::StatusOr<NativeCode> compileNative(mlir::ModuleOp module,
                                         const JitOptions &options = {});

class JitModule {
public:
  ~JitModule();

  /// JIT-compiles `module` (already lowered to the LLVM dialect):
  /// compileNative, then load.
  static absl::StatusOr<std::unique_ptr<JitModule>>
  create(mlir::ModuleOp module, const JitOptions &options = {});

  /// Links compiled objects into the process (resolving the C library,
  /// MLIR's C runner utilities and the OpenMP runtime).
  static absl::StatusOr<std::unique_ptr<JitModule>>
  load(const NativeCode &code);

  /// Calls `function` (one of @train_step, @eval_step, @predict after
  /// bufferization: arguments, then out-parameters) with `args`. A function
  /// the module does not export, or a number of buffers other than its
  /// arity, is an error, not a call.
  absl::Status call(const std::string &function,
                    llvm::ArrayRef<BufferRef> args) const;

  /// Seconds spent in LLVM optimization and code generation (create), or
  /// in linking (load).
  double compileSeconds() const { return seconds; }

  /// The host CPU and the features the code was compiled for.
  static std::string hostDescription();

private:
  JitModule() = default;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  /// Buffers each exported function takes (its C interface's arguments).
  std::map<std::string, size_t> arity;
  /// The packed wrapper of each exported function's C interface.
  std::map<std::string, void (*)(void **)> entries;
  double seconds = 0;
};

/// What `emitNative` writes.
enum class NativeKind { LLVMIR, Assembly, Object };

/// Translates an LLVM-dialect module to LLVM IR, optimizes it at
/// `optLevel` for the host CPU exactly as the JIT does, and returns it as
/// textual LLVM IR, assembly or an ELF object file.
absl::StatusOr<std::string> emitNative(mlir::ModuleOp module, NativeKind kind,
                                       int optLevel);

} // namespace gradc

#endif // GRADC_RUNTIME_JIT_H
