//===- OnnxValues.cpp - a node's inputs and outputs -----------------------===//
//
// The one job of this file: what a node reads and writes. Its inputs as
// activations (the graph input or a layer's output) or as constants
// (initializers and the values of constant nodes), each refused with the
// reason when it is the other kind; its output as a new layer of the model,
// under a unique name, or as a new constant; and the constants a layer takes
// as its parameters.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImport.h"

namespace gradc::onnximport {

bool OnnxImport::onlyFirstOutput(const Node &n) {
  for (int i = 1; i < n.output_size(); ++i)
    if (!n.output(i).empty() && uses[n.output(i)] > 0)
      return fail(n, absl::StrCat("output ", i, " ('", n.output(i),
                                  "') is used; gradc computes only output 0"));
  return true;
}

const Tensor *OnnxImport::activation(const Node &n, int i) {
  if (!hasInput(n, i)) {
    fail(n, absl::StrCat("input ", i, " is missing"));
    return nullptr;
  }
  auto it = tensors.find(n.input(i));
  if (it != tensors.end() && !it->second.failed && !it->second.pads.empty() &&
      n.op_type() != "Conv") {
    failInput(n, i,
              "is zero-padded by a Pad node: gradc takes padding "
              "only into a Conv");
    return nullptr;
  }
  if (it != tensors.end() && !it->second.failed && it->second.dims.empty()) {
    failInput(n, i, "has no shape that ONNX's shape inference could give");
    return nullptr;
  }
  if (it != tensors.end())
    return it->second.failed ? nullptr : &it->second;
  if (constants.count(n.input(i)))
    failInput(n, i,
              "is a constant; gradc needs it computed from the "
              "model's input");
  else
    failInput(n, i,
              "is not produced by an earlier node (a cycle, or a "
              "missing initializer)");
  return nullptr;
}

const onnx::TensorProto *OnnxImport::constant(const Node &n, int i,
                                              bool optional) {
  if (!hasInput(n, i)) {
    if (!optional)
      fail(n, absl::StrCat("input ", i, " is missing"));
    return nullptr;
  }
  auto it = constants.find(n.input(i));
  if (it != constants.end())
    return it->second;
  if (tensors.count(n.input(i)) && tensors[n.input(i)].failed)
    return nullptr;
  if (tensors.count(n.input(i)))
    failInput(n, i,
              "must be an initializer (a constant); gradc does not "
              "take it computed");
  else
    failInput(n, i, "is not an initializer or an earlier node's output");
  return nullptr;
}

bool OnnxImport::failInput(const Node &n, int i, const std::string &problem) {
  return fail(n, absl::StrCat("input ", i, " ('", n.input(i), "') ", problem));
}

std::string OnnxImport::layerName(const Node &n) {
  std::string base = nodeName(n);
  return uniqueLayerName(base.empty() ? n.op_type() : base);
}

std::string OnnxImport::uniqueLayerName(const std::string &base) {
  std::string name = base;
  for (int k = 2; layerNames.count(name) || inputNames.count(name); ++k)
    name = absl::StrCat(base, "_", k);
  layerNames.insert(name);
  return name;
}

Tensor &OnnxImport::addLayer(const Node &n, Layer layer,
                             const std::vector<const Tensor *> &inputs) {
  if (layer.name().empty())
    layer.set_name(layerName(n));
  for (const Tensor *t : inputs)
    layer.add_inputs(t->layer);
  layerIndex[layer.name()] = file.model.layer_size();
  Tensor &out = tensors[n.output(0)];
  out = Tensor();
  out.layer = layer.name();
  auto it = inferred.find(n.output(0));
  if (it != inferred.end() && it->second->has_tensor_type() &&
      it->second->tensor_type().has_shape())
    for (const auto &d : it->second->tensor_type().shape().dim())
      out.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  *file.model.add_layer() = std::move(layer);
  return out;
}

void OnnxImport::addConstant(const std::string &name,
                             std::unique_ptr<onnx::TensorProto> t) {
  constants[name] = t.get();
  ownedConstants.push_back(std::move(t));
}

bool OnnxImport::give(const Node &n, const std::string &layer, const char *role,
                      const std::string &onnxName, std::vector<float> values) {
  if (uses[onnxName] > 1)
    return fail(n, absl::StrCat("initializer '", onnxName,
                                "' is read by more than one node; gradc "
                                "trains one parameter per layer"));
  file.given[absl::StrCat(layer, ".", role)] = {onnxName, std::move(values)};
  return true;
}

} // namespace gradc::onnximport
