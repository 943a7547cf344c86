//===- OnnxImport.h - what the ONNX importer's parts share ------*- C++ -*-===//
//
// The one job of this header: declare what the parts of the ONNX importer
// share. The class OnnxImport (one import of one file: its errors, the
// values of the graph, the model being built), Tensor (a value of the graph
// as the conversion sees it) and OnnxOperator (a row of the operator table).
// Each member is defined in the file of its job:
//
//   OnnxImporter.cpp       the driver: read, opset, checks, run
//   OnnxOperators.cpp      the table of operators
//   OnnxTensors.cpp        tensors' values (fields, raw and external data)
//   OnnxValues.cpp         a node's inputs and outputs
//   OnnxAttributes.cpp     a node's attributes
//   Onnx<Family>Ops.cpp    the converters, one function per operator
//                          (OnnxReductionOps.cpp: ReduceMean and the others;
//                          OnnxRecurrentOps.cpp: LSTM and GRU;
//                          OnnxFoldOps.cpp: shape arithmetic folded;
//                          OnnxBatchViews.cpp: Transpose and Reshape that
//                          move the batch)
//
// Layout is never guessed from a rank: each value records how gradc holds
// it (Tensor::layout). A value is held in ONNX's order, except where the
// window operators (Conv, pooling, BatchNormalization), which compute
// channels last, produce or read it: there it is held channels last (NCHW
// as NHWC, NCW as N, 1, W, C), and so are the layout-blind operators'
// (activations, arithmetic with constants) values around them. Where a
// value is needed in the other layout, one permute layer converts it
// (made once per value). A graph input is held channels last when it flows
// into a window operator or a Flatten through layout-blind ones, so an image
// model takes HWC images, as gradc's data formats give them; the output is
// always in ONNX's order. Kernels and constants are converted when read. A
// flatten of a channels-last tensor orders its features H, W, C while ONNX's
// orders them C, H, W: the tensor remembers it, and the dense layer it feeds
// takes its kernel rows in gradc's order, so no transpose runs.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_ONNX_ONNXIMPORT_H
#define GRADC_FRONTEND_ONNX_ONNXIMPORT_H

#include "frontend/ModelLoader.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gradc::onnximport {

/// How gradc holds a value of the graph.
enum class Layout {
  Onnx,         // in ONNX's order
  ChannelsLast, // NCHW as NHWC; NCW as N, 1, W, C (a 1-D window is a 2-D
                // window of height 1)
};

/// A value of the graph as the conversion sees it.
struct Tensor {
  /// The layer that produces it, or the graph input it is.
  std::string layer;
  /// ONNX dims, the batch first (-1 when unknown).
  std::vector<int64_t> dims;
  /// Flattened from an NCHW [C, H, W] (C > 1, H * W > 1): gradc holds the
  /// features in H, W, C order, ONNX in C, H, W order.
  std::vector<int64_t> flatFromCHW;
  /// A global pooling's [N, C, 1, 1], held by gradc as [N, C].
  bool squeezed = false;
  /// Zero padding [top, bottom, left, right] of a Pad node, for the Conv
  /// that reads it to take over.
  std::vector<int64_t> pads;
  /// An earlier node failed: no further error about it.
  bool failed = false;
  Layout layout = Layout::Onnx;

  /// The output of a layout-blind layer of `x` is held as `x` is.
  void holdAs(const Tensor &x) {
    flatFromCHW = x.flatFromCHW;
    squeezed = x.squeezed;
    layout = x.layout;
    batchOnly = x.batchOnly;
    holdBatchAs(x);
  }
  bool channelsLast() const { return layout == Layout::ChannelsLast; }
  /// An INT64 or INT32 graph input: ids, which only Gather reads.
  bool ids = false;
  /// ONNX's [N], one value per example, held by gradc as [N, 1] (`dims`
  /// says [N, 1]): only elementwise operators may read it, as any axis of
  /// it but the batch would be gradc's, not ONNX's.
  bool batchOnly = false;

