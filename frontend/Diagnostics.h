//===- Diagnostics.h - user-facing error lines ------------------*- C++ -*-===//
//
// Turns MLIR diagnostics into the one-line form users see for model files:
// "file:line:col: error: layer 'conv1': message".
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_DIAGNOSTICS_H
#define GRADC_FRONTEND_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <string>
#include <vector>

namespace gradc {

/// Formats `diag` as "file:line:col: error: layer 'name': message".
std::string formatDiagnostic(mlir::Diagnostic &diag);

/// While alive, collects every diagnostic of `ctx` as formatted lines.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext &ctx);
  ~DiagnosticCollector();
  /// The collected lines joined by newlines.
  std::string str() const;
  bool empty() const { return lines.empty(); }

private:
  mlir::MLIRContext &ctx;
  mlir::DiagnosticEngine::HandlerID id;
  std::vector<std::string> lines;
};

} // namespace gradc

#endif // GRADC_FRONTEND_DIAGNOSTICS_H
