//===- OnnxFoldOps.cpp - shape arithmetic folded at import ----------------===//
//
// The one job of this file: the operators that compute constants, folded at
// import: Shape (of an activation, whose dimensions the file fixes but for
// the batch), Slice, Gather (of constants; of a table by ids it is an
// embedding, OnnxLinearOps.cpp), Concat, Cast and Transpose of constants,
// ConstantOfShape and Range. PyTorch writes them for the shapes of its views
// and flattens
// (`x.flatten(2)` is Shape, Slice, Concat, Reshape). The batch size is left
// open until run time: the elements of a constant that hold it (a Shape's
// dimension 0, wherever it moves) are marked, and only a Reshape may read
// such an element, as its dimension 0 (the batch, kept).
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

#include "absl/strings/str_join.h"

#include <cmath>
#include <cstring>

namespace gradc::onnximport {

namespace {
/// Largest constant the folding makes: far from a file's asking for
/// gigabytes, far above any shape.
constexpr int64_t kMaxFolded = int64_t(1) << 24;

/// Row-major strides of `dims`.
std::vector<int64_t> stridesOf(const std::vector<int64_t> &dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (int64_t d = int64_t(dims.size()) - 2; d >= 0; --d)
    s[d] = s[d + 1] * dims[d + 1];
  return s;
}

int64_t countOf(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n = d >= 0 && n <= kMaxFolded ? n * d : kMaxFolded + 1;
  return n;
}
} // namespace

bool Folded::isInt() const { return type != onnx::TensorProto::FLOAT; }

std::optional<Folded> OnnxImport::folded(const Node &n, int i, bool optional) {
  const onnx::TensorProto *t = constant(n, i, optional);
  if (!t)
    return std::nullopt;
  std::string what = absl::StrCat("input ", i, " ('", t->name(), "')");
  Folded f;
  f.dims.assign(t->dims().begin(), t->dims().end());
  auto take = [&](const auto &v) {
    if (!v)
      return false;
    f.v.assign(v->begin(), v->end());
    return true;
  };
  bool ok = false;
  switch (t->data_type()) {
  case onnx::TensorProto::INT64:
    f.type = onnx::TensorProto::INT64;
    ok = take(int64s(*t, what));
    break;
  case onnx::TensorProto::INT32:
    f.type = onnx::TensorProto::INT64;
    ok = take(int32s(*t, what));
    break;
  case onnx::TensorProto::BOOL:
    f.type = onnx::TensorProto::BOOL;
    ok = take(bools(*t, what));
    break;
  case onnx::TensorProto::FLOAT:
    f.type = onnx::TensorProto::FLOAT;
    ok = take(floats(*t, what));
    break;
  case onnx::TensorProto::DOUBLE:
    f.type = onnx::TensorProto::FLOAT;
    ok = take(doubles(*t, what));
    break;
  default:
    failInput(n, i,
              absl::StrCat("is a constant of type ",
                           onnx::TensorProto::DataType_Name(
                               onnx::TensorProto::DataType(t->data_type())),
                           ", which gradc does not fold"));
    return std::nullopt;
  }
  if (!ok)
    return std::nullopt;
  if (countOf(f.dims) != int64_t(f.v.size())) {
    failInput(n, i, "holds a number of values its dims do not give");
    return std::nullopt;
  }
  auto marks = batchMarks.find(t->name());
  if (marks != batchMarks.end())
    f.batch = marks->second;
  return f;
}

bool OnnxImport::addFolded(const Node &n, Folded f, const std::string &name) {
  if (int64_t(f.v.size()) > kMaxFolded)
    return fail(n, absl::StrCat("computes a constant of more than ", kMaxFolded,
                                " values"));
  auto t = std::make_unique<onnx::TensorProto>();
  t->set_name(name.empty() ? n.output(0) : name);
  t->set_data_type(f.type);
  for (int64_t d : f.dims)
    t->add_dims(d);
  for (double v : f.v) {
    if (f.type == onnx::TensorProto::FLOAT)
      t->add_float_data(float(v));
    else if (f.type == onnx::TensorProto::BOOL)
      t->add_int32_data(v != 0);
    else
      t->add_int64_data(int64_t(v));
  }
  if (std::find(f.batch.begin(), f.batch.end(), true) != f.batch.end())
    batchMarks[n.output(0)] = f.batch;
  addConstant(n.output(0), std::move(t));
  return true;
}

bool OnnxImport::shapeOp(const Node &n) {
  if (!onlyAttrs(n, {"start", "end"}))
    return false;
  Folded f;
  f.type = onnx::TensorProto::INT64;
  std::vector<int64_t> dims;
  int64_t batchAxis = 0, batchFactor = 1;
  if (hasInput(n, 0) && constants.count(n.input(0))) {
    const onnx::TensorProto *t = constant(n, 0, false);
    dims.assign(t->dims().begin(), t->dims().end());
  } else if (const Tensor *x = activation(n, 0)) {
    dims = x->dims;
    batchAxis = x->batchAxis;
    batchFactor = x->batchOuter * x->batchInner;
  } else {
    return false;
  }
  int64_t rank = int64_t(dims.size());
  auto clamp = [&](int64_t a) {
    return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank);
  };
  int64_t start = clamp(attrInt(n, "start", 0)),
          end = clamp(attrInt(n, "end", rank));
  bool activation = !constants.count(n.input(0));
  for (int64_t d = start; d < end; ++d) {
    bool batch = activation && d == batchAxis;
    if (!batch && dims[d] < 0)
      return fail(n, absl::StrCat("dimension ", d,
                                  " of the input is not known at import"));
    // A marked element's value is the factor of the batch size it holds.
    f.v.push_back(batch ? double(batchFactor) : double(dims[d]));
    f.batch.push_back(batch);
  }
  f.dims = {int64_t(f.v.size())};
  return addFolded(n, std::move(f));
}

