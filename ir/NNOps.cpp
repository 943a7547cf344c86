//===- NNOps.cpp - verifiers of the nn ops --------------------------------===//
//
// Every verifier names the sizes at fault, e.g. "expects filter input
// channels 3 to equal input channels 1". Shape rules come from ShapeRules.
//
//===----------------------------------------------------------------------===//

#include "ir/NNDialect.h"
#include "ir/ShapeRules.h"
#include "ir/VerifierUtils.h"

#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

#define GET_OP_CLASSES
#include "ir/NNOps.cpp.inc"

namespace gradc::nn {

std::string shapeStr(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  return llvm::join(llvm::map_range(shape,
                                    [](int64_t d) {
                                      return ShapedType::isDynamic(d)
                                                 ? std::string("?")
                                                 : std::to_string(d);
                                    }),
                    "x");
}

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

LogicalResult expectRank(Operation *op, Value v, int64_t rank, StringRef what) {
  int64_t actual = cast<RankedTensorType>(v.getType()).getRank();
  if (actual != rank)
    return op->emitOpError()
           << "expects " << what << " of rank " << rank << ", got rank "
           << actual << " (" << shapeStr(shapeOf(v)) << ")";
  return success();
}

/// Sizes agree unless both are known and differ: verifiers accept what they
/// cannot check yet.
bool sameDim(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}

bool sameShape(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip(a, b))
    if (!sameDim(x, y))
      return false;
  return true;
}

LogicalResult expectShape(Operation *op, Value v, ArrayRef<int64_t> expected,
                          StringRef what) {
  if (!sameShape(shapeOf(v), expected))
    return op->emitOpError()
           << "expects " << what << " of shape " << shapeStr(expected)
           << ", got " << shapeStr(shapeOf(v));
  return success();
}

LogicalResult expectSameElementType(Operation *op) {
  Type elem;
  SmallVector<Value> values(op->getOperands());
  llvm::append_range(values, op->getResults());
  for (Value v : values) {
    auto t = cast<RankedTensorType>(v.getType()).getElementType();
    if (!isa<FloatType>(t))
      continue;
    if (elem && elem != t)
      return op->emitOpError()
             << "expects one float element type, got " << elem << " and " << t;
    elem = t;
  }
  return success();
}

} // namespace gradc::nn

