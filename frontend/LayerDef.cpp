//===- LayerDef.cpp - the kit layer definitions check and emit with -------===//
//
// The shared steps of checking a layer (windows, activations, parameters,
// size bounds) and of emitting one (parameters by role, activations), and
// the table of every layer kind, gathered from the families.
//
//===----------------------------------------------------------------------===//

#include "frontend/LayerDef.h"
#include "ir/NNDialect.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "llvm/Support/MathExtras.h"

#include <charconv>
#include <cmath>

namespace gradc {

double fromFloat(float f) {
  // The shortest text that reads back as `f` keeps every float apart
  // (0.99999994f stays below 1).
  char text[32];
  *std::to_chars(text, text + sizeof(text) - 1, f).ptr = '\0';
  return std::strtod(text, nullptr);
}

int64_t elementsOf(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (llvm::MulOverflow(n, d, n) || n > kMaxElements)
      return -1;
  return n;
}

std::string shapeStr(const Shape &shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

const nn::UnaryFnInfo *unaryFnOf(Activation act) {
  switch (act) {
#define GRADC_UNARY_FN(Name, name, PROTO, onnxIn, onnxOut, alpha, fwd, deriv)  \
  case PROTO:                                                                  \
    return &nn::unaryFnInfo(nn::UnaryFn::Name);
#include "ir/UnaryFunctions.def"
  default:
    return nullptr;
  }
}

Activation activationOf(nn::UnaryFn fn) {
  switch (fn) {
#define GRADC_UNARY_FN(Name, name, PROTO, onnxIn, onnxOut, alpha, fwd, deriv)  \
  case nn::UnaryFn::Name:                                                      \
    return PROTO;
#include "ir/UnaryFunctions.def"
  }
  return LINEAR;
}

//===----------------------------------------------------------------------===//
// LayerCheck
//===----------------------------------------------------------------------===//

std::string layerErrorLine(const ModelFile &file, int i,
                           const std::string &msg) {
  const std::string &name = file.model.layer(i).name();
  if (!file.networkPath.empty()) // an imported ONNX graph: name its node
    return absl::StrCat(file.networkPath, ": error: node '", name,
                        "': ", absl::StrReplaceAll(msg, {{"\n", "\\n"}}));
  return file.error(file.layerLocs[i],
                    name.empty() ? absl::StrCat("layer #", i + 1, ": ", msg)
                                 : absl::StrCat("layer '", name, "': ", msg));
}

bool LayerCheck::fail(const std::string &msg) {
  errors.push_back(layerErrorLine(file, fileIndex, msg));
  return false;
}

bool LayerCheck::oneInput() {
  return in.size() == 1 ||
         fail(absl::StrCat("expects one input, got ", in.size()));
}

bool LayerCheck::atLeastTwoInputs(const char *what) {
  return in.size() >= 2 ||
         fail(
             absl::StrCat(what, " expects at least 2 inputs, got ", in.size()));
}

bool LayerCheck::positiveDim(const char *what, int64_t v) {
  return (v > 0 && v <= kMaxDim) ||
         fail(absl::StrCat(what, " must be in [1, ", kMaxDim, "], got ", v));
}

bool LayerCheck::window(
    const google::protobuf::RepeatedField<int64_t> &size,
    const google::protobuf::RepeatedField<int64_t> &strides,
    const google::protobuf::RepeatedField<int64_t> &dilations, Padding padding,
    const google::protobuf::RepeatedField<int64_t> &pads, bool isPool) {
  const char *what = isPool ? "pool_size" : "kernel_size";
  auto pair = [&](const google::protobuf::RepeatedField<int64_t> &f,
                  const char *name, std::array<int64_t, 2> dflt,
                  std::array<int64_t, 2> &dst) {
    if (f.size() == 0) {
      dst = dflt;
      return true;
    }
    if (f.size() > 2)
      return fail(absl::StrCat(name, " expects 1 or 2 values, got ", f.size()));
    dst = {f[0], f.size() == 2 ? f[1] : f[0]};
    return positiveDim(name, dst[0]) && positiveDim(name, dst[1]);
  };
  Window2D &w = out.window;
  if (size.size() == 0)
    return fail(absl::StrCat("needs ", what));
  if (!pair(size, what, {1, 1}, w.size) ||
      !pair(strides, "strides", isPool ? w.size : std::array<int64_t, 2>{1, 1},
            w.strides) ||
      !pair(dilations, "dilations", {1, 1}, w.dilations))
    return false;
  const Shape &x = in[0];
  if (x.size() != 3)
    return fail(absl::StrCat("expects a 4-D input [N, H, W, C], got [N, ",
                             absl::StrJoin(x, ", "), "]"));
  if (!Padding_IsValid(padding))
    return fail(absl::StrCat("unknown padding ", static_cast<int>(padding)));
  if (pads.size() != 0) {
    if (pads.size() != 4)
      return fail(absl::StrCat("pads expects [top, bottom, left, right], got ",
                               pads.size(), " values"));
    for (int k = 0; k < 4; ++k) {
      if (pads[k] < 0 || pads[k] > kMaxDim)
        return fail(
            absl::StrCat("pads must be in [0, ", kMaxDim, "], got ", pads[k]));
      w.pads[k] = pads[k];
    }
  } else if (padding == SAME) {
    for (int d = 0; d < 2; ++d) {
      auto p = samePadding(x[d], w.size[d], w.strides[d], w.dilations[d]);
      w.pads[2 * d] = p[0];
      w.pads[2 * d + 1] = p[1];
    }
  }
  if (isPool)
    for (int k = 0; k < 4; ++k)
      if (w.pads[k] >= w.size[k / 2])
        return fail(absl::StrCat("padding ", w.pads[k],
                                 " must be smaller than the pool window ",
                                 w.size[0], "x", w.size[1]));
  std::array<int64_t, 2> hw;
  std::string err;
  if (!windowOutputHW({x[0], x[1]}, w, hw, err))
    return fail(err);
  out.shape = {hw[0], hw[1], x[2]};
  return true;
}

bool LayerCheck::activation(Activation act, bool hasAlpha, float alpha) {
  if (!Activation_IsValid(act))
    return fail(absl::StrCat("unknown activation ", static_cast<int>(act)));
  const nn::UnaryFnInfo *fn = unaryFnOf(act);
  double slope = hasAlpha            ? fromFloat(alpha)
                 : act == LEAKY_RELU ? 0.3
                 : act == PRELU      ? 0.25
                 : fn                ? fn->defaultAlpha
                                     : 0.0;
  if (fn && fn->defaultAlpha != 0 && !std::isfinite(slope))
    return fail(absl::StrCat(fn->name, " alpha must be finite, got ", slope));
  if (act == LEAKY_RELU && !(slope >= 0 && slope < 1))
    return fail(
        absl::StrCat("leaky ReLU alpha must be in [0, 1), got ", slope));
  if (act == PRELU && !std::isfinite(slope))
    return fail(absl::StrCat("PReLU alpha must be finite, got ", slope));
  out.activation = act;
  out.alpha = slope;
  return true;
}

bool LayerCheck::elements(const std::string &what, const Shape &shape) {
  return elementsOf(shape) >= 0 ||
         fail(absl::StrCat(what, " ", shapeStr(shape), " has more than ",
                           kMaxElements, " elements"));
}

void LayerCheck::param(const std::string &role, Shape shape,
                       const Initializer &init, int64_t fanIn, int64_t fanOut,
                       float constant) {
  // An initializer's numbers must make a distribution.
  if (init.kind_case() == Initializer::kUniform) {
    double lo = fromFloat(init.uniform().minval()),
           hi = fromFloat(init.uniform().maxval());
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo <= hi))
      fail(absl::StrCat(role,
                        " initializer uniform needs finite minval <= "
                        "maxval, got [",
                        lo, ", ", hi, "]"));
  } else if (init.kind_case() == Initializer::kNormal) {
    double mean = fromFloat(init.normal().mean()),
           sd = fromFloat(init.normal().stddev());
    if (!(std::isfinite(mean) && std::isfinite(sd) && sd >= 0))
      fail(absl::StrCat(role,
                        " initializer normal needs a finite mean and a "
                        "finite stddev >= 0, got mean ",
                        mean, ", stddev ", sd));
  }
  ParamSpec p;
  p.name = absl::StrCat(layer.name(), ".", role);
  p.shape = std::move(shape);
  given(p);
  p.init = init;
  p.fanIn = fanIn;
  p.fanOut = fanOut;
  p.constant = constant;
  out.params[role] = model.params.size();
  model.params.push_back(std::move(p));
}

