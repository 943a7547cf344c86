//===- RecurrentLayers.cpp - lstm and gru ---------------------------------===//
//
// Keras's LSTM and GRU with PyTorch's gates and biases (nn.LSTM and nn.GRU,
// batch first): their checks, their nn ops and their ONNX forms. A
// recurrent layer has no op of its own: it is unrolled over the steps of its
// sequence into dense, slice, sigmoid, tanh, mul and add, whose gradients
// make backpropagation through time. The input's projection is one dense
// over every step; each step then adds the state's projection.
//
//===----------------------------------------------------------------------===//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"

#include <cmath>

namespace gradc {
namespace {

/// The two cells, with their gates in PyTorch's order: LSTM's input,
/// forget, cell and output gates; GRU's reset, update and new gates.
bool isLstm(const ResolvedLayer &l) { return l.layer->has_lstm(); }
int64_t gatesOf(bool lstm) { return lstm ? 4 : 3; }
const Recurrent &recurrentOf(const Layer &layer) {
  return layer.has_lstm() ? layer.lstm() : layer.gru();
}

/// The parameters' names of a direction: "kernel", "recurrent_kernel",
/// "bias", "recurrent_bias", with "reverse_" before them for the reverse
/// pass (PyTorch's weight_ih_l0_reverse, ...).
std::string role(bool reverse, const char *name) {
  return absl::StrCat(reverse ? "reverse_" : "", name);
}

bool checkRecurrent(LayerCheck &c) {
  const Recurrent &r = recurrentOf(c.layer);
  const char *kind = c.layer.has_lstm() ? "lstm" : "gru";
  if (!c.oneInput())
    return false;
  const Shape &in = c.in[0];
  if (in.size() != 2)
    return c.fail(absl::StrCat(kind,
                               " expects a sequence [steps, features] per "
                               "example, got ",
                               shapeStr(in)));
  int64_t t = in[0], f = in[1], h = r.units();
  if (!c.positiveDim("units", h))
    return false;
  int64_t gh = gatesOf(c.layer.has_lstm()) * h;
  if (!c.elements("kernel", {f, gh}) ||
      !c.elements("recurrent_kernel", {h, gh}))
    return false;
  // Every step is unrolled: a long sequence is a large program.
  constexpr int64_t kMaxSteps = 1024;
  if (t > kMaxSteps)
    return c.fail(absl::StrCat(kind, " unrolls its ", t, " steps; at most ",
                               kMaxSteps, " are supported"));
  int directions = r.direction() == Recurrent::BIDIRECTIONAL ? 2 : 1;
  c.out.shape =
      r.return_sequences() ? Shape{t, directions * h} : Shape{directions * h};
  // PyTorch's default: every weight uniform in +-1/sqrt(H).
  Initializer pytorch;
  float limit = float(1.0 / std::sqrt(double(h)));
  pytorch.mutable_uniform()->set_minval(-limit);
  pytorch.mutable_uniform()->set_maxval(limit);
  auto orDefault = [&](const Initializer &init) {
    return init.kind_case() == Initializer::KIND_NOT_SET ? pytorch : init;
  };
  bool bias = !r.has_use_bias() || r.use_bias();
  for (int d = 0; d < directions; ++d) {
    bool reverse = d == 1 || r.direction() == Recurrent::REVERSE;
    c.param(role(reverse, "kernel"), {f, gh}, orDefault(r.kernel_initializer()),
            f, gh);
    c.param(role(reverse, "recurrent_kernel"), {h, gh},
            orDefault(r.recurrent_initializer()), h, gh);
    if (bias) {
      c.param(role(reverse, "bias"), {gh}, orDefault(r.bias_initializer()), f,
              gh);
      c.param(role(reverse, "recurrent_bias"), {gh},
              orDefault(r.bias_initializer()), h, gh);
    }
  }
  c.out.attrs["steps"] = double(t);
  c.out.attrs["units"] = double(h);
  c.out.attrs["reverse"] = r.direction() == Recurrent::REVERSE;
  c.out.attrs["directions"] = directions;
  c.out.attrs["sequences"] = r.return_sequences();
  // Per step and direction: both projections, and about ten operations per
  // state element for the gates.
  c.out.flops = double(directions) * double(t) *
                (2.0 * double(gh) * double(f + h) + 10.0 * double(h));
  // Each step is its own dense and gate code, forward and backward.
  c.out.codeBytes = int64_t(t) * directions * (int64_t(12) << 10);
  return true;
}

/// The builders of one unrolled pass.
struct Unroller {
  const LayerEmit &e;
  int64_t h;

