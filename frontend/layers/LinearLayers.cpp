//===- LinearLayers.cpp - dense -------------------------------------------===//

#include "frontend/LayerDef.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gradc {
namespace {

bool checkDense(LayerCheck &c) {
  const Dense &d = c.layer.dense();
  if (!c.oneInput())
    return false;
  const Shape &in = c.in[0];
  if (in.size() != 1)
    return c.fail(absl::StrCat("dense expects a 2-D input [N, features], got "
                               "a ",
                               in.size() + 1, "-D input [N, ",
                               absl::StrJoin(in, ", "),
                               "]; add a flatten layer before it"));
  if (!c.positiveDim("units", d.units()) ||
      !c.activation(d.activation(), d.has_alpha(), d.alpha()) ||
      !c.elements("kernel", {in[0], d.units()}))
    return false;
  c.out.shape = {d.units()};
  c.param("kernel", {in[0], d.units()}, d.kernel_initializer(), in[0],
          d.units());
  bool bias = !d.has_use_bias() || d.use_bias();
  if (bias)
    c.param("bias", {d.units()}, d.bias_initializer(), in[0], d.units());
  c.out.flops = double(d.units()) * (2.0 * double(in[0]) + (bias ? 1 : 0));
  return true;
}

mlir::Value emitDense(const LayerEmit &e) {
  mlir::Value y = e.b.create<nn::DenseOp>(e.loc, e.inputs[0], e.param("kernel"),
                                          e.param("bias"));
  return e.activate(y);
}

const LayerDef kLinearLayers[] = {
    {Layer::kDense, checkDense, emitDense},
};

} // namespace

llvm::ArrayRef<LayerDef> linearLayers() { return kLinearLayers; }

} // namespace gradc