  /// Where ONNX's tensor holds the batch when it is not its first axis
  /// alone, as in PyTorch's sequence-first attention (`x.transpose(0, 1)`,
  /// a reshape to [T, N * heads, d]). gradc holds each example's values
  /// together, the batch first: ONNX's tensor is gradc's [N, held...] with
  /// the batch moved behind the held values that precede it in ONNX's
  /// order, and ONNX's axis `batchAxis` is batchOuter * N * batchInner
  /// (`dims` may say -1 there). Only the operators that act within each
  /// example whatever its order may read such a tensor (elementwise ones,
  /// MatMul and Softmax on axes other than the batch's, Transpose, Reshape,
  /// Shape: OnnxBatchViews.cpp).
  int64_t batchAxis = 0, batchOuter = 1, batchInner = 1;
  bool batchFirst() const {
    return batchAxis == 0 && batchOuter == 1 && batchInner == 1;
  }
  void holdBatchAs(const Tensor &x) {
    batchAxis = x.batchAxis;
    batchOuter = x.batchOuter;
    batchInner = x.batchInner;
  }
  bool sameBatchAs(const Tensor &x) const {
    return batchAxis == x.batchAxis && batchOuter == x.batchOuter &&
           batchInner == x.batchInner;
  }
};

/// The per-example dimensions gradc holds of `t`: ONNX's dims without the
/// batch (the held dims of its axis, when it holds more than the batch).
std::vector<int64_t> heldDims(const Tensor &t);
/// gradc's axis (the batch 0, then the held dims) of ONNX's `axis` of `t`,
/// an axis that does not hold the batch.
int64_t heldAxis(const Tensor &t, int64_t axis);

/// The operators that compute each element from the same element of their
/// inputs (and constants): the unary functions, the activations, the binary
/// operators, Clip, Dropout, Identity.
const std::set<std::string> &elementwiseOps();

/// The ONNX axis of `t` that gradc holds last: the channels (axis 1) of a
/// channels-last tensor, the last axis otherwise.
inline int64_t channelAxis(const Tensor &t) {
  return t.channelsLast() ? 1 : int64_t(t.dims.size()) - 1;
}

/// A constant as the folding operators compute with it
/// (OnnxFoldOps.cpp): its values as doubles (exact for shapes), INT32 read
/// as INT64 and DOUBLE as FLOAT.
struct Folded {
  onnx::TensorProto::DataType type = onnx::TensorProto::INT64;
  std::vector<int64_t> dims;
  std::vector<double> v;
  /// The elements that hold the batch size (a Shape's dimension 0), left
  /// open until run time; empty when none does.
  std::vector<bool> batch;

  bool isInt() const;
  bool unmarked() const {
    return std::find(batch.begin(), batch.end(), true) == batch.end();
  }
};

class OnnxImport;
struct OnnxOperator;

/// A layer of a chain (OnnxImport::chainLayers) and the constant its
/// binary layer combines the value so far with.
struct ChainStep {
  Layer layer;
  std::optional<float> constant;
};

/// The graph's nodes with each chain PyTorch exports for one operator that
/// the opsets gradc reads lack (GELU, SiLU, the hard swish) replaced by
/// that one node
/// (OnnxPatterns.cpp).
google::protobuf::RepeatedPtrField<onnx::NodeProto>
fuseExportedPatterns(const onnx::GraphProto &g);

/// The operators gradc imports, in the order the README lists them.
const std::vector<OnnxOperator> &onnxOperators();
/// The row of `opType` (of the default domain), or null.
const OnnxOperator *findOnnxOperator(const std::string &opType);

class OnnxImport {
public:
  OnnxImport(const std::string &path, ModelFile &file);

  absl::Status run();

  using Node = onnx::NodeProto;

private:
  friend const std::vector<OnnxOperator> &onnxOperators();

  // Errors: one line each, all collected.
  void error(const std::string &msg) {
    errors.push_back(absl::StrCat(path, ": error: ", msg));
  }
  bool fail(const Node &n, const std::string &msg) {
    error(absl::StrCat("node '", nodeName(n), "' (", n.op_type(), ", opset ",
                       opset, "): ", msg));
    return false;
  }
  static std::string nodeName(const Node &n) {
    return n.name().empty() && n.output_size() ? n.output(0) : n.name();
  }

