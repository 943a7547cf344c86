//===- ElementwiseLayers.cpp - activation, dropout, add -------------------===//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"

namespace gradc {
namespace {

bool checkActivation(LayerCheck &c) {
  const ActivationLayer &a = c.layer.activation();
  if (!c.oneInput() || !c.activation(a.kind(), a.has_alpha(), a.alpha()))
    return false;
  c.out.shape = c.in[0];
  return true;
}

mlir::Value emitActivation(const LayerEmit &e) {
  return e.activate(e.inputs[0]);
}

bool checkDropout(LayerCheck &c) {
  if (!c.oneInput())
    return false;
  double rate = fromFloat(c.layer.dropout().rate());
  if (!(rate >= 0 && rate < 1))
    return c.fail(absl::StrCat("dropout rate must be in [0, 1), got ", rate));
  c.out.attrs["rate"] = rate;
  c.out.shape = c.in[0];
  return true;
}

mlir::Value emitDropout(const LayerEmit &e) {
  // Each dropout layer draws its own mask stream from the model's seed
  // (wrapping, not overflowing, for any int64 seed).
  uint64_t mixed = static_cast<uint64_t>(e.model.seed) * 1000003u +
                   static_cast<uint64_t>(e.l.fileIndex);
  return e.b.create<nn::DropoutOp>(
      e.loc, e.inputs[0], mlir::Value(), e.b.getF64FloatAttr(e.l.attr("rate")),
      e.b.getI64IntegerAttr(static_cast<int64_t>(mixed)));
}

bool checkAdd(LayerCheck &c) {
  if (!c.atLeastTwoInputs("add"))
    return false;
  for (size_t k = 1; k < c.in.size(); ++k)
    if (c.in[k] != c.in[0])
      return c.fail(absl::StrCat("add expects inputs of one shape, got ",
                                 shapeStr(c.in[0]), " and ",
                                 shapeStr(c.in[k])));
  c.out.shape = c.in[0];
  return true;
}

mlir::Value emitAdd(const LayerEmit &e) {
  mlir::Value sum = e.inputs[0];
  for (mlir::Value v : e.inputs.drop_front())
    sum = e.b.create<nn::AddOp>(e.loc, sum, v);
  return sum;
}

/// Elementwise activations keep a flatten's feature order; PReLU's per-feature
/// slope needs gradc's.
OnnxValue activationToOnnx(OnnxEmit &e) {
  if (e.l.activation == PRELU)
    return {e.activate(e.input(0))};
  OnnxValue v = e.in[0];
  v.name = e.activate(v.name);
  return v;
}

/// Inference leaves dropout out.
OnnxValue dropoutToOnnx(OnnxEmit &e) { return e.in[0]; }

OnnxValue addToOnnx(OnnxEmit &e) {
  std::string sum = e.input(0);
  for (size_t i = 1; i < e.in.size(); ++i)
    sum = e.node("Add", {sum, e.input(int(i))}).output(0);
  return {sum};
}

const LayerDef kElementwiseLayers[] = {
    {Layer::kActivation, checkActivation, emitActivation, activationToOnnx},
    {Layer::kDropout, checkDropout, emitDropout, dropoutToOnnx},
    {Layer::kAdd, checkAdd, emitAdd, addToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getElementwiseLayerDefs() { return kElementwiseLayers; }

} // namespace gradc