namespace {

FailureOr<Window2D> windowFrom(Operation *op, ArrayRef<int64_t> size,
                               ArrayRef<int64_t> strides,
                               ArrayRef<int64_t> pads,
                               ArrayRef<int64_t> dilations) {
  if (size.size() != 2 || strides.size() != 2 || dilations.size() != 2 ||
      pads.size() != 4) {
    op->emitOpError() << "expects 2 window sizes, 2 strides, 2 dilations and "
                         "4 pads, got "
                      << size.size() << ", " << strides.size() << ", "
                      << dilations.size() << " and " << pads.size();
    return failure();
  }
  Window2D w;
  std::copy(size.begin(), size.end(), w.size.begin());
  std::copy(strides.begin(), strides.end(), w.strides.begin());
  std::copy(dilations.begin(), dilations.end(), w.dilations.begin());
  std::copy(pads.begin(), pads.end(), w.pads.begin());
  std::string err = checkWindowParams(w);
  if (!err.empty()) {
    op->emitOpError() << err;
    return failure();
  }
  return w;
}

/// Output height and width of a window; unknown where the input size is.
LogicalResult windowOutput(Operation *op, ArrayRef<int64_t> inHW,
                           const Window2D &w, std::array<int64_t, 2> &hw) {
  for (int i = 0; i < 2; ++i) {
    hw[i] =
        ShapedType::isDynamic(inHW[i])
            ? ShapedType::kDynamic
            : windowOutputSize(inHW[i], w.size[i], w.strides[i], w.dilations[i],
                               w.pads[2 * i], w.pads[2 * i + 1]);
    if (hw[i] < 0 && !ShapedType::isDynamic(hw[i]))
      return op->emitOpError()
             << "expects window " << w.size[0] << "x" << w.size[1]
             << " (dilation " << w.dilations[0] << "x" << w.dilations[1]
             << ") to fit input " << shapeStr(inHW) << " (padding " << w.pads[0]
             << "," << w.pads[1] << "," << w.pads[2] << "," << w.pads[3] << ")";
  }
  return success();
}

/// Checks the shapes of a convolution: input [N,H,W,C], filter [KH,KW,C,F],
/// output [N,OH,OW,F] (the same for the forward op and both gradients).
LogicalResult verifyConv(Operation *op, Value input, Value filter, Value output,
                         ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                         ArrayRef<int64_t> dilations, int64_t groups) {
  if (failed(expectRank(op, input, 4, "input (NHWC)")) ||
      failed(expectRank(op, filter, 4, "filter (HWIO)")) ||
      failed(expectRank(op, output, 4, "output (NHWC)")) ||
      failed(expectSameElementType(op)))
    return failure();
  auto in = shapeOf(input), f = shapeOf(filter);
  if (groups < 1)
    return op->emitOpError() << "expects groups >= 1, got " << groups;
  if (!ShapedType::isDynamic(f[3]) && f[3] % groups != 0)
    return op->emitOpError() << "expects filters " << f[3]
                             << " to be a multiple of groups " << groups;
  if (groups == 1 && !sameDim(f[2], in[3]))
    return op->emitOpError() << "expects filter input channels " << f[2]
                             << " to equal input channels " << in[3];
  if (groups > 1 && !ShapedType::isDynamic(f[2]) &&
      !sameDim(f[2] * groups, in[3]))
    return op->emitOpError()
           << "expects filter input channels " << f[2] << " x groups " << groups
           << " to equal input channels " << in[3];
  FailureOr<Window2D> w =
      windowFrom(op, f.take_front(2), strides, pads, dilations);
  if (failed(w))
    return failure();
  std::array<int64_t, 2> hw;
  if (failed(windowOutput(op, in.slice(1, 2), *w, hw)))
    return failure();
  return expectShape(op, output, {in[0], hw[0], hw[1], f[3]}, "output");
}

LogicalResult verifyPool(Operation *op, Value input, Value output,
                         ArrayRef<int64_t> window, ArrayRef<int64_t> strides,
                         ArrayRef<int64_t> pads) {
  if (failed(expectRank(op, input, 4, "input (NHWC)")) ||
      failed(expectRank(op, output, 4, "output (NHWC)")))
    return failure();
  FailureOr<Window2D> w = windowFrom(op, window, strides, pads, {1, 1});
  if (failed(w))
    return failure();
  for (int i = 0; i < 4; ++i)
    if (w->pads[i] >= w->size[i / 2])
      return op->emitOpError()
             << "expects pads smaller than the window " << window[0] << "x"
             << window[1] << ", got " << pads[0] << "," << pads[1] << ","
             << pads[2] << "," << pads[3];
  auto in = shapeOf(input);
  std::array<int64_t, 2> hw;
  if (failed(windowOutput(op, in.slice(1, 2), *w, hw)) ||
      failed(expectSameElementType(op)))
    return failure();
  return expectShape(op, output, {in[0], hw[0], hw[1], in[3]}, "output");
}

LogicalResult verifyLossShapes(Operation *op, Value predictions, Value labels,
                               StringRef kind, double delta) {
  if (failed(expectRank(op, predictions, 2, "predictions [N, C]")) ||
      failed(expectRank(op, labels, 1, "labels [N]")) ||
      failed(expectSameElementType(op)))
    return failure();
  auto p = shapeOf(predictions);
  if (!sameDim(shapeOf(labels)[0], p[0]))
    return op->emitOpError()
           << "expects " << p[0] << " labels to match " << p[0]
           << " predictions, got " << shapeOf(labels)[0];
  bool needsClasses = kind == "cross_entropy" ||
                      kind == "softmax_cross_entropy" ||
                      kind == "categorical_hinge";
  if (needsClasses && !ShapedType::isDynamic(p[1]) && p[1] < 2)
    return op->emitOpError() << "expects at least 2 classes, got " << p[1];
  if (kind == "huber" && !(delta > 0))
    return op->emitOpError() << "expects a positive delta, got " << delta;
  return success();
}

} // namespace

LogicalResult Conv2DOp::verify() {
  if (failed(verifyConv(*this, getInput(), getFilter(), getOutput(),
                        getStrides(), getPads(), getDilations(), getGroups())))
    return failure();
  if (getBias() &&
      failed(expectShape(*this, getBias(), {shapeOf(getFilter())[3]}, "bias")))
    return failure();
  StringRef act = getActivation();
  if (act != "none" && act != "relu" && act != "leaky_relu")
    return emitOpError() << "expects activation none, relu or leaky_relu, got "
                         << act;
  return success();
}

LogicalResult Conv2DBatchNormOp::verify() {
  if (failed(verifyConv(*this, getInput(), getFilter(), getOutput(),
                        getStrides(), getPads(), getDilations(), getGroups())))
    return failure();
  int64_t filters = shapeOf(getFilter())[3];
  for (auto [v, what] : {std::pair<Value, StringRef>{getBias(), "bias"},
                         {getGamma(), "gamma"},
                         {getBeta(), "beta"},
                         {getMean(), "mean"},
                         {getVariance(), "variance"}})
    if (failed(expectShape(*this, v, {filters}, what)))
      return failure();
  StringRef act = getActivation();
  if (act != "none" && act != "relu" && act != "leaky_relu")
    return emitOpError() << "expects activation none, relu or leaky_relu, got "
                         << act;
  if (!(getEpsilon().convertToDouble() > 0))
    return emitOpError() << "expects a positive epsilon, got "
                         << getEpsilon().convertToDouble();
  return success();
}

