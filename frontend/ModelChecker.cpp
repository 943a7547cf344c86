//===- ModelChecker.cpp - validate a model and resolve its shapes ---------===//
//
// One pass over the whole model that collects every problem instead of
// stopping at the first. The graph here: the input, names, references,
// cycles, each layer's check (sizes, windows that do not fit, dense layers
// on 4-D inputs: frontend/LayerDef.h) and every layer feeding the output.
// The training recipe (loss, optimizer, schedule, training and data
// settings) is frontend/TrainingRecipe.cpp's.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelChecker.h"
#include "frontend/LayerDef.h"
#include "frontend/TrainingRecipe.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>

namespace gradc {
namespace {

class Checker {
public:
  explicit Checker(const ModelFile &file) : file(file), m(file.model) {}

  absl::StatusOr<ResolvedModel> run();
  bool forTraining = true;

private:
  void error(SourceLoc loc, const std::string &msg) {
    errors.push_back(file.error(loc, msg));
  }
  void layerError(int i, const std::string &msg) {
    errors.push_back(layerErrorLine(file, i, msg));
  }

  /// Resolves r.inputs; false after an error.
  bool checkInputs();
  bool orderLayers(std::vector<int> &order,
                   std::vector<std::vector<int>> &producers);
  /// Resolves one layer given its inputs' shapes; false on error.
  bool resolveLayer(int i, const std::vector<std::vector<int64_t>> &inShapes,
                    ResolvedLayer &out);

