//===- LinearLayers.cpp - dense -------------------------------------------===//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
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
  // Machine code, at least (bench/code_size.py): the matmul and its two
  // gradient matmuls took 18.7-60.4 KiB from 16 to 1,024 units.
  c.out.codeBytes = int64_t(16) << 10;
  return true;
}

mlir::Value emitDense(const LayerEmit &e) {
  mlir::Value y = e.b.create<nn::DenseOp>(e.loc, e.inputs[0], e.param("kernel"),
                                          e.param("bias"));
  return e.activate(y);
}

/// ONNX's Gemm with transB = 1 (B is [out, in], as PyTorch's Linear). An
/// input flattened from NCHW orders its features C, H, W: B's columns follow.
OnnxValue denseToOnnx(OnnxEmit &e) {
  const std::vector<int64_t> chw = e.in[0].chw;
  int64_t units = e.l.shape[0];
  int64_t in = e.model.params[e.l.param("kernel")].shape[0];
  auto outIn = [=](int64_t k) { // [in, out] index of [out, in] element k
    int64_t u = k / in, f = k % in;
    if (!chw.empty()) { // ONNX feature f = (c, h, w): gradc's (h, w, c)
      int64_t c = f / (chw[1] * chw[2]), hw = f % (chw[1] * chw[2]);
      f = hw * chw[0] + c;
    }
    return f * units + u;
  };
  std::vector<std::string> ins{e.in[0].name,
                               e.param("kernel", {units, in}, outIn)};
  if (e.l.param("bias") >= 0)
    ins.push_back(e.param("bias", {units}));
  onnx::NodeProto &n = e.node("Gemm", ins);
  OnnxEmit::attr(n, "transB", int64_t(1));
  return {e.activate(n.output(0))};
}

const LayerDef kLinearLayers[] = {
    {Layer::kDense, checkDense, emitDense, denseToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getLinearLayerDefs() { return kLinearLayers; }

} // namespace gradc