LogicalResult MaxPool2DOp::verify() {
  return verifyPool(*this, getInput(), getOutput(), getWindow(), getStrides(),
                    getPads());
}
LogicalResult AvgPool2DOp::verify() {
  return verifyPool(*this, getInput(), getOutput(), getWindow(), getStrides(),
                    getPads());
}

LogicalResult DenseOp::verify() {
  if (failed(expectRank(*this, getInput(), 2, "input [N, K]")) ||
      failed(expectRank(*this, getWeight(), 2, "weight [K, M]")) ||
      failed(expectSameElementType(*this)))
    return failure();
  auto in = shapeOf(getInput()), w = shapeOf(getWeight());
  if (!sameDim(w[0], in[1]))
    return emitOpError() << "expects weight rows " << w[0]
                         << " to equal input features " << in[1];
  if (getBias() && failed(expectShape(*this, getBias(), {w[1]}, "bias")))
    return failure();
  return expectShape(*this, getOutput(), {in[0], w[1]}, "output");
}

LogicalResult FlattenOp::verify() {
  auto in = shapeOf(getInput());
  if (in.size() < 2)
    return emitOpError() << "expects input of rank >= 2, got " << shapeStr(in);
  int64_t features = 1;
  for (int64_t d : in.drop_front()) {
    if (ShapedType::isDynamic(d)) {
      features = ShapedType::kDynamic;
      break;
    }
    features *= d;
  }
  if (failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getOutput(), {in[0], features}, "output");
}

LogicalResult ReshapeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getOutput().getType());
  if (in.hasStaticShape() && out.hasStaticShape() &&
      in.getNumElements() != out.getNumElements())
    return emitOpError() << "expects " << in.getNumElements()
                         << " elements in the output ("
                         << shapeStr(in.getShape()) << "), got "
                         << out.getNumElements() << " ("
                         << shapeStr(out.getShape()) << ")";
  return expectSameElementType(*this);
}

LogicalResult PReluOp::verify() {
  auto in = shapeOf(getInput());
  if (in.empty())
    return emitOpError() << "expects input of rank >= 1";
  if (failed(expectShape(*this, getAlpha(), {in.back()}, "alpha")) ||
      failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getOutput(), in, "output");
}

FailureOr<SmallVector<Value>> DropoutOp::buildTrainingForm(
    OpBuilder &b, Value step,
    SmallVectorImpl<std::pair<Value, Value>> &bufferUpdates) {
  // The same op, driven by the step: its mask changes every step.
  auto train = b.create<DropoutOp>(getLoc(), getType(), getInput(), step,
                                   getRateAttr(), getSeedAttr());
  return SmallVector<Value>{train.getOutput()};
}

LogicalResult DropoutOp::verify() {
  double rate = getRate().convertToDouble();
  if (!(rate >= 0 && rate < 1))
    return emitOpError() << "expects rate in [0, 1), got " << rate;
  return success();
}

#define GRADC_LOSS_VERIFIER(Op, kind)                                          \
  LogicalResult Op::verify() {                                                 \
    return verifyLossShapes(*this, getPredictions(), getLabels(), kind,        \
                            getDelta().convertToDouble());                     \
  }
GRADC_LOSS_VERIFIER(CrossEntropyOp, "cross_entropy")
GRADC_LOSS_VERIFIER(SoftmaxCrossEntropyOp, "softmax_cross_entropy")
GRADC_LOSS_VERIFIER(BinaryCrossEntropyOp, "binary_cross_entropy")
GRADC_LOSS_VERIFIER(MseOp, "mse")
GRADC_LOSS_VERIFIER(MaeOp, "mae")
GRADC_LOSS_VERIFIER(HuberOp, "huber")
GRADC_LOSS_VERIFIER(HingeOp, "hinge")
GRADC_LOSS_VERIFIER(SquaredHingeOp, "squared_hinge")
GRADC_LOSS_VERIFIER(CategoricalHingeOp, "categorical_hinge")
#undef GRADC_LOSS_VERIFIER

LogicalResult LossGradOp::verify() {
  if (!isLossKind(getKind()))
    return emitOpError() << "expects a loss kind, got '" << getKind() << "'";
  if (failed(verifyLossShapes(*this, getPredictions(), getLabels(), getKind(),
                              getDelta().convertToDouble())))
    return failure();
  return expectShape(*this, getGrad(), shapeOf(getPredictions()), "gradient");
}