std::optional<OnnxImport::SliceSpec>
OnnxImport::sliceSpec(const Node &n, const std::vector<int64_t> &dims) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (opset < 10) {
    starts = attrInts(n, "starts");
    ends = attrInts(n, "ends");
    axes = attrInts(n, "axes");
  } else {
    std::vector<int64_t> *lists[] = {&starts, &ends, &axes, &steps};
    for (int i = 1; i <= 4; ++i) {
      auto v = folded(n, i, i >= 3);
      if (!v && (i < 3 || hasInput(n, i)))
        return std::nullopt;
      if (v && (!v->isInt() || !v->unmarked())) {
        failInput(n, i, "must be integers fixed at import");
        return std::nullopt;
      }
      if (v)
        lists[i - 1]->assign(v->v.begin(), v->v.end());
    }
  }
  int64_t rank = int64_t(dims.size());
  if (axes.empty())
    for (int64_t a = 0; a < int64_t(starts.size()); ++a)
      axes.push_back(a);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || axes.size() != starts.size() ||
      steps.size() != starts.size()) {
    fail(n, "starts, ends, axes and steps differ in length");
    return std::nullopt;
  }
  SliceSpec spec{std::vector<int64_t>(rank, 0), dims,
                 std::vector<int64_t>(rank, 1)};
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = axes[k] < 0 ? axes[k] + rank : axes[k];
    if (a < 0 || a >= rank || steps[k] == 0) {
      fail(n, "an axis out of range or a step of 0");
      return std::nullopt;
    }
    int64_t dim = dims[a];
    if (dim < 0) { // the open batch: only all of it
      if (starts[k] != 0 || ends[k] < (int64_t(1) << 31) || steps[k] != 1) {
        fail(n, "slices the batch (axis 0), which gradc keeps whole");
        return std::nullopt;
      }
      continue;
    }
    auto clampIndex = [&](int64_t v, int64_t lo, int64_t hi) {
      v = v < 0 ? v + dim : v;
      return std::clamp(v, lo, hi);
    };
    int64_t s, e;
    if (steps[k] > 0) {
      s = clampIndex(starts[k], 0, dim);
      e = clampIndex(ends[k], 0, dim);
      spec.count[a] = e > s ? (e - s + steps[k] - 1) / steps[k] : 0;
    } else {
      s = clampIndex(starts[k], 0, dim - 1);
      e = clampIndex(ends[k], -1, dim - 1);
      spec.count[a] = s > e ? (s - e - steps[k] - 1) / -steps[k] : 0;
    }
    spec.first[a] = s;
    spec.step[a] = steps[k];
  }
  return spec;
}

