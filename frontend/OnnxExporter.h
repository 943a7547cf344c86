//===- OnnxExporter.h - gradc models as ONNX inference graphs ---*- C++ -*-===//
//
// Writes what @predict computes as an ONNX model (opset 13): the input NCHW
// as PyTorch's, kernels OIHW, dense weights as Gemm's B with transB = 1,
// batch norm in its inference form with the running statistics, dropout
// left out. Each layer kind writes its own nodes (LayerDef::toOnnx, next to
// its check and emit); this file holds the graph and the layout rules.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_ONNXEXPORTER_H
#define GRADC_FRONTEND_ONNXEXPORTER_H

#include "frontend/ModelChecker.h"
#include "ir/UnaryFunctions.h"

#include "absl/status/status.h"
#include "onnx/onnx_pb.h"

#include <functional>
#include <string>
#include <vector>

namespace gradc {

constexpr int64_t kOnnxExportOpset = 13;

/// The values of a model's parameters and buffers, in ResolvedModel order.
struct Weights {
  std::vector<const std::vector<float> *> params, buffers;
  /// A language model's tokens (entry k token k's text), written into the
  /// model's metadata as "gradc.vocabulary"; null or empty: none.
  const std::vector<std::string> *vocabulary = nullptr;
};

/// One exported tensor: its ONNX name and, for a flatten of an NHWC
/// [H, W, C] (C > 1, H * W > 1) written as ONNX's Flatten of NCHW, the
/// [C, H, W] its features are ordered by (gradc orders them H, W, C).
struct OnnxValue {
  std::string name;
  std::vector<int64_t> chw;
  std::string unflattened; // the NCHW tensor it is a Flatten of
};

/// What a layer's toOnnx sees: its inputs as ONNX tensors, its weights, and
/// helpers that append nodes and initializers to the graph.
class OnnxEmit {
public:
  OnnxEmit(onnx::GraphProto &g, const ResolvedModel &model,
           const ResolvedLayer &l, const Weights &w,
           std::vector<OnnxValue> inputs, int &counter)
      : l(l), model(model), in(std::move(inputs)), g(g), w(w),
        counter(counter) {}

  const ResolvedLayer &l;
  const ResolvedModel &model;
  /// The inputs as written (possibly with a feature order to undo).
  std::vector<OnnxValue> in;

  /// Input `i` with its features in gradc's order (a Transpose and Flatten
  /// when they are not).
  std::string input(int i);
  /// Appends a node `op` of `inputs`; returns its output's name.
  onnx::NodeProto &node(const char *op, std::vector<std::string> inputs,
                        const std::string &suffix = "");
  /// The parameter (buffer) of `role` as an initializer named after it,
  /// its values rearranged from gradc's layout by `at`: the ONNX tensor's
  /// element k is gradc's element at(k). "" when the layer has none.
  std::string param(const std::string &role, std::vector<int64_t> dims,
                    const std::function<int64_t(int64_t)> &at = nullptr);
  std::string buffer(const std::string &role, std::vector<int64_t> dims,
                     const std::function<int64_t(int64_t)> &at = nullptr);
  /// A new constant initializer.
  std::string constant(const std::string &name, std::vector<int64_t> dims,
                       std::vector<float> values);
  /// A new 1-D INT64 initializer (axes, shapes).
  std::string int64s(const std::string &name, const std::vector<int64_t> &v);
  /// `x`, an image in gradc's N,H,W,C order, as ONNX's N,C,H,W (a Transpose
  /// named with `suffix`).
  std::string toNchw(const std::string &x, const std::string &suffix = "_nchw");
  /// Appends the layer's resolved activation to `x` (returns x for LINEAR).
  std::string activate(const std::string &x);
  /// The nodes of a GELU (exact or tanh form) of `x`.
  std::string gelu(const std::string &x);
  /// The nodes of an nn.unary function of `x` (ir/UnaryFunctions.def).
  std::string unary(const nn::UnaryFnInfo &fn, const std::string &x);
  /// Sets the attributes of a node.
  static void attr(onnx::NodeProto &n, const char *name, int64_t v);
  static void attr(onnx::NodeProto &n, const char *name, float v);
  static void attr(onnx::NodeProto &n, const char *name,
                   const std::vector<int64_t> &v);
  /// The rank of the layer's input `i` in ONNX (the batch included).
  size_t inputRank(int i) const;

private:
  std::string tensor(const ParamSpec &spec, const std::vector<float> &values,
                     std::vector<int64_t> dims,
                     const std::function<int64_t(int64_t)> &at);

  onnx::GraphProto &g;
  const Weights &w;
  int &counter;
};

/// Writes `model` with `weights` to `path` (atomically) as an ONNX model.
absl::Status exportOnnx(const ResolvedModel &model, const Weights &weights,
                        const std::string &path);

} // namespace gradc

#endif // GRADC_FRONTEND_ONNXEXPORTER_H