  // Reading tensors (OnnxTensors.cpp).
  std::optional<int64_t> elementCount(const onnx::TensorProto &t,
                                      const std::string &what);
  std::optional<std::string> externalPath(const std::string &location,
                                          const std::string &what);
  std::optional<std::string> externalBytes(const onnx::TensorProto &t,
                                           const std::string &what,
                                           int64_t bytes);
  /// A FLOAT (INT64) tensor's values, from its field, raw data or external
  /// data, checked against its dims.
  template <typename T, typename Field>
  std::optional<std::vector<T>>
  values(const onnx::TensorProto &t, const std::string &what,
         onnx::TensorProto::DataType type, const Field &field);
  std::optional<std::vector<float>> floats(const onnx::TensorProto &t,
                                           const std::string &what);
  std::optional<std::vector<int64_t>> int64s(const onnx::TensorProto &t,
                                             const std::string &what);
  std::optional<std::vector<int32_t>> int32s(const onnx::TensorProto &t,
                                             const std::string &what);
  std::optional<std::vector<uint8_t>> bools(const onnx::TensorProto &t,
                                            const std::string &what);
  std::optional<std::vector<double>> doubles(const onnx::TensorProto &t,
                                             const std::string &what);

  // The graph (OnnxImporter.cpp).
  /// Everything after the opset: checks, shape inference, the conversion.
  absl::Status importGraph();
  absl::Status reinfer();
  bool readOpset();
  void checkExternalData();
  void checkNames();
  void checkOperators(const google::protobuf::RepeatedPtrField<Node> &nodes);
  absl::Status runOnnxChecker();
  /// The graph's inputs (those that are not initializers) as the model's.
  bool readInputs();
  void convert(const Node &n);
  void readOutput();
  /// Drops the layers of nodes whose outputs nothing reads (ONNX Runtime
  /// skips such nodes; a gradc model has none).
  void dropUnread();

  // A node's attributes (OnnxAttributes.cpp).
  const onnx::AttributeProto *attr(const Node &n, const char *name) const;
  int64_t attrInt(const Node &n, const char *name, int64_t d) const;
  float attrFloat(const Node &n, const char *name, float d) const;
  std::vector<int64_t> attrInts(const Node &n, const char *name) const;
  /// The `axes` of Squeeze, Unsqueeze and the reductions: a constant input 1
  /// (opset 13 on) or the attribute; nullopt after an error.
  std::optional<std::vector<int64_t>> axesOf(const Node &n);
  std::string attrString(const Node &n, const char *name, const char *d) const;
  /// Attribute 'axis' (`d` when missing) of a `rank`-D input, a negative
  /// one counted from the end.
  int64_t attrAxis(const Node &n, int64_t d, int64_t rank) const;
  bool onlyAttrs(const Node &n, std::initializer_list<const char *> known);

  // A node's inputs and outputs (OnnxValues.cpp).
  bool onlyFirstOutput(const Node &n);
  /// Input `i` as an activation (the graph input or a layer's output), or
  /// null after an error.
  const Tensor *activation(const Node &n, int i);
  /// Input `i` as a constant (an initializer or a Constant node's value),
  /// or null after an error; optional inputs give null without an error.
  const onnx::TensorProto *constant(const Node &n, int i, bool optional);
  /// Reports `problem` of input `i` (named after its value).
  bool failInput(const Node &n, int i, const std::string &problem);
  bool hasInput(const Node &n, int i) const {
    return i < n.input_size() && !n.input(i).empty();
  }
  /// Makes `t` the constant named `name` (the output of a node that
  /// computes a constant).
  void addConstant(const std::string &name,
                   std::unique_ptr<onnx::TensorProto> t);
  /// `x` held in ONNX's order: `x` itself, or a permute of it (made once).
  const Tensor *inOnnxOrder(const Tensor *x);
  /// `x` (rank 3 or 4) held channels last, for a window operator.
  const Tensor *inChannelsLast(const Tensor *x);
  /// Whether graph input `name` is held channels last: it flows into a
  /// window operator, a Flatten or a Reshape through layout-blind ones.
  bool feedsWindows(const std::string &name) const;
  /// Appends `layer` reading `inputs`, named after `base`; returns its name.
  std::string appendLayer(const std::string &base, Layer layer,
                          const std::vector<std::string> &inputs);
  /// Appends `layer` for `n` (name, inputs), its output a new tensor.
  Tensor &addLayer(const Node &n, Layer layer,
                   const std::vector<const Tensor *> &inputs);
  /// Gives `layer.role` the name and values of a constant; a constant read
  /// by two nodes is refused (gradc trains one parameter per layer).
  bool give(const Node &n, const std::string &layer, const char *role,
            const std::string &onnxName, std::vector<float> values,
            bool fixed = false);
  /// An unused, unique layer name for `n`, or from `base`.
  std::string layerName(const Node &n);
  std::string uniqueLayerName(const std::string &base);

