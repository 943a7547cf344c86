//===- Diagnostics.cpp - user-facing error lines --------------------------===//

#include "frontend/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace gradc {

std::string formatDiagnostic(Diagnostic &diag) {
  std::string fileLoc, layer;
  diag.getLocation()->walk([&](Location loc) {
    if (auto f = dyn_cast<FileLineColLoc>(loc); f && fileLoc.empty()) {
      fileLoc = f.getFilename().str();
      if (f.getLine() > 0)
        fileLoc += ":" + std::to_string(f.getLine()) + ":" +
                   std::to_string(f.getColumn());
    }
    if (auto n = dyn_cast<NameLoc>(loc); n && layer.empty())
      layer = n.getName().str();
    return WalkResult::advance();
  });
  std::string out;
  llvm::raw_string_ostream os(out);
  os << (fileLoc.empty() ? "<unknown>" : fileLoc) << ": ";
  switch (diag.getSeverity()) {
  case DiagnosticSeverity::Error:
    os << "error: ";
    break;
  case DiagnosticSeverity::Warning:
    os << "warning: ";
    break;
  default:
    os << "note: ";
    break;
  }
  if (!layer.empty())
    os << "layer '" << layer << "': ";
  os << diag.str();
  return out;
}

DiagnosticCollector::DiagnosticCollector(MLIRContext &ctx) : ctx(ctx) {
  id = ctx.getDiagEngine().registerHandler([this](Diagnostic &d) {
    lines.push_back(formatDiagnostic(d));
    return success();
  });
}

DiagnosticCollector::~DiagnosticCollector() {
  ctx.getDiagEngine().eraseHandler(id);
}

std::string DiagnosticCollector::str() const {
  std::string s;
  for (const std::string &l : lines)
    s += (s.empty() ? "" : "\n") + l;
  return s;
}

} // namespace gradc
