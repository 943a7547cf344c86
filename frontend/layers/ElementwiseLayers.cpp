//===- ElementwiseLayers.cpp - activation, dropout, binary, constants ----===//
//
// The layers computed element by element: activations, dropout, the
// binary layers (add, subtract, multiply, divide, maximum, minimum, power)
// over NumPy-broadcast per-example shapes, and the tensors every example
// shares (constant, weight) that they combine with.
//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"

#include <cmath>
#include <optional>

namespace gradc {
namespace {

bool checkActivation(LayerCheck &c) {
  const ActivationLayer &a = c.layer.activation();
  if (!c.oneInput() || !c.activation(a.kind(), a.has_alpha(), a.alpha()))
    return false;
  c.out.shape = c.in[0];
  return true;
}

mlir::Value emitActivation(const LayerEmit &e) {
  return e.activate(e.inputs[0]);
}

bool checkDropout(LayerCheck &c) {
  if (!c.oneInput())
    return false;
  double rate = fromFloat(c.layer.dropout().rate());
  if (!(rate >= 0 && rate < 1))
    return c.fail(absl::StrCat("dropout rate must be in [0, 1), got ", rate));
  c.out.attrs["rate"] = rate;
  c.out.shape = c.in[0];
  return true;
}

mlir::Value emitDropout(const LayerEmit &e) {
  // Each dropout layer draws its own mask stream from the model's seed
  // (wrapping, not overflowing, for any int64 seed).
  uint64_t mixed = static_cast<uint64_t>(e.model.seed) * 1000003u +
                   static_cast<uint64_t>(e.l.fileIndex);
  return e.b.create<nn::DropoutOp>(
      e.loc, e.inputs[0], mlir::Value(), e.b.getF64FloatAttr(e.l.attr("rate")),
      e.b.getI64IntegerAttr(static_cast<int64_t>(mixed)));
}

template <typename Op>
mlir::Value create(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                   mlir::Value y) {
  return b.create<Op>(loc, x, y);
}

/// The binary layers: the nn op of each, its ONNX operator, and whether it
/// takes exactly two inputs (else two or more, folded from the left).
struct BinaryKind {
  Layer::KindCase kind;
  const char *name, *onnx;
  bool exactlyTwo;
  mlir::Value (*op)(mlir::OpBuilder &, mlir::Location, mlir::Value,
                    mlir::Value);
};
const BinaryKind kBinaryKinds[] = {
    {Layer::kAdd, "add", "Add", false, create<nn::AddOp>},
    {Layer::kSubtract, "subtract", "Sub", true, create<nn::SubOp>},
    {Layer::kMultiply, "multiply", "Mul", false, create<nn::MulOp>},
    {Layer::kDivide, "divide", "Div", true, create<nn::DivOp>},
    {Layer::kMaximum, "maximum", "Max", false, create<nn::MaximumOp>},
    {Layer::kMinimum, "minimum", "Min", false, create<nn::MinimumOp>},
    {Layer::kPower, "power", "Pow", true, create<nn::PowOp>},
};

const BinaryKind &binaryKind(Layer::KindCase kind) {
  for (const BinaryKind &k : kBinaryKinds)
    if (k.kind == kind)
      return k;
  llvm_unreachable("not a binary layer");
}

bool checkBinary(LayerCheck &c) {
  const BinaryKind &k = binaryKind(c.layer.kind_case());
  if (k.exactlyTwo && c.in.size() != 2)
    return c.fail(absl::StrCat(k.name, " expects 2 inputs, got ", c.in.size()));
  if (!c.atLeastTwoInputs(k.name))
    return false;
  Shape out = c.in[0];
  for (size_t i = 1; i < c.in.size(); ++i) {
    std::optional<Shape> b = broadcastShapes(out, c.in[i]);
    if (!b)
      return c.fail(absl::StrCat(k.name, " cannot broadcast its inputs ",
                                 shapeStr(c.in[0]), " and ", shapeStr(c.in[i]),
                                 " (per example, aligned at the last "
                                 "dimension, sizes must match or be 1)"));
    out = *b;
  }
  c.out.shape = std::move(out);
  return true;
}

/// `x` ([N, s...]) repeated to [N, out...]: dimensions of size 1 that grow
/// are reshaped away, then nn.broadcast adds the missing ones.
mlir::Value broadcastTo(const LayerEmit &e, mlir::Value x, const Shape &out) {
  auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
  llvm::ArrayRef<int64_t> s = type.getShape().drop_front();
  if (s == llvm::ArrayRef<int64_t>(out))
    return x;
  int64_t offset = int64_t(out.size()) - int64_t(s.size());
  Shape kept;
  llvm::SmallVector<int64_t> dims{0};
  for (size_t j = 0; j < s.size(); ++j)
    if (s[j] == out[offset + j]) {
      kept.push_back(s[j]);
      dims.push_back(1 + offset + int64_t(j));
    }
  if (kept.size() != s.size())
    x = e.b.create<nn::ReshapeOp>(e.loc, e.batched(kept), x);
  return e.b.create<nn::BroadcastOp>(e.loc, e.batched(out), x,
                                     e.b.getDenseI64ArrayAttr(dims));
}

mlir::Value emitBinary(const LayerEmit &e) {
  const BinaryKind &k = binaryKind(e.l.kind);
  mlir::Value acc = broadcastTo(e, e.inputs[0], e.l.shape);
  for (mlir::Value v : e.inputs.drop_front())
    acc = k.op(e.b, e.loc, acc, broadcastTo(e, v, e.l.shape));
  return acc;
}

/// The per-example shape of a constant or weight.
bool sourceShape(LayerCheck &c,
                 const google::protobuf::RepeatedField<int64_t> &f,
                 const char *what) {
  for (int64_t d : f)
    if (!c.positiveDim(absl::StrCat(what, " shape").c_str(), d))
      return false;
  c.out.shape.assign(f.begin(), f.end());
  return c.elements(what, c.out.shape);
}

bool checkConstant(LayerCheck &c) {
  const Constant &k = c.layer.constant();
  double v = fromFloat(k.value());
  if (!std::isfinite(v))
    return c.fail(absl::StrCat("constant value must be finite, got ", v));
  c.out.attrs["value"] = v;
  return sourceShape(c, k.shape(), "constant");
}

mlir::Value emitConstant(const LayerEmit &e) {
  return e.b.create<nn::ConstantOp>(e.loc, e.batched(e.l.shape),
                                    e.b.getF64FloatAttr(e.l.attr("value")));
}

bool checkWeight(LayerCheck &c) {
  const Weight &w = c.layer.weight();
  if (!sourceShape(c, w.shape(), "weight"))
    return false;
  Initializer init = w.initializer();
  if (init.kind_case() == Initializer::KIND_NOT_SET)
    init.mutable_glorot_uniform();
  if (w.has_trainable() && !w.trainable()) {
    if (!init.has_zeros() && !init.has_ones() && w.has_initializer())
      return c.fail("a weight with trainable: false starts as zeros or ones "
                    "(or the values an ONNX file gives)");
    c.buffer("weight", c.out.shape, init.has_ones() ? 1.0f : 0.0f);
    return true;
  }
  // Keras's fans of a tensor: the last dimension out, the rest in.
  const Shape &s = c.out.shape;
  int64_t fanOut = s.empty() ? 1 : s.back();
  int64_t fanIn = s.size() < 2 ? 1 : elementsOf(s) / fanOut;
  c.param("weight", s, init, fanIn, fanOut);
  return true;
}

mlir::Value emitWeight(const LayerEmit &e) {
  llvm::SmallVector<int64_t> dims;
  for (size_t d = 0; d < e.l.shape.size(); ++d)
    dims.push_back(1 + int64_t(d));
  mlir::Value w = e.param("weight");
  return e.b.create<nn::BroadcastOp>(e.loc, e.batched(e.l.shape),
                                     w ? w : e.buffer("weight"),
                                     e.b.getDenseI64ArrayAttr(dims));
}

/// Elementwise activations keep a flatten's feature order; PReLU's per-feature
/// slope needs gradc's.
OnnxValue activationToOnnx(OnnxEmit &e) {
  if (e.l.activation == PRELU)
    return {e.activate(e.input(0))};
  OnnxValue v = e.in[0];
  v.name = e.activate(v.name);
  return v;
}

/// Inference leaves dropout out.
OnnxValue dropoutToOnnx(OnnxEmit &e) { return e.in[0]; }

/// ONNX broadcasts from the last dimension with the batch included: an
/// input of fewer dimensions gets size-1 ones after its batch (and an image
/// output's operands are NCHW).
OnnxValue binaryToOnnx(OnnxEmit &e) {
  size_t rank = e.l.shape.size() + 1;
  auto operand = [&](int i) {
    std::string x = e.input(i);
    size_t r = e.inputRank(i);
    if (r == rank)
      return x;
    std::vector<int64_t> axes;
    for (size_t a = 1; a <= rank - r; ++a)
      axes.push_back(int64_t(a));
    x = e.node("Unsqueeze", {x, e.int64s("axes", axes)}).output(0);
    if (rank == 4) { // now NHWC-ordered: to NCHW as the other operands
      x = e.toNchw(x, "");
    }
    return x;
  };
  const char *op = binaryKind(e.l.kind).onnx;
  std::string acc = operand(0);
  for (size_t i = 1; i < e.in.size(); ++i)
    acc = e.node(op, {acc, operand(int(i))}).output(0);
  return {acc};
}

/// A shared tensor as an initializer with a batch dimension of 1 (NCHW for
/// an image's [H, W, C]), which broadcasts over ONNX's batch.
std::vector<int64_t> sourceDims(const Shape &s) {
  std::vector<int64_t> dims{1};
  if (s.size() == 3)
    dims.insert(dims.end(), {s[2], s[0], s[1]});
  else
    dims.insert(dims.end(), s.begin(), s.end());
  return dims;
}

OnnxValue constantToOnnx(OnnxEmit &e) {
  int64_t n = elementsOf(e.l.shape);
  return {e.constant(e.l.layer->name(), sourceDims(e.l.shape),
                     std::vector<float>(n, float(e.l.attr("value"))))};
}

OnnxValue weightToOnnx(OnnxEmit &e) {
  const Shape &s = e.l.shape;
  std::function<int64_t(int64_t)> at = nullptr;
  if (s.size() == 3) // ONNX's element (c, y, x) is gradc's (y, x, c)
    at = [&](int64_t k) {
      int64_t h = s[0], w = s[1], ch = s[2];
      int64_t c = k / (h * w), y = k / w % h, x = k % w;
      return (y * w + x) * ch + c;
    };
  if (e.l.param("weight") < 0) // trainable: false
    return {e.buffer("weight", sourceDims(s), at)};
  return {e.param("weight", sourceDims(s), at)};
}

const LayerDef kElementwiseLayers[] = {
    {Layer::kActivation, checkActivation, emitActivation, activationToOnnx},
    {Layer::kDropout, checkDropout, emitDropout, dropoutToOnnx},
    {Layer::kAdd, checkBinary, emitBinary, binaryToOnnx},
    {Layer::kSubtract, checkBinary, emitBinary, binaryToOnnx},
    {Layer::kMultiply, checkBinary, emitBinary, binaryToOnnx},
    {Layer::kDivide, checkBinary, emitBinary, binaryToOnnx},
    {Layer::kMaximum, checkBinary, emitBinary, binaryToOnnx},
    {Layer::kMinimum, checkBinary, emitBinary, binaryToOnnx},
    {Layer::kPower, checkBinary, emitBinary, binaryToOnnx},
    {Layer::kConstant, checkConstant, emitConstant, constantToOnnx, true},
    {Layer::kWeight, checkWeight, emitWeight, weightToOnnx, true},
};

} // namespace

llvm::ArrayRef<LayerDef> getElementwiseLayerDefs() {
  return kElementwiseLayers;
}

} // namespace gradc
