//===- OnnxConvPoolOps.cpp - convolution and pooling ----------------------===//
//
// The one job of this file: the converters of the window operators, which
// read an NCHW tensor: Conv (OIHW kernels to HWIO, a Pad before it taken
// into its padding), MaxPool and AveragePool, and the global poolings; and
// the windows' padding, auto_pad resolved.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

#include "absl/strings/str_join.h"

#include <algorithm>

namespace gradc::onnximport {

std::optional<std::vector<int64_t>>
OnnxImport::windowPads(const Node &n, const Tensor &x,
                       const std::vector<int64_t> &k,
                       const std::vector<int64_t> &strides,
                       const std::vector<int64_t> &dilations) {
  std::string autoPad = attrString(n, "auto_pad", "NOTSET");
  std::vector<int64_t> pads = attrInts(n, "pads");
  if (autoPad == "NOTSET") {
    if (pads.empty())
      pads.assign(4, 0);
    if (pads.size() != 4) {
      fail(n, absl::StrCat("pads has ", pads.size(), " values, expected 4"));
      return std::nullopt;
    }
    // ONNX: [top, left, bottom, right]; gradc: [top, bottom, left, right].
    return std::vector<int64_t>{pads[0], pads[2], pads[1], pads[3]};
  }
  if (autoPad == "VALID")
    return std::vector<int64_t>{0, 0, 0, 0};
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER") {
    fail(n, absl::StrCat("auto_pad '", autoPad, "' is not supported"));
    return std::nullopt;
  }
  std::vector<int64_t> out;
  for (int a = 0; a < 2; ++a) {
    int64_t in = x.dims[2 + a];
    int64_t o = (in + strides[a] - 1) / strides[a];
    int64_t total = std::max<int64_t>(
        (o - 1) * strides[a] + (k[a] - 1) * dilations[a] + 1 - in, 0);
    int64_t small = total / 2, big = total - small;
    out.push_back(autoPad == "SAME_UPPER" ? small : big);
    out.push_back(autoPad == "SAME_UPPER" ? big : small);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Operators
//===----------------------------------------------------------------------===//

bool OnnxImport::conv(const Node &n) {
  if (!onlyAttrs(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads",
                     "strides"}))
    return false;
  const Tensor *x = activation(n, 0);
  const onnx::TensorProto *w = constant(n, 1, false);
  const onnx::TensorProto *b = constant(n, 2, true);
  if (!x || !w)
    return false;
  if (x->dims.size() != 4 || w->dims_size() != 4)
    return fail(n, absl::StrCat("only 2-D convolutions are supported (a 4-D "
                                "NCHW input and OIHW weight), got a ",
                                x->dims.size(), "-D input"));
  int64_t m = w->dims(0), cg = w->dims(1), kh = w->dims(2), kw = w->dims(3);
  std::vector<int64_t> k{kh, kw};
  std::vector<int64_t> ks = attrInts(n, "kernel_shape");
  if (!ks.empty() && ks != k)
    return fail(n, absl::StrCat("kernel_shape [", absl::StrJoin(ks, ", "),
                                "] differs from the weight's [", kh, ", ", kw,
                                "]"));
  std::vector<int64_t> strides = attrInts(n, "strides"),
                       dilations = attrInts(n, "dilations");
  if (strides.empty())
    strides = {1, 1};
  if (dilations.empty())
    dilations = {1, 1};
  if (strides.size() != 2 || dilations.size() != 2)
    return fail(n, "strides and dilations need 2 values");
  auto pads = windowPads(n, *x, k, strides, dilations);
  auto weights = floats(*w, absl::StrCat("initializer '", w->name(), "'"));
  if (!pads || !weights)
    return false;
  for (size_t i = 0; i < x->pads.size(); ++i)
    (*pads)[i] += x->pads[i];
  std::optional<std::vector<float>> bias;
  if (b && !(bias = floats(*b, absl::StrCat("initializer '", b->name(), "'"))))
    return false;

  Layer layer;
  layer.set_name(layerName(n));
  Conv2D &c = *layer.mutable_conv2d();
  c.set_filters(m);
  c.add_kernel_size(kh);
  c.add_kernel_size(kw);
  for (int64_t s : strides)
    c.add_strides(s);
  for (int64_t d : dilations)
    c.add_dilations(d);
  for (int64_t p : *pads)
    c.add_pads(p);
  c.set_groups(attrInt(n, "group", 1));
  c.set_use_bias(b != nullptr);
  // OIHW to HWIO.
  std::vector<float> hwio(weights->size());
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < cg; ++i)
      for (int64_t h = 0; h < kh; ++h)
        for (int64_t v = 0; v < kw; ++v)
          hwio[((h * kw + v) * cg + i) * m + o] =
              (*weights)[((o * cg + i) * kh + h) * kw + v];
  give(n, layer.name(), "kernel", w->name(), std::move(hwio));
  if (bias)
    give(n, layer.name(), "bias", b->name(), std::move(*bias));
  addLayer(n, std::move(layer), {x});
  return true;
}

