//===- OnnxLinearOps.cpp - Gemm, MatMul and Gather ------------------------===//
//
// The converters of Gemm and MatMul, a dense layer whose kernel is B
// ([in, out]), its rows in the order gradc holds the input's features (H, W,
// C after a flatten of an NCHW tensor; a MatMul of a 3-D [N, T, features]
// input is a dense on its last axis), and of Gather, an embedding: rows of an
// initializer table at integer ids, as PyTorch exports nn.Embedding.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

#include "absl/strings/str_join.h"

namespace gradc::onnximport {

/// MatMul of two activations [N, M, K] x [N, K, P]: a matmul layer (the
/// batch of either is the other's, as gradc's layer pairs them). Rank 4 is
/// refused: the importer holds a 4-D tensor as an NCHW image in NHWC.
bool OnnxImport::matmulOfActivations(const Node &n) {
  if (!onlyAttrs(n, {}))
    return false;
  const Tensor *a = activation(n, 0), *b = activation(n, 1);
  if (!a || !b)
    return false;
  // Both carry the batch, so both need the same rank for ONNX's alignment
  // (at the last axis, the batch included) to be gradc's (per example).
  if (a->dims.size() < 3 || a->dims.size() != b->dims.size())
    return fail(n, absl::StrCat("a MatMul of two activations needs both of the "
                                "same rank, 3 or more ([N, ..., M, K] x "
                                "[N, ..., K, P]), got ranks ",
                                a->dims.size(), " and ", b->dims.size()));
  int64_t rank = int64_t(a->dims.size());
  if (!a->sameBatchAs(*b) || a->batchAxis >= rank - 2)
    return fail(n, "its inputs hold the batch in different axes of ONNX's "
                   "order, or in an axis it multiplies");
  a = inOnnxOrder(a);
  b = inOnnxOrder(b);
  Layer layer;
  layer.set_name(layerName(n));
  layer.mutable_matmul();
  addLayer(n, std::move(layer), {a, b}).holdBatchAs(*a);
  return true;
}

/// Gemm and MatMul: a dense layer whose kernel is B ([in, out]).
bool OnnxImport::gemm(const Node &n) {
  bool isGemm = n.op_type() == "Gemm";
  if (!isGemm && hasInput(n, 1) && !constants.count(n.input(1)))
    return matmulOfActivations(n);
  if (!(isGemm ? onlyAttrs(n, {"alpha", "beta", "transA", "transB"})
               : onlyAttrs(n, {})))
    return false;
  const Tensor *a = activation(n, 0);
  const onnx::TensorProto *b = constant(n, 1, false);
  const onnx::TensorProto *c = isGemm ? constant(n, 2, true) : nullptr;
  if (!a || !b)
    return false;
  if (attrInt(n, "transA", 0) != 0)
    return fail(n, "transA 1 is not supported (the input is [N, features])");
  // MatMul of a sequence [N, T, features] (PyTorch's Linear on it), or of
  // any rank, is a dense layer on the last axis, in ONNX's order.
  bool sequence = !isGemm && a->dims.size() >= 3;
  if (sequence)
    a = inOnnxOrder(a);
  if (a->batchAxis == int64_t(a->dims.size()) - 1)
    return fail(n, "its input holds the batch in the axis it multiplies");
  if ((a->dims.size() != 2 && !sequence) || b->dims_size() != 2)
    return fail(
        n, absl::StrCat(
               "expects a 2-D input [N, features]",
               isGemm ? "" : " or one of more dimensions [N, ..., features]",
               " and a 2-D weight, got ranks ", a->dims.size(), " and ",
               b->dims_size()));
  bool transB = attrInt(n, "transB", 0) != 0;
  int64_t in = b->dims(transB ? 1 : 0), units = b->dims(transB ? 0 : 1);
  auto weights = floats(*b, absl::StrCat("initializer '", b->name(), "'"));
  if (!weights)
    return false;
  float alpha = attrFloat(n, "alpha", 1.0f), beta = attrFloat(n, "beta", 1.0f);
  // gradc's kernel is [in, out], its rows in the order gradc holds the
  // input's features.
  const std::vector<int64_t> &chw = a->flatFromCHW;
  std::vector<float> kernel(weights->size());
  for (int64_t r = 0; r < in; ++r) {
    int64_t src = r; // the ONNX feature of gradc's feature r
    if (!chw.empty()) {
      int64_t ch = r % chw[0], hw = r / chw[0];
      src = ch * chw[1] * chw[2] + hw;
    }
    for (int64_t u = 0; u < units; ++u)
      kernel[r * units + u] =
          alpha * (*weights)[transB ? u * in + src : src * units + u];
  }
  Layer layer;
  layer.set_name(layerName(n));
  Dense &d = *layer.mutable_dense();
  d.set_units(units);
  d.set_use_bias(c && beta != 0.0f);
  if (c && beta != 0.0f) {
    auto bias = floats(*c, absl::StrCat("initializer '", c->name(), "'"));
    if (!bias)
      return false;
    if (bias->size() == 1)
      bias->assign(units, (*bias)[0]);
    if (int64_t(bias->size()) != units || c->dims_size() > 2 ||
        (c->dims_size() == 2 && c->dims(0) != 1))
      return fail(n,
                  absl::StrCat("C of shape [", absl::StrJoin(c->dims(), ", "),
                               "] is not a bias of ", units,
                               " values (one per output)"));
    for (float &v : *bias)
      v *= beta;
    give(n, layer.name(), "bias", c->name(), std::move(*bias));
  }
  give(n, layer.name(), "kernel", b->name(), std::move(kernel));
  addLayer(n, std::move(layer), {a}).holdBatchAs(*a);
  return true;
}

/// Gather of axis 0: rows of a 2-D initializer [V, D] at the ids of an INT64
/// or INT32 graph input, an embedding layer whose table is the initializer.
bool OnnxImport::gather(const Node &n) {
  if (!onlyAttrs(n, {"axis"}))
    return false;
  const onnx::TensorProto *table = constant(n, 0, false);
  const Tensor *ids = activation(n, 1);
  if (!table || !ids)
    return false;
  if (attrInt(n, "axis", 0) != 0)
    return fail(n, absl::StrCat("axis ", attrInt(n, "axis", 0),
                                " is not supported: gradc imports Gather of "
                                "rows (axis 0), an embedding"));
  if (table->dims_size() != 2)
    return fail(n, absl::StrCat("expects a 2-D table [rows, width] as its "
                                "data, got rank ",
                                table->dims_size()));
  if (!ids->ids)
    return fail(n, "expects its indices to be an INT64 or INT32 graph input "
                   "(the ids of an embedding)");
  // [N, A, B] ids give a 4-D output, which ONNX holds as [N, A, B, D] and
  // the importer takes 4-D tensors as NCHW.
  if (ids->dims.size() > 2)
    return fail(n, absl::StrCat("indices of rank ", ids->dims.size(),
                                " are not supported: gradc imports Gather of "
                                "ids [N, T] (a 4-D output would be NCHW)"));
  auto values =
      floats(*table, absl::StrCat("initializer '", table->name(), "'"));
  if (!values)
    return false;
  Layer layer;
  layer.set_name(layerName(n));
  Embedding &e = *layer.mutable_embedding();
  e.set_input_dim(table->dims(0));
  e.set_output_dim(table->dims(1));
  if (!give(n, layer.name(), "embeddings", table->name(), std::move(*values)))
    return false;
  addLayer(n, std::move(layer), {ids});
  return true;
}

} // namespace gradc::onnximport
