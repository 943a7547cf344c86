//===- EmitLibrary.h - gradc compile --emit=lib -----------------*- C++ -*-===//
//
// Writes a lowered module as a shared library libNAME.so with a C header
// NAME.h (NAME_predict, NAME_eval_step, NAME_train_step taking plain
// pointers), linked by the system C compiler.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TOOLS_EMITLIBRARY_H
#define GRADC_TOOLS_EMITLIBRARY_H

#include "frontend/ModelChecker.h"

#include "absl/status/status.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace gradc {

struct LibraryOptions {
  std::string output; // libNAME.so; NAME.h goes next to it
  int threads = 1;
  int optLevel = 2;
};

/// `lowered` is `model` at `batch`, lowered to the LLVM dialect.
absl::Status emitLibrary(const ResolvedModel &model, mlir::ModuleOp lowered,
                         int64_t batch, const LibraryOptions &options);

} // namespace gradc

#endif // GRADC_TOOLS_EMITLIBRARY_H
