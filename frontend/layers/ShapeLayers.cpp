//===- ShapeLayers.cpp - flatten, concat, permute, reshape and slice ------===//
//
// The layers that move elements without computing: their checks, nn ops and
// ONNX forms.
//
//===----------------------------------------------------------------------===//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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
  const Shape &s = e.model.shapeOf(producer);
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

/// Keras's Reshape: the per-example shape becomes target_shape, one size
/// of which may be -1 (the one that holds the rest).
bool checkReshape(LayerCheck &c) {
  if (!c.oneInput())
    return false;
  const auto &target = c.layer.reshape().target_shape();
  int64_t count = 1, known = 1, infer = -1;
  for (int64_t d : c.in[0])
    count *= d;
  for (int i = 0; i < target.size(); ++i) {
    if (target[i] == -1 && infer < 0) {
      infer = i;
      continue;
    }
    if (!c.positiveDim("target_shape", target[i]))
      return false;
    known *= target[i];
    if (known > count)
      break;
  }
  c.out.shape.assign(target.begin(), target.end());
  if (infer >= 0 && known > 0 && count % known == 0)
    c.out.shape[infer] = count / known;
  if (target.empty() || elementsOf(c.out.shape) != count)
    return c.fail(absl::StrCat("target_shape [", absl::StrJoin(target, ", "),
                               "] does not hold the ", count,
                               " elements of the input's ", shapeStr(c.in[0])));
  return true;
}

mlir::Value emitReshape(const LayerEmit &e) {
  return e.b.create<nn::ReshapeOp>(e.loc, e.batched(e.l.shape), e.inputs[0]);
}

/// ONNX's Reshape of gradc's row-major elements: an image (rank 3 without
/// the batch), which ONNX holds as NCHW, is taken to NHWC before and back
/// after.
OnnxValue reshapeToOnnx(OnnxEmit &e) {
  std::string x = e.input(0);
  if (e.model.shapeOf(e.l.inputs[0]).size() == 3) {
    onnx::NodeProto &t = e.node("Transpose", {x}, "_nhwc");
    OnnxEmit::attr(t, "perm", std::vector<int64_t>{0, 2, 3, 1});
    x = t.output(0);
  }
  std::vector<int64_t> shape{0}; // ONNX's 0: the batch, as it is
  shape.insert(shape.end(), e.l.shape.begin(), e.l.shape.end());
  std::string s = e.int64s(e.l.layer->name() + "_shape", shape);
  std::string y = e.node("Reshape", {x, s}).output(0);
  if (e.l.shape.size() == 3) {
    y = e.toNchw(y);
  }
  return {y};
}

/// Keras's Permute (1-based dims over the non-batch dimensions).
bool checkPermute(LayerCheck &c) {
  if (!c.oneInput())
    return false;
  const Shape &in = c.in[0];
  const auto &dims = c.layer.permute().dims();
  std::vector<bool> seen(in.size() + 1, false);
  bool ok = size_t(dims.size()) == in.size();
  for (int64_t d : dims) {
    ok = ok && d >= 1 && d <= int64_t(in.size()) && !seen[d];
    if (ok)
      seen[d] = true;
  }
  if (!ok)
    return c.fail(absl::StrCat("permute dims must be a permutation of 1..",
                               in.size(),
                               " (the input's dimensions without "
                               "the batch, 1-based), got [",
                               absl::StrJoin(dims, ", "), "]"));
  c.out.shape.clear();
  for (int64_t d : dims)
    c.out.shape.push_back(in[d - 1]);
  return true;
}

/// The permutation with the batch dimension: [0, dims...].
std::vector<int64_t> permutation(const ResolvedLayer &l) {
  std::vector<int64_t> perm{0};
  for (int64_t d : l.layer->permute().dims())
    perm.push_back(d);
  return perm;
}

mlir::Value emitPermute(const LayerEmit &e) {
  return e.b.create<nn::TransposeOp>(
      e.loc, e.inputs[0], e.b.getDenseI64ArrayAttr(permutation(e.l)));
}