bool OnnxImport::pool(const Node &n) {
  bool isMax = n.op_type() == "MaxPool";
  if (!(isMax
            ? onlyAttrs(n, {"auto_pad", "ceil_mode", "dilations",
                            "kernel_shape", "pads", "storage_order", "strides"})
            : onlyAttrs(n, {"auto_pad", "ceil_mode", "count_include_pad",
                            "kernel_shape", "pads", "strides"})) ||
      !onlyFirstOutput(n))
    return false;
  // Attributes first: reported even when the input failed.
  std::vector<int64_t> k = attrInts(n, "kernel_shape"),
                       strides = attrInts(n, "strides"),
                       dilations = attrInts(n, "dilations");
  if (strides.empty())
    strides = {1, 1};
  if (dilations.empty())
    dilations = {1, 1};
  if (dilations != std::vector<int64_t>{1, 1})
    return fail(n, "dilations other than 1 are not supported");
  if (attrInt(n, "storage_order", 0) != 0)
    return fail(n, "storage_order 1 is not supported");
  if (strides.size() != 2 || k.size() != 2)
    return fail(n, "only 2-D pooling is supported (2 kernel_shape and "
                   "strides values)");
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  if (x->dims.size() != 4)
    return fail(n, "only 2-D pooling is supported (a 4-D NCHW input)");
  auto pads = windowPads(n, *x, k, strides, dilations);
  if (!pads)
    return false;
  if (attrInt(n, "ceil_mode", 0) != 0)
    for (int a = 0; a < 2; ++a) {
      int64_t span =
          x->dims[2 + a] + (*pads)[2 * a] + (*pads)[2 * a + 1] - k[a];
      if (span % strides[a] != 0)
        return fail(n, "ceil_mode 1 gives a larger output here than gradc's "
                       "pooling (which rounds down); it is not supported");
    }
  if (!isMax && attrInt(n, "count_include_pad", 0) != 0 &&
      std::any_of(pads->begin(), pads->end(), [](int64_t p) { return p; }))
    return fail(n, "count_include_pad 1 with padding is not supported (gradc "
                   "averages over the window's input elements)");
  Layer layer;
  Pool2D &p = isMax ? *layer.mutable_max_pool2d() : *layer.mutable_avg_pool2d();
  for (int a = 0; a < 2; ++a) {
    p.add_pool_size(k[a]);
    p.add_strides(strides[a]);
  }
  for (int64_t v : *pads)
    p.add_pads(v);
  addLayer(n, std::move(layer), {x});
  return true;
}

bool OnnxImport::globalPool(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  if (x->dims.size() != 4)
    return fail(n, "only 2-D global pooling (a 4-D NCHW input) is supported");
  Layer layer;
  if (n.op_type() == "GlobalAveragePool")
    layer.mutable_global_avg_pool2d();
  else
    layer.mutable_global_max_pool2d();
  addLayer(n, std::move(layer), {x}).squeezed = true;
  return true;
}

} // namespace gradc::onnximport
