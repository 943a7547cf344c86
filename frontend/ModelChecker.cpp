//===- ModelChecker.cpp - validate a model and resolve its shapes ---------===//
//
// One pass over the whole model that collects every problem instead of
// stopping at the first: names, references, cycles, sizes, windows that do
// not fit, dense layers on 4-D inputs, a loss that does not match the output,
// and the optimizer and training settings.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelChecker.h"

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "llvm/Support/MathExtras.h"

#include <charconv>
#include <cmath>

namespace gradc {
namespace {

/// The double a user meant by a float field: 0.001f is 0.001, not
/// 0.0010000000474974513. The shortest text that reads back as `f` keeps
/// every float apart (0.99999994f stays below 1).
double fromFloat(float f) {
  char buffer[32];
  *std::to_chars(buffer, buffer + sizeof(buffer) - 1, f).ptr = '\0';
  return std::strtod(buffer, nullptr);
}

/// Largest tensor accepted, in elements (per example for activations): 8 GiB
/// of floats, and far from overflowing any size computed from it.
constexpr int64_t kMaxElements = int64_t(1) << 31;

/// The number of elements of `shape`, or -1 when above kMaxElements.
int64_t elementsOf(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (llvm::MulOverflow(n, d, n) || n > kMaxElements)
      return -1;
  return n;
}

std::string shapeStr(const std::vector<int64_t> &shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

class Checker {
public:
  explicit Checker(const ModelFile &file) : file(file), m(file.model) {}

  absl::StatusOr<ResolvedModel> run();

private:
  void error(SourceLoc loc, const std::string &msg) {
    errors.push_back(file.error(loc, msg));
  }
  void layerError(int i, const std::string &msg) {
    const std::string &name = m.layer(i).name();
    error(file.layerLocs[i], name.empty()
                                 ? absl::StrCat("layer #", i + 1, ": ", msg)
                                 : absl::StrCat("layer '", name, "': ", msg));
  }

  void checkInput();
  bool orderLayers(std::vector<int> &order,
                   std::vector<std::vector<int>> &producers);
  /// Resolves one layer given its inputs' shapes; false on error.
  bool resolveLayer(int i, const std::vector<std::vector<int64_t>> &inShapes,
                    ResolvedLayer &out);
  bool resolveWindow(int i, const std::vector<int64_t> &in,
                     const google::protobuf::RepeatedField<int64_t> &size,
                     const google::protobuf::RepeatedField<int64_t> &strides,
                     const google::protobuf::RepeatedField<int64_t> &dilations,
                     Padding padding,
                     const google::protobuf::RepeatedField<int64_t> &pads,
                     bool isPool, ResolvedLayer &out);
  int addParam(const std::string &layer, const char *what,
               std::vector<int64_t> shape, const Initializer &init,
               int64_t fanIn, int64_t fanOut, float constant = 0.0f);
  int addBuffer(const std::string &layer, const char *what,
                std::vector<int64_t> shape, float initial);
  /// Checks the activation and resolves its slope into out.alpha: the
  /// given one, or Keras's default (LEAKY_RELU 0.3, PRELU's initial 0.25).
  bool checkActivation(int i, Activation act, bool hasAlpha, float alpha,
                       ResolvedLayer &out);
  /// Rejects a parameter or output of more than kMaxElements.
  bool checkElements(int i, const std::string &what,
                     const std::vector<int64_t> &shape);
  void checkLoss();
  void checkOptimizer();
  void checkTraining();

  const ModelFile &file;
  const Model &m;
  ResolvedModel r;
  std::vector<std::string> errors;
};

int Checker::addParam(const std::string &layer, const char *what,
                      std::vector<int64_t> shape, const Initializer &init,
                      int64_t fanIn, int64_t fanOut, float constant) {
  ParamSpec p;
  p.name = absl::StrCat(layer, ".", what);
  p.shape = std::move(shape);
  p.init = init;
  p.fanIn = fanIn;
  p.fanOut = fanOut;
  p.constant = constant;
  r.params.push_back(std::move(p));
  return r.params.size() - 1;
}

int Checker::addBuffer(const std::string &layer, const char *what,
                       std::vector<int64_t> shape, float initial) {
  ParamSpec b;
  b.name = absl::StrCat(layer, ".", what);
  b.shape = std::move(shape);
  b.constant = initial;
  r.buffers.push_back(std::move(b));
  return r.buffers.size() - 1;
}

void Checker::checkInput() {
  if (m.input_size() != 1) {
    error(file.modelLoc,
          absl::StrCat("expects exactly one input, got ", m.input_size()));
    return;
  }
  const Input &in = m.input(0);
  r.inputName = in.name().empty() ? "input" : in.name();
  if (in.shape_size() != 1 && in.shape_size() != 3) {
    error(file.inputLocs[0],
          absl::StrCat("input '", r.inputName,
                       "': expects a shape of [features] or [height, width, "
                       "channels], got ",
                       in.shape_size(), " dimensions"));
    return;
  }
  int64_t elements = 1;
  for (int64_t d : in.shape()) {
    if (d <= 0 || d > kMaxDim) {
      error(file.inputLocs[0],
            absl::StrCat("input '", r.inputName, "': size ", d,
                         " is out of range [1, ", kMaxDim, "]"));
      return;
    }
    elements *= d;
  }
  if (elements > kMaxDim * 64) {
    error(file.inputLocs[0], absl::StrCat("input '", r.inputName, "': ",
                                          elements, " elements is too large"));
    return;
  }
  r.inputShape.assign(in.shape().begin(), in.shape().end());
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
    if (name == r.inputName) {
      layerError(i, "has the name of the input");
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
    if (l.inputs_size() == 0) {
      producers[i].push_back(i - 1); // -1: the model input
      continue;
    }
    for (const std::string &in : l.inputs()) {
      if (in == r.inputName) {
        producers[i].push_back(-1);
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

bool Checker::resolveWindow(
    int i, const std::vector<int64_t> &in,
    const google::protobuf::RepeatedField<int64_t> &size,
    const google::protobuf::RepeatedField<int64_t> &strides,
    const google::protobuf::RepeatedField<int64_t> &dilations, Padding padding,
    const google::protobuf::RepeatedField<int64_t> &pads, bool isPool,
    ResolvedLayer &out) {
  const char *what = isPool ? "pool_size" : "kernel_size";
  auto pair = [&](const google::protobuf::RepeatedField<int64_t> &f,
                  const char *name, std::array<int64_t, 2> dflt,
                  std::array<int64_t, 2> &dst) {
    if (f.size() == 0) {
      dst = dflt;
      return true;
    }
    if (f.size() > 2) {
      layerError(i,
                 absl::StrCat(name, " expects 1 or 2 values, got ", f.size()));
      return false;
    }
    dst = {f[0], f.size() == 2 ? f[1] : f[0]};
    for (int64_t v : dst)
      if (v <= 0 || v > kMaxDim) {
        layerError(
            i, absl::StrCat(name, " must be in [1, ", kMaxDim, "], got ", v));
        return false;
      }
    return true;
  };
  Window2D &w = out.window;
  if (size.size() == 0) {
    layerError(i, absl::StrCat("needs ", what));
    return false;
  }
  if (!pair(size, what, {1, 1}, w.size) ||
      !pair(strides, "strides", isPool ? w.size : std::array<int64_t, 2>{1, 1},
            w.strides) ||
      !pair(dilations, "dilations", {1, 1}, w.dilations))
    return false;
  if (in.size() != 3) {
    layerError(i, absl::StrCat("expects a 4-D input [N, H, W, C], got [N, ",
                               absl::StrJoin(in, ", "), "]"));
    return false;
  }
  if (!Padding_IsValid(padding)) {
    layerError(i, absl::StrCat("unknown padding ", static_cast<int>(padding)));
    return false;
  }
  if (pads.size() != 0) {
    if (pads.size() != 4) {
      layerError(i,
                 absl::StrCat("pads expects [top, bottom, left, right], got ",
                              pads.size(), " values"));
      return false;
    }
    for (int k = 0; k < 4; ++k) {
      if (pads[k] < 0 || pads[k] > kMaxDim) {
        layerError(i, absl::StrCat("pads must be in [0, ", kMaxDim, "], got ",
                                   pads[k]));
        return false;
      }
      w.pads[k] = pads[k];
    }
  } else if (padding == SAME) {
    for (int d = 0; d < 2; ++d) {
      auto p = samePadding(in[d], w.size[d], w.strides[d], w.dilations[d]);
      w.pads[2 * d] = p[0];
      w.pads[2 * d + 1] = p[1];
    }
  }
  if (isPool)
    for (int k = 0; k < 4; ++k)
      if (w.pads[k] >= w.size[k / 2]) {
        layerError(i, absl::StrCat("padding ", w.pads[k],
                                   " must be smaller than the pool window ",
                                   w.size[0], "x", w.size[1]));
        return false;
      }
  std::array<int64_t, 2> hw;
  std::string err;
  if (!windowOutputHW({in[0], in[1]}, w, hw, err)) {
    layerError(i, err);
    return false;
  }
  out.shape = {hw[0], hw[1], in[2]};
  return true;
}

bool Checker::checkActivation(int i, Activation act, bool hasAlpha, float alpha,
                              ResolvedLayer &out) {
  if (!Activation_IsValid(act)) {
    layerError(i, absl::StrCat("unknown activation ", static_cast<int>(act)));
    return false;
  }
  double slope = hasAlpha            ? fromFloat(alpha)
                 : act == LEAKY_RELU ? 0.3
                 : act == PRELU      ? 0.25
                                     : 0.0;
  if (act == LEAKY_RELU && !(slope >= 0 && slope < 1)) {
    layerError(i,
               absl::StrCat("leaky ReLU alpha must be in [0, 1), got ", slope));
    return false;
  }
  if (act == PRELU && !std::isfinite(slope)) {
    layerError(i, absl::StrCat("PReLU alpha must be finite, got ", slope));
    return false;
  }
  out.activation = act;
  out.alpha = slope;
  return true;
}

bool Checker::checkElements(int i, const std::string &what,
                            const std::vector<int64_t> &shape) {
  if (elementsOf(shape) >= 0)
    return true;
  layerError(i, absl::StrCat(what, " ", shapeStr(shape), " has more than ",
                             kMaxElements, " elements"));
  return false;
}

bool Checker::resolveLayer(int i,
                           const std::vector<std::vector<int64_t>> &inShapes,
                           ResolvedLayer &out) {
  const Layer &l = m.layer(i);
  const std::vector<int64_t> &in = inShapes[0];
  auto needOneInput = [&]() {
    if (inShapes.size() != 1) {
      layerError(i, absl::StrCat("expects one input, got ", inShapes.size()));
      return false;
    }
    return true;
  };
  switch (l.kind_case()) {
  case Layer::kConv2D: {
    const Conv2D &c = l.conv2d();
    out.kind = LayerKind::Conv2D;
    if (!needOneInput())
      return false;
    if (c.filters() <= 0 || c.filters() > kMaxDim) {
      layerError(i, absl::StrCat("filters must be in [1, ", kMaxDim, "], got ",
                                 c.filters()));
      return false;
    }
    if (!resolveWindow(i, in, c.kernel_size(), c.strides(), c.dilations(),
                       c.padding(), c.pads(), /*isPool=*/false, out) ||
        !checkActivation(i, c.activation(), c.has_alpha(), c.alpha(), out))
      return false;
    out.shape[2] = c.filters();
    int64_t groups = c.groups() == 0 ? 1 : c.groups();
    if (groups < 1 || in[2] % groups != 0 || c.filters() % groups != 0) {
      layerError(i, absl::StrCat("groups ", c.groups(),
                                 " must be positive and divide both the input "
                                 "channels ",
                                 in[2], " and the filters ", c.filters()));
      return false;
    }
    out.groups = groups;
    std::vector<int64_t> kernel = {out.window.size[0], out.window.size[1],
                                   in[2] / groups, c.filters()};
    if (!checkElements(i, "kernel", kernel))
      return false;
    // Fans per group, as Keras and PyTorch count them.
    int64_t rf = out.window.size[0] * out.window.size[1];
    int64_t fanIn = rf * in[2] / groups, fanOut = rf * c.filters() / groups;
    out.kernel = addParam(l.name(), "kernel", std::move(kernel),
                          c.kernel_initializer(), fanIn, fanOut);
    if (!c.has_use_bias() || c.use_bias())
      out.bias = addParam(l.name(), "bias", {c.filters()}, c.bias_initializer(),
                          fanIn, fanOut);
    break;
  }
  case Layer::kMaxPool2D:
  case Layer::kAvgPool2D: {
    bool isMax = l.kind_case() == Layer::kMaxPool2D;
    const Pool2D &p = isMax ? l.max_pool2d() : l.avg_pool2d();
    out.kind = isMax ? LayerKind::MaxPool : LayerKind::AvgPool;
    if (!needOneInput() ||
        !resolveWindow(i, in, p.pool_size(), p.strides(), {}, p.padding(),
                       p.pads(), /*isPool=*/true, out))
      return false;
    break;
  }
  case Layer::kFlatten: {
    out.kind = LayerKind::Flatten;
    if (!needOneInput())
      return false;
    int64_t n = 1;
    for (int64_t d : in)
      n *= d;
    out.shape = {n};
    break;
  }
  case Layer::kDense: {
    const Dense &d = l.dense();
    out.kind = LayerKind::Dense;
    if (!needOneInput())
      return false;
    if (in.size() != 1) {
      layerError(i, absl::StrCat("dense expects a 2-D input [N, features], got "
                                 "a ",
                                 in.size() + 1, "-D input [N, ",
                                 absl::StrJoin(in, ", "),
                                 "]; add a flatten layer before it"));
      return false;
    }
    if (d.units() <= 0 || d.units() > kMaxDim) {
      layerError(i, absl::StrCat("units must be in [1, ", kMaxDim, "], got ",
                                 d.units()));
      return false;
    }
    if (!checkActivation(i, d.activation(), d.has_alpha(), d.alpha(), out))
      return false;
    out.shape = {d.units()};
    if (!checkElements(i, "kernel", {in[0], d.units()}))
      return false;
    out.kernel = addParam(l.name(), "kernel", {in[0], d.units()},
                          d.kernel_initializer(), in[0], d.units());
    if (!d.has_use_bias() || d.use_bias())
      out.bias = addParam(l.name(), "bias", {d.units()}, d.bias_initializer(),
                          in[0], d.units());
    break;
  }
  case Layer::kActivation: {
    out.kind = LayerKind::Activation;
    if (!needOneInput() ||
        !checkActivation(i, l.activation().kind(), l.activation().has_alpha(),
                         l.activation().alpha(), out))
      return false;
    out.shape = in;
    break;
  }
  case Layer::kDropout: {
    out.kind = LayerKind::Dropout;
    if (!needOneInput())
      return false;
    double rate = fromFloat(l.dropout().rate());
    if (!(rate >= 0 && rate < 1)) {
      layerError(i, absl::StrCat("dropout rate must be in [0, 1), got ", rate));
      return false;
    }
    out.rate = rate;
    out.shape = in;
    break;
  }
  case Layer::kAdd: {
    out.kind = LayerKind::Add;
    if (inShapes.size() < 2) {
      layerError(i, absl::StrCat("add expects at least 2 inputs, got ",
                                 inShapes.size()));
      return false;
    }
    for (size_t k = 1; k < inShapes.size(); ++k)
      if (inShapes[k] != in) {
        layerError(i,
                   absl::StrCat("add expects inputs of one shape, got ",
                                shapeStr(in), " and ", shapeStr(inShapes[k])));
        return false;
      }
    out.shape = in;
    break;
  }
  case Layer::kBatchNorm: {
    const BatchNorm &bn = l.batch_norm();
    out.kind = LayerKind::BatchNorm;
    if (!needOneInput())
      return false;
    out.momentum = bn.has_momentum() ? fromFloat(bn.momentum()) : 0.99;
    out.epsilon = bn.has_epsilon() ? fromFloat(bn.epsilon()) : 1e-3;
    if (!(out.momentum >= 0 && out.momentum < 1)) {
      layerError(i, absl::StrCat("batch_norm momentum must be in [0, 1), got ",
                                 out.momentum));
      return false;
    }
    if (!(out.epsilon > 0 && std::isfinite(out.epsilon))) {
      layerError(i, absl::StrCat("batch_norm epsilon must be positive, got ",
                                 out.epsilon));
      return false;
    }
    int64_t c = in.back();
    if (!bn.has_scale() || bn.scale()) {
      Initializer init = bn.gamma_initializer();
      if (init.kind_case() == Initializer::KIND_NOT_SET)
        init.mutable_ones();
      out.kernel = addParam(l.name(), "gamma", {c}, init, 1, 1);
    }
    if (!bn.has_center() || bn.center())
      out.bias = addParam(l.name(), "beta", {c}, bn.beta_initializer(), 1, 1);
    out.movingMean = addBuffer(l.name(), "moving_mean", {c}, 0.0f);
    out.movingVariance = addBuffer(l.name(), "moving_variance", {c}, 1.0f);
    out.shape = in;
    break;
  }
  case Layer::kGlobalAvgPool2D:
  case Layer::kGlobalMaxPool2D: {
    out.kind = l.kind_case() == Layer::kGlobalAvgPool2D
                   ? LayerKind::GlobalAvgPool
                   : LayerKind::GlobalMaxPool;
    if (!needOneInput())
      return false;
    if (in.size() != 3) {
      layerError(i, absl::StrCat("global pooling expects an [H, W, C] input, "
                                 "got ",
                                 shapeStr(in)));
      return false;
    }
    out.shape = {in[2]};
    break;
  }
  case Layer::kConcat: {
    out.kind = LayerKind::Concat;
    if (inShapes.size() < 2) {
      layerError(i, absl::StrCat("concat expects at least 2 inputs, got ",
                                 inShapes.size()));
      return false;
    }
    out.shape = in;
    for (size_t k = 1; k < inShapes.size(); ++k) {
      const std::vector<int64_t> &s = inShapes[k];
      if (s.size() != in.size() ||
          !std::equal(in.begin(), in.end() - 1, s.begin())) {
        layerError(i, absl::StrCat("concat expects inputs that agree except "
                                   "in channels, got ",
                                   shapeStr(in), " and ", shapeStr(s)));
        return false;
      }
      out.shape.back() += s.back();
    }
    if (out.shape.back() > kMaxDim) {
      layerError(i, absl::StrCat("concat gives ", out.shape.back(),
                                 " channels, more than ", kMaxDim));
      return false;
    }
    break;
  }
  case Layer::KIND_NOT_SET:
    layerError(i, "has no layer kind (conv2d, dense, ...)");
    return false;
  }
  // Padding grows sizes; bound them before a flatten multiplies them.
  if (elementsOf(out.shape) < 0) {
    layerError(i, absl::StrCat("output [N, ", absl::StrJoin(out.shape, ", "),
                               "] has more than ", kMaxElements,
                               " elements per example"));
    return false;
  }
  // PReLU as a layer activation or an activation layer learns one alpha per
  // channel.
  if (out.activation == PRELU) {
    Initializer none;
    out.preluAlpha = addParam(l.name(), "alpha", {out.shape.back()}, none, 1, 1,
                              float(out.alpha));
  }
  return true;
}

void Checker::checkLoss() {
  if (!m.has_loss() || m.loss().kind_case() == Loss::KIND_NOT_SET) {
    error(file.modelLoc, "expects a loss { ... }");
    return;
  }
  const Loss &loss = m.loss();
  switch (loss.kind_case()) {
  case Loss::kCategoricalCrossentropy:
  case Loss::kSparseCategoricalCrossentropy:
    r.lossKind = "cross_entropy";
    break;
  case Loss::kBinaryCrossentropy:
    r.lossKind = "binary_cross_entropy";
    break;
  case Loss::kMse:
    r.lossKind = "mse";
    break;
  case Loss::kMae:
    r.lossKind = "mae";
    break;
  case Loss::kHuber:
    r.lossKind = "huber";
    r.huberDelta =
        loss.huber().delta() == 0 ? 1.0 : fromFloat(loss.huber().delta());
    if (!(r.huberDelta > 0))
      error(file.lossLoc,
            absl::StrCat("huber delta must be positive, got ", r.huberDelta));
    break;
  case Loss::kHinge:
    r.lossKind = "hinge";
    break;
  case Loss::kSquaredHinge:
    r.lossKind = "squared_hinge";
    break;
  case Loss::kCategoricalHinge:
    r.lossKind = "categorical_hinge";
    break;
  case Loss::KIND_NOT_SET:
    break;
  }
  if (r.layers.empty())
    return;
  const ResolvedLayer &out = r.layers.back();
  std::string where = absl::StrCat("loss ", r.lossKind, " on output layer '",
                                   out.layer->name(), "'");
  if (out.shape.size() != 1) {
    error(file.lossLoc,
          absl::StrCat(where, " expects a 2-D output [N, classes], got [N, ",
                       absl::StrJoin(out.shape, ", "), "]"));
    return;
  }
  int64_t classes = out.shape[0];
  bool isCE = r.lossKind == "cross_entropy";
  if ((isCE || r.lossKind == "categorical_hinge") && classes < 2)
    error(file.lossLoc,
          absl::StrCat(where, " expects at least 2 classes, got ", classes));
  if (isCE && out.activation != SOFTMAX)
    error(file.lossLoc,
          absl::StrCat(where,
                       " expects probabilities: end the output layer with "
                       "activation: SOFTMAX"));
  if (r.lossKind == "binary_cross_entropy" && out.activation != SIGMOID &&
      out.activation != SOFTMAX)
    error(file.lossLoc,
          absl::StrCat(where, " expects probabilities: end the output layer "
                              "with activation: SIGMOID or SOFTMAX"));
}

void Checker::checkOptimizer() {
  OptimizerSpec &o = r.optimizer;
  const Optimizer &opt = m.optimizer();
  auto orDefault = [](float v, double d) {
    return v == 0.0f ? d : fromFloat(v);
  };
  switch (opt.kind_case()) {
  case Optimizer::kSgd:
    o.kind = "sgd";
    o.learningRate = orDefault(opt.sgd().learning_rate(), 0.01);
    o.weightDecay = fromFloat(opt.sgd().weight_decay());
    break;
  case Optimizer::kMomentum:
    o.kind = "momentum";
    o.learningRate = orDefault(opt.momentum().learning_rate(), 0.01);
    o.momentum = orDefault(opt.momentum().momentum(), 0.9);
    o.nesterov = opt.momentum().nesterov();
    o.weightDecay = fromFloat(opt.momentum().weight_decay());
    break;
  case Optimizer::kRmsprop:
    o.kind = "rmsprop";
    o.learningRate = orDefault(opt.rmsprop().learning_rate(), 0.001);
    o.rho = orDefault(opt.rmsprop().rho(), 0.9);
    o.epsilon = orDefault(opt.rmsprop().epsilon(), 1e-7);
    o.weightDecay = fromFloat(opt.rmsprop().weight_decay());
    break;
  case Optimizer::kAdam:
  case Optimizer::KIND_NOT_SET: // Keras's default optimizer
    o.kind = "adam";
    o.learningRate = orDefault(opt.adam().learning_rate(), 0.001);
    o.beta1 = orDefault(opt.adam().beta_1(), 0.9);
    o.beta2 = orDefault(opt.adam().beta_2(), 0.999);
    o.epsilon = orDefault(opt.adam().epsilon(), 1e-7);
    o.weightDecay = fromFloat(opt.adam().weight_decay());
    break;
  }
  auto check = [&](bool ok, const std::string &msg) {
    if (!ok)
      error(file.optimizerLoc, absl::StrCat("optimizer ", o.kind, ": ", msg));
  };
  check(o.learningRate > 0 && std::isfinite(o.learningRate),
        absl::StrCat("learning_rate must be positive, got ", o.learningRate));
  check(o.weightDecay >= 0 && std::isfinite(o.weightDecay),
        absl::StrCat("weight_decay must be >= 0, got ", o.weightDecay));
  check(o.momentum >= 0 && o.momentum < 1,
        absl::StrCat("momentum must be in [0, 1), got ", o.momentum));
  check(o.rho > 0 && o.rho < 1,
        absl::StrCat("rho must be in (0, 1), got ", o.rho));
  check(o.beta1 >= 0 && o.beta1 < 1,
        absl::StrCat("beta_1 must be in [0, 1), got ", o.beta1));
  check(o.beta2 >= 0 && o.beta2 < 1,
        absl::StrCat("beta_2 must be in [0, 1), got ", o.beta2));
  check(o.epsilon > 0 && std::isfinite(o.epsilon),
        absl::StrCat("epsilon must be positive, got ", o.epsilon));
}

void Checker::checkTraining() {
  const Training &t = m.training();
  r.batchSize = t.batch_size() == 0 ? 32 : t.batch_size();
  r.epochs = t.epochs() == 0 ? 1 : t.epochs();
  r.seed = t.seed();
  r.shuffle = !t.has_shuffle() || t.shuffle();
  r.dropLast = t.drop_last();
  r.validationSplit = fromFloat(t.validation_split());
  if (r.batchSize < 1 || r.batchSize > kMaxBatch)
    error(file.trainingLoc, absl::StrCat("batch_size must be in [1, ",
                                         kMaxBatch, "], got ", r.batchSize));
  if (r.epochs < 1 || r.epochs > 1000000)
    error(file.trainingLoc,
          absl::StrCat("epochs must be in [1, 1000000], got ", r.epochs));
  if (!(r.validationSplit >= 0 && r.validationSplit < 1))
    error(file.trainingLoc,
          absl::StrCat("validation_split must be in [0, 1), got ",
                       r.validationSplit));
  if (m.data().has_idx())
    r.dataDir = m.data().idx().dir();
}

absl::StatusOr<ResolvedModel> Checker::run() {
  r.file = &file;
  r.name = m.name().empty() ? "model" : m.name();
  checkInput();
  if (m.layer_size() == 0)
    error(file.modelLoc, "expects at least one layer");
  std::vector<int> order;
  std::vector<std::vector<int>> producers;
  if (!r.inputShape.empty() && m.layer_size() > 0 &&
      orderLayers(order, producers)) {
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
          inShapes.push_back(r.inputShape);
          out.inputs.push_back(-1);
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
  checkLoss();
  checkOptimizer();
  checkTraining();
  if (!errors.empty())
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return std::move(r);
}

} // namespace

absl::StatusOr<ResolvedModel> checkModel(const ModelFile &file) {
  return Checker(file).run();
}

} // namespace gradc
