//===- Jit.h - JIT-compiled entry points of a gradc module ------*- C++ -*-===//
//
// Wraps MLIR's ExecutionEngine: compiles an LLVM-dialect module for the host
// CPU (its features: AVX-512 where present, AVX2 otherwise) and calls its
// C-interface entry points with caller-owned buffers.
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

namespace mlir {
class ExecutionEngine;
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
};

class JitModule {
public:
  ~JitModule();

  /// JIT-compiles `module` (already lowered to the LLVM dialect).
  static absl::StatusOr<std::unique_ptr<JitModule>>
  create(mlir::ModuleOp module, const JitOptions &options = {});

  /// Calls `function` (one of @train_step, @eval_step, @predict after
  /// bufferization: arguments, then out-parameters) with `args`. A function
  /// the module does not export, or a number of buffers other than its
  /// arity, is an error, not a call.
  absl::Status call(const std::string &function,
                    llvm::ArrayRef<BufferRef> args) const;

  /// Seconds spent in LLVM optimization and code generation.
  double compileSeconds() const { return seconds; }

  /// The host CPU and the features the code was compiled for.
  static std::string hostDescription();

private:
  JitModule() = default;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  /// Buffers each exported function takes (its C interface's arguments).
  std::map<std::string, size_t> arity;
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
