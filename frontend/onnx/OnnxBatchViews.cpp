//===- OnnxBatchViews.cpp - tensors whose batch is not ONNX's first axis --===//
//
// The one job of this file: Transpose and Reshape that move the batch away
// from ONNX's axis 0 and back. PyTorch's nn.MultiheadAttention (and so
// nn.TransformerEncoderLayer) computes sequence first: `x.transpose(0, 1)`
// gives [T, N, D], a reshape [T, N * heads, d], a transpose [N * heads, T,
// d], and back. gradc keeps every example's values together, the batch
// first, and records where ONNX's order puts the batch (Tensor::batchAxis):
// a transpose that only moves the batch costs nothing, one that reorders
// an example's values is a permute layer, a reshape a reshape layer of the
// held dims. The batch size is not known at import: a Shape marks the
// elements that hold it (times a known factor), and a Reshape reads them
// (OnnxFoldOps.cpp).
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

#include "absl/strings/str_join.h"

namespace gradc::onnximport {

std::vector<int64_t> heldDims(const Tensor &t) {
  std::vector<int64_t> held;
  for (int64_t a = 0; a < int64_t(t.dims.size()); ++a) {
    if (a != t.batchAxis) {
      held.push_back(t.dims[a]);
      continue;
    }
    if (t.batchOuter != 1)
      held.push_back(t.batchOuter);
    if (t.batchInner != 1)
      held.push_back(t.batchInner);
  }
  return held;
}

int64_t heldAxis(const Tensor &t, int64_t axis) {
  if (axis < t.batchAxis)
    return axis + 1;
  return axis + (t.batchOuter != 1) + (t.batchInner != 1);
}

bool OnnxImport::transposeMovingBatch(const Node &n, const Tensor *x,
                                      const std::vector<int64_t> &perm) {
  if (x->squeezed || !x->flatFromCHW.empty() || x->batchOnly)
    return fail(n, "moving the batch of a Flatten or global pooling of an "
                   "NCHW tensor, or of ONNX's [N], is not supported");
  x = inOnnxOrder(x);
  int64_t rank = int64_t(x->dims.size());
  // The held dims each ONNX axis holds, in order (-1: the batch).
  std::vector<std::vector<int64_t>> factors(rank);
  int64_t h = 0;
  for (int64_t a = 0; a < rank; ++a) {
    if (a != x->batchAxis) {
      factors[a] = {h++};
      continue;
    }
    if (x->batchOuter != 1)
      factors[a].push_back(h++);
    factors[a].push_back(-1);
    if (x->batchInner != 1)
      factors[a].push_back(h++);
  }
  std::vector<int64_t> order, dims;
  int64_t axis = 0;
  for (int64_t j = 0; j < rank; ++j) {
    for (int64_t f : factors[perm[j]])
      if (f >= 0)
        order.push_back(f);
    dims.push_back(x->dims[perm[j]]);
    if (perm[j] == x->batchAxis)
      axis = j;
  }
  bool moves = false;
  for (int64_t k = 0; k < int64_t(order.size()); ++k)
    moves |= order[k] != k;
  Tensor out = *x;
  if (moves) {
    Layer layer;
    Permute &p = *layer.mutable_permute();
    for (int64_t f : order)
      p.add_dims(f + 1);
    out = addLayer(n, std::move(layer), {x});
    out.batchOnly = false;
  }
  out.dims = dims;
  out.layout = Layout::Onnx;
  out.holdBatchAs(*x);
  out.batchAxis = axis;
  tensors[n.output(0)] = out;
  return true;
}

bool OnnxImport::reshapeMovingBatch(const Node &n, const Tensor *x,
                                    std::vector<int64_t> shape,
                                    const std::vector<bool> &marks) {
  auto refuse = [&](const std::string &why) {
    std::vector<std::string> shown; // a marked element: a multiple of N
    for (size_t d = 0; d < shape.size(); ++d)
      shown.push_back(d < marks.size() && marks[d]
                          ? (shape[d] == 1 ? std::string("N")
                                           : absl::StrCat(shape[d], " * N"))
                          : absl::StrCat(shape[d]));
    return fail(n, absl::StrCat("shape [", absl::StrJoin(shown, ", "),
                                "] of an input [", absl::StrJoin(x->dims, ", "),
                                "] ", why));
  };
  if (x->squeezed || !x->flatFromCHW.empty() || x->batchOnly)
    return refuse("is not supported (a Flatten or global pooling of an NCHW "
                  "tensor, or ONNX's [N])");
  x = inOnnxOrder(x);
  std::vector<int64_t> held = heldDims(*x);
  int64_t total = 1, before = x->batchOuter;
  for (int64_t d : held)
    total = d > 0 ? total * d : -1;
  for (int64_t a = 0; a < x->batchAxis; ++a)
    before *= x->dims[a];
  if (total <= 0)
    return refuse("is not supported: a dimension is not known at import");
  bool allowzero = attrInt(n, "allowzero", 0) != 0;
  // Each element: a known size, the batch times a factor, or -1 (inferred).
  int64_t axis = -1, factor = 1, infer = -1, known = 1;
  std::vector<int64_t> dims = shape;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
    bool batch = d < int64_t(marks.size()) && marks[d];
    if (!batch && shape[d] == 0 && !allowzero) {
      if (d >= int64_t(x->dims.size()))
        return refuse("copies a dimension the input does not have");
      if (d == x->batchAxis) {
        batch = true;
        dims[d] = x->batchOuter * x->batchInner;
      } else {
        dims[d] = x->dims[d];
      }
    }
    if (batch) {
      if (axis >= 0)
        return refuse("holds the batch size twice");
      axis = d;
      factor = dims[d];
    } else if (dims[d] == -1 && infer < 0) {
      infer = d;
    } else if (dims[d] <= 0) {
      return refuse("is not supported");
    } else {
      known *= dims[d];
    }
  }
  // Without a mark, the inferred dimension is the one that holds the batch.
  if (axis < 0 && infer >= 0) {
    axis = infer;
    infer = -1;
    factor = total % known == 0 ? total / known : 0;
  } else if (infer >= 0) {
    dims[infer] = total % (known * factor) == 0 ? total / (known * factor) : 0;
    known *= dims[infer];
  }
  bool ok = axis >= 0 && factor > 0 && known * factor == total;
  for (int64_t d = 0; d < int64_t(dims.size()) && ok; ++d)
    ok = d == axis || dims[d] > 0;
  if (!ok)
    return refuse("does not hold the batch and the other dimensions "
                  "(gradc fixes the batch size only at compile time)");
  // The batch keeps its place among the held values: `before` of them come
  // first in ONNX's order.
  int64_t prefix = 1;
  for (int64_t d = 0; d < axis; ++d)
    prefix *= dims[d];
  if (before % prefix != 0 || factor % (before / prefix) != 0)
    return refuse("splits the batch from the values around it "
                  "(gradc keeps each example's values together)");
  if (dims.size() == 1)
    return refuse("is 1-D: gradc holds one value per example as [N, 1] and "
                  "would misread its axis");
  Tensor out = *x;
  out.dims = dims;
  out.dims[axis] = -1;
  out.batchAxis = axis;
  out.batchOuter = before / prefix;
  out.batchInner = factor / out.batchOuter;
  std::vector<int64_t> to = heldDims(out);
  if (to.empty())
    return refuse("leaves one value per example, which gradc holds as "
                  "[N, 1]; reshape to [N, 1] instead");
  if (to != held) {
    Layer layer;
    for (int64_t v : to)
      layer.mutable_reshape()->add_target_shape(v);
    Tensor shaped = out;
    out = addLayer(n, std::move(layer), {x});
    out.dims = shaped.dims;
    out.batchOnly = false;
    out.holdBatchAs(shaped);
  }
  tensors[n.output(0)] = out;
  // ONNX's inference gives the next nodes their shapes from this one, the
  // batch's dimension unknown.
  if (!inferred.count(n.output(0)) ||
      !inferred[n.output(0)]->tensor_type().has_shape()) {
    onnx::TensorProto s;
    s.set_data_type(onnx::TensorProto::INT64);
    s.add_dims(int64_t(out.dims.size()));
    for (int64_t v : out.dims)
      s.add_int64_data(v);
    foldedShapes[n.output(0)] = s;
  }
  return true;
}

} // namespace gradc::onnximport
