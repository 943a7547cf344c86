//===- Importer.h - model file to the nn dialect ---------------*- C++ -*-===//
//
// Builds the `nn` module of a checked model: `@predict(input, params...)`
// with locations that point into the model file and carry the layer name,
// and the loss, optimizer and seed as module attributes for the training
// graph builder.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_IMPORTER_H
#define GRADC_FRONTEND_IMPORTER_H

#include "frontend/ModelChecker.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace gradc {

/// Imports `model` with a static batch of `batchSize` (the model's own batch
/// size when 0). The context must have the nn and func dialects loaded.
absl::StatusOr<mlir::OwningOpRef<mlir::ModuleOp>>
importModel(mlir::MLIRContext &ctx, const ResolvedModel &model,
            int64_t batchSize = 0);

/// Loads, checks and imports a model file in one step (gradc, tests).
absl::StatusOr<mlir::OwningOpRef<mlir::ModuleOp>>
importModelFile(mlir::MLIRContext &ctx, const std::string &path,
                int64_t batchSize = 0);

} // namespace gradc

#endif // GRADC_FRONTEND_IMPORTER_H
