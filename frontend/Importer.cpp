//===- Importer.cpp - model file to the nn dialect ------------------------===//
//
// Every op gets `NameLoc(layer, file:line:col)`, so a later diagnostic (a
// verifier, autodiff) names the layer and points into the model file.
//
//===----------------------------------------------------------------------===//

#include "frontend/Importer.h"
#include "frontend/LayerDef.h"
#include "ir/NNDialect.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace gradc {

namespace {

class ModuleBuilder {
public:
  ModuleBuilder(MLIRContext &ctx, const ResolvedModel &model, int64_t batch)
      : ctx(ctx), m(model), batch(batch), b(&ctx) {}

  absl::StatusOr<OwningOpRef<ModuleOp>> build();

private:
  RankedTensorType tensor(const std::vector<int64_t> &perExample,
                          Type element = {}) {
    SmallVector<int64_t> shape{batch};
    shape.append(perExample.begin(), perExample.end());
    return RankedTensorType::get(shape, element ? element : b.getF32Type());
  }
  /// f32, or i32 / i64 for an input of integer ids.
  Type elementType(const ResolvedModel::Input &in) {
    switch (in.dtype) {
    case Input::INT32:
      return b.getI32Type();
    case Input::INT64:
      return b.getI64Type();
    default:
      return b.getF32Type();
    }
  }
  Location layerLoc(const ResolvedLayer &l) {
    SourceLoc src = m.file->layerLocs[l.fileIndex];
    Location fileLoc =
        FileLineColLoc::get(&ctx, m.file->path, src.line, src.col);
    return NameLoc::get(b.getStringAttr(l.layer->name()), fileLoc);
  }
  MLIRContext &ctx;
  const ResolvedModel &m;
  int64_t batch;
  OpBuilder b;
  SmallVector<Value> params, buffers;
};

absl::StatusOr<OwningOpRef<ModuleOp>> ModuleBuilder::build() {
  Location modelLoc = FileLineColLoc::get(
      &ctx, m.file->path, m.file->modelLoc.line, m.file->modelLoc.col);
  OwningOpRef<ModuleOp> module = ModuleOp::create(modelLoc);
  const OptimizerSpec &o = m.optimizer;
  SmallVector<NamedAttribute> opt{
      b.getNamedAttr("kind", b.getStringAttr(o.kind)),
      b.getNamedAttr("learning_rate", b.getF64FloatAttr(o.learningRate)),
      b.getNamedAttr("weight_decay", b.getF64FloatAttr(o.weightDecay))};
  if (o.kind == "momentum") {
    opt.push_back(b.getNamedAttr("momentum", b.getF64FloatAttr(o.momentum)));
    opt.push_back(b.getNamedAttr("nesterov", b.getBoolAttr(o.nesterov)));
  } else if (o.kind == "rmsprop") {
    opt.push_back(b.getNamedAttr("rho", b.getF64FloatAttr(o.rho)));
    opt.push_back(b.getNamedAttr("epsilon", b.getF64FloatAttr(o.epsilon)));
  } else if (o.kind == "adam") {
    opt.push_back(b.getNamedAttr("beta_1", b.getF64FloatAttr(o.beta1)));
    opt.push_back(b.getNamedAttr("beta_2", b.getF64FloatAttr(o.beta2)));
    opt.push_back(b.getNamedAttr("epsilon", b.getF64FloatAttr(o.epsilon)));
  }
  (*module)->setAttr("nn.model", b.getStringAttr(m.name));
  SmallVector<NamedAttribute> loss{
      b.getNamedAttr("kind", b.getStringAttr(m.lossKind)),
      b.getNamedAttr("delta", b.getF64FloatAttr(m.huberDelta))};
  if (m.regression) // value targets: a targets argument [N, outputs]
    loss.push_back(b.getNamedAttr("regression", b.getUnitAttr()));
  (*module)->setAttr("nn.loss", b.getDictionaryAttr(loss));
  (*module)->setAttr("nn.optimizer", b.getDictionaryAttr(opt));

  // @predict(params..., buffers..., inputs...), as @train_step and
  // @eval_step take them.
  SmallVector<Type> argTypes;
  for (const ParamSpec &p : m.params)
    argTypes.push_back(RankedTensorType::get(p.shape, b.getF32Type()));
  for (const ParamSpec &p : m.buffers)
    argTypes.push_back(RankedTensorType::get(p.shape, b.getF32Type()));
  for (const ResolvedModel::Input &in : m.inputs)
    argTypes.push_back(tensor(in.shape, elementType(in)));
  Type resultType = tensor(m.outputShape());
  b.setInsertionPointToEnd(module->getBody());
  auto fn = b.create<func::FuncOp>(modelLoc, "predict",
                                   b.getFunctionType(argTypes, {resultType}));
  size_t numParams = m.params.size(), numBuffers = m.buffers.size();
  for (size_t i = 0; i < numParams; ++i)
    fn.setArgAttr(i, "nn.param", b.getStringAttr(m.params[i].name));
  for (size_t i = 0; i < numBuffers; ++i)
    fn.setArgAttr(numParams + i, "nn.buffer",
                  b.getStringAttr(m.buffers[i].name));
  for (size_t k = 0; k < m.inputs.size(); ++k)
    fn.setArgAttr(numParams + numBuffers + k, "nn.input",
                  b.getStringAttr(m.inputs[k].name));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  for (size_t i = 0; i < numParams; ++i)
    params.push_back(entry->getArgument(i));
  for (size_t i = 0; i < numBuffers; ++i)
    buffers.push_back(entry->getArgument(numParams + i));

  SmallVector<Value> values;
  for (const ResolvedLayer &l : m.layers) {
    SmallVector<Value> inputs;
    for (int p : l.inputs)
      inputs.push_back(p < 0
                           ? entry->getArgument(numParams + numBuffers - 1 - p)
                           : values[p]);
    LayerEmit emit{b, layerLoc(l), l, m, inputs, params, buffers, batch};
    Value out = findLayerDef(l.kind)->emit(emit);
    // The ops inferred their types; the checker's shapes must agree.
    if (out.getType() != tensor(l.shape)) {
      std::string inferred;
      llvm::raw_string_ostream(inferred) << out.getType();
      return absl::InternalError(
          absl::StrCat("internal error: layer '", l.layer->name(),
                       "': the ops give ", inferred, ", the model checker [N, ",
                       absl::StrJoin(l.shape, ", "), "]"));
    }
    values.push_back(out);
  }
  b.create<func::ReturnOp>(modelLoc, values.back());
  return module;
}

} // namespace

absl::StatusOr<OwningOpRef<ModuleOp>>
importModel(MLIRContext &ctx, const ResolvedModel &model, int64_t batchSize) {
  int64_t batch = batchSize > 0 ? batchSize : model.batchSize;
  auto built = ModuleBuilder(ctx, model, batch).build();
  if (!built.ok())
    return built.status();
  OwningOpRef<ModuleOp> module = std::move(*built);
  // The checker vouches for every size, so a verifier failure here is a bug
  // of ours; still report it rather than crash.
  std::string diag;
  {
    llvm::raw_string_ostream os(diag);
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      os << d.getLocation() << ": error: " << d.str() << "\n";
      return success();
    });
    if (failed(verify(*module)))
      return absl::InternalError(absl::StrCat("internal error: ", diag));
  }
  return module;
}

absl::StatusOr<OwningOpRef<ModuleOp>>
importModelFile(MLIRContext &ctx, const std::string &path, int64_t batchSize) {
  auto file = loadModelFile(path);
  if (!file.ok())
    return file.status();
  auto model = checkModel(**file);
  if (!model.ok())
    return model.status();
  return importModel(ctx, *model, batchSize);
}

} // namespace gradc
