//===- OnnxShapeOps.cpp - flatten, reshape, concat, pad, constants --------===//
//
// The one job of this file: the converters of the operators that move or
// name values rather than compute them: Flatten, Reshape (a reshape layer
// within each example), Concat,
// Transpose (a permute layer), Identity,
// Pad (taken into the Conv that reads it), Constant, Unsqueeze, Squeeze
// and Reshape of constants, and Gather of one index of an activation (a
// slice).
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

#include "absl/strings/str_join.h"

#include <algorithm>

namespace gradc::onnximport {

Tensor &OnnxImport::flattenLayer(const Node &n, const Tensor &x) {
  Layer layer;
  layer.mutable_flatten();
  Tensor in = x; // addLayer may move the map's nodes' contents
  Tensor &out = addLayer(n, std::move(layer), {&x});
  // A channels-last tensor's features in H, W, C order (NCW's in W, C).
  int64_t spatial = 1;
  for (size_t d = 2; d < in.dims.size(); ++d)
    spatial *= in.dims[d];
  if (in.channelsLast() && in.dims[1] > 1 && spatial > 1)
    out.flatFromCHW = {in.dims[1], in.dims.size() == 4 ? in.dims[2] : 1,
                       in.dims.back()};
  else
    out.flatFromCHW = in.flatFromCHW;
  return out;
}

bool OnnxImport::flatten(const Node &n) {
  if (!onlyAttrs(n, {"axis"}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  int64_t axis = attrAxis(n, 1, x->dims.size());
  if (axis != 1)
    return fail(n, absl::StrCat("axis ", attrInt(n, "axis", 1),
                                " is not supported (only 1: [N, features])"));
  flattenLayer(n, *x);
  return true;
}

bool OnnxImport::reshape(const Node &n) {
  if (hasInput(n, 0) && constants.count(n.input(0)))
    return reshapeConstant(n);
  if (!onlyAttrs(n, {"allowzero"}))
    return false;
  const Tensor *x = activation(n, 0);
  const onnx::TensorProto *s = constant(n, 1, false);
  if (!x || !s)
    return false;
  auto shape = int64s(*s, absl::StrCat("shape '", s->name(), "'"));
  if (!shape)
    return false;
  // A Shape's batch size (marked; its value the factor it is multiplied
  // by) at dimension 0 keeps the batch first (ONNX's 0, "as the input's");
  // anywhere else, or times a factor, it moves the batch.
  std::vector<bool> marks;
  if (auto m = batchMarks.find(s->name()); m != batchMarks.end())
    marks = m->second;
  bool moves = !x->batchFirst();
  for (size_t d = 0; d < marks.size(); ++d)
    moves |= marks[d] && (d > 0 || (*shape)[0] != 1);
  if (moves)
    return reshapeMovingBatch(n, x, *shape, marks);
  const std::vector<int64_t> asGiven = *shape;
  if (!marks.empty() && marks[0])
    (*shape)[0] = 0;
  int64_t features = 1;
  for (size_t d = 1; d < x->dims.size(); ++d)
    features *= x->dims[d];
  int64_t batch = x->dims.empty() ? -1 : x->dims[0];
  if (!inferred.count(n.output(0)) ||
      !inferred[n.output(0)]->tensor_type().has_shape()) {
    // reinfer() gives the file's inference it
    onnx::TensorProto &folded = foldedShapes[n.output(0)];
    folded.set_data_type(onnx::TensorProto::INT64);
    folded.add_dims(int64_t(shape->size()));
    for (int64_t v : *shape)
      folded.add_int64_data(v);
  }
  const std::vector<int64_t> &t = *shape;
  bool keepsBatch = !t.empty() && (t[0] == -1 || t[0] == 0 || t[0] == batch);
  if (keepsBatch && t.size() == 2 && (t[1] == -1 || t[1] == features) &&
      features > 0) {
    flattenLayer(n, *x).dims = {batch, features};
    return true;
  }
  bool same = keepsBatch && t.size() == x->dims.size();
  for (size_t d = 1; d < t.size() && same; ++d)
    same = t[d] == x->dims[d] || (t[d] == 0 && !attrInt(n, "allowzero", 0));
  if (same) {
    tensors[n.output(0)] = *x;
    return true;
  }
  // Any other shape that keeps the batch first: a reshape layer of the
  // per-example shape, in ONNX's order.
  std::vector<int64_t> per;
  int64_t known = 1, infer = -1;
  bool ok = t.size() >= 2 && !x->squeezed && x->flatFromCHW.empty();
  for (size_t d = 1; d < t.size() && ok; ++d) {
    int64_t v = t[d] == 0 && !attrInt(n, "allowzero", 0) && d < x->dims.size()
                    ? x->dims[d]
                    : t[d];
    if (v == -1 && infer < 0 && t[0] != -1)
      infer = int64_t(per.size());
    else if (v <= 0)
      ok = false;
    else
      known *= v;
    per.push_back(v);
  }
  if (ok && infer >= 0 && known > 0 && features % known == 0)
    per[infer] = features / known;
  ok = ok && (keepsBatch || t[0] == -1) && features > 0;
  int64_t count = 1;
  for (int64_t v : per)
    count = v > 0 && count <= features ? count * v : -1;
  // A shape that moves the batch (its marks dropped by the reinference:
  // the batch is the -1).
  if (!ok || count != features)
    return reshapeMovingBatch(n, x, asGiven, marks);
  Layer layer;
  for (int64_t v : per)
    layer.mutable_reshape()->add_target_shape(v);
  Tensor &out = addLayer(n, std::move(layer), {inOnnxOrder(x)});
  // The shape that ONNX's inference could not give (a shape computed by
  // folded nodes) is the one computed here.
  out.dims = {batch};
  out.dims.insert(out.dims.end(), per.begin(), per.end());
  return true;
}

/// Squeeze or Unsqueeze of an activation (axes an attribute, or a constant
/// input from opset 13): a reshape layer of each example, in ONNX's order,
/// to the shape ONNX's inference gives; the batch (axis 0) stays.
bool OnnxImport::squeezeActivation(const Node &n) {
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  auto given = axesOf(n);
  if (!given)
    return false;
  const std::vector<int64_t> &axes = *given;
  bool un = n.op_type() == "Unsqueeze";
  int64_t rank = int64_t(x->dims.size()) + (un ? int64_t(axes.size()) : 0);
  for (int64_t a : axes)
    if ((a == 0 || a == -rank) && (un || x->batchFirst()))
      return fail(n, absl::StrCat(un ? "inserting" : "removing",
                                  " axis 0 moves the batch, which gradc "
                                  "keeps first"));
  if (!un && axes.empty())
    return fail(n, "Squeeze without axes (of every size-1 axis) is not "
                   "supported: the batch might be one");
  if (x->squeezed || !x->flatFromCHW.empty())
    return fail(n, "the input is a Flatten or global pooling of an NCHW "
                   "tensor, whose features gradc orders differently");
  if (!un && !x->batchFirst()) {
    // ONNX's dims without the squeezed ones, the batch where it was.
    std::vector<int64_t> shape;
    std::vector<bool> marks;
    int64_t rank = int64_t(x->dims.size());
    for (int64_t d = 0; d < rank; ++d) {
      if (std::count(axes.begin(), axes.end(), d) ||
          std::count(axes.begin(), axes.end(), d - rank)) {
        if (d == x->batchAxis || x->dims[d] != 1)
          return fail(n, absl::StrCat("axis ", d, " is not of size 1"));
        continue;
      }
      bool batch = d == x->batchAxis;
      shape.push_back(batch ? x->batchOuter * x->batchInner : x->dims[d]);
      marks.push_back(batch);
    }
    return reshapeMovingBatch(n, x, shape, marks);
  }
  auto it = inferred.find(n.output(0));
  std::vector<int64_t> per;
  if (it != inferred.end() && it->second->tensor_type().has_shape())
    for (const auto &d : it->second->tensor_type().shape().dim())
      per.push_back(d.has_dim_value() ? d.dim_value() : -1);
  if (per.empty() ||
      std::any_of(per.begin() + 1, per.end(), [](int64_t d) { return d < 1; }))
    return fail(n, "has no shape that ONNX's shape inference could give");
  per.erase(per.begin());
  if (per.empty()) // [N]: gradc's [N, 1]
    per = {1};
  Layer layer;
  for (int64_t v : per)
    layer.mutable_reshape()->add_target_shape(v);
  addLayer(n, std::move(layer), {inOnnxOrder(x)});
  return true;
}

/// Expand of an activation to a constant shape (NumPy broadcasting, the
/// batch kept): a multiply by a constant 1 of the output's per-example
/// shape, whose gradient sums over the repeated axes.
bool OnnxImport::expand(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  const Tensor *x = activation(n, 0);
  auto shape = folded(n, 1, false);
  if (!x || !shape)
    return false;
  if (!shape->isInt() || !shape->unmarked())
    return failInput(n, 1, "must be integers fixed at import");
  if (shape->v.size() != x->dims.size())
    return fail(n, absl::StrCat("a shape of ", shape->v.size(),
                                " dimensions for an input of ", x->dims.size(),
                                " would move the batch (gradc keeps it "
                                "first: the same rank only)"));
  if (shape->v[0] != 1 && shape->v[0] != x->dims[0])
    return fail(n, "repeats the batch, which gradc keeps as it is");
  std::vector<int64_t> per;
  for (size_t d = 1; d < x->dims.size(); ++d) {
    int64_t want = int64_t(shape->v[d]), have = x->dims[d];
    if (want < 0 || (want != 1 && have != 1 && want != have))
      return failInput(n, 1,
                       absl::StrCat("does not broadcast with the "
                                    "input at dimension ",
                                    d));
    per.push_back(std::max(want, have));
  }
  if (std::equal(per.begin(), per.end(), x->dims.begin() + 1)) {
    tensors[n.output(0)] = *x; // nothing repeats
    return true;
  }
  if (x->squeezed || !x->flatFromCHW.empty())
    return fail(n, "the input is a Flatten or global pooling of an NCHW "
                   "tensor, whose features gradc orders differently");
  x = inOnnxOrder(x);
  Layer ones;
  Constant &c = *ones.mutable_constant();
  for (int64_t v : per)
    c.add_shape(v);
  c.set_value(1.0f);
  std::string base = nodeName(n).empty() ? n.op_type() : nodeName(n);
  Tensor one = *x;
  one.layer = appendLayer(base + "/ones", std::move(ones), {});
  Layer mul;
  mul.mutable_multiply();
  addLayer(n, std::move(mul), {x, &one});
  return true;
}

bool OnnxImport::concat(const Node &n) {
  if (!onlyAttrs(n, {"axis"}))
    return false;
  if (std::all_of(n.input().begin(), n.input().end(),
                  [&](const std::string &in) { return constants.count(in); }))
    return foldConcat(n);
  std::vector<const Tensor *> in;
  for (int i = 0; i < n.input_size(); ++i)
    if (const Tensor *t = activation(n, i))
      in.push_back(t);
    else
      return false;
  if (in.size() < 2)
    return fail(n, "expects at least 2 inputs");
  int64_t rank = in[0]->dims.size();
  int64_t axis = attrAxis(n, 1, rank);
  // gradc concatenates along the axis it holds last: the channels of
  // channels-last inputs, or ONNX's last axis.
  bool allLast = std::all_of(in.begin(), in.end(),
                             [](const Tensor *t) { return t->channelsLast(); });
  if (!allLast || axis != 1)
    for (const Tensor *&t : in)
      t = inOnnxOrder(t);
  if (axis != channelAxis(*in[0]) || rank < 2 || in[0]->squeezed ||
      !in[0]->flatFromCHW.empty())
    return fail(n,
                absl::StrCat("axis ", attrInt(n, "axis", 1), " of rank-", rank,
                             " inputs is not supported (only the channel "
                             "axis)"));
  Layer layer;
  layer.mutable_concat();
  addLayer(n, std::move(layer), in).holdAs(*in[0]);
  return true;
}

bool OnnxImport::split(const Node &n) {
  if (!onlyAttrs(n, {"axis", "split"}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  if (!x->flatFromCHW.empty() || x->squeezed)
    return fail(n, "splitting a Flatten or global pooling of an NCHW tensor, "
                   "whose features gradc orders differently, is not "
                   "supported");
  int64_t rank = int64_t(x->dims.size());
  int64_t axis = attrAxis(n, 0, rank);
  if (axis < 0 || axis >= rank || axis == x->batchAxis)
    return fail(n, absl::StrCat("axis ", attrInt(n, "axis", 0),
                                " is not supported (gradc keeps the batch "
                                "whole)"));
  int64_t size = x->dims[axis], outputs = n.output_size();
  // The sizes: input 1 (opset 13 on), the attribute, or equal parts.
  std::vector<int64_t> sizes = attrInts(n, "split");
  if (hasInput(n, 1)) {
    const onnx::TensorProto *s = constant(n, 1, false);
    if (!s)
      return false;
    auto v = int64s(*s, absl::StrCat("split '", s->name(), "'"));
    if (!v)
      return false;
    sizes = *v;
  }
  if (sizes.empty() && outputs > 0 && size % outputs == 0)
    sizes.assign(size_t(outputs), size / outputs);
  int64_t total = 0;
  for (int64_t v : sizes)
    total += v > 0 ? v : -size - 1; // a size below 1 fails the sum
  if (int64_t(sizes.size()) != outputs || total != size)
    return fail(n, absl::StrCat("cannot split axis ", axis, " of ", size,
                                " into ", outputs, " parts of [",
                                absl::StrJoin(sizes, ", "), "]"));
  const int64_t toNhwc[] = {0, 3, 1, 2};
  if (x->channelsLast() && rank != 4)
    x = inOnnxOrder(x);
  Tensor in = *x;
  std::string base = nodeName(n).empty() ? n.op_type() : nodeName(n);
  int64_t begin = 0;
  for (int64_t k = 0; k < outputs; ++k) {
    Layer l;
    Slice &sl = *l.mutable_slice();
    sl.set_axis(in.channelsLast() && rank == 4 ? toNhwc[axis]
                                               : heldAxis(in, axis));
    sl.set_begin(begin);
    sl.set_size(sizes[k]);
    begin += sizes[k];
    Tensor out = in;
    out.layer =
        appendLayer(absl::StrCat(base, "/", k), std::move(l), {in.layer});
    out.dims[axis] = sizes[k];
    tensors[n.output(k)] = out;
  }
  return true;
}

/// A permute layer: the batch stays first; an NCHW tensor (which gradc
/// holds as NHWC) is permuted as its NHWC form: g[j] = toNchw[perm[toNhwc[j]]].
bool OnnxImport::transpose(const Node &n) {
  if (!onlyAttrs(n, {"perm"}))
    return false;
  if (hasInput(n, 0) && constants.count(n.input(0)))
    return transposeConstant(n);
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  size_t rank = x->dims.size();
  std::vector<int64_t> perm = attrInts(n, "perm");
  if (perm.empty()) // ONNX's default: the dimensions reversed
    for (size_t i = 0; i < rank; ++i)
      perm.push_back(int64_t(rank - 1 - i));
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] != int64_t(i) || sorted.size() != rank)
      return fail(n, absl::StrCat("perm [", absl::StrJoin(perm, ", "),
                                  "] is not a permutation of the ", rank,
                                  " axes of its input"));
  if (perm[0] != 0 || !x->batchFirst())
    return transposeMovingBatch(n, x, perm);
  if (x->squeezed || !x->flatFromCHW.empty())
    return fail(n, "transposing a Flatten of an NCHW tensor or a global "
                   "pooling's output is not supported");
  if (rank != 4)
    x = inOnnxOrder(x);
  std::vector<int64_t> g = perm;
  if (x->channelsLast()) {
    const int64_t toNhwc[] = {0, 2, 3, 1}, toNchw[] = {0, 3, 1, 2};
    for (size_t j = 0; j < 4; ++j)
      g[j] = toNchw[perm[toNhwc[j]]];
  }
  bool identityPerm = true;
  for (size_t j = 0; j < rank; ++j)
    identityPerm &= g[j] == int64_t(j);
  if (identityPerm) {
    tensors[n.output(0)] = *x;
    return true;
  }
  Layer layer;
  Permute &p = *layer.mutable_permute();
  for (size_t j = 1; j < rank; ++j)
    p.add_dims(g[j]);
  addLayer(n, std::move(layer), {x}).holdAs(*x);
  return true;
}

bool OnnxImport::identity(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  if (hasInput(n, 0) && constants.count(n.input(0))) {
    auto t = std::make_unique<onnx::TensorProto>(*constants[n.input(0)]);
    t->set_name(n.output(0));
    if (batchMarks.count(n.input(0)))
      batchMarks[n.output(0)] = batchMarks[n.input(0)];
    addConstant(n.output(0), std::move(t));
    return true;
  }
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  tensors[n.output(0)] = *x;
  return true;
}

bool OnnxImport::constantOp(const Node &n) {
  if (!onlyAttrs(n, {"value"}))
    return false;
  const auto *a = attr(n, "value");
  if (!a || !a->has_t())
    return fail(n, "needs a tensor 'value'");
  auto t = std::make_unique<onnx::TensorProto>(a->t());
  t->set_name(n.output(0));
  addConstant(n.output(0), std::move(t));
  return true;
}

/// Zero padding of H and W (constant mode, value 0): none is an identity,
/// some is taken over by the Conv that reads it.
bool OnnxImport::pad(const Node &n) {
  if (!onlyAttrs(n, {"mode", "pads", "value"}))
    return false;
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  std::vector<int64_t> pads = attrInts(n, "pads");
  float value = attrFloat(n, "value", 0.0f);
  if (const onnx::TensorProto *p = constant(n, 1, true)) {
    auto v = int64s(*p, absl::StrCat("pads '", p->name(), "'"));
    if (!v)
      return false;
    pads = *v;
  }
  if (const onnx::TensorProto *c = constant(n, 2, true)) {
    auto v = floats(*c, absl::StrCat("constant_value '", c->name(), "'"));
    if (!v || v->size() != 1)
      return v ? fail(n, "constant_value must be a scalar") : false;
    value = (*v)[0];
  }
  if (hasInput(n, 3))
    return fail(n, "input 'axes' is not supported");
  if (attrString(n, "mode", "constant") != "constant" || value != 0.0f)
    return fail(n, "only zero padding (mode constant, value 0) is supported");
  size_t rank = x->dims.size();
  if (pads.size() != 2 * rank)
    return fail(n, absl::StrCat("pads has ", pads.size(), " values, expected ",
                                2 * rank));
  bool any = false, spatialOnly = rank == 4 || rank == 3;
  for (size_t d = 0; d < rank; ++d) {
    any |= pads[d] != 0 || pads[d + rank] != 0;
    if (d < 2)
      spatialOnly &= pads[d] == 0 && pads[d + rank] == 0;
  }
  Tensor out = *x;
  if (any) {
    if (!spatialOnly ||
        std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; }))
      return fail(n, "only zero padding of H and W (NCHW) or W (NCW) is "
                     "supported");
    // gradc's [top, bottom, left, right]; NCW pads W alone.
    std::vector<int64_t> add =
        rank == 4 ? std::vector<int64_t>{pads[2], pads[6], pads[3], pads[7]}
                  : std::vector<int64_t>{0, 0, pads[2], pads[5]};
    if (out.pads.empty())
      out.pads.assign(4, 0);
    for (int i = 0; i < 4; ++i)
      out.pads[i] += add[i];
    if (out.dims.size() == 4) {
      out.dims[2] += add[0] + add[1];
      out.dims[3] += add[2] + add[3];
    } else {
      out.dims[2] += add[2] + add[3];
    }
  }
  tensors[n.output(0)] = out;
  return true;
}

bool OnnxImport::reshapeConstant(const Node &n) {
  if (!onlyAttrs(n, {"axes", "allowzero"}))
    return false;
  if (n.op_type() != "Reshape" && hasInput(n, 0) &&
      !constants.count(n.input(0)))
    return squeezeActivation(n);
  const onnx::TensorProto *t = constant(n, 0, false);
  if (!t)
    return false;
  std::vector<int64_t> dims(t->dims().begin(), t->dims().end()), arg;
  if (const onnx::TensorProto *a = constant(n, 1, true)) {
    auto v = int64s(*a, absl::StrCat("input '", a->name(), "'"));
    if (!v)
      return false;
    arg = *v;
  } else {
    arg = attrInts(n, "axes");
  }
  auto count = elementCount(*t, absl::StrCat("initializer '", t->name(), "'"));
  if (!count)
    return false;
  std::vector<int64_t> out;
  if (n.op_type() == "Reshape") {
    int64_t known = 1, infer = -1;
    for (size_t d = 0; d < arg.size(); ++d) {
      int64_t v = arg[d] == 0 && d < dims.size() ? dims[d] : arg[d];
      if (v == -1 && infer < 0)
        infer = int64_t(d);
      else if (v < 0)
        return fail(n, "a shape of more than one -1 or a negative size");
      else
        known *= v;
      out.push_back(v);
    }
    if (infer >= 0 && known > 0)
      out[infer] = *count / known;
  } else if (n.op_type() == "Unsqueeze") {
    out = dims;
    std::vector<int64_t> axes = arg;
    int64_t rank = int64_t(dims.size() + axes.size());
    for (int64_t &a : axes)
      a = a < 0 ? a + rank : a;
    std::sort(axes.begin(), axes.end());
    for (int64_t a : axes) {
      if (a < 0 || a > int64_t(out.size()))
        return fail(n, "axes out of range");
      out.insert(out.begin() + a, 1);
    }
  } else { // Squeeze
    for (size_t d = 0; d < dims.size(); ++d) {
      bool listed = arg.empty()
                        ? dims[d] == 1
                        : std::count(arg.begin(), arg.end(), int64_t(d)) +
                              std::count(arg.begin(), arg.end(),
                                         int64_t(d) - int64_t(dims.size()));
      if (!listed)
        out.push_back(dims[d]);
    }
  }
  int64_t total = 1;
  for (int64_t v : out)
    total *= v;
  if (total != *count)
    return fail(n, absl::StrCat("shape [", absl::StrJoin(out, ", "),
                                "] does not hold the ", *count, " values of '",
                                t->name(), "'"));
  auto copy = std::make_unique<onnx::TensorProto>(*t);
  copy->clear_dims();
  for (int64_t v : out)
    copy->add_dims(v);
  if (batchMarks.count(n.input(0))) // the elements keep their order
    batchMarks[n.output(0)] = batchMarks[n.input(0)];
  addConstant(n.output(0), std::move(copy));
  return true;
}

/// Gather of an activation at one constant index (PyTorch's y[:, -1], an
/// LSTM's last step): a slice of size 1, its axis dropped for a scalar
/// index (a reshape that keeps the batch where ONNX's order has it).
bool OnnxImport::gatherActivation(const Node &n) {
  const Tensor *x = activation(n, 0);
  auto idx = folded(n, 1, false);
  if (!x || !idx)
    return false;
  int64_t rank = int64_t(x->dims.size());
  int64_t axis = attrAxis(n, 0, rank);
  if (!idx->isInt() || !idx->unmarked() || idx->v.size() != 1 ||
      idx->dims.size() > 1)
    return failInput(n, 1,
                     "must be one integer fixed at import (gradc gathers "
                     "one index of an activation: a slice)");
  if (axis < 0 || axis >= rank || axis == x->batchAxis)
    return fail(n, "gathers along the batch or outside the input's axes");
  if (x->channelsLast() || !x->flatFromCHW.empty() || x->squeezed ||
      x->batchOnly)
    return fail(n, "gathering from an NCHW tensor (or its Flatten or "
                   "pooling) or from ONNX's [N] is not supported");
  int64_t dim = x->dims[axis], at = int64_t(idx->v[0]);
  if (at < 0)
    at += dim;
  if (dim < 1 || at < 0 || at >= dim)
    return failInput(n, 1,
                     absl::StrCat("index ", int64_t(idx->v[0]),
                                  " is outside axis ", axis, " of size ", dim));
  Layer l;
  Slice &sl = *l.mutable_slice();
  sl.set_axis(heldAxis(*x, axis));
  sl.set_begin(at);
  sl.set_size(1);
  std::string base = nodeName(n).empty() ? n.op_type() : nodeName(n);
  Tensor sliced = *x;
  sliced.dims[axis] = 1;
  sliced.layer = appendLayer(base + "/slice", std::move(l), {x->layer});
  // ONNX's dims without the gathered axis (a scalar index), the batch kept.
  std::vector<int64_t> shape;
  std::vector<bool> marks;
  for (int64_t d = 0; d < rank; ++d) {
    if (d == axis && idx->dims.empty())
      continue;
    bool batch = d == x->batchAxis;
    shape.push_back(batch ? x->batchOuter * x->batchInner : sliced.dims[d]);
    marks.push_back(batch);
  }
  return reshapeMovingBatch(n, &sliced, shape, marks);
}

} // namespace gradc::onnximport