/// ONNX's Transpose. gradc holds an image as NHWC and ONNX as NCHW: the
/// permutation is taken to and from NHWC around gradc's when the input or
/// the output is an image (rank 3 without the batch).
OnnxValue permuteToOnnx(OnnxEmit &e) {
  std::vector<int64_t> g = permutation(e.l);
  const std::vector<int64_t> toNhwc{0, 2, 3, 1}, toNchw{0, 3, 1, 2};
  bool image = g.size() == 4;
  std::vector<int64_t> perm(g.size());
  // ONNX's out[i] = in[perm[i]]; with both sides NCHW:
  // perm[i] = toNhwc[g[toNchw[i]]].
  for (size_t i = 0; i < g.size(); ++i)
    perm[i] = image ? toNhwc[g[toNchw[i]]] : g[i];
  onnx::NodeProto &n = e.node("Transpose", {e.input(0)});
  OnnxEmit::attr(n, "perm", perm);
  return {n.output(0)};
}

/// PyTorch's narrow: `size` elements of per-example axis `axis` (1-based)
/// from `begin`.
bool checkSlice(LayerCheck &c) {
  if (!c.oneInput())
    return false;
  const Shape &in = c.in[0];
  const Slice &sl = c.layer.slice();
  int64_t rank = int64_t(in.size());
  if (sl.axis() < 1 || sl.axis() > rank)
    return c.fail(absl::StrCat("slice axis must be 1..", rank,
                               " (the input's dimensions without the batch, "
                               "1-based), got ",
                               sl.axis()));
  int64_t dim = in[sl.axis() - 1];
  if (sl.begin() < 0 || sl.size() < 1 || sl.begin() > dim - sl.size())
    return c.fail(absl::StrCat("slice of ", sl.size(), " elements from ",
                               sl.begin(), " is not within axis ", sl.axis(),
                               " of size ", dim, " (input ", shapeStr(in),
                               ")"));
  c.out.shape = in;
  c.out.shape[sl.axis() - 1] = sl.size();
  c.out.attrs["axis"] = double(sl.axis());
  c.out.attrs["begin"] = double(sl.begin());
  return true;
}

mlir::Value emitSlice(const LayerEmit &e) {
  return e.b.create<nn::SliceOp>(
      e.loc, e.batched(e.l.shape), e.inputs[0],
      e.b.getI64IntegerAttr(int64_t(e.l.attr("axis"))),
      e.b.getI64IntegerAttr(int64_t(e.l.attr("begin"))),
      e.b.getI64IntegerAttr(e.l.shape[size_t(e.l.attr("axis")) - 1]));
}

/// ONNX's Slice (starts, ends, axes inputs); an image's H, W, C are
/// NCHW's axes 2, 3, 1.
OnnxValue sliceToOnnx(OnnxEmit &e) {
  int64_t axis = int64_t(e.l.attr("axis")), begin = int64_t(e.l.attr("begin"));
  int64_t size = e.l.shape[size_t(axis) - 1];
  if (e.inputRank(0) == 4)
    axis = axis == 3 ? 1 : axis + 1;
  std::string starts = e.int64s("starts", {begin});
  std::string ends = e.int64s("ends", {begin + size});
  std::string axes = e.int64s("axes", {axis});
  return {e.node("Slice", {e.input(0), starts, ends, axes}).output(0)};
}

const LayerDef kShapeLayers[] = {
    {Layer::kFlatten, checkFlatten, emitFlatten, flattenToOnnx},
    {Layer::kConcat, checkConcat, emitConcat, concatToOnnx},
    {Layer::kPermute, checkPermute, emitPermute, permuteToOnnx},
    {Layer::kReshape, checkReshape, emitReshape, reshapeToOnnx},
    {Layer::kSlice, checkSlice, emitSlice, sliceToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getShapeLayerDefs() { return kShapeLayers; }

} // namespace gradc
