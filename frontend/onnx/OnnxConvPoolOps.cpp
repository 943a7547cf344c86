//===- OnnxConvPoolOps.cpp - convolution and pooling ----------------------===//
//
// The one job of this file: the converters of the window operators, which
// read an NCHW or NCW tensor and compute channels last (a 1-D window is a
// 2-D one of height 1): Conv (OIHW or OIW kernels to HWIO, a Pad before it
// taken into its padding), MaxPool and AveragePool, and the global
// poolings; and the windows' padding, auto_pad resolved.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

#include "absl/strings/str_join.h"

#include <algorithm>

namespace gradc::onnximport {

namespace {
/// A 1-D window's values (NCW: W only) as a 2-D one's of height 1.
std::vector<int64_t> asTwoD(std::vector<int64_t> v, int64_t spatial,
                            int64_t one) {
  if (spatial == 1 && v.size() == 1)
    v.insert(v.begin(), one);
  return v;
}
} // namespace

std::optional<std::vector<int64_t>>
OnnxImport::windowPads(const Node &n, const Tensor &x,
                       const std::vector<int64_t> &k,
                       const std::vector<int64_t> &strides,
                       const std::vector<int64_t> &dilations) {
  size_t spatial = x.dims.size() - 2;
  std::string autoPad = attrString(n, "auto_pad", "NOTSET");
  std::vector<int64_t> pads = attrInts(n, "pads");
  if (autoPad == "NOTSET") {
    if (pads.empty())
      pads.assign(2 * spatial, 0);
    if (pads.size() != 2 * spatial) {
      fail(n, absl::StrCat("pads has ", pads.size(), " values, expected ",
                           2 * spatial));
      return std::nullopt;
    }
    // ONNX: [top, left, bottom, right] (1-D: [left, right]); gradc: [top,
    // bottom, left, right].
    if (spatial == 1)
      return std::vector<int64_t>{0, 0, pads[0], pads[1]};
    return std::vector<int64_t>{pads[0], pads[2], pads[1], pads[3]};
  }
  if (autoPad == "VALID")
    return std::vector<int64_t>{0, 0, 0, 0};
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER") {
    fail(n, absl::StrCat("auto_pad '", autoPad, "' is not supported"));
    return std::nullopt;
  }
  // k, strides and dilations are 2-D here (height 1 for a 1-D window).
  std::vector<int64_t> out;
  for (int a = 0; a < 2; ++a) {
    int64_t in = spatial == 1 ? (a == 0 ? 1 : x.dims[2]) : x.dims[2 + a];
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
  const Tensor *x = inChannelsLast(activation(n, 0));
  const onnx::TensorProto *w = constant(n, 1, false);
  const onnx::TensorProto *b = constant(n, 2, true);
  if (!x || !w)
    return false;
  int64_t spatial = int64_t(x->dims.size()) - 2;
  if ((spatial != 1 && spatial != 2) || w->dims_size() != spatial + 2)
    return fail(n, absl::StrCat("only 1-D and 2-D convolutions are supported "
                                "(an NCW input and OIW weight, or NCHW and "
                                "OIHW), got a ",
                                x->dims.size(), "-D input and a ",
                                w->dims_size(), "-D weight"));
  int64_t m = w->dims(0), cg = w->dims(1), kh = spatial == 1 ? 1 : w->dims(2),
          kw = w->dims(spatial + 1);
  std::vector<int64_t> k{kh, kw};
  std::vector<int64_t> ks = asTwoD(attrInts(n, "kernel_shape"), spatial, 1);
  if (!ks.empty() && ks != k)
    return fail(n,
                absl::StrCat("kernel_shape [",
                             absl::StrJoin(attrInts(n, "kernel_shape"), ", "),
                             "] differs from the weight's"));
  std::vector<int64_t> strides = asTwoD(attrInts(n, "strides"), spatial, 1),
                       dilations = asTwoD(attrInts(n, "dilations"), spatial, 1);
  if (strides.empty())
    strides = {1, 1};
  if (dilations.empty())
    dilations = {1, 1};
  if (strides.size() != 2 || dilations.size() != 2)
    return fail(
        n, absl::StrCat("strides and dilations need ", spatial, " values"));
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
  // OIHW (OIW: H = 1) to HWIO.
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
  addLayer(n, std::move(layer), {x}).layout = Layout::ChannelsLast;
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
  int64_t spatial = int64_t(k.size());
  if (strides.empty())
    strides.assign(k.size(), 1);
  if (std::any_of(dilations.begin(), dilations.end(),
                  [](int64_t d) { return d != 1; }))
    return fail(n, "dilations other than 1 are not supported");
  if (attrInt(n, "storage_order", 0) != 0)
    return fail(n, "storage_order 1 is not supported");
  if ((spatial != 1 && spatial != 2) || int64_t(strides.size()) != spatial)
    return fail(n, "only 1-D and 2-D pooling is supported (1 or 2 "
                   "kernel_shape and strides values)");
  const Tensor *x = inChannelsLast(activation(n, 0));
  if (!x)
    return false;
  if (int64_t(x->dims.size()) != spatial + 2)
    return fail(n,
                absl::StrCat("a ", spatial, "-D window needs a ", spatial + 2,
                             "-D input, got ", x->dims.size(), "-D"));
  k = asTwoD(k, spatial, 1);
  strides = asTwoD(strides, spatial, 1);
  dilations = {1, 1};
  auto pads = windowPads(n, *x, k, strides, dilations);
  if (!pads)
    return false;
  if (attrInt(n, "ceil_mode", 0) != 0)
    for (int a = 0; a < 2; ++a) {
      int64_t in = spatial == 1 ? (a == 0 ? 1 : x->dims[2]) : x->dims[2 + a];
      int64_t span = in + (*pads)[2 * a] + (*pads)[2 * a + 1] - k[a];
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
  addLayer(n, std::move(layer), {x}).layout = Layout::ChannelsLast;
  return true;
}

bool OnnxImport::globalPool(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  if (x->dims.size() != 4 && x->dims.size() != 3)
    return fail(n, "only 1-D and 2-D global pooling (an NCW or NCHW input) is "
                   "supported");
  x = inChannelsLast(x);
  Layer layer;
  if (n.op_type() == "GlobalAveragePool")
    layer.mutable_global_avg_pool2d();
  else
    layer.mutable_global_max_pool2d();
  addLayer(n, std::move(layer), {x}).squeezed = true;
  return true;
}

} // namespace gradc::onnximport
