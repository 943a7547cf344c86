//===- JitTarget.h - what code generation and the loader share --*- C++ -*-===//
//
// Internal to the JIT (runtime/jit/JitCodegen.cpp and runtime/jit/JitLoader.cpp; the
// public header is runtime/jit/Jit.h): the one-time set-up of LLVM's native
// target, the prefixes of the symbols MLIR gives an entry point's C
// interface and its packed wrapper, and LLVM errors as text.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_RUNTIME_JITTARGET_H
#define GRADC_RUNTIME_JITTARGET_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace gradc {

/// The entry point F's C interface is `_mlir_ciface_F`; its packed wrapper
/// (one `void **` argument) is `_mlir__mlir_ciface_F`.
constexpr llvm::StringLiteral kCInterface = "_mlir_ciface_";
constexpr llvm::StringLiteral kPacked = "_mlir_";

/// Initializes LLVM's native target and asm printer, and sets the heap up
/// for compiled steps, once per process.
void initializeNativeTarget();

/// The message of `err` (consumed).
std::string errorString(llvm::Error err);

} // namespace gradc

#endif // GRADC_RUNTIME_JITTARGET_H