bool OnnxImport::sliceOp(const Node &n) {
  if (!onlyAttrs(n, {"starts", "ends", "axes"}))
    return false;
  if (hasInput(n, 0) && !constants.count(n.input(0)))
    return sliceActivation(n);
  auto data = folded(n, 0, false);
  if (!data)
    return false;
  auto spec = sliceSpec(n, data->dims);
  if (!spec)
    return false;
  int64_t rank = int64_t(data->dims.size());
  const std::vector<int64_t> &first = spec->first, &step = spec->step,
                             &out = spec->count;
  Folded f;
  f.type = data->type;
  f.dims = out;
  std::vector<int64_t> in = stridesOf(data->dims), os = stridesOf(out);
  int64_t count = countOf(out);
  if (count > kMaxFolded)
    return fail(n, "slices more values than gradc folds");
  for (int64_t k = 0; k < count; ++k) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += (first[d] + (k / os[d]) % std::max<int64_t>(out[d], 1) * step[d]) *
             in[d];
    f.v.push_back(data->v[src]);
    if (!data->batch.empty())
      f.batch.push_back(data->batch[src]);
  }
  return addFolded(n, std::move(f));
}

bool OnnxImport::sliceActivation(const Node &n) {
  const Tensor *x = activation(n, 0);
  if (!x)
    return false;
  if (!x->flatFromCHW.empty() || x->squeezed)
    return fail(n, "slicing a Flatten or global pooling of an NCHW tensor, "
                   "whose features gradc orders differently, is not "
                   "supported");
  std::vector<int64_t> dims = x->dims;
  dims[x->batchAxis] = -1;
  auto spec = sliceSpec(n, dims);
  if (!spec)
    return false;
  // One slice layer per axis it narrows; gradc holds ONNX's C, H, W of a
  // channels-last tensor as its axes 3, 1, 2.
  const int64_t toNhwc[] = {0, 3, 1, 2};
  std::vector<Layer> layers;
  for (size_t a = 0; a < dims.size(); ++a) {
    if (int64_t(a) == x->batchAxis ||
        (spec->first[a] == 0 && spec->count[a] == dims[a] &&
         spec->step[a] == 1))
      continue;
    if (spec->step[a] != 1)
      return fail(n, absl::StrCat("a step of ", spec->step[a],
                                  " is not supported (an activation is "
                                  "sliced with step 1)"));
    if (spec->count[a] < 1)
      return fail(n, absl::StrCat("axis ", a, " gives an empty slice"));
    Layer l;
    Slice &sl = *l.mutable_slice();
    sl.set_axis(x->channelsLast() ? toNhwc[a] : heldAxis(*x, int64_t(a)));
    sl.set_begin(spec->first[a]);
    sl.set_size(spec->count[a]);
    layers.push_back(std::move(l));
  }
  if (layers.empty()) {
    tensors[n.output(0)] = *x;
    return true;
  }
  Tensor in = *x;
  std::string base = nodeName(n).empty() ? n.op_type() : nodeName(n);
  for (size_t k = 0; k + 1 < layers.size(); ++k)
    in.layer = appendLayer(absl::StrCat(base, "/axis", k), std::move(layers[k]),
                           {in.layer});
  Tensor &out = addLayer(n, std::move(layers.back()), {&in});
  out.holdAs(*x);
  // ONNX's inference gives no shape when the bounds were folded here.
  out.dims = x->dims;
  for (size_t a = 0; a < dims.size(); ++a)
    if (int64_t(a) != x->batchAxis)
      out.dims[a] = spec->count[a];
  return true;
}

