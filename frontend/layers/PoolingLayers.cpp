//===- PoolingLayers.cpp - max/avg pooling and global pooling -------------===//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
#include "ir/NNDialect.h"

namespace gradc {
namespace {

bool checkPool2D(LayerCheck &c) {
  const Pool2D &p = c.layer.kind_case() == Layer::kMaxPool2D
                        ? c.layer.max_pool2d()
                        : c.layer.avg_pool2d();
  if (!c.oneInput() || !c.window(p.pool_size(), p.strides(), {}, p.padding(),
                                 p.pads(), /*isPool=*/true))
    return false;
  // One comparison or addition per output element and window tap.
  c.out.flops = double(elementsOf(c.out.shape)) * double(c.out.window.size[0]) *
                double(c.out.window.size[1]);
  // Machine code, at least (bench/code_size.py): the pooling and its
  // gradient took 8.9-33.8 KiB for windows of 2x2 to 7x7.
  c.out.codeBytes = int64_t(8) << 10;
  return true;
}

template <typename OpT> mlir::Value emitPool2D(const LayerEmit &e) {
  const Window2D &w = e.l.window;
  return e.b.create<OpT>(e.loc, e.inputs[0], e.b.getDenseI64ArrayAttr(w.size),
                         e.b.getDenseI64ArrayAttr(w.strides),
                         e.b.getDenseI64ArrayAttr(w.pads));
}

/// Keras's GlobalAveragePooling2D / GlobalMaxPooling2D: [H, W, C] to [C].
bool checkGlobalPool2D(LayerCheck &c) {
  if (!c.oneInput())
    return false;
  if (c.in[0].size() != 3)
    return c.fail("global pooling expects an [H, W, C] input, got " +
                  shapeStr(c.in[0]));
  c.out.shape = {c.in[0][2]};
  c.out.flops = double(elementsOf(c.in[0]));
  return true;
}

template <typename OpT> mlir::Value emitGlobalPool2D(const LayerEmit &e) {
  return e.b.create<OpT>(e.loc, e.inputs[0]);
}

OnnxValue pool2DToOnnx(OnnxEmit &e) {
  const Window2D &w = e.l.window;
  onnx::NodeProto &n = e.node(
      e.l.kind == Layer::kMaxPool2D ? "MaxPool" : "AveragePool", {e.input(0)});
  OnnxEmit::attr(n, "kernel_shape",
                 std::vector<int64_t>(w.size.begin(), w.size.end()));
  OnnxEmit::attr(n, "strides",
                 std::vector<int64_t>(w.strides.begin(), w.strides.end()));
  OnnxEmit::attr(
      n, "pads",
      std::vector<int64_t>{w.pads[0], w.pads[2], w.pads[1], w.pads[3]});
  return {n.output(0)};
}

/// ONNX's global pooling keeps [N, C, 1, 1]; gradc's gives [N, C].
OnnxValue globalPool2DToOnnx(OnnxEmit &e) {
  onnx::NodeProto &n =
      e.node(e.l.kind == Layer::kGlobalAvgPool2D ? "GlobalAveragePool"
                                                 : "GlobalMaxPool",
             {e.input(0)});
  return {e.node("Flatten", {n.output(0)}).output(0)};
}

const LayerDef kPoolingLayers[] = {
    {Layer::kMaxPool2D, checkPool2D, emitPool2D<nn::MaxPool2DOp>, pool2DToOnnx},
    {Layer::kAvgPool2D, checkPool2D, emitPool2D<nn::AvgPool2DOp>, pool2DToOnnx},
    {Layer::kGlobalAvgPool2D, checkGlobalPool2D,
     emitGlobalPool2D<nn::GlobalAvgPool2DOp>, globalPool2DToOnnx},
    {Layer::kGlobalMaxPool2D, checkGlobalPool2D,
     emitGlobalPool2D<nn::GlobalMaxPool2DOp>, globalPool2DToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getPoolingLayerDefs() { return kPoolingLayers; }

} // namespace gradc
