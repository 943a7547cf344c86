//===- ConvOps.cpp - convolutions: verifiers and gradients ----------------===//
//
// conv2d (grouped, with a fused activation), conv2d_batch_norm and the
// backward convolutions. The shape rule: output = the window rule of
// ShapeRules over the input, with F filters of C/groups channels each.
//
//===----------------------------------------------------------------------===//

#include "ir/GradientBuilder.h"
#include "ir/ShapeRules.h"
#include "ir/VerifierUtils.h"

using namespace mlir;
using namespace gradc;
using namespace gradc::nn;

namespace {

/// The shape rule of a convolution: input [N,H,W,C] and filter
/// [KH,KW,C/groups,F] give output [N,OH,OW,F]. Used by the verifiers (of the
/// forward op and both gradients) and by inferReturnTypes.
FailureOr<SmallVector<int64_t>>
convOutputShape(EmitErrorFn emitError, Value input, Value filter,
                ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                ArrayRef<int64_t> dilations, int64_t groups) {
  if (failed(expectRank(emitError, input, 4, "input (NHWC)")) ||
      failed(expectRank(emitError, filter, 4, "filter (HWIO)")))
    return failure();
  auto in = shapeOf(input), f = shapeOf(filter);
  if (groups < 1)
    return emitError() << "expects groups >= 1, got " << groups;
  if (!ShapedType::isDynamic(f[3]) && f[3] % groups != 0)
    return emitError() << "expects filters " << f[3]
                       << " to be a multiple of groups " << groups;
  if (groups == 1 && !sameDim(f[2], in[3]))
    return emitError() << "expects filter input channels " << f[2]
                       << " to equal input channels " << in[3];
  if (groups > 1 && !ShapedType::isDynamic(f[2]) &&
      !sameDim(f[2] * groups, in[3]))
    return emitError() << "expects filter input channels " << f[2]
                       << " x groups " << groups << " to equal input channels "
                       << in[3];
  FailureOr<Window2D> w =
      windowFrom(emitError, f.take_front(2), strides, pads, dilations);
  if (failed(w))
    return failure();
  std::array<int64_t, 2> hw;
  if (failed(windowOutput(emitError, in.slice(1, 2), *w, hw)))
    return failure();
  return SmallVector<int64_t>{in[0], hw[0], hw[1], f[3]};
}

/// Checks the shapes of a convolution: input [N,H,W,C], filter [KH,KW,C,F],
/// output [N,OH,OW,F] (the same for the forward op and both gradients).
LogicalResult verifyConv(Operation *op, Value input, Value filter, Value output,
                         ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                         ArrayRef<int64_t> dilations, int64_t groups) {
  if (failed(expectRank(op, output, 4, "output (NHWC)")) ||
      failed(expectSameElementType(op)))
    return failure();
  auto shape = convOutputShape(opErrors(op), input, filter, strides, pads,
                               dilations, groups);
  if (failed(shape))
    return failure();
  return expectShape(op, output, *shape, "output");
}

} // namespace

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return pushInferred(convOutputShape(locErrors(loc), adaptor.getInput(),
                                      adaptor.getFilter(), adaptor.getStrides(),
                                      adaptor.getPads(), adaptor.getDilations(),
                                      adaptor.getGroups()),
                      adaptor.getInput(), types);
}

LogicalResult Conv2DOp::verify() {
  if (failed(verifyConv(*this, getInput(), getFilter(), getOutput(),
                        getStrides(), getPads(), getDilations(), getGroups())))
    return failure();
  if (getBias() &&
      failed(expectShape(*this, getBias(), {shapeOf(getFilter())[3]}, "bias")))
    return failure();
  ActivationKind act = getActivation();
  if (act != ActivationKind::None && act != ActivationKind::Relu &&
      act != ActivationKind::LeakyRelu)
    return emitOpError() << "expects activation none, relu or leaky_relu, got "
                         << stringifyActivationKind(act);
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
  ActivationKind act = getActivation();
  if (act != ActivationKind::None && act != ActivationKind::Relu &&
      act != ActivationKind::LeakyRelu)
    return emitOpError() << "expects activation none, relu or leaky_relu, got "
                         << stringifyActivationKind(act);
  if (!(getEpsilon().convertToDouble() > 0))
    return emitOpError() << "expects a positive epsilon, got "
                         << getEpsilon().convertToDouble();
  return success();
}

LogicalResult Conv2DGradInputOp::verify() {
  return verifyConv(*this, getGradInput(), getFilter(), getGradOutput(),
                    getStrides(), getPads(), getDilations(), getGroups());
}

LogicalResult Conv2DGradFilterOp::verify() {
  return verifyConv(*this, getInput(), getGradFilter(), getGradOutput(),
                    getStrides(), getPads(), getDilations(), getGroups());
}

LogicalResult Conv2DOp::buildGradients(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  // The fused activation's output has the sign of its input (alpha >= 0), so
  // its gradient can be taken from the output.
  GradientBuilder g(b, loc);
  if (getActivation() != ActivationKind::None)
    dy = activationGradient(g, getActivation(), dy, getOutput(),
                            getAlpha().convertToDouble());
  operandGrads.push_back(b.create<Conv2DGradInputOp>(
      loc, getInput().getType(), dy, getFilter(), getStridesAttr(),
      getPadsAttr(), getDilationsAttr(), getGroupsAttr()));
  operandGrads.push_back(b.create<Conv2DGradFilterOp>(
      loc, getFilter().getType(), getInput(), dy, getStridesAttr(),
      getPadsAttr(), getDilationsAttr(), getGroupsAttr()));
  if (getBias())
    operandGrads.push_back(g.sumToLast(dy));
  return success();
}