bool OnnxImport::gatherOp(const Node &n) {
  // Rows of a table by ids computed from the input: an embedding.
  if (hasInput(n, 1) && !constants.count(n.input(1)))
    return gather(n);
  if (!onlyAttrs(n, {"axis"}))
    return false;
  if (hasInput(n, 0) && !constants.count(n.input(0)))
    return gatherActivation(n);
  auto data = folded(n, 0, false), idx = folded(n, 1, false);
  if (!data || !idx)
    return false;
  if (!idx->isInt() || !idx->unmarked())
    return failInput(n, 1, "must be integers fixed at import");
  int64_t rank = int64_t(data->dims.size());
  int64_t axis = attrAxis(n, 0, rank);
  if (axis < 0 || axis >= rank)
    return fail(n, "axis out of range");
  Folded f;
  f.type = data->type;
  f.dims.assign(data->dims.begin(), data->dims.begin() + axis);
  f.dims.insert(f.dims.end(), idx->dims.begin(), idx->dims.end());
  f.dims.insert(f.dims.end(), data->dims.begin() + axis + 1, data->dims.end());
  int64_t outer = 1, inner = 1, dim = data->dims[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= data->dims[d];
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= data->dims[d];
  if (countOf(f.dims) > kMaxFolded)
    return fail(n, "gathers more values than gradc folds");
  for (int64_t o = 0; o < outer; ++o)
    for (double iv : idx->v) {
      int64_t i = int64_t(iv) < 0 ? int64_t(iv) + dim : int64_t(iv);
      if (i < 0 || i >= dim)
        return failInput(n, 1,
                         absl::StrCat("holds index ", int64_t(iv),
                                      ", out of range for a dimension of ",
                                      dim));
      for (int64_t k = 0; k < inner; ++k) {
        int64_t src = (o * dim + i) * inner + k;
        f.v.push_back(data->v[src]);
        if (!data->batch.empty())
          f.batch.push_back(data->batch[src]);
      }
    }
  return addFolded(n, std::move(f));
}

bool OnnxImport::foldConcat(const Node &n) {
  std::vector<Folded> in;
  for (int i = 0; i < n.input_size(); ++i) {
    auto f = folded(n, i, false);
    if (!f)
      return false;
    in.push_back(std::move(*f));
  }
  int64_t rank = int64_t(in[0].dims.size());
  int64_t axis = attrAxis(n, 0, rank);
  if (axis < 0 || axis >= rank)
    return fail(n, "axis out of range");
  Folded f;
  f.type = in[0].type;
  f.dims = in[0].dims;
  f.dims[axis] = 0;
  bool marked = false;
  for (const Folded &t : in) {
    bool same = t.dims.size() == size_t(rank) && t.isInt() == in[0].isInt();
    for (int64_t d = 0; d < rank && same; ++d)
      same = d == axis || t.dims[d] == in[0].dims[d];
    if (!same)
      return fail(n, "constants of different shapes or types");
    f.dims[axis] += t.dims[axis];
    marked |= !t.batch.empty();
  }
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= f.dims[d];
  for (int64_t o = 0; o < outer; ++o)
    for (const Folded &t : in) {
      int64_t chunk = int64_t(t.v.size()) / std::max<int64_t>(outer, 1);
      for (int64_t k = 0; k < chunk; ++k) {
        f.v.push_back(t.v[o * chunk + k]);
        if (marked)
          f.batch.push_back(!t.batch.empty() && t.batch[o * chunk + k]);
      }
    }
  return addFolded(n, std::move(f));
}

/// A Transpose of a constant (PyTorch's Linear on a sequence is a MatMul by
/// Transpose(weight) when it does not fold constants): the constant
/// transposed, under the source's name, so that a layer taking it as its
/// parameter keeps the parameter's name.
bool OnnxImport::transposeConstant(const Node &n) {
  auto data = folded(n, 0, false);
  if (!data)
    return false;
  int64_t rank = int64_t(data->dims.size());
  std::vector<int64_t> perm = attrInts(n, "perm");
  if (perm.empty())
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm)
    if (p < 0 || p >= rank || seen[p] || (seen[p] = true, false))
      return fail(n, "perm is not a permutation of the input's dimensions");
  if (int64_t(perm.size()) != rank)
    return fail(n, "perm is not a permutation of the input's dimensions");
  Folded f;
  f.type = data->type;
  for (int64_t p : perm)
    f.dims.push_back(data->dims[p]);
  std::vector<int64_t> in = stridesOf(data->dims), out = stridesOf(f.dims);
  for (int64_t k = 0; k < int64_t(data->v.size()); ++k) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += (k / out[d]) % f.dims[d] * in[perm[d]];
    f.v.push_back(data->v[src]);
    if (!data->batch.empty())
      f.batch.push_back(data->batch[src]);
  }
  // The source's name: the parameter a layer takes from it is named so.
  return addFolded(n, std::move(f), constants[n.input(0)]->name());
}

