//===- LinearLayers.cpp - dense, embedding, matmul ------------------------===//
//
// The dense layer (a constant kernel), the embedding layer (rows of a table
// by integer ids) and the matmul layer (the product of two activations):
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

const LayerDef kLinearLayers[] = {
    {Layer::kDense, checkDense, emitDense, denseToOnnx},
    {Layer::kEmbedding, checkEmbedding, emitEmbedding, embeddingToOnnx,
     /*source=*/false, /*readsIds=*/true},
    {Layer::kMatmul, checkMatMul, emitMatMul, matmulToOnnx},
};

} // namespace

llvm::ArrayRef<LayerDef> getLinearLayerDefs() { return kLinearLayers; }

} // namespace gradc