void LayerCheck::given(ParamSpec &p) {
  auto it = file.given.find(p.name);
  if (it == file.given.end())
    return;
  const ModelFile::GivenTensor &t = it->second;
  int64_t n = elementsOf(p.shape);
  if (int64_t(t.values.size()) != n) {
    fail(absl::StrCat("'", t.name, "' holds ", t.values.size(),
                      " values, the layer needs ", shapeStr(p.shape), " (", n,
                      ")"));
    return;
  }
  p.name = t.name;
  p.values = &t.values;
}

void LayerCheck::buffer(const std::string &role, Shape shape, float initial) {
  ParamSpec b;
  b.name = absl::StrCat(layer.name(), ".", role);
  b.shape = std::move(shape);
  b.constant = initial;
  given(b);
  out.buffers[role] = model.buffers.size();
  model.buffers.push_back(std::move(b));
}

//===----------------------------------------------------------------------===//
// LayerEmit
//===----------------------------------------------------------------------===//

mlir::Value LayerEmit::param(const std::string &role) const {
  int i = l.param(role);
  return i < 0 ? mlir::Value() : params[i];
}

mlir::Value LayerEmit::buffer(const std::string &role) const {
  int i = l.buffer(role);
  return i < 0 ? mlir::Value() : buffers[i];
}

