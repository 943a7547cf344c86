//===- LinearLayers.cpp - dense, embedding, matmul ------------------------===//
//
// The dense layer (a constant kernel), the embedding layer (rows of a table
// by integer ids), the matmul layer (the product of two activations) and
// multi-head self-attention (projections and products of both kinds):
// their checks, their nn ops and their ONNX forms.
//
//===----------------------------------------------------------------------===//

#include "frontend/LayerDef.h"
#include "frontend/OnnxExporter.h"
#include "ir/NNDialect.h"
#include "ir/ShapeRules.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradc {
namespace {

/// Keras's Dense: on the last axis of an input of any rank, [N, ..., in]
/// to [N, ..., units], the same kernel for every position.
bool checkDense(LayerCheck &c) {
  const Dense &d = c.layer.dense();
  if (!c.oneInput())
    return false;
  const Shape &in = c.in[0];
  int64_t features = in.back(), positions = 1;
  for (size_t k = 0; k + 1 < in.size(); ++k)
    positions *= in[k];
  if (!c.positiveDim("units", d.units()) ||
      !c.activation(d.activation(), d.has_alpha(), d.alpha()) ||
      !c.elements("kernel", {features, d.units()}))
    return false;
  c.out.shape = in;
  c.out.shape.back() = d.units();
  if (!c.elements("output", c.out.shape))
    return false;
  c.param("kernel", {features, d.units()}, d.kernel_initializer(), features,
          d.units());
  bool bias = !d.has_use_bias() || d.use_bias();
  if (bias)
    c.param("bias", {d.units()}, d.bias_initializer(), features, d.units());
  c.out.flops = double(positions) * double(d.units()) *
                (2.0 * double(features) + (bias ? 1 : 0));
  // Machine code, at least (bench/code_size.py): the matmul and its two
  // gradient matmuls took 18.7-60.4 KiB from 16 to 1,024 units.
  c.out.codeBytes = int64_t(16) << 10;
  return true;
}

/// nn.dense on [rows, in]: an input of rank > 2 is reshaped to its rows
/// (every position of every example) and back.
mlir::Value emitDense(const LayerEmit &e) {
  mlir::Value x = e.inputs[0];
  auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
  llvm::ArrayRef<int64_t> shape = type.getShape();
  if (shape.size() > 2) {
    int64_t rows = 1;
    for (int64_t d : shape.drop_back())
      rows *= d;
    x = e.b.create<nn::ReshapeOp>(
        e.loc,
        mlir::RankedTensorType::get({rows, shape.back()},
                                    type.getElementType()),
        x);
  }
  mlir::Value y =
      e.b.create<nn::DenseOp>(e.loc, x, e.param("kernel"), e.param("bias"));
  if (shape.size() > 2) {
    llvm::SmallVector<int64_t> out(shape);
    out.back() = mlir::cast<mlir::RankedTensorType>(y.getType()).getShape()[1];
    y = e.b.create<nn::ReshapeOp>(
        e.loc, mlir::RankedTensorType::get(out, type.getElementType()), y);
  }
  return e.activate(y);
}

/// ONNX's Gemm with transB = 1 (B is [out, in], as PyTorch's Linear). An
/// input flattened from NCHW orders its features C, H, W: B's columns follow.
/// On a sequence [N, T, in], MatMul and Add (as PyTorch exports its Linear);
/// on an image, MatMul over the channels between transposes to NHWC and
/// back.
OnnxValue denseToOnnx(OnnxEmit &e) {
  const std::vector<int64_t> chw = e.in[0].chw;
  int64_t units = e.l.shape.back();
  int64_t in = e.model.params[e.l.param("kernel")].shape[0];
  if (e.l.shape.size() > 1) {
    bool image = e.l.shape.size() == 3;
    std::string x = e.input(0);
    if (image) {
      onnx::NodeProto &t = e.node("Transpose", {x}, "_nhwc");
      OnnxEmit::attr(t, "perm", std::vector<int64_t>{0, 2, 3, 1});
      x = t.output(0);
    }
    std::string y =
        e.node("MatMul", {x, e.param("kernel", {in, units})}).output(0);
    if (e.l.param("bias") >= 0)
      y = e.node("Add", {y, e.param("bias", {units})}).output(0);
    if (image) {
      y = e.toNchw(y);
    }
    return {e.activate(y)};
  }
  auto outIn = [=](int64_t k) { // [in, out] index of [out, in] element k
    int64_t u = k / in, f = k % in;
    if (!chw.empty()) { // ONNX feature f = (c, h, w): gradc's (h, w, c)
      int64_t c = f / (chw[1] * chw[2]), hw = f % (chw[1] * chw[2]);
      f = hw * chw[0] + c;
    }
    return f * units + u;
  };
  std::vector<std::string> ins{e.in[0].name,
                               e.param("kernel", {units, in}, outIn)};
  if (e.l.param("bias") >= 0)
    ins.push_back(e.param("bias", {units}));
  onnx::NodeProto &n = e.node("Gemm", ins);
  OnnxEmit::attr(n, "transB", int64_t(1));
  return {e.activate(n.output(0))};
}

/// Keras's Embedding: ids [T...] (the checker gives it integer inputs
/// only) to [T..., output_dim], a table [input_dim, output_dim] initialized
/// uniform(-0.05, 0.05) as Keras's default.
bool checkEmbedding(LayerCheck &c) {
  const Embedding &e = c.layer.embedding();
  if (!c.oneInput() || !c.positiveDim("input_dim", e.input_dim()) ||
      !c.positiveDim("output_dim", e.output_dim()) ||
      !c.elements("embeddings", {e.input_dim(), e.output_dim()}))
    return false;
  c.out.shape = c.in[0];
  c.out.shape.push_back(e.output_dim());
  if (!c.elements("output", c.out.shape))
    return false;
  Initializer init = e.embeddings_initializer();
  if (init.kind_case() == Initializer::KIND_NOT_SET) {
    init.mutable_uniform()->set_minval(-0.05f);
    init.mutable_uniform()->set_maxval(0.05f);
  }
  c.param("embeddings", {e.input_dim(), e.output_dim()}, init, e.input_dim(),
          e.output_dim());
  // The data loader checks every id against it.
  c.out.attrs["input_dim"] = double(e.input_dim());
  c.out.flops = double(elementsOf(c.out.shape));
  // Machine code, at least: the gather and the scatter-add loop took 0.9
  // KiB a layer (ids [16], a 100 x 32 table, Adam; measured as
  // bench/code_size.py does, 1 and 3 embeddings of one input added up).
  c.out.codeBytes = 512;
  return true;
}

mlir::Value emitEmbedding(const LayerEmit &e) {
  return e.b.create<nn::EmbeddingOp>(e.loc, e.inputs[0], e.param("embeddings"));
}

/// ONNX's Gather (axis 0) of the table by the ids, as PyTorch exports its
/// nn.Embedding. Gather of ids [N, A, B] gives [N, A, B, D], gradc's NHWC
/// layout; the export holds a 4-D tensor as NCHW, so a Transpose follows.
OnnxValue embeddingToOnnx(OnnxEmit &e) {
  const ParamSpec &table = e.model.params[e.l.param("embeddings")];
  std::string y =
      e.node("Gather", {e.param("embeddings", table.shape), e.in[0].name})
          .output(0);
  if (e.l.shape.size() == 3) {
    y = e.toNchw(y);
  }
  return {y};
}

/// torch.matmul of two activations (model.proto's MatMul): the shape rule
/// of nn.batch_matmul (ir/ShapeRules.h) on the per-example shapes.
bool checkMatMul(LayerCheck &c) {
  const MatMul &mm = c.layer.matmul();
  if (c.in.size() != 2)
    return c.fail(absl::StrCat("matmul expects 2 inputs, got ", c.in.size()));
  for (size_t i = 0; i < 2; ++i)
    if (c.in[i].size() < 2)
      return c.fail(absl::StrCat("matmul expects inputs of 2 or more "
                                 "dimensions per example, got input ",
                                 i + 1, " of ", shapeStr(c.in[i])));
  std::string error;
  auto shape =
      matmulShape(c.in[0], c.in[1], mm.transpose_a(), mm.transpose_b(), error);
  if (!shape)
    return c.fail(absl::StrCat("matmul ", error, " (inputs ", shapeStr(c.in[0]),
                               " and ", shapeStr(c.in[1]), " per example",
                               mm.transpose_a() ? ", transpose_a" : "",
                               mm.transpose_b() ? ", transpose_b" : "", ")"));
  c.out.shape = *shape;
  if (!c.elements("output", c.out.shape))
    return false;
  c.out.attrs["transpose_a"] = mm.transpose_a();
  c.out.attrs["transpose_b"] = mm.transpose_b();
  const Shape &a = c.in[0];
  int64_t k = mm.transpose_a() ? a[a.size() - 2] : a.back();
  // 2 M K P per matrix of the output.
  c.out.flops = 2.0 * double(elementsOf(c.out.shape)) * double(k);
  // Machine code, at least (bench/code_size.py): the product and its two
  // gradient products took 9.1 KiB for 16 matrices of 16x16 and 15.8 KiB
  // for 32 of 32x32.
  c.out.codeBytes = int64_t(8) << 10;
  return true;
}

/// nn.batch_matmul; the input of fewer dimensions gets size-1 ones after
/// the batch, so that NumPy's alignment at the last dimension never pairs
/// the batch with an example's own dimension.
mlir::Value emitMatMul(const LayerEmit &e) {
  size_t rank = e.l.shape.size() + 1;
  auto lift = [&](mlir::Value x) {
    auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
    if (size_t(type.getRank()) == rank)
      return x;
    Shape s(rank - size_t(type.getRank()), 1);
    s.insert(s.end(), type.getShape().begin() + 1, type.getShape().end());
    return mlir::Value(e.b.create<nn::ReshapeOp>(e.loc, e.batched(s), x));
  };
  return e.b.create<nn::BatchMatmulOp>(
      e.loc, lift(e.inputs[0]), lift(e.inputs[1]), e.l.attr("transpose_a") != 0,
      e.l.attr("transpose_b") != 0);
}

/// ONNX's MatMul, on gradc's layout: a rank-4 operand (NCHW in the file) is
/// transposed to NHWC and the result back; a transposed operand gets a
/// Transpose of its last two axes, and the operand of fewer dimensions
/// size-1 ones after the batch (ONNX aligns at the last, batch included).
OnnxValue matmulToOnnx(OnnxEmit &e) {
  size_t rank = e.l.shape.size() + 1;
  auto operand = [&](int i, bool transposed) {
    std::string x = e.input(i);
    size_t r = e.inputRank(i);
    std::vector<int64_t> perm;
    for (size_t a = 0; a < r; ++a)
      perm.push_back(int64_t(a));
    if (r == 4) // NCHW to gradc's NHWC
      perm = {0, 2, 3, 1};
    if (transposed)
      std::swap(perm[r - 2], perm[r - 1]);
    if (!std::is_sorted(perm.begin(), perm.end())) {
      onnx::NodeProto &t = e.node("Transpose", {x});
      OnnxEmit::attr(t, "perm", perm);
      x = t.output(0);
    }
    if (r < rank) {
      std::vector<int64_t> axes;
      for (size_t a = 1; a <= rank - r; ++a)
        axes.push_back(int64_t(a));
      x = e.node("Unsqueeze", {x, e.int64s("axes", axes)}).output(0);
    }
    return x;
  };
  std::string a = operand(0, e.l.attr("transpose_a") != 0);
  std::string b = operand(1, e.l.attr("transpose_b") != 0);
  std::string y = e.node("MatMul", {a, b}).output(0);
  if (rank == 4) { // back to NCHW
    y = e.toNchw(y);
  }
  return {y};
}

/// The projections of multi_head_attention, in the order of PyTorch's
/// in_proj_weight (query, key, value) and then out_proj.
const char *const kProjections[] = {"query", "key", "value", "output"};

/// Multi-head self-attention of a sequence [T, D] with itself (model.proto's
/// MultiHeadAttention).
bool checkMultiHeadAttention(LayerCheck &c) {
  const MultiHeadAttention &a = c.layer.multi_head_attention();
  if (!c.oneInput())
    return false;
  const Shape &in = c.in[0];
  if (in.size() != 2)
    return c.fail(absl::StrCat("multi_head_attention expects a sequence "
                               "[steps, features] per example, got ",
                               shapeStr(in)));
  int64_t t = in[0], d = in[1];
  if (!c.positiveDim("heads", a.heads()))
    return false;
  if (d % a.heads() != 0)
    return c.fail(absl::StrCat("multi_head_attention's ", a.heads(),
                               " heads do not divide its ", d, " features"));
  if (!(a.dropout() >= 0 && a.dropout() < 1))
    return c.fail(absl::StrCat("dropout must be in [0, 1), got ", a.dropout()));
  if (!c.elements("scores", {a.heads(), t, t}))
    return false;
  c.out.shape = in;
  Initializer kernel = a.kernel_initializer();
  if (kernel.kind_case() == Initializer::KIND_NOT_SET)
    kernel.mutable_glorot_uniform();
  bool bias = !a.has_use_bias() || a.use_bias();
  for (const char *p : kProjections) {
    c.param(absl::StrCat(p, "_kernel"), {d, d}, kernel, d, d);
    if (bias)
      c.param(absl::StrCat(p, "_bias"), {d}, a.bias_initializer(), d, d);
  }
  c.out.attrs["heads"] = double(a.heads());
  c.out.attrs["causal"] = a.causal();
  c.out.attrs["rate"] = fromFloat(a.dropout());
  // Four projections (2 T D D each) and two products of T x T x D.
  c.out.flops = 8.0 * t * d * d + 4.0 * t * t * d;
  // As four dense layers and two matmul layers.
  c.out.codeBytes = int64_t(80) << 10;
  return true;
}

/// The lowest float: what a causal mask gives the future keys' scores, so
/// that the softmax gives them no weight (PyTorch writes -inf).
constexpr double kMaskedScore = -3.4028234663852886e38;

/// x [N, T, D] projected by `role`'s kernel and bias, as [N, heads, T, D /
/// heads] (per head, its slice of the projection's features).
mlir::Value projectHeads(const LayerEmit &e, mlir::Value x2d,
                         const std::string &role) {
  int64_t t = e.l.shape[0], d = e.l.shape[1];
  int64_t heads = int64_t(e.l.attr("heads"));
  mlir::Value y = e.b.create<nn::DenseOp>(e.loc, x2d, e.param(role + "_kernel"),
                                          e.param(role + "_bias"));
  y = e.b.create<nn::ReshapeOp>(e.loc, e.batched({t, heads, d / heads}), y);
  return e.b.create<nn::TransposeOp>(e.loc, y,
                                     e.b.getDenseI64ArrayAttr({0, 2, 1, 3}));
}

/// The query, key and value projections split into heads; softmax(q kᵀ /
/// sqrt(width)) over the keys (the future ones masked when causal, dropout on
/// the weights); the heads' mixes of the values joined and projected.
mlir::Value emitMultiHeadAttention(const LayerEmit &e) {
  int64_t t = e.l.shape[0], d = e.l.shape[1];
  int64_t heads = int64_t(e.l.attr("heads")), width = d / heads;
  mlir::Type f32 = e.b.getF32Type();
  auto rows = mlir::RankedTensorType::get({e.batch * t, d}, f32);
  mlir::Value x = e.b.create<nn::ReshapeOp>(e.loc, rows, e.inputs[0]);
  mlir::Value q = projectHeads(e, x, "query");
  mlir::Value k = projectHeads(e, x, "key");
  mlir::Value v = projectHeads(e, x, "value");
  // PyTorch scales the queries before the product.
  q = e.b.create<nn::MulOp>(
      e.loc, q,
      e.b.create<nn::ConstantOp>(e.loc, q.getType(),
                                 e.b.getF64FloatAttr(1.0 / std::sqrt(width))));
  mlir::Value s = e.b.create<nn::BatchMatmulOp>(e.loc, q, k, false, true);
  if (e.l.attr("causal") != 0)
    s = e.b.create<nn::CausalMaskOp>(
        e.loc, s, e.b.getF64FloatAttr(kMaskedScore), mlir::UnitAttr());
  mlir::Value p = e.b.create<nn::SoftmaxOp>(e.loc, s);
  if (double rate = e.l.attr("rate"); rate > 0) {
    uint64_t mixed = static_cast<uint64_t>(e.model.seed) * 1000003u +
                     static_cast<uint64_t>(e.l.fileIndex);
    p = e.b.create<nn::DropoutOp>(e.loc, p, mlir::Value(),
                                  e.b.getF64FloatAttr(rate),
                                  e.b.getI64IntegerAttr(int64_t(mixed)));
  }
  mlir::Value mix = e.b.create<nn::BatchMatmulOp>(e.loc, p, v, false, false);
  mix = e.b.create<nn::TransposeOp>(e.loc, mix,
                                    e.b.getDenseI64ArrayAttr({0, 2, 1, 3}));
  mix = e.b.create<nn::ReshapeOp>(e.loc, rows, mix);
  mlir::Value y = e.b.create<nn::DenseOp>(e.loc, mix, e.param("output_kernel"),
                                          e.param("output_bias"));
  return e.b.create<nn::ReshapeOp>(e.loc, e.batched(e.l.shape), y);
}

/// The same computation in ONNX operators, as PyTorch 1.13 exports its
/// MultiheadAttention (batch first): MatMul and Add per projection, Reshape
/// and Transpose into heads, the scaled product, an Add of a -inf mask above
/// the diagonal when causal, Softmax, the product with the values, and back.
OnnxValue multiHeadAttentionToOnnx(OnnxEmit &e) {
  int64_t t = e.l.shape[0], d = e.l.shape[1];
  int64_t heads = int64_t(e.l.attr("heads")), width = d / heads;
  std::string name = e.l.layer->name();
  std::string x = e.input(0);
  std::string split = e.int64s(name + "_heads", {0, t, heads, width});
  auto project = [&](const std::string &role, const std::string &from) {
    std::string y =
        e.node("MatMul", {from, e.param(role + "_kernel", {d, d})}).output(0);
    if (e.l.param(role + "_bias") >= 0)
      y = e.node("Add", {y, e.param(role + "_bias", {d})}).output(0);
    return y;
  };
  auto heads4 = [&](const std::string &y, std::vector<int64_t> perm) {
    std::string r = e.node("Reshape", {y, split}).output(0);
    onnx::NodeProto &tr = e.node("Transpose", {r});
    OnnxEmit::attr(tr, "perm", perm);
    return tr.output(0);
  };
  std::string q = heads4(project("query", x), {0, 2, 1, 3});
  std::string kT = heads4(project("key", x), {0, 2, 3, 1});
  std::string v = heads4(project("value", x), {0, 2, 1, 3});
  std::string scale =
      e.constant(name + "_scale", {}, {float(1.0 / std::sqrt(double(width)))});
  q = e.node("Mul", {q, scale}).output(0);
  std::string s = e.node("MatMul", {q, kT}).output(0);
  if (e.l.attr("causal") != 0) {
    std::vector<float> mask(size_t(t * t), 0.0f);
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = i + 1; j < t; ++j)
        mask[size_t(i * t + j)] = -std::numeric_limits<float>::infinity();
    s = e.node("Add", {s, e.constant(name + "_mask", {t, t}, mask)}).output(0);
  }
  onnx::NodeProto &sm = e.node("Softmax", {s});
  OnnxEmit::attr(sm, "axis", int64_t(-1));
  std::string mix = e.node("MatMul", {sm.output(0), v}).output(0);
  onnx::NodeProto &back = e.node("Transpose", {mix});
  OnnxEmit::attr(back, "perm", std::vector<int64_t>{0, 2, 1, 3});
  std::string joined =
      e.node("Reshape", {back.output(0), e.int64s(name + "_join", {0, t, d})})
          .output(0);
  return {project("output", joined)};
}

const LayerDef kLinearLayers[] = {
    {Layer::kDense, checkDense, emitDense, denseToOnnx},
    {Layer::kEmbedding, checkEmbedding, emitEmbedding, embeddingToOnnx,
     /*source=*/false, /*readsIds=*/true},
    {Layer::kMatmul, checkMatMul, emitMatMul, matmulToOnnx},
    {Layer::kMultiHeadAttention, checkMultiHeadAttention,
     emitMultiHeadAttention, multiHeadAttentionToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getLinearLayerDefs() { return kLinearLayers; }

} // namespace gradc
