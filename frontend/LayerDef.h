//===- LayerDef.h - one place per layer kind of the model format -*- C++
//-*-===//
//
// A layer kind of the model format (`conv2d`, `batch_norm`, ...) lives in one
// file under frontend/layers/, next to the others of its family: how it is
// checked and resolved (`check`) and how it becomes nn ops (`emit`). The
// model checker and the importer know no layer kind; they look the kind up
// here. Adding a layer to a family touches model.proto and that family's
// file, plus its ops (ir/), lowering (passes/lowering/) and reference kernel
// (runtime/evaluator/kernels/).
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_FRONTEND_LAYERDEF_H
#define GRADC_FRONTEND_LAYERDEF_H

#include "frontend/ModelChecker.h"
#include "ir/UnaryFunctions.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

#include <string>
#include <vector>

namespace gradc {

using Shape = std::vector<int64_t>;

/// The double a user meant by a float field: 0.001f is 0.001, not
/// 0.0010000000474974513.
double fromFloat(float f);

/// The number of elements of `shape`, or -1 when above kMaxElements.
int64_t elementsOf(const Shape &shape);
/// "[a, b, c]".
std::string shapeStr(const Shape &shape);

/// The nn.unary function (ir/UnaryFunctions.def) of an activation, or null
/// for the activations that have their own op (RELU, GELU, ...).
const nn::UnaryFnInfo *unaryFnOf(Activation act);
/// The activation of an nn.unary function.
Activation activationOf(nn::UnaryFn fn);

/// "file:line:col: error: layer 'name': msg" for layer `i` of `file`
/// ("layer #i" when it has no name).
std::string layerErrorLine(const ModelFile &file, int i,
                           const std::string &msg);

/// What a layer's `check` sees: its proto, its inputs' per-example shapes, and
/// the layer being resolved. Every error names the layer and its line.
class LayerCheck {
public:
  LayerCheck(const ModelFile &file, int fileIndex, ResolvedModel &model,
             std::vector<std::string> &errors,
             const std::vector<Shape> &inShapes, ResolvedLayer &out)
      : layer(file.model.layer(fileIndex)), in(inShapes), out(out), file(file),
        fileIndex(fileIndex), model(model), errors(errors) {}

  const Layer &layer;
  const std::vector<Shape> &in;
  ResolvedLayer &out;

  /// Reports "layer 'name': msg" at the layer's line; returns false.
  bool fail(const std::string &msg);
  bool oneInput();
  bool atLeastTwoInputs(const char *what);
  /// `v` in [1, kMaxDim], else an error naming `what`.
  bool positiveDim(const char *what, int64_t v);
  /// Resolves out.window and out.shape (channels kept) from the window
  /// fields; SAME padding and the pool-pad limit included.
  bool window(const google::protobuf::RepeatedField<int64_t> &size,
              const google::protobuf::RepeatedField<int64_t> &strides,
              const google::protobuf::RepeatedField<int64_t> &dilations,
              Padding padding,
              const google::protobuf::RepeatedField<int64_t> &pads,
              bool isPool);
  /// Checks the activation and resolves out.activation and out.alpha: the
  /// given slope or Keras's default (LEAKY_RELU 0.3, PRELU's initial 0.25,
  /// the default of ir/UnaryFunctions.def for ELU and HARD_SIGMOID).
  bool activation(Activation act, bool hasAlpha, float alpha);
  /// Rejects a tensor of more than kMaxElements elements.
  bool elements(const std::string &what, const Shape &shape);
  /// Declares trainable parameter `layer.role`, recorded in out.params.
  void param(const std::string &role, Shape shape, const Initializer &init,
             int64_t fanIn, int64_t fanOut, float constant = 0.0f);
  /// Declares non-trainable buffer `layer.role` starting at `initial`.
  void buffer(const std::string &role, Shape shape, float initial);

private:
  /// Takes the name and values the file gives `layer.role`, if any.
  void given(ParamSpec &p);

  const ModelFile &file;
  int fileIndex;
  ResolvedModel &model;
  std::vector<std::string> &errors;
};

/// What a layer's `emit` sees: a builder at the layer's location and its
/// inputs. Result types come from the ops' own shape rules
/// (InferTypeOpInterface); the importer checks they are the checker's.
struct LayerEmit {
  mlir::OpBuilder &b;
  mlir::Location loc;
  const ResolvedLayer &l;
  const ResolvedModel &model;
  llvm::ArrayRef<mlir::Value> inputs;
  llvm::ArrayRef<mlir::Value> params, buffers;
  int64_t batch; // the compiled batch size N

  /// [N, perExample...] of f32.
  mlir::RankedTensorType batched(llvm::ArrayRef<int64_t> perExample) const;

  /// The parameter or buffer of `role`, or a null value when not declared.
  mlir::Value param(const std::string &role) const;
  mlir::Value buffer(const std::string &role) const;
  /// Applies the layer's resolved activation to `x`.
  mlir::Value activate(mlir::Value x) const;
};

class OnnxEmit;
struct OnnxValue;

struct LayerDef {
  Layer::KindCase kind;
  /// Resolves out.shape (and params, buffers, attrs); false after an error.
  bool (*check)(LayerCheck &c);
  mlir::Value (*emit)(const LayerEmit &e);
  /// Writes the layer's inference form as ONNX nodes (frontend/OnnxExporter.h).
  OnnxValue (*toOnnx)(OnnxEmit &e) = nullptr;
  /// Takes no input (constant, weight): its `inputs` must be empty, and it
  /// does not read the layer before it.
  bool source = false;
  /// Reads integer ids (embedding): its inputs must be model inputs of
  /// dtype INT32 or INT64, which no other layer takes.
  bool readsIds = false;
};

/// get<Name>LayerDefs() of every family of ir/OpFamilies.def with LAYERS,
/// defined in frontend/layers/<Name>Layers.cpp.
#define GRADC_LAYERS_NO_LAYERS(Name)
#define GRADC_LAYERS_LAYERS(Name)                                              \
  llvm::ArrayRef<LayerDef> get##Name##LayerDefs();
#define GRADC_OP_FAMILY(Name, Layers, Kernels) GRADC_LAYERS_##Layers(Name)
#include "ir/OpFamilies.def"
#undef GRADC_LAYERS_LAYERS
#undef GRADC_LAYERS_NO_LAYERS

/// The layers made of other families' ops (lstm, gru: unrolled), in
/// frontend/layers/RecurrentLayers.cpp.
llvm::ArrayRef<LayerDef> getRecurrentLayerDefs();

/// The definition of a layer kind, or null (KIND_NOT_SET).
const LayerDef *findLayerDef(Layer::KindCase kind);

} // namespace gradc

#endif // GRADC_FRONTEND_LAYERDEF_H