mlir::RankedTensorType
LayerEmit::batched(llvm::ArrayRef<int64_t> perExample) const {
  llvm::SmallVector<int64_t> shape{batch};
  shape.append(perExample.begin(), perExample.end());
  return mlir::RankedTensorType::get(shape, b.getF32Type());
}

mlir::Value LayerEmit::activate(mlir::Value x) const {
  switch (l.activation) {
  case RELU:
    return b.create<nn::ReluOp>(loc, x);
  case LEAKY_RELU:
    return b.create<nn::LeakyReluOp>(loc, x, b.getF64FloatAttr(l.alpha));
  case PRELU:
    return b.create<nn::PReluOp>(loc, x.getType(), x, param("alpha"));
  case SIGMOID:
    return b.create<nn::SigmoidOp>(loc, x);
  case TANH:
    return b.create<nn::TanhOp>(loc, x);
  case SOFTMAX:
    return b.create<nn::SoftmaxOp>(loc, x);
  case LOG_SOFTMAX:
    return b.create<nn::LogSoftmaxOp>(loc, x);
  case GELU:
  case GELU_TANH:
    return b.create<nn::GeluOp>(loc, x, l.activation == GELU_TANH);
  default:
    break;
  }
  if (const nn::UnaryFnInfo *fn = unaryFnOf(l.activation))
    return b.create<nn::UnaryFnOp>(
        loc, x, b.getStringAttr(fn->name),
        b.getF64FloatAttr(fn->defaultAlpha != 0 ? l.alpha : 0));
  return x;
}

//===----------------------------------------------------------------------===//
// The table of layer kinds
//===----------------------------------------------------------------------===//

const LayerDef *findLayerDef(Layer::KindCase kind) {
  static const std::vector<LayerDef> all = [] {
    std::vector<LayerDef> defs;
    auto add = [&](llvm::ArrayRef<LayerDef> family) {
      defs.insert(defs.end(), family.begin(), family.end());
    };
#define GRADC_LAYERS_NO_LAYERS(Name)
#define GRADC_LAYERS_LAYERS(Name) add(get##Name##LayerDefs());
#define GRADC_OP_FAMILY(Name, Layers, Kernels) GRADC_LAYERS_##Layers(Name)
#include "ir/OpFamilies.def"
#undef GRADC_LAYERS_LAYERS
#undef GRADC_LAYERS_NO_LAYERS
    add(getRecurrentLayerDefs());
    return defs;
  }();
  for (const LayerDef &d : all)
    if (d.kind == kind)
      return &d;
  return nullptr;
}

} // namespace gradc
