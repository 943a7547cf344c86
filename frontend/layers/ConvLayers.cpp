//===- ConvLayers.cpp - conv2d --------------------------------------------===//
//
// Keras's Conv2D over NHWC with an HWIO kernel, with groups (depthwise when
// groups = input channels) and a fused activation.
//
//===----------------------------------------------------------------------===//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"

namespace gradc {
namespace {

constexpr int64_t kConvCodeBytes = int64_t(16) << 10;
constexpr int64_t kGroupConvCodeBytes = int64_t(5) << 9; // 2.5 KiB

bool checkConv2D(LayerCheck &c) {
  const Conv2D &conv = c.layer.conv2d();
  if (!c.oneInput() || !c.positiveDim("filters", conv.filters()) ||
      !c.window(conv.kernel_size(), conv.strides(), conv.dilations(),
                conv.padding(), conv.pads(), /*isPool=*/false) ||
      !c.activation(conv.activation(), conv.has_alpha(), conv.alpha()))
    return false;
  const Shape &in = c.in[0];
  int64_t filters = conv.filters();
  c.out.shape[2] = filters;
  int64_t groups = conv.groups() == 0 ? 1 : conv.groups();
  if (groups < 1 || in[2] % groups != 0 || filters % groups != 0)
    return c.fail(absl::StrCat("groups ", conv.groups(),
                               " must be positive and divide both the input "
                               "channels ",
                               in[2], " and the filters ", filters));
  c.out.attrs["groups"] = groups;
  const Window2D &w = c.out.window;
  Shape kernel = {w.size[0], w.size[1], in[2] / groups, filters};
  if (!c.elements("kernel", kernel))
    return false;
  // Fans per group, as Keras and PyTorch count them.
  int64_t rf = w.size[0] * w.size[1];
  int64_t fanIn = rf * in[2] / groups, fanOut = rf * filters / groups;
  c.param("kernel", std::move(kernel), conv.kernel_initializer(), fanIn,
          fanOut);
  bool bias = !conv.has_use_bias() || conv.use_bias();
  if (bias)
    c.param("bias", {filters}, conv.bias_initializer(), fanIn, fanOut);
  // A multiply-add per output element and tap of its group, plus the bias.
  double outputs = double(elementsOf(c.out.shape));
  c.out.flops = outputs * (2.0 * double(fanIn) + (bias ? 1 : 0));
  // Machine code, at least (bench/code_size.py): a convolution, its input
  // gradient and its filter gradient took 16.9-68.0 KiB together, depthwise
  // ones 21.3-114.7 KiB (32 to 512 channels). Other grouped ones take one
  // convolution per group for each of the three, each at least 2.5 KiB (4
  // groups of 8 channels: 119.8 KiB).
  bool depthwise = groups > 1 && in[2] == groups && filters == groups;
  c.out.codeBytes = groups == 1 || depthwise ? kConvCodeBytes
                                             : 3 * groups * kGroupConvCodeBytes;
  return true;
}

mlir::Value emitConv2D(const LayerEmit &e) {
  const Window2D &w = e.l.window;
  mlir::OpBuilder &b = e.b;
  mlir::Value y = b.create<nn::Conv2DOp>(
      e.loc, e.inputs[0], e.param("kernel"), e.param("bias"),
      b.getDenseI64ArrayAttr(w.strides), b.getDenseI64ArrayAttr(w.pads),
      b.getDenseI64ArrayAttr(w.dilations),
      nn::ActivationKindAttr::get(b.getContext(), nn::ActivationKind::None),
      b.getF64FloatAttr(0.0),
      b.getI64IntegerAttr(static_cast<int64_t>(e.l.attr("groups"))));
  return e.activate(y);
}

/// ONNX's Conv: OIHW weights, pads [top, left, bottom, right].
OnnxValue conv2DToOnnx(OnnxEmit &e) {
  const Window2D &w = e.l.window;
  int64_t kh = w.size[0], kw = w.size[1], m = e.l.shape.back();
  int64_t groups = int64_t(e.l.attr("groups"));
  int64_t cg = e.model.params[e.l.param("kernel")].shape[2];
  auto oihw = [=](int64_t k) { // HWIO index of OIHW element k
    int64_t v = k % kw, h = k / kw % kh, i = k / (kw * kh) % cg,
            o = k / (kw * kh * cg);
    return ((h * kw + v) * cg + i) * m + o;
  };
  std::vector<std::string> ins{e.input(0),
                               e.param("kernel", {m, cg, kh, kw}, oihw)};
  if (e.l.param("bias") >= 0)
    ins.push_back(e.param("bias", {m}));
  onnx::NodeProto &n = e.node("Conv", ins);
  OnnxEmit::attr(n, "kernel_shape", std::vector<int64_t>{kh, kw});
  OnnxEmit::attr(n, "strides",
                 std::vector<int64_t>(w.strides.begin(), w.strides.end()));
  OnnxEmit::attr(n, "dilations",
                 std::vector<int64_t>(w.dilations.begin(), w.dilations.end()));
  OnnxEmit::attr(
      n, "pads",
      std::vector<int64_t>{w.pads[0], w.pads[2], w.pads[1], w.pads[3]});
  OnnxEmit::attr(n, "group", groups);
  return {e.activate(n.output(0))};
}

const LayerDef kConvLayers[] = {
    {Layer::kConv2D, checkConv2D, emitConv2D, conv2DToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getConvLayerDefs() { return kConvLayers; }

} // namespace gradc