  // The operators, one function each; OnnxOperators.cpp lists them.
  // OnnxConvPoolOps.cpp:
  bool conv(const Node &n);
  bool pool(const Node &n);
  bool globalPool(const Node &n);
  /// The explicit [top, bottom, left, right] pads of a conv or pool window
  /// (ONNX: begins then ends), auto_pad resolved; nullopt after an error.
  std::optional<std::vector<int64_t>>
  windowPads(const Node &n, const Tensor &x, const std::vector<int64_t> &k,
             const std::vector<int64_t> &strides,
             const std::vector<int64_t> &dilations);
  // OnnxNormalizationOps.cpp:
  bool batchNorm(const Node &n);
  bool layerNorm(const Node &n);
  // OnnxLinearOps.cpp:
  bool gemm(const Node &n);
  /// Gather (axis 0) of an initializer table by integer ids: an embedding.
  bool gather(const Node &n);
  bool matmulOfActivations(const Node &n);
  // OnnxRecurrentOps.cpp:
  /// LSTM and GRU: an lstm or gru layer, its output Y or Y_h.
  bool recurrent(const Node &n);
  // OnnxReductionOps.cpp:
  bool reduce(const Node &n);
  /// A reduce layer named `name` of x over ONNX's `axes` (sorted, without
  /// the batch), and the permute that puts a channels-last result without
  /// keepdims in ONNX's order; the result, also the node's output.
  Tensor reduceLayers(const Node &n, const Tensor *x, Reduce::Op op,
                      bool keepdims, const std::vector<int64_t> &axes,
                      const std::string &name);
  // OnnxElementwiseOps.cpp:
  bool activationOp(const Node &n);
  bool unaryOp(const Node &n);
  bool prelu(const Node &n);
  /// Celu, Shrink (its soft form), and Selu and HardSigmoid of other
  /// constants than gradc's, as chains of activations and constants.
  bool composedActivation(const Node &n);
  /// Appends layers `chain` (each reads the one before, and its constant;
  /// the first reads `x`), named after `n` and `suffix`; with `last`, the
  /// last is the node's output, held as `x`. Returns the last's name.
  std::string chainLayers(const Node &n, const Tensor &x,
                          std::vector<ChainStep> chain,
                          const std::string &suffix = "", bool last = true);
  bool preluOfAnySlope(const Node &n, Tensor x);
  bool softmax(const Node &n);
  /// Add, Sub, Mul, Div, Pow, Max, Min, Sum of activations and constants
  /// (NumPy broadcasting), or Add of a bias taken into the layer before it.
  bool binary(const Node &n);
  bool clip(const Node &n);
  bool foldBias(const Node &n, bool &folded);
  /// Constant input `i` of `n` as a layer every example shares, laid out as
  /// the node's activations `like` (of ONNX rank `rank`): a `constant` of
  /// its one value, or a trainable `weight` (an initializer of more than
  /// one element: a parameter, as PyTorch exports them). "" after an error.
  /// With `parameter`, an initializer of one value is a trained weight
  /// too (PRelu's single slope).
  std::string sharedLayer(const Node &n, int i, const Tensor &like,
                          bool parameter = false);
  bool dropout(const Node &n);
  // OnnxFoldOps.cpp:
  /// Constant input `i` of `n` to fold, or nullopt after an error (or when
  /// optional and missing).
  std::optional<Folded> folded(const Node &n, int i, bool optional);
  /// Makes `f` the constant `n` computes, its TensorProto named `name`
  /// (default: the node's output).
  bool addFolded(const Node &n, Folded f, const std::string &name = "");
  bool shapeOp(const Node &n);
  /// Slice's starts, ends, axes and steps against `dims` (dimension 0 may
  /// be -1, the open batch, which only a slice of all of it may cross):
  /// the first index, count and step of every axis.
  struct SliceSpec {
    std::vector<int64_t> first, count, step;
  };
  std::optional<SliceSpec> sliceSpec(const Node &n,
                                     const std::vector<int64_t> &dims);
  /// Slice of an activation: a slice layer per narrowed axis (step 1).
  bool sliceActivation(const Node &n);
  bool foldElementwise(const Node &n);
  bool sliceOp(const Node &n);
  bool gatherOp(const Node &n);
  bool gatherActivation(const Node &n);
  bool foldConcat(const Node &n);
  bool castOp(const Node &n);
  bool transposeConstant(const Node &n);
  bool constantOfShape(const Node &n);
  bool zeroFill(const Node &n) const;
  bool rangeOp(const Node &n);
  // OnnxShapeOps.cpp:
  bool flatten(const Node &n);
  bool reshape(const Node &n);
  bool concat(const Node &n);
  /// Split of an activation: a slice layer per output.
  bool split(const Node &n);
  bool transpose(const Node &n);
  // OnnxBatchViews.cpp:
  /// Transpose of `x` that moves the batch (or of a tensor whose batch is
  /// not first): a permute of the held dims when their order changes.
  bool transposeMovingBatch(const Node &n, const Tensor *x,
                            const std::vector<int64_t> &perm);
  /// Reshape of `x` to ONNX's `shape`, whose elements `marks` (when not
  /// empty) hold the batch size times their value: a reshape of the held
  /// dims, the batch wherever ONNX's order puts it.
  bool reshapeMovingBatch(const Node &n, const Tensor *x,
                          std::vector<int64_t> shape,
                          const std::vector<bool> &marks);
  bool identity(const Node &n);
  bool constantOp(const Node &n);
  bool pad(const Node &n);
  /// Unsqueeze, Squeeze, Reshape of a constant (PyTorch shapes PReLU's
  /// slope so): a constant of the new shape under the source's name.
  bool expand(const Node &n);
  bool squeezeActivation(const Node &n);
  bool reshapeConstant(const Node &n);
  /// Makes `t` the output of a flatten (or of a reshape that flattens) of `x`.
  Tensor &flattenLayer(const Node &n, const Tensor &x);