bool OnnxImport::castOp(const Node &n) {
  if (!onlyAttrs(n, {"to"}))
    return false;
  int64_t to = attrInt(n, "to", 0);
  bool toFloat =
      to == onnx::TensorProto::FLOAT || to == onnx::TensorProto::DOUBLE;
  bool toInt = to == onnx::TensorProto::INT64 ||
               to == onnx::TensorProto::INT32 || to == onnx::TensorProto::BOOL;
  if (hasInput(n, 0) && !constants.count(n.input(0))) {
    // An activation is FLOAT: a Cast to FLOAT is an identity.
    const Tensor *x = activation(n, 0);
    if (!x)
      return false;
    if (to != onnx::TensorProto::FLOAT)
      return fail(n, absl::StrCat("casting an activation to ",
                                  onnx::TensorProto::DataType_Name(
                                      onnx::TensorProto::DataType(to)),
                                  " is not supported (gradc computes FLOAT)"));
    tensors[n.output(0)] = *x;
    return true;
  }
  if (!toFloat && !toInt)
    return fail(n, absl::StrCat("casting to type ", to, " is not supported"));
  auto f = folded(n, 0, false);
  if (!f)
    return false;
  if (!f->unmarked() && !toInt)
    return failInput(n, 0, "holds the batch size, left open until run time");
  f->type = toFloat                         ? onnx::TensorProto::FLOAT
            : to == onnx::TensorProto::BOOL ? onnx::TensorProto::BOOL
                                            : onnx::TensorProto::INT64;
  for (double &v : f->v)
    v = toFloat                         ? double(float(v))
        : to == onnx::TensorProto::BOOL ? double(v != 0)
                                        : std::trunc(v);
  return addFolded(n, std::move(*f));
}

bool OnnxImport::constantOfShape(const Node &n) {
  if (!onlyAttrs(n, {"value"}))
    return false;
  if (hasInput(n, 0) && batchMarks.count(n.input(0)) && zeroFill(n)) {
    // Zeros [.., N, ..]: an LSTM's or GRU's initial state.
    zeroStates.insert(n.output(0));
    return true;
  }
  auto shape = folded(n, 0, false);
  if (!shape)
    return false;
  if (!shape->isInt() || !shape->unmarked())
    return failInput(n, 0, "must be integers fixed at import");
  Folded f;
  f.type = onnx::TensorProto::FLOAT;
  double value = 0;
  if (const auto *a = attr(n, "value")) {
    const onnx::TensorProto &t = a->t();
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      value = t.float_data_size() ? t.float_data(0) : 0;
      if (t.has_raw_data() && t.raw_data().size() == 4) {
        float v;
        std::memcpy(&v, t.raw_data().data(), 4);
        value = v;
      }
      break;
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::BOOL:
      f.type = t.data_type() == onnx::TensorProto::BOOL
                   ? onnx::TensorProto::BOOL
                   : onnx::TensorProto::INT64;
      if (t.has_raw_data() && !t.raw_data().empty()) {
        int64_t v = 0;
        std::memcpy(&v, t.raw_data().data(),
                    std::min<size_t>(t.raw_data().size(), 8));
        value = t.data_type() == onnx::TensorProto::INT32  ? int32_t(v)
                : t.data_type() == onnx::TensorProto::BOOL ? (v & 0xff) != 0
                                                           : v;
      } else {
        value = t.int64_data_size()   ? t.int64_data(0)
                : t.int32_data_size() ? t.int32_data(0)
                                      : 0;
      }
      break;
    default:
      return fail(n, "a value of this type is not supported");
    }
  }
  for (double d : shape->v)
    f.dims.push_back(int64_t(d));
  int64_t count = countOf(f.dims);
  if (count > kMaxFolded)
    return fail(n, absl::StrCat("shape [", absl::StrJoin(f.dims, ", "),
                                "] is negative or holds more than ", kMaxFolded,
                                " values"));
  f.v.assign(count, value);
  return addFolded(n, std::move(f));
}

bool OnnxImport::rangeOp(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  std::optional<Folded> in[3];
  for (int i = 0; i < 3; ++i) {
    in[i] = folded(n, i, false);
    if (!in[i])
      return false;
    if (in[i]->v.size() != 1 || !in[i]->unmarked())
      return failInput(n, i, "must be a scalar fixed at import");
  }
  double start = in[0]->v[0], limit = in[1]->v[0], delta = in[2]->v[0];
  if (delta == 0)
    return failInput(n, 2, "is 0");
  double count = std::max(std::ceil((limit - start) / delta), 0.0);
  if (count > double(kMaxFolded))
    return fail(n, absl::StrCat("gives more than ", kMaxFolded, " values"));
  Folded f;
  f.type = in[0]->type;
  f.dims = {int64_t(count)};
  for (int64_t k = 0; k < int64_t(count); ++k)
    f.v.push_back(start + double(k) * delta);
  return addFolded(n, std::move(f));
}