  mlir::Value slice(mlir::Value x, int64_t axis, int64_t offset,
                    int64_t size) const {
    auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
    llvm::SmallVector<int64_t> shape(type.getShape());
    shape[size_t(axis)] = size;
    return e.b.create<nn::SliceOp>(
        e.loc, mlir::RankedTensorType::get(shape, type.getElementType()), x,
        e.b.getI64IntegerAttr(axis), e.b.getI64IntegerAttr(offset),
        e.b.getI64IntegerAttr(size));
  }
  /// Gate k (of width h) of [N, gates * h].
  mlir::Value gate(mlir::Value x, int64_t k) const {
    return slice(x, 1, k * h, h);
  }
  mlir::Value add(mlir::Value a, mlir::Value b) const {
    return e.b.create<nn::AddOp>(e.loc, a, b);
  }
  mlir::Value mul(mlir::Value a, mlir::Value b) const {
    return e.b.create<nn::MulOp>(e.loc, a, b);
  }
  mlir::Value sigmoid(mlir::Value x) const {
    return e.b.create<nn::SigmoidOp>(e.loc, x);
  }
  mlir::Value tanh(mlir::Value x) const {
    return e.b.create<nn::TanhOp>(e.loc, x);
  }

  /// The states [N, H] of one direction at every position, from the input's
  /// projections xw [T, N, gates * H] (input bias included).
  std::vector<mlir::Value> run(mlir::Value xw, bool reverse) const {
    int64_t t = int64_t(e.l.attr("steps"));
    bool lstm = isLstm(e.l);
    auto stateType = e.batched({h});
    mlir::Value zero =
        e.b.create<nn::ConstantOp>(e.loc, stateType, e.b.getF64FloatAttr(0.0));
    mlir::Value state = zero, cell = zero;
    mlir::Value kernel = e.param(role(reverse, "recurrent_kernel"));
    mlir::Value bias = e.param(role(reverse, "recurrent_bias"));
    int64_t gh = gatesOf(lstm) * h;
    std::vector<mlir::Value> states(static_cast<size_t>(t));
    for (int64_t k = 0; k < t; ++k) {
      int64_t pos = reverse ? t - 1 - k : k;
      mlir::Value x = e.b.create<nn::ReshapeOp>(e.loc, e.batched({gh}),
                                                slice(xw, 0, pos, 1));
      mlir::Value hw = e.b.create<nn::DenseOp>(e.loc, state, kernel, bias);
      if (lstm) {
        // c = f c + i g, h = o tanh(c).
        mlir::Value g = add(x, hw);
        mlir::Value s = sigmoid(g);
        cell = add(mul(gate(s, 1), cell), mul(gate(s, 0), tanh(gate(g, 2))));
        state = mul(gate(s, 3), tanh(cell));
      } else {
        // n = tanh(x_n + r (h_n)), h = n + z (h - n).
        mlir::Value rz =
            sigmoid(add(slice(x, 1, 0, 2 * h), slice(hw, 1, 0, 2 * h)));
        mlir::Value n = tanh(add(gate(x, 2), mul(gate(rz, 0), gate(hw, 2))));
        state =
            add(n, mul(gate(rz, 1), e.b.create<nn::SubOp>(e.loc, state, n)));
      }
      states[size_t(pos)] = state;
    }
    return states;
  }
};

mlir::Value emitRecurrent(const LayerEmit &e) {
  bool lstm = isLstm(e.l);
  int64_t t = int64_t(e.l.attr("steps")), h = int64_t(e.l.attr("units"));
  int64_t gh = gatesOf(lstm) * h;
  int directions = int(e.l.attr("directions"));
  mlir::Value x = e.inputs[0];
  auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
  int64_t f = type.getShape()[2];
  mlir::Type f32 = e.b.getF32Type();
  x = e.b.create<nn::ReshapeOp>(
      e.loc, mlir::RankedTensorType::get({e.batch * t, f}, f32), x);
  Unroller u{e, h};
  std::vector<std::vector<mlir::Value>> passes;
  for (int d = 0; d < directions; ++d) {
    bool reverse = d == 1 || e.l.attr("reverse") != 0;
    // Every step's input projection at once, time-major so that a step's
    // slice is contiguous.
    mlir::Value xw =
        e.b.create<nn::DenseOp>(e.loc, x, e.param(role(reverse, "kernel")),
                                e.param(role(reverse, "bias")));
    xw = e.b.create<nn::ReshapeOp>(e.loc, e.batched({t, gh}), xw);
    xw = e.b.create<nn::TransposeOp>(e.loc, xw,
                                     e.b.getDenseI64ArrayAttr({1, 0, 2}));
    passes.push_back(u.run(xw, reverse));
  }
  auto join = [&](llvm::ArrayRef<mlir::Value> parts, int64_t axis) {
    return parts.size() == 1 ? parts[0]
                             : mlir::Value(e.b.create<nn::ConcatOp>(
                                   e.loc, parts, e.b.getI64IntegerAttr(axis)));
  };
  if (e.l.attr("sequences") == 0) {
    // The forward pass's last state, the reverse pass's first.
    llvm::SmallVector<mlir::Value> last;
    for (int d = 0; d < directions; ++d) {
      bool reverse = d == 1 || e.l.attr("reverse") != 0;
      last.push_back(reverse ? passes[d].front() : passes[d].back());
    }
    return join(last, 1);
  }
  llvm::SmallVector<mlir::Value> steps;
  for (int64_t k = 0; k < t; ++k) {
    llvm::SmallVector<mlir::Value> both;
    for (int d = 0; d < directions; ++d)
      both.push_back(passes[d][size_t(k)]);
    steps.push_back(e.b.create<nn::ReshapeOp>(
        e.loc, e.batched({1, directions * h}), join(both, 1)));
  }
  return join(steps, 1);
}

/// ONNX's LSTM and GRU (opset 13's, LSTM-7 and GRU-7), as PyTorch 1.13
/// exports them: a
/// time-major input, W [D, gates H, F], R [D, gates H, H] and B [D, 2 gates
/// H] with ONNX's gate order (LSTM i o f c, GRU z r h with
/// linear_before_reset), Y [T, D, N, H] or Y_h [D, N, H] turned back to
/// batch-major and joined.
OnnxValue recurrentToOnnx(OnnxEmit &e) {
  bool lstm = isLstm(e.l);
  int64_t t = int64_t(e.l.attr("steps")), h = int64_t(e.l.attr("units"));
  int64_t gates = gatesOf(lstm), gh = gates * h;
  int64_t directions = int64_t(e.l.attr("directions"));
  int64_t f =
      e.model.params[e.l.param(role(e.l.attr("reverse") != 0, "kernel"))]
          .shape[0];
  std::string name = e.l.layer->name();
  // ONNX gate q is gradc's (PyTorch's) gate order[q].
  const int64_t lstmOrder[] = {0, 3, 1, 2}, gruOrder[] = {1, 0, 2};
  const int64_t *order = lstm ? lstmOrder : gruOrder;
  auto weights = [&](int64_t in) {
    // [1, gates H, in] of gradc's [in, gates H].
    return [=](int64_t k) {
      int64_t row = k / in, col = k % in;
      return col * gh + order[row / h] * h + row % h;
    };
  };
  auto gateMajor = [=](int64_t k) { return order[k / h] * h + k % h; };
  std::vector<std::string> ws, rs, bs;
  for (int64_t d = 0; d < directions; ++d) {
    bool reverse = d == 1 || e.l.attr("reverse") != 0;
    ws.push_back(e.param(role(reverse, "kernel"), {1, gh, f}, weights(f)));
    rs.push_back(
        e.param(role(reverse, "recurrent_kernel"), {1, gh, h}, weights(h)));
    if (e.l.param(role(reverse, "bias")) >= 0) {
      std::string wb = e.param(role(reverse, "bias"), {1, gh}, gateMajor);
      std::string rb =
          e.param(role(reverse, "recurrent_bias"), {1, gh}, gateMajor);
      onnx::NodeProto &cat = e.node("Concat", {wb, rb});
      OnnxEmit::attr(cat, "axis", int64_t(1));
      bs.push_back(cat.output(0));
    }
  }
  auto stack = [&](std::vector<std::string> parts) {
    if (parts.size() == 1)
      return parts[0];
    onnx::NodeProto &cat = e.node("Concat", parts);
    OnnxEmit::attr(cat, "axis", int64_t(0));
    return cat.output(0);
  };
  onnx::NodeProto &major = e.node("Transpose", {e.input(0)}, "_time_major");
  OnnxEmit::attr(major, "perm", std::vector<int64_t>{1, 0, 2});
  std::vector<std::string> ins{major.output(0), stack(ws), stack(rs)};
  if (!bs.empty())
    ins.push_back(stack(bs));
  onnx::NodeProto &cell = e.node(lstm ? "LSTM" : "GRU", ins);
  OnnxEmit::attr(cell, "hidden_size", h);
  if (!lstm)
    OnnxEmit::attr(cell, "linear_before_reset", int64_t(1));
  auto &dir = *cell.add_attribute();
  dir.set_name("direction");
  dir.set_type(onnx::AttributeProto::STRING);
  dir.set_s(directions == 2            ? "bidirectional"
            : e.l.attr("reverse") != 0 ? "reverse"
                                       : "forward");
  bool sequences = e.l.attr("sequences") != 0;
  if (!sequences) {
    // Y_h, the second output (Y, the first, unread).
    cell.add_output(cell.output(0) + "_h");
    onnx::NodeProto &tr = e.node("Transpose", {cell.output(1)});
    OnnxEmit::attr(tr, "perm", std::vector<int64_t>{1, 0, 2});
    return {e.node("Reshape", {tr.output(0),
                               e.int64s(name + "_join", {0, directions * h})})
                .output(0)};
  }
  onnx::NodeProto &tr = e.node("Transpose", {cell.output(0)});
  OnnxEmit::attr(tr, "perm", std::vector<int64_t>{2, 0, 1, 3});
  return {e.node("Reshape", {tr.output(0),
                             e.int64s(name + "_join", {0, t, directions * h})})
              .output(0)};
}

const LayerDef kRecurrentLayers[] = {
    {Layer::kLstm, checkRecurrent, emitRecurrent, recurrentToOnnx},
    {Layer::kGru, checkRecurrent, emitRecurrent, recurrentToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getRecurrentLayerDefs() { return kRecurrentLayers; }

} // namespace gradc
