//===- ShapeLayers.cpp - flatten and concat -------------------------------===//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"

namespace gradc {
namespace {

bool checkFlatten(LayerCheck &c) {
  if (!c.oneInput())
    return false;
  int64_t n = 1;
  for (int64_t d : c.in[0])
    n *= d; // bounded: every input shape is under kMaxElements
  c.out.shape = {n};
  return true;
}

mlir::Value emitFlatten(const LayerEmit &e) {
  return e.b.create<nn::FlattenOp>(e.loc, e.inputs[0]);
}

/// Concatenation along the channel (last) axis of two or more inputs.
bool checkConcat(LayerCheck &c) {
  if (!c.atLeastTwoInputs("concat"))
    return false;
  const Shape &first = c.in[0];
  c.out.shape = first;
  for (size_t k = 1; k < c.in.size(); ++k) {
    const Shape &s = c.in[k];
    if (s.size() != first.size() ||
        !std::equal(first.begin(), first.end() - 1, s.begin()))
      return c.fail(absl::StrCat("concat expects inputs that agree except in "
                                 "channels, got ",
                                 shapeStr(first), " and ", shapeStr(s)));
    c.out.shape.back() += s.back();
  }
  if (c.out.shape.back() > kMaxDim)
    return c.fail(absl::StrCat("concat gives ", c.out.shape.back(),
                               " channels, more than ", kMaxDim));
  return true;
}

mlir::Value emitConcat(const LayerEmit &e) {
  return e.b.create<nn::ConcatOp>(
      e.loc, e.inputs,
      e.b.getI64IntegerAttr(static_cast<int64_t>(e.l.shape.size())));
}

/// ONNX's Flatten of the NCHW tensor: features in C, H, W order, which the
/// value records for the layers that read it.
OnnxValue flattenToOnnx(OnnxEmit &e) {
  std::string x = e.input(0);
  OnnxValue v{e.node("Flatten", {x}).output(0), {}, x};
  int producer = e.l.inputs[0];
  const Shape &s =
      producer < 0 ? e.model.inputShape : e.model.layers[producer].shape;
  if (s.size() == 3 && s[2] > 1 && s[0] * s[1] > 1)
    v.chw = {s[2], s[0], s[1]};
  return v;
}

OnnxValue concatToOnnx(OnnxEmit &e) {
  std::vector<std::string> ins;
  for (size_t i = 0; i < e.in.size(); ++i)
    ins.push_back(e.input(int(i)));
  onnx::NodeProto &n = e.node("Concat", ins);
  OnnxEmit::attr(n, "axis", int64_t(1)); // channels of NCHW or [N, C]
  return {n.output(0)};
}

const LayerDef kShapeLayers[] = {
    {Layer::kFlatten, checkFlatten, emitFlatten, flattenToOnnx},
    {Layer::kConcat, checkConcat, emitConcat, concatToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getShapeLayerDefs() { return kShapeLayers; }

} // namespace gradc
