//===- OnnxReductionOps.cpp - ReduceMean, ReduceSum, ReduceL2 and the others
//-===//
//
// The one job of this file: the converter of the reductions. ReduceMean,
// ReduceSum, ReduceMax and ReduceMin are a reduce layer each; ReduceL1,
// ReduceL2, ReduceSumSquare, ReduceLogSum and ReduceLogSumExp a sum between
// elementwise layers (|x|, x * x before it; sqrt, log after it;
// ReduceLogSumExp as log(sum(exp(x - max))) + max, so no exp overflows). The
// axes are an attribute (ReduceSum's a second input from opset 13),
// keepdims 1 by default, noop_with_empty_axes honoured; the batch (axis 0)
// is never reduced. An NCHW tensor's axes map to gradc's NHWC (C, H, W to
// 3, 1, 2); without keepdims, a kept C and one kept spatial axis come out of
// gradc as [N, S, C], which a permute turns into ONNX's [N, C, S].
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

#include "absl/strings/str_join.h"

#include <algorithm>

namespace gradc::onnximport {

namespace {
Layer activationLayer(Activation kind) {
  Layer l;
  l.mutable_activation()->set_kind(kind);
  return l;
}
} // namespace

bool OnnxImport::reduce(const Node &n) {
  if (!onlyAttrs(n, {"axes", "keepdims", "noop_with_empty_axes"}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  int64_t rank = int64_t(x->dims.size());
  auto read = axesOf(n); // ReduceSum's an input from opset 13
  if (!read)
    return false;
  std::vector<int64_t> axes = *read;
  bool keepdims = attrInt(n, "keepdims", 1) != 0;
  if (axes.empty() && attrInt(n, "noop_with_empty_axes", 0)) {
    tensors[n.output(0)] = *x;
    return true;
  }
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  std::vector<int64_t> given = axes;
  for (int64_t &a : axes) {
    if (a < -rank || a >= rank)
      return fail(n,
                  absl::StrCat("axes [", absl::StrJoin(given, ", "),
                               "] out of range for a rank-", rank, " input"));
    a = a < 0 ? a + rank : a;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return fail(n, absl::StrCat("axes [", absl::StrJoin(given, ", "),
                                "] repeat an axis"));
  if (axes[0] == 0)
    return fail(n, absl::StrCat("axes [", absl::StrJoin(given, ", "),
                                "] reduce the batch (axis 0), which gradc "
                                "never does (it reduces within each example)"));
  if (x->squeezed)
    return fail(n, "reducing a global pooling's [N, C, 1, 1] output (which "
                   "gradc holds as [N, C]) is not supported");
  if (!x->flatFromCHW.empty() && axes != std::vector<int64_t>{1})
    return fail(n, "the input is a Flatten of an NCHW tensor, whose features "
                   "gradc orders H, W, C; only a reduction over all of them "
                   "(axes [1]) may read it");
  if (rank != 4)
    x = inOnnxOrder(x);
  const std::string &op = n.op_type();
  std::string name = layerName(n);
  // A layer of x's shape and layout, `kind` of `inputs`.
  auto elementwise = [&](const std::string &suffix, Layer layer,
                         std::vector<std::string> inputs, const Tensor &like) {
    Tensor t = like;
    t.layer = appendLayer(name + "/" + suffix, std::move(layer), inputs);
    return t;
  };
  if (op == "ReduceLogSumExp") {
    // max over the axes, kept, for x - max; the sum's log plus the max in
    // the output's shape.
    Tensor kept = reduceLayers(n, x, Reduce::MAX, true, axes,
                               uniqueLayerName(name + "/max"));
    kept.dims = x->dims;
    for (int64_t a : axes)
      kept.dims[a] = 1;
    Layer sub;
    sub.mutable_subtract();
    Tensor d =
        elementwise("shifted", std::move(sub), {x->layer, kept.layer}, *x);
    Tensor e = elementwise("exp", activationLayer(EXP), {d.layer}, *x);
    Tensor sum = reduceLayers(n, &e, Reduce::SUM, keepdims, axes,
                              uniqueLayerName(name + "/sum"));
    Tensor log = elementwise("log", activationLayer(LOG), {sum.layer}, sum);
    Tensor max = keepdims ? kept
                          : reduceLayers(n, x, Reduce::MAX, false, axes,
                                         uniqueLayerName(name + "/max_out"));
    Layer add;
    add.set_name(name);
    add.mutable_add();
    addLayer(n, std::move(add), {&log, &max}).holdAs(log);
    return true;
  }
  Reduce::Op kind = op == "ReduceMax"    ? Reduce::MAX
                    : op == "ReduceMin"  ? Reduce::MIN
                    : op == "ReduceMean" ? Reduce::MEAN
                                         : Reduce::SUM;
  Tensor in = *x;
  if (op == "ReduceL1") {
    in = elementwise("abs", activationLayer(ABS), {x->layer}, *x);
  } else if (op == "ReduceL2" || op == "ReduceSumSquare") {
    Layer square;
    square.mutable_multiply();
    in = elementwise("square", std::move(square), {x->layer, x->layer}, *x);
  }
  bool after = op == "ReduceL2" || op == "ReduceLogSum";
  Tensor out = reduceLayers(n, &in, kind, keepdims, axes,
                            after ? uniqueLayerName(name + "/sum") : name);
  if (after) {
    Layer f = activationLayer(op == "ReduceL2" ? SQRT : LOG);
    f.set_name(name);
    addLayer(n, std::move(f), {&out}).holdAs(out);
    tensors[n.output(0)].dims = out.dims;
  }
  return true;
}

Tensor OnnxImport::reduceLayers(const Node &n, const Tensor *x, Reduce::Op op,
                                bool keepdims, const std::vector<int64_t> &axes,
                                const std::string &name) {
  int64_t rank = int64_t(x->dims.size());
  Layer layer;
  layer.set_name(name);
  Reduce &r = *layer.mutable_reduce();
  r.set_op(op);
  r.set_keepdims(keepdims);
  const int64_t toNhwc[] = {0, 3, 1, 2}; // ONNX's C, H, W in gradc's NHWC
  std::vector<int64_t> g;
  for (int64_t a : axes)
    g.push_back(x->channelsLast() ? toNhwc[a] : a);
  std::sort(g.begin(), g.end());
  for (int64_t a : g)
    r.add_axes(a);
  int64_t batch = x->dims[0];
  bool channelsLast = x->channelsLast();
  Tensor *out = &addLayer(n, std::move(layer), {x});
  if (keepdims)
    out->layout = x->layout;
  bool all = int64_t(axes.size()) == rank - 1;
  if (all && !keepdims) // gradc's [N, 1] for ONNX's [N]
    out->dims = {batch, 1};
  bool channelsKept = axes[0] != 1;
  // Without keepdims the output is held in ONNX's order: a reduction of
  // H or W of NHWC leaves [W, C] or [H, C], which ONNX has as [C, W] or
  // [C, H].
  if (channelsLast && !keepdims && channelsKept && axes.size() == 1) {
    Tensor reduced = *out;
    Layer swap;
    Permute &p = *swap.mutable_permute();
    p.add_dims(2);
    p.add_dims(1);
    std::vector<int64_t> dims = out->dims;
    out = &addLayer(n, std::move(swap), {&reduced});
    if (out->dims.empty())
      out->dims = dims;
  }
  return *out;
}

} // namespace gradc::onnximport