  const std::string path, dir;
  ModelFile &file;
  onnx::ModelProto proto;
  int64_t opset = 0;
  std::vector<std::string> errors;
  std::map<std::string, const onnx::TensorProto *> constants;
  std::vector<std::unique_ptr<onnx::TensorProto>> ownedConstants;
  std::map<std::string, Tensor> tensors;
  std::map<std::string, int> uses;
  std::map<std::string, const onnx::TypeProto *> inferred;
  std::set<std::string> layerNames;
  std::map<std::string, int> layerIndex;
  std::set<std::string> inputNames;
  /// The values converted to the other layout, by layer and layout.
  std::map<std::string, Tensor> relaid;
  /// Folded constants with elements that hold the batch size (Folded::batch).
  std::map<std::string, std::vector<bool>> batchMarks;
  /// ConstantOfShape zeros of a shape holding the batch size: PyTorch's
  /// initial states of an LSTM or GRU, which only those read.
  std::set<std::string> zeroStates;
  /// The file before PyTorch's patterns were fused (for reinfer()).
  onnx::ModelProto original;
  /// Reshapes of a shape folded here, whose outputs ONNX's inference did
  /// not give a shape: their shapes, by the Reshape's output.
  std::map<std::string, onnx::TensorProto> foldedShapes;
  /// The imports before this one, each giving the next the shapes it folded
  /// as initializers; at most kMaxReinfers.
  int reinferred = 0;
  static constexpr int kMaxReinfers = 16;
};

/// The rank of an operator's outputs, for the pre-check of the nodes that
/// read them.
enum class OutputRank {
  OfInput,           // the rank of input 0
  Two,               // [N, features]
  OfInputIfKeepdims, // a reduction's: input 0's with keepdims (default 1)
  Broadcast,         // the largest rank of the inputs (NumPy broadcasting)
  Unknown,           // a constant, or a shape the pre-check does not compute
};

/// A row of the operator table: an operator gradc imports, its converter,
/// and the rules the pre-check applies before ONNX's checker and shape
/// inference (which crash on some malformed windows).
struct OnnxOperator {
  const char *name;
  /// Converts one node; false after an error (reported).
  bool (OnnxImport::*convert)(const OnnxImport::Node &);
  /// How many leading inputs are a window's, all 3-D or all 4-D: the NCW or
  /// NCHW input of a window (1), and the OIW or OIHW weight of a
  /// convolution (2); 0 for the others.
  int fourDInputs;
  /// Its attribute 'pads' is a window's: 4 values, none negative.
  bool windowPads;
  OutputRank outputRank;
};

} // namespace gradc::onnximport

#endif // GRADC_FRONTEND_ONNX_ONNXIMPORT_H
