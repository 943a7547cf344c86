//===- OnnxRecurrentOps.cpp - LSTM and GRU --------------------------------===//
//
// The converters of ONNX's LSTM and GRU nodes as PyTorch 1.13 exports
// nn.LSTM and nn.GRU: the sequence time-major (a Transpose of the batch-first
// input, which gradc holds batch first), W, R and B initializers in ONNX's
// gate order (LSTM i o f c, GRU z r h with linear_before_reset), and initial
// states of zeros (a ConstantOfShape of a shape holding the batch size). Each
// becomes an lstm or gru layer (frontend/layers/RecurrentLayers.cpp) whose
// output is Y [T, D, N, H] or Y_h [D, N, H], held as gradc's [N, T, D, H] or
// [N, D, H] with the batch where ONNX's order puts it.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelChecker.h"
#include "frontend/onnx/OnnxImport.h"

#include "absl/strings/str_join.h"

#include <cstring>

namespace gradc::onnximport {

/// Whether a ConstantOfShape fills with float zeros (its default).
bool OnnxImport::zeroFill(const Node &n) const {
  const auto *a = attr(n, "value");
  if (!a)
    return true;
  const onnx::TensorProto &t = a->t();
  // One float: a field of one value or four bytes of raw data.
  if (t.data_type() != onnx::TensorProto::FLOAT ||
      (t.raw_data().empty() ? t.float_data_size() > 1
                            : t.raw_data().size() != 4))
    return false;
  float v = t.float_data_size() ? t.float_data(0) : 0.0f;
  if (t.raw_data().size() == 4)
    std::memcpy(&v, t.raw_data().data(), 4);
  return v == 0.0f;
}

bool OnnxImport::recurrent(const Node &n) {
  bool lstm = n.op_type() == "LSTM";
  if (!(lstm ? onlyAttrs(n, {"hidden_size", "direction", "layout"})
             : onlyAttrs(n, {"hidden_size", "direction", "layout",
                             "linear_before_reset"})))
    return false;
  if (!lstm && attrInt(n, "linear_before_reset", 0) != 1)
    return fail(n, "linear_before_reset 0 is not supported (gradc's GRU is "
                   "PyTorch's: the reset gate scales the state's projection)");
  const Tensor *x = activation(n, 0);
  const onnx::TensorProto *w = constant(n, 1, false);
  const onnx::TensorProto *r = constant(n, 2, false);
  const onnx::TensorProto *b = constant(n, 3, true);
  if (!x || !w || !r)
    return false;
  if (lstm && hasInput(n, 7))
    return failInput(n, 7,
                     "(peepholes) is not supported: gradc's LSTM is "
                     "PyTorch's, without them");
  if (hasInput(n, 4))
    return failInput(n, 4,
                     "(sequence_lens) is not supported: every sequence "
                     "has the input's length");
  for (int i : {5, 6})
    if (hasInput(n, i) && !zeroStates.count(n.input(i)))
      if (const onnx::TensorProto *s = constant(n, i, false)) {
        auto v = floats(*s, absl::StrCat("initializer '", s->name(), "'"));
        if (!v || std::any_of(v->begin(), v->end(),
                              [](float f) { return f != 0.0f; }))
          return failInput(n, i,
                           "(an initial state) must be zeros: gradc's "
                           "recurrent layers start from zero");
      }
  int64_t layout = attrInt(n, "layout", 0);
  if (layout != 0 && layout != 1)
    return fail(n, absl::StrCat("layout ", layout, " is not 0 or 1"));
  if (x->channelsLast() || !x->flatFromCHW.empty() || x->squeezed ||
      x->batchOnly)
    return failInput(n, 0,
                     "is an NCW/NCHW tensor held channels last, or its "
                     "Flatten or pooling, or ONNX's [N]: not a sequence");
  bool batchMajor = layout == 1;
  if (x->dims.size() != 3 ||
      (batchMajor
           ? !x->batchFirst()
           : x->batchAxis != 1 || x->batchOuter != 1 || x->batchInner != 1))
    return fail(n, absl::StrCat("expects a sequence [T, N, features] (or "
                                "[N, T, features] with layout 1) whose batch "
                                "is one axis, got an input [",
                                absl::StrJoin(x->dims, ", "), "]"));
  int64_t t = batchMajor ? x->dims[1] : x->dims[0];
  int64_t f = x->dims[2], h = attrInt(n, "hidden_size", 0);
  std::string direction = attrString(n, "direction", "forward");
  int64_t dirs = direction == "bidirectional" ? 2 : 1;
  if (direction != "forward" && direction != "reverse" && dirs != 2)
    return fail(n, absl::StrCat("direction '", direction, "' is unknown"));
  // (Checked before any product of them.)
  if (h < 1 || h > kMaxDim || t < 1 || f < 1)
    return fail(n, absl::StrCat("expects hidden_size in [1, ", kMaxDim,
                                "] and a known sequence, got hidden_size ", h,
                                " and an input [", absl::StrJoin(x->dims, ", "),
                                "]"));
  int64_t gates = lstm ? 4 : 3, gh = gates * h;
  auto dimsAre = [](const onnx::TensorProto *p, std::vector<int64_t> d) {
    return std::vector<int64_t>(p->dims().begin(), p->dims().end()) == d;
  };
  if (!dimsAre(w, {dirs, gh, f}) || !dimsAre(r, {dirs, gh, h}) ||
      (b && !dimsAre(b, {dirs, 2 * gh})))
    return fail(n, absl::StrCat("expects W [", dirs, ", ", gh, ", ", f,
                                "], R [", dirs, ", ", gh, ", ", h, "] and B [",
                                dirs, ", ", 2 * gh, "]"));
  // The outputs: Y (every step) or Y_h (the last state); not both, no Y_c.
  // (uses[""] counts the empty names of omitted inputs.)
  bool sequences = !n.output(0).empty() && uses[n.output(0)] > 0;
  bool last =
      n.output_size() > 1 && !n.output(1).empty() && uses[n.output(1)] > 0;
  if (lstm && n.output_size() > 2 && !n.output(2).empty() &&
      uses[n.output(2)] > 0)
    return fail(n, "output 2 (Y_c, the last cell state) is used; gradc's "
                   "lstm gives the hidden states");
  if (sequences && last)
    return fail(n, "both Y and Y_h are used; gradc's layer gives one of them "
                   "(Y_h is Y's last step)");
  auto ws = floats(*w, absl::StrCat("initializer '", w->name(), "'"));
  auto rs = floats(*r, absl::StrCat("initializer '", r->name(), "'"));
  std::optional<std::vector<float>> bs;
  if (b && !(bs = floats(*b, absl::StrCat("initializer '", b->name(), "'"))))
    return false;
  if (!ws || !rs)
    return false;
  for (const onnx::TensorProto *p : {w, r, b})
    if (p && uses[p->name()] > 1)
      return fail(n, absl::StrCat("initializer '", p->name(),
                                  "' is read by more than one node; gradc "
                                  "trains one parameter per layer"));

  // (Output 0, Y, may be unnamed when Y_h is read: no addLayer.)
  Layer layer;
  layer.set_name(layerName(n));
  std::string name = layer.name();
  Recurrent &rec = lstm ? *layer.mutable_lstm() : *layer.mutable_gru();
  rec.set_units(h);
  rec.set_return_sequences(!last);
  rec.set_direction(dirs == 2                ? Recurrent::BIDIRECTIONAL
                    : direction == "reverse" ? Recurrent::REVERSE
                                             : Recurrent::FORWARD);
  rec.set_use_bias(b != nullptr);
  // ONNX gate q is gradc's (PyTorch's) gate order[q].
  const int64_t lstmOrder[] = {0, 3, 1, 2}, gruOrder[] = {1, 0, 2};
  const int64_t *order = lstm ? lstmOrder : gruOrder;
  for (int64_t d = 0; d < dirs; ++d) {
    std::string prefix = d == 1 || direction == "reverse" ? "reverse_" : "";
    // [in, gates H] of ONNX's [gates H, in] (direction d).
    auto kernel = [&](const std::vector<float> &v, int64_t in) {
      std::vector<float> k(static_cast<size_t>(in * gh));
      for (int64_t row = 0; row < gh; ++row)
        for (int64_t c = 0; c < in; ++c)
          k[size_t(c * gh + order[row / h] * h + row % h)] =
              v[size_t((d * gh + row) * in + c)];
      return k;
    };
    auto bias = [&](int64_t offset) {
      std::vector<float> k(static_cast<size_t>(gh));
      for (int64_t row = 0; row < gh; ++row)
        k[size_t(order[row / h] * h + row % h)] =
            (*bs)[size_t(d * 2 * gh + offset + row)];
      return k;
    };
    std::string kernelRole = prefix + "kernel",
                recurrentRole = prefix + "recurrent_kernel";
    // One parameter each: ONNX's W, R and B hold several (directions, the
    // two biases), named apart.
    std::string suffix = d == 1 ? "_reverse" : "";
    if (!give(n, name, kernelRole.c_str(), w->name() + suffix,
              kernel(*ws, f)) ||
        !give(n, name, recurrentRole.c_str(), r->name() + suffix,
              kernel(*rs, h)))
      return false;
    if (bs) {
      std::string biasRole = prefix + "bias",
                  recurrentBias = prefix + "recurrent_bias";
      if (!give(n, name, biasRole.c_str(), b->name() + suffix, bias(0)) ||
          !give(n, name, recurrentBias.c_str(),
                b->name() + "_recurrent" + suffix, bias(gh)))
        return false;
    }
  }
  layer.add_inputs(x->layer);
  layerIndex[name] = file.model.layer_size();
  *file.model.add_layer() = std::move(layer);
  // gradc's [N, T, D H] or [N, D H] as [N, T, D, H] or [N, D, H]: ONNX's Y
  // [T, D, N, H] or Y_h [D, N, H] (layout 1: [N, T, D, H], [N, D, H]).
  Layer view;
  if (!last)
    view.mutable_reshape()->add_target_shape(t);
  view.mutable_reshape()->add_target_shape(dirs);
  view.mutable_reshape()->add_target_shape(h);
  std::string viewName = appendLayer(name + "_dirs", std::move(view), {name});
  Tensor held;
  held.layer = viewName;
  held.dims = last ? std::vector<int64_t>{dirs, -1, h}
                   : std::vector<int64_t>{t, dirs, -1, h};
  held.batchAxis = last ? 1 : 2;
  if (batchMajor) {
    held.dims = last ? std::vector<int64_t>{-1, dirs, h}
                     : std::vector<int64_t>{-1, t, dirs, h};
    held.batchAxis = 0;
  }
  tensors[n.output(last ? 1 : 0)] = held;
  return true;
}

} // namespace gradc::onnximport