  const ModelFile &file;
  const Model &m;
  ResolvedModel r;
  /// The index of the input named `name`, or -1.
  int inputIndex(const std::string &name) const {
    for (size_t k = 0; k < r.inputs.size(); ++k)
      if (r.inputs[k].name == name)
        return int(k);
    return -1;
  }
  std::vector<std::string> errors;
};

bool Checker::checkInputs() {
  if (m.input_size() == 0) {
    error(file.modelLoc, "expects an input");
    return false;
  }
  if (forTraining && m.input_size() > 1) {
    std::vector<std::string> names;
    for (const Input &in : m.input())
      names.push_back(in.name());
    error(file.modelLoc,
          absl::StrCat("training takes one input (the dataset's examples); "
                       "this model has ",
                       m.input_size(), " (", absl::StrJoin(names, ", "), ")"));
    return false;
  }
  bool ok = true;
  for (int k = 0; k < m.input_size(); ++k) {
    const Input &in = m.input(k);
    std::string name = !in.name().empty() ? in.name()
                       : k == 0           ? "input"
                                          : absl::StrCat("input_", k + 1);
    auto fail = [&](const std::string &msg) {
      error(file.inputLocs[k], absl::StrCat("input '", name, "': ", msg));
      ok = false;
    };
    if (in.shape_size() < 1 || in.shape_size() > 3) {
      fail(absl::StrCat("expects a shape of [features], [rows, features] "
                        "or [height, width, channels], got ",
                        in.shape_size(), " dimensions"));
      continue;
    }
    int64_t elements = 1;
    bool sized = true;
    for (int64_t d : in.shape()) {
      if (d <= 0 || d > kMaxDim) {
        fail(absl::StrCat("size ", d, " is out of range [1, ", kMaxDim, "]"));
        sized = false;
        break;
      }
      elements *= d;
    }
    if (sized && elements > kMaxDim * 64)
      fail(absl::StrCat(elements, " elements is too large"));
    for (const ResolvedModel::Input &other : r.inputs)
      if (other.name == name)
        fail("has the name of another input");
    r.inputs.push_back(
        {name, {in.shape().begin(), in.shape().end()}, in.dtype()});
  }
  return ok;
}

bool Checker::orderLayers(std::vector<int> &order,
                          std::vector<std::vector<int>> &producers) {
  int n = m.layer_size();
  absl::flat_hash_map<std::string, int> byName;
  bool ok = true;
  for (int i = 0; i < n; ++i) {
    const std::string &name = m.layer(i).name();
    if (name.empty()) {
      layerError(i, "has no name");
      ok = false;
      continue;
    }
    if (inputIndex(name) >= 0) {
      layerError(i, "has the name of an input");
      ok = false;
    }
    if (!byName.emplace(name, i).second) {
      layerError(i,
                 absl::StrCat("duplicate layer name (first defined as layer #",
                              byName[name] + 1, ")"));
      ok = false;
    }
  }
  producers.assign(n, {});
  for (int i = 0; i < n; ++i) {
    const Layer &l = m.layer(i);
    const LayerDef *def = findLayerDef(l.kind_case());
    if (def && def->source) {
      if (l.inputs_size() != 0) {
        layerError(i, absl::StrCat("takes no input, got ", l.inputs_size()));
        ok = false;
      }
      continue;
    }
    if (l.inputs_size() == 0) {
      producers[i].push_back(i - 1); // -1: the model input
      continue;
    }
    for (const std::string &in : l.inputs()) {
      if (int k = inputIndex(in); k >= 0) {
        producers[i].push_back(-1 - k);
      } else if (auto it = byName.find(in); it != byName.end()) {
        producers[i].push_back(it->second);
      } else {
        layerError(i, absl::StrCat("unknown input '", in, "'"));
        ok = false;
      }
    }
  }
  if (!ok)
    return false;
  // Depth-first topological sort; a back edge is a cycle. The walk keeps its
  // own stack (layer, next producer) so a long chain cannot overflow the
  // native one.
  std::vector<int> state(n, 0); // 0 new, 1 on stack, 2 done
  std::vector<std::pair<int, size_t>> stack;
  for (int root = 0; root < n; ++root) {
    if (state[root] != 0)
      continue;
    state[root] = 1;
    stack.push_back({root, 0});
    while (!stack.empty()) {
      auto [i, next] = stack.back();
      if (next == producers[i].size()) {
        state[i] = 2;
        order.push_back(i);
        stack.pop_back();
        continue;
      }
      ++stack.back().second;
      int p = producers[i][next];
      if (p < 0 || state[p] == 2)
        continue;
      if (state[p] == 1) {
        std::vector<std::string> cycle;
        auto it = std::find_if(stack.begin(), stack.end(),
                               [&](const auto &e) { return e.first == p; });
        for (; it != stack.end(); ++it)
          cycle.push_back(m.layer(it->first).name());
        cycle.push_back(m.layer(p).name());
        layerError(
            p, absl::StrCat("cycle through ", absl::StrJoin(cycle, " -> ")));
        return false;
      }
      state[p] = 1;
      stack.push_back({p, 0});
    }
  }
  return true;
}

bool Checker::resolveLayer(int i,
                           const std::vector<std::vector<int64_t>> &inShapes,
                           ResolvedLayer &out) {
  LayerCheck c(file, i, r, errors, inShapes, out);
  out.kind = c.layer.kind_case();
  const LayerDef *def = findLayerDef(out.kind);
  if (!def)
    return c.fail("has no layer kind (conv2d, dense, ...)");
  // Integer ids go to the layers that read them (embedding) and nowhere
  // else; those take nothing but ids.
  for (int p : out.inputs) {
    bool ids = p < 0 && r.inputs[-1 - p].integer();
    std::string from =
        p < 0 ? absl::StrCat("input '", r.inputs[-1 - p].name, "'")
              : absl::StrCat("layer '", r.layers[p].layer->name(), "'");
    if (ids && !def->readsIds)
      return c.fail(absl::StrCat("takes float values; ", from, " holds ",
                                 Input::DType_Name(r.inputs[-1 - p].dtype),
                                 " ids, which only an embedding layer reads"));
    if (!ids && def->readsIds)
      return c.fail(absl::StrCat("takes integer ids (an input of dtype INT32 "
                                 "or INT64); ",
                                 from, " holds floats"));
  }
  if (!def->check(c))
    return false;
  // Padding grows sizes; bound them before a flatten multiplies them.
  if (elementsOf(out.shape) < 0)
    return c.fail(absl::StrCat("output [N, ", absl::StrJoin(out.shape, ", "),
                               "] has more than ", kMaxElements,
                               " elements per example"));
  if (out.flops < 0)
    out.flops = double(elementsOf(out.shape));
  // PReLU as a layer activation or an activation layer learns one alpha per
  // channel.
  if (out.activation == PRELU)
    c.param("alpha", {out.shape.back()}, Initializer(), 1, 1, float(out.alpha));
  return true;
}

absl::StatusOr<ResolvedModel> Checker::run() {
  r.file = &file;
  r.name = m.name().empty() ? "model" : m.name();
  bool inputsOk = checkInputs();
  if (m.layer_size() == 0)
    error(file.modelLoc, "expects at least one layer");
  std::vector<int> order;
  std::vector<std::vector<int>> producers;
  if (inputsOk && m.layer_size() > 0 && orderLayers(order, producers)) {
    // Resolve in topological order; a failed layer poisons its consumers
    // without more messages.
    std::vector<int> position(m.layer_size(), -1);
    std::vector<bool> failed(m.layer_size(), false);
    for (int i : order) {
      std::vector<std::vector<int64_t>> inShapes;
      bool poisoned = false;
      ResolvedLayer out;
      out.layer = &m.layer(i);
      out.fileIndex = i;
      for (int p : producers[i]) {
        if (p < 0) {
          inShapes.push_back(r.shapeOf(p));
          out.inputs.push_back(p);
        } else if (failed[p]) {
          poisoned = true;
        } else {
          inShapes.push_back(r.layers[position[p]].shape);
          out.inputs.push_back(position[p]);
        }
      }
      if (poisoned || !resolveLayer(i, inShapes, out)) {
        failed[i] = true;
        continue;
      }
      position[i] = r.layers.size();
      r.layers.push_back(std::move(out));
    }
    bool allResolved =
        std::find(failed.begin(), failed.end(), true) == failed.end();
    if (allResolved) {
      // The output is the last layer of the file; every layer must feed it.
      int outIdx = m.layer_size() - 1;
      std::vector<bool> used(m.layer_size(), false);
      std::vector<int> work{outIdx};
      used[outIdx] = true;
      while (!work.empty()) {
        int i = work.back();
        work.pop_back();
        for (int p : producers[i])
          if (p >= 0 && !used[p]) {
            used[p] = true;
            work.push_back(p);
          }
      }
      for (int i = 0; i < m.layer_size(); ++i)
        if (!used[i])
          layerError(i, absl::StrCat("is not used by the output layer '",
                                     m.layer(outIdx).name(), "'"));
      // Put the output layer last (topological order allows it).
      int outPos = position[outIdx];
      if (outPos != static_cast<int>(r.layers.size()) - 1)
        layerError(outIdx, "the output layer must be the last layer computed");
    } else {
      r.layers.clear();
    }
  }
  checkTrainingRecipe(file, forTraining, r, errors);
  if (!errors.empty())
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return std::move(r);
}

} // namespace

absl::StatusOr<ResolvedModel> checkModel(const ModelFile &file,
                                         bool forTraining) {
  Checker checker(file);
  checker.forTraining = forTraining;
  return checker.run();
}

} // namespace gradc
