//===- ReductionLayers.cpp - the reduce layer -----------------------------===//
//
// `reduce`: a mean, sum, maximum or minimum over some dimensions of each
// example (1-based, as permute's dims), the batch never reduced; keepdims
// keeps them as 1s. Reducing every dimension without keepdims leaves [1],
// one value per example (per-example shapes have at least one dimension).
//
//===----------------------------------------------------------------------===//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>

namespace gradc {
namespace {

/// The reduced dimensions, 1-based without the batch (= 0-based with it),
/// increasing: the layer's axes, or all of them when none are given.
std::vector<int64_t> reducedAxes(const Reduce &r, size_t rank) {
  std::vector<int64_t> axes(r.axes().begin(), r.axes().end());
  if (axes.empty())
    for (size_t d = 1; d <= rank; ++d)
      axes.push_back(int64_t(d));
  std::sort(axes.begin(), axes.end());
  return axes;
}

bool checkReduce(LayerCheck &c) {
  if (!c.oneInput())
    return false;
  const Reduce &r = c.layer.reduce();
  if (!Reduce::Op_IsValid(r.op()))
    return c.fail(absl::StrCat("reduce op must be MEAN, SUM, MAX or MIN, got ",
                               int(r.op())));
  const Shape &in = c.in[0];
  std::vector<bool> seen(in.size() + 1, false);
  for (int64_t d : r.axes()) {
    if (d < 1 || d > int64_t(in.size()))
      return c.fail(absl::StrCat(
          "reduce axes must be within 1..", in.size(),
          " (the input's dimensions without the batch, 1-based), got [",
          absl::StrJoin(r.axes(), ", "), "]"));
    if (seen[d])
      return c.fail(absl::StrCat("reduce axes must not repeat a dimension, "
                                 "got [",
                                 absl::StrJoin(r.axes(), ", "), "]"));
    seen[d] = true;
  }
  std::vector<int64_t> axes = reducedAxes(r, in.size());
  c.out.shape.clear();
  for (size_t d = 1; d <= in.size(); ++d) {
    bool reduced = std::count(axes.begin(), axes.end(), int64_t(d)) > 0;
    if (!reduced)
      c.out.shape.push_back(in[d - 1]);
    else if (r.keepdims())
      c.out.shape.push_back(1);
  }
  if (c.out.shape.empty())
    c.out.shape = {1};
  // One add, max or min per input element.
  c.out.flops = double(elementsOf(in));
  // Machine code, at least (bench/code_size.py): the reduction, its
  // gradient's broadcast (and for max and min its mask and tie count) took
  // 1.1-11.3 KiB.
  c.out.codeBytes = int64_t(1) << 10;
  return true;
}

nn::ReduceKind reduceKind(Reduce::Op op) {
  switch (op) {
  case Reduce::SUM:
    return nn::ReduceKind::Sum;
  case Reduce::MAX:
    return nn::ReduceKind::Max;
  case Reduce::MIN:
    return nn::ReduceKind::Min;
  default:
    return nn::ReduceKind::Mean;
  }
}

mlir::Value emitReduce(const LayerEmit &e) {
  const Reduce &r = e.l.layer->reduce();
  mlir::Value x = e.inputs[0];
  auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
  mlir::Value y = e.b.create<nn::ReduceOp>(
      e.loc, x, nn::ReduceKindAttr::get(e.b.getContext(), reduceKind(r.op())),
      e.b.getDenseI64ArrayAttr(reducedAxes(r, type.getRank() - 1)));
  // keepdims, or [1] for a reduction of everything: a reshape.
  std::vector<int64_t> shape{type.getDimSize(0)};
  shape.insert(shape.end(), e.l.shape.begin(), e.l.shape.end());
  auto to = mlir::RankedTensorType::get(shape, type.getElementType());
  if (y.getType() == to)
    return y;
  return e.b.create<nn::ReshapeOp>(e.loc, to, y);
}

/// ReduceMean, ReduceSum (its axes an input at opset 13), ReduceMax or
/// ReduceMin. An image is NCHW in ONNX and NHWC in gradc: its axes map
/// H, W, C to 2, 3, 1, and without keepdims a kept C and one kept spatial
/// dimension come out [N, C, S], which a Transpose turns into gradc's
/// [N, S, C]. Reducing everything without keepdims keeps the dimensions
/// and flattens them to gradc's [N, 1].
OnnxValue reduceToOnnx(OnnxEmit &e) {
  const Reduce &r = e.l.layer->reduce();
  size_t rank = e.inputRank(0);
  bool image = rank == 4;
  std::vector<int64_t> axes = reducedAxes(r, rank - 1), onnxAxes;
  const int64_t toNchw[] = {0, 2, 3, 1};
  for (int64_t a : axes)
    onnxAxes.push_back(image ? toNchw[a] : a);
  std::sort(onnxAxes.begin(), onnxAxes.end());
  bool all = axes.size() == rank - 1;
  bool keep = r.keepdims() || all;
  const char *op = r.op() == Reduce::SUM   ? "ReduceSum"
                   : r.op() == Reduce::MAX ? "ReduceMax"
                   : r.op() == Reduce::MIN ? "ReduceMin"
                                           : "ReduceMean";
  std::vector<std::string> ins{e.input(0)};
  if (r.op() == Reduce::SUM)
    ins.push_back(e.int64s("axes", onnxAxes));
  onnx::NodeProto &n = e.node(op, ins);
  if (r.op() != Reduce::SUM)
    OnnxEmit::attr(n, "axes", onnxAxes);
  OnnxEmit::attr(n, "keepdims", int64_t(keep));
  std::string y = n.output(0);
  if (all && !r.keepdims())
    return {e.node("Flatten", {y}).output(0)};
  bool channelsKept = image && std::count(axes.begin(), axes.end(), 3) == 0;
  if (!keep && channelsKept && axes.size() == 1) {
    onnx::NodeProto &t = e.node("Transpose", {y});
    OnnxEmit::attr(t, "perm", std::vector<int64_t>{0, 2, 1});
    return {t.output(0)};
  }
  return {y};
}

const LayerDef kReductionLayers[] = {
    {Layer::kReduce, checkReduce, emitReduce, reduceToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getReductionLayerDefs() { return kReductionLayers; }

} // namespace gradc