LogicalResult Conv2DGradInputOp::verify() {
  return verifyConv(*this, getGradInput(), getFilter(), getGradOutput(),
                    getStrides(), getPads(), getDilations(), getGroups());
}

LogicalResult Conv2DGradFilterOp::verify() {
  return verifyConv(*this, getInput(), getGradFilter(), getGradOutput(),
                    getStrides(), getPads(), getDilations(), getGroups());
}

LogicalResult MaxPool2DGradOp::verify() {
  if (failed(
          expectShape(*this, getGradInput(), shapeOf(getInput()), "gradient")))
    return failure();
  return verifyPool(*this, getInput(), getGradOutput(), getWindow(),
                    getStrides(), getPads());
}
LogicalResult AvgPool2DGradOp::verify() {
  if (failed(
          expectShape(*this, getGradInput(), shapeOf(getInput()), "gradient")))
    return failure();
  return verifyPool(*this, getInput(), getGradOutput(), getWindow(),
                    getStrides(), getPads());
}

LogicalResult ActivationGradOp::verify() {
  if (!llvm::is_contained(
          {"relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax"},
          getKind()))
    return emitOpError() << "expects kind relu, leaky_relu, sigmoid, tanh, "
                            "softmax or log_softmax, got '"
                         << getKind() << "'";
  return success();
}

LogicalResult PReluGradOp::verify() {
  auto in = shapeOf(getInput());
  if (in.empty())
    return emitOpError() << "expects input of rank >= 1";
  if (failed(expectShape(*this, getAlpha(), {in.back()}, "alpha")) ||
      failed(expectShape(*this, getGradOutput(), in, "output gradient")) ||
      failed(expectShape(*this, getGradInput(), in, "input gradient")) ||
      failed(expectShape(*this, getGradAlpha(), {in.back()}, "alpha gradient")))
    return failure();
  return expectSameElementType(*this);
}

LogicalResult MatmulOp::verify() {
  if (failed(expectRank(*this, getLhs(), 2, "lhs")) ||
      failed(expectRank(*this, getRhs(), 2, "rhs")) ||
      failed(expectSameElementType(*this)))
    return failure();
  auto a = shapeOf(getLhs()), b = shapeOf(getRhs());
  int64_t m = getTransposeLhs() ? a[1] : a[0];
  int64_t ka = getTransposeLhs() ? a[0] : a[1];
  int64_t kb = getTransposeRhs() ? b[1] : b[0];
  int64_t n = getTransposeRhs() ? b[0] : b[1];
  if (!sameDim(ka, kb))
    return emitOpError() << "expects contracted sizes to match, got " << ka
                         << " and " << kb;
  return expectShape(*this, getOutput(), {m, n}, "output");
}

LogicalResult BiasGradOp::verify() {
  auto in = shapeOf(getGradOutput());
  if (in.empty())
    return emitOpError() << "expects input of rank >= 1";
  if (failed(expectSameElementType(*this)))
    return failure();
  return expectShape(*this, getGradBias(), {in.back()}, "bias gradient");
}

LogicalResult CorrectCountOp::verify() {
  if (failed(expectRank(*this, getPredictions(), 2, "predictions [N, C]")) ||
      failed(expectRank(*this, getLabels(), 1, "labels [N]")))
    return failure();
  int64_t n = shapeOf(getPredictions())[0];
  return expectShape(*this, getLabels(), {n}, "labels");
}

namespace {
/// An update's state operands and all its results have the parameter's type.
LogicalResult verifyUpdate(Operation *op, Value param, ValueRange sameAsParam,
                           double lr) {
  if (failed(expectSameElementType(op)))
    return failure();
  SmallVector<Value> values(sameAsParam);
  llvm::append_range(values, op->getResults());
  for (Value v : values)
    if (!sameShape(shapeOf(v), shapeOf(param)))
      return op->emitOpError()
             << "expects every operand and result to have "
                "the parameter's shape "
             << shapeStr(shapeOf(param)) << ", got " << shapeStr(shapeOf(v));
  if (!(lr > 0))
    return op->emitOpError() << "expects a positive learning rate, got " << lr;
  return success();
}
} // namespace

LogicalResult SgdUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad()},
                      getLearningRate().convertToDouble());
}
LogicalResult MomentumUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad(), getVelocity()},
                      getLearningRate().convertToDouble());
}
LogicalResult RmspropUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad(), getMeanSquare()},
                      getLearningRate().convertToDouble());
}
LogicalResult AdamUpdateOp::verify() {
  return verifyUpdate(*this, getParam(), {getGrad(), getM(), getV()},
                      getLearningRate().convertToDouble());
}