/// Add, Sub, Mul, Div, Equal and Where of constants (PyTorch's shape
/// arithmetic around Expand: Where(Equal(shape, -1), 1, shape)), with
/// NumPy broadcasting. Of activations, Equal and Where (masks) are refused.
bool OnnxImport::foldElementwise(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  const std::string &op = n.op_type();
  for (int i = 0; i < n.input_size(); ++i)
    if (!constants.count(n.input(i)))
      return failInput(n, i,
                       absl::StrCat("is computed from the model's input; gradc "
                                    "folds ",
                                    op, " of constants only"));
  std::vector<Folded> in;
  bool marked = false;
  for (int i = 0; i < n.input_size(); ++i) {
    auto f = folded(n, i, false);
    if (!f)
      return false;
    // The batch size times a factor stays that: Mul by a known integer,
    // Div by one that divides the factor.
    bool carries = (op == "Mul" || (op == "Div" && i == 0)) && f->isInt();
    if (!f->unmarked() && !carries)
      return failInput(n, i, "holds the batch size, which gradc leaves open");
    marked |= !f->unmarked();
    in.push_back(std::move(*f));
  }
  if (in.size() != (op == "Where" ? 3u : 2u))
    return fail(n, "has the wrong number of inputs");
  std::vector<int64_t> dims;
  for (const Folded &f : in) {
    if (f.dims.size() > dims.size())
      dims.insert(dims.begin(), f.dims.size() - dims.size(), 1);
    size_t off = dims.size() - f.dims.size();
    for (size_t d = 0; d < f.dims.size(); ++d) {
      int64_t a = dims[off + d], b = f.dims[d];
      if (a != b && a != 1 && b != 1)
        return fail(n, "its inputs' shapes do not broadcast");
      dims[off + d] = a == 1 ? b : a;
    }
  }
  int64_t count = countOf(dims);
  if (count > kMaxFolded)
    return fail(n, "computes more values than gradc folds");
  std::vector<int64_t> os = stridesOf(dims);
  std::vector<std::vector<int64_t>> strides;
  for (const Folded &f : in)
    strides.push_back(stridesOf(f.dims));
  // The element of input i that element k of the output reads (a
  // broadcast axis at 0).
  auto source = [&](size_t i, int64_t k) {
    const Folded &f = in[i];
    size_t off = dims.size() - f.dims.size();
    int64_t src = 0;
    for (size_t d = 0; d < f.dims.size(); ++d)
      if (f.dims[d] != 1)
        src += (k / os[off + d]) % dims[off + d] * strides[i][d];
    return src;
  };
  auto at = [&](size_t i, int64_t k) { return in[i].v[source(i, k)]; };
  auto isMarked = [&](size_t i, int64_t k) {
    return !in[i].batch.empty() && in[i].batch[source(i, k)];
  };
  Folded out;
  out.dims = dims;
  const Folded &value = op == "Where" ? in[1] : in[0];
  out.type = op == "Equal" ? onnx::TensorProto::BOOL : value.type;
  bool ints = value.isInt();
  for (int64_t k = 0; k < count; ++k) {
    double a = at(0, k), b = at(1, k), r;
    if (op == "Where")
      r = a != 0 ? b : at(2, k);
    else if (op == "Equal")
      r = a == b;
    else if (op == "Add")
      r = a + b;
    else if (op == "Sub")
      r = a - b;
    else if (op == "Mul")
      r = a * b;
    else if (b == 0 && ints)
      return fail(n, "divides an integer by 0");
    else if (isMarked(0, k) && std::fmod(a, b) != 0)
      return failInput(n, 0,
                       "holds the batch size, which gradc leaves open; "
                       "dividing it by a number that does not divide its "
                       "factor is not supported");
    else
      r = ints ? double(int64_t(a) / int64_t(b)) : a / b;
    out.v.push_back(r);
    if (marked) {
      bool m = isMarked(0, k) || (in.size() > 1 && isMarked(1, k));
      if (m && in.size() > 1 && isMarked(0, k) && isMarked(1, k))
        return fail(n, "multiplies the batch size by itself");
      out.batch.push_back(m);
    }
  }
  return addFolded(n, std::move(out));
}

} // namespace gradc::onnximport
