//===- ConvLowering.cpp - conv2d and its gradients to linalg -===//
//
// conv2d becomes linalg.conv_2d_nhwc_hwcf on the padded input. The backward
// convolutions are convolutions too: the filter gradient convolves the
// transposed input with the transposed output gradient (strides and
// dilations swap roles), the input gradient convolves the stride-dilated,
// padded output gradient with the flipped filter. Grouped convolutions take
// one convolution per group, except depthwise ones (one filter per channel):
// their forward and input gradient are one linalg depthwise convolution, and
// their filter gradient one reduction, whatever the channel count (per
// channel, a 64-channel depthwise layer compiled to 321 KiB in 86 s).
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/LinalgEmitter.h"

using namespace mlir;

namespace gradc::lowering {
namespace {

/// The channels [g * size, (g + 1) * size) of the last dimension of x.
Value channelSlice(Emitter &e, Value x, int64_t g, int64_t size) {
  if (size == e.shape(x).back())
    return x;
  SmallVector<int64_t> offsets(e.shape(x).size(), 0), sizes(e.shape(x));
  offsets.back() = g * size;
  sizes.back() = size;
  return e.slice(x, offsets, sizes, SmallVector<int64_t>(sizes.size(), 1));
}

/// Writes `part` into the channels [g * size, ...) of `whole`.
Value insertChannels(Emitter &e, Value part, Value whole, int64_t g) {
  SmallVector<int64_t> offsets(e.shape(whole).size(), 0);
  offsets.back() = g * e.shape(part).back();
  return e.insert(part, whole, offsets,
                  SmallVector<int64_t>(offsets.size(), 1));
}

/// A result of `shape` whose last dimension splits into `groups` parts,
/// part g computed by `part(g)` (the whole result when there is one group).
Value perGroup(Emitter &e, ArrayRef<int64_t> shape, int64_t groups,
               function_ref<Value(int64_t)> part) {
  if (groups == 1)
    return part(0);
  Value whole;
  for (int64_t g = 0; g < groups; ++g) {
    Value pg = part(g);
    if (!whole)
      whole = e.empty(shape, e.elem(pg));
    whole = insertChannels(e, pg, whole, g);
  }
  return whole;
}

/// The forward convolution's attributes (conv2d and conv2d_batch_norm).
struct ConvAttrs {
  ArrayRef<int64_t> strides, pads, dilations;
  int64_t groups;
  StringRef activation;
  double alpha;
};

template <typename OpT> ConvAttrs attrsOf(OpT op) {
  return {op.getStrides(),
          op.getPads(),
          op.getDilations(),
          int64_t(op.getGroups()),
          nn::stringifyActivationKind(op.getActivation()),
          op.getAlpha().convertToDouble()};
}

Value lowerConv(Emitter &e, RankedTensorType outType, Value x, Value w,
                Value bias, const ConvAttrs &a) {
  auto p = a.pads;
  Value xp = e.pad(x, {0, p[0], p[2], 0}, {0, p[1], p[3], 0}, 0.0);
  Value init = bias ? e.broadcastLast(bias, outType.getShape())
                    : e.fill(outType.getShape(), outType.getElementType(), 0.0);
  int64_t groups = a.groups;
  auto ws = e.shape(w); // KH KW C/G F
  Value y;
  if (groups == 1) {
    y = e.conv(xp, w, init, a.strides, a.dilations);
  } else if (ws[2] == 1 && ws[3] == groups) {
    // Depthwise (one filter per channel): linalg's depthwise convolution on
    // the filter viewed as [KH, KW, C].
    Value w3 = e.b.create<tensor::CollapseShapeOp>(
        e.loc, w, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    y = e.b.create<linalg::DepthwiseConv2DNhwcHwcOp>(
               e.loc, outType, ValueRange{xp, w3}, init,
               e.i64Elements(a.strides), e.i64Elements(a.dilations))
            ->getResult(0);
  } else {
    // One convolution per group on its channels and filters.
    int64_t cg = ws[2], fg = ws[3] / groups;
    y = init;
    for (int64_t g = 0; g < groups; ++g) {
      Value yg = e.conv(channelSlice(e, xp, g, cg), channelSlice(e, w, g, fg),
                        channelSlice(e, init, g, fg), a.strides, a.dilations);
      y = insertChannels(e, yg, y, g);
    }
  }
  return activate(e, y, a.activation, a.alpha);
}

/// conv2d_batch_norm: with s = gamma / sqrt(variance + epsilon) per filter,
/// the convolution with filter * s and bias (bias - mean) * s + beta.
Value lowerConvBatchNorm(Emitter &e, nn::Conv2DBatchNormOp op, ValueRange ops) {
  Value w = ops[1], bias = ops[2], gamma = ops[3], beta = ops[4], mean = ops[5],
        var = ops[6];
  Type t = e.elem(w);
  double eps = op.getEpsilon().convertToDouble();
  Value scale = e.map({gamma, var}, e.type(gamma),
                      [&](OpBuilder &b, Location l, ValueRange a) {
                        S s{b, l};
                        Value den = s.sqrt(s.add(a[1], s.c(eps, t)));
                        return one(s.div(a[0], den));
                      });
  Value wf = e.generic({w, scale}, e.empty(e.shape(w), t),
                       {e.identity(4), e.dims(4, {3}), e.identity(4)},
                       SmallVector<IteratorType>(4, IteratorType::parallel),
                       [](OpBuilder &b, Location l, ValueRange a) {
                         return one(S{b, l}.mul(a[0], a[1]));
                       })[0];
  Value bf = e.map({bias, mean, scale, beta}, e.type(bias),
                   [](OpBuilder &b, Location l, ValueRange a) {
                     S s{b, l};
                     return one(s.add(s.mul(s.sub(a[0], a[1]), a[2]), a[3]));
                   });
  return lowerConv(e, cast<RankedTensorType>(op.getType()), ops[0], wf, bf,
                   attrsOf(op));
}

Value lowerConvGradFilter(Emitter &e, nn::Conv2DGradFilterOp op, Value x,
                          Value dy, ArrayRef<int64_t> ws) {
  auto p = op.getPads();
  auto s = op.getStrides(), d = op.getDilations(); // ws: KH KW C F
  auto ys = e.shape(dy);                           // N OH OW F
  Value xp = e.pad(x, {0, p[0], p[2], 0}, {0, p[1], p[3], 0}, 0.0);
  auto xs = e.shape(xp);
  int64_t hu = usedExtent(ys[1], ws[0], s[0], d[0]);
  int64_t wu = usedExtent(ys[2], ws[1], s[1], d[1]);
  if (hu != xs[1] || wu != xs[2])
    xp = e.slice(xp, {0, 0, 0, 0}, {xs[0], hu, wu, xs[3]}, {1, 1, 1, 1});
  // The filter gradient
  //   dW[kh,kw,c,f] = sum_{n,oh,ow} xp[n, oh*s + kh*d, ow*s + kw*d, c]
  //                                 * dy[n,oh,ow,f]
  // is a convolution of xT[c, h, w, n] with dyT[oh, ow, n, f] whose stride
  // is the forward dilation and whose dilation is the forward stride.
  Value xt = e.transpose(xp, {3, 1, 2, 0});
  Value dyt = e.transpose(dy, {1, 2, 0, 3});
  Type t = e.elem(dy);
  Value init = e.fill({ws[2], ws[0], ws[1], ws[3]}, t, 0.0);
  Value dwt = e.conv(xt, dyt, init, d, s);
  return e.transpose(dwt, {1, 2, 0, 3});
}

/// The depthwise filter gradient (ws: KH KW 1 C)
///   dW[kh,kw,0,c] = sum_{n,oh,ow} xp[n, oh*s + kh*d, ow*s + kw*d, c]
///                                 * dy[n,oh,ow,c]
/// as one reduction with the channels innermost (contiguous in every
/// operand).
Value lowerDepthwiseGradFilter(Emitter &e, nn::Conv2DGradFilterOp op, Value x,
                               Value dy, ArrayRef<int64_t> ws) {
  auto p = op.getPads();
  auto s = op.getStrides(), d = op.getDilations();
  Value xp = e.pad(x, {0, p[0], p[2], 0}, {0, p[1], p[3], 0}, 0.0);
  MLIRContext *ctx = e.ctx;
  // Loops (kh, kw, n, oh, ow, c).
  auto dim = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineMap xMap = AffineMap::get(6, 0,
                                  {dim(2), dim(3) * s[0] + dim(0) * d[0],
                                   dim(4) * s[1] + dim(1) * d[1], dim(5)},
                                  ctx);
  AffineMap dyMap = e.dims(6, {2, 3, 4, 5}), outMap = e.dims(6, {0, 1, 5});
  using It = IteratorType;
  Type t = e.elem(dy);
  Value dw3 = e.generic({xp, dy}, e.fill({ws[0], ws[1], ws[3]}, t, 0.0),
                        {xMap, dyMap, outMap},
                        {It::parallel, It::parallel, It::reduction,
                         It::reduction, It::reduction, It::parallel},
                        [&](OpBuilder &b, Location l, ValueRange a) {
                          Value m = b.create<arith::MulFOp>(l, a[0], a[1]);
                          return one(b.create<arith::AddFOp>(l, a[2], m));
                        })[0];
  return e.b.create<tensor::ExpandShapeOp>(
      e.loc, RankedTensorType::get(ws, t), dw3,
      ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
}

Value lowerConvGradInput(Emitter &e, nn::Conv2DGradInputOp op, Value dy,
                         Value w, ArrayRef<int64_t> xs, bool depthwise) {
  auto p = op.getPads();
  auto s = op.getStrides(), d = op.getDilations(); // xs: N H W C
  auto ws = e.shape(w);                            // KH KW C F
  auto ys = e.shape(dy);                           // N OH OW F
  Type t = e.elem(dy);
  // Spread dy by the stride.
  Value dd = dy;
  if (s[0] > 1 || s[1] > 1) {
    Value zeros = e.fill(
        {ys[0], (ys[1] - 1) * s[0] + 1, (ys[2] - 1) * s[1] + 1, ys[3]}, t, 0.0);
    dd = e.insert(dy, zeros, {0, 0, 0, 0}, {1, s[0], s[1], 1});
  }
  int64_t ph = (ws[0] - 1) * d[0], pw = (ws[1] - 1) * d[1];
  Value dp = e.pad(dd, {0, ph, pw, 0}, {0, ph, pw, 0}, 0.0);
  MLIRContext *ctx = e.ctx;
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx), d3 = getAffineDimExpr(3, ctx);
  auto copy = [](OpBuilder &, Location, ValueRange a) { return one(a[0]); };
  int64_t hu = usedExtent(ys[1], ws[0], s[0], d[0]);
  int64_t wu = usedExtent(ys[2], ws[1], s[1], d[1]);
  Value init = e.fill({xs[0], hu, wu, xs[3]}, t, 0.0);
  Value dxu;
  if (depthwise) {
    // One filter per channel (ws: KH KW 1 C): the flipped filter
    // wf[kh,kw,c] = w[KH-1-kh, KW-1-kw, 0, c] convolves each channel alone.
    AffineMap flip =
        AffineMap::get(3, 0, {ws[0] - 1 - d0, ws[1] - 1 - d1, d2}, ctx);
    Value w3 = e.b.create<tensor::CollapseShapeOp>(
        e.loc, w, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
    Value wf = e.generic(
        w3, e.empty({ws[0], ws[1], ws[3]}, t), {flip, e.identity(3)},
        SmallVector<IteratorType>(3, IteratorType::parallel), copy)[0];
    dxu = e.b.create<linalg::DepthwiseConv2DNhwcHwcOp>(
                 e.loc, init.getType(), ValueRange{dp, wf}, init,
                 e.i64Elements({1, 1}), e.i64Elements(d))
              ->getResult(0);
  } else {
    // Flipped filter with in/out swapped:
    //   wf[kh,kw,f,c] = w[KH-1-kh, KW-1-kw, c, f].
    AffineMap flip =
        AffineMap::get(4, 0, {ws[0] - 1 - d0, ws[1] - 1 - d1, d3, d2}, ctx);
    Value wf = e.generic(
        w, e.empty({ws[0], ws[1], ws[3], ws[2]}, t), {flip, e.identity(4)},
        SmallVector<IteratorType>(4, IteratorType::parallel), copy)[0];
    dxu = e.conv(dp, wf, init, {1, 1}, d);
  }
  // Back to the padded input's extent (untouched rows get zero), then crop.
  int64_t hp = xs[1] + p[0] + p[1], wp = xs[2] + p[2] + p[3];
  Value dxp = e.pad(dxu, {0, 0, 0, 0}, {0, hp - hu, wp - wu, 0}, 0.0);
  if (p[0] == 0 && p[2] == 0 && hp == xs[1] && wp == xs[2])
    return dxp;
  return e.slice(dxp, {0, p[0], p[2], 0}, xs, {1, 1, 1, 1});
}

} // namespace

void populateConvLoweringPatterns(RewritePatternSet &patterns) {
  using R = FailureOr<SmallVector<Value>>;
  addLowering<nn::Conv2DOp>(
      patterns, [](nn::Conv2DOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerConv(e, cast<RankedTensorType>(o.getType()), ops[0],
                             ops[1], o.getBias() ? ops[2] : Value(),
                             attrsOf(o)));
      });
  addLowering<nn::Conv2DBatchNormOp>(
      patterns, [](nn::Conv2DBatchNormOp o, ValueRange ops, Emitter &e) -> R {
        return one(lowerConvBatchNorm(e, o, ops));
      });
  // Grouped gradients: one per group, on that group's channels of each
  // operand, written into the group's channels of the result.
  addLowering<nn::Conv2DGradFilterOp>(
      patterns, [](nn::Conv2DGradFilterOp o, ValueRange ops, Emitter &e) -> R {
        auto ws = cast<RankedTensorType>(o.getType()).getShape();
        int64_t groups = o.getGroups(), cg = ws[2], fg = ws[3] / groups;
        if (groups > 1 && cg == 1 && fg == 1)
          return one(lowerDepthwiseGradFilter(e, o, ops[0], ops[1], ws));
        return one(perGroup(e, ws, groups, [&](int64_t g) {
          return lowerConvGradFilter(e, o, channelSlice(e, ops[0], g, cg),
                                     channelSlice(e, ops[1], g, fg),
                                     {ws[0], ws[1], cg, fg});
        }));
      });
  addLowering<nn::Conv2DGradInputOp>(
      patterns, [](nn::Conv2DGradInputOp o, ValueRange ops, Emitter &e) -> R {
        auto xs = cast<RankedTensorType>(o.getType()).getShape();
        auto ws = e.shape(ops[1]);
        int64_t groups = o.getGroups(), cg = ws[2], fg = ws[3] / groups;
        if (groups > 1 && cg == 1 && fg == 1)
          return one(lowerConvGradInput(e, o, ops[0], ops[1], xs, true));
        return one(perGroup(e, xs, groups, [&](int64_t g) {
          return lowerConvGradInput(e, o, channelSlice(e, ops[0], g, fg),
                                    channelSlice(e, ops[1], g, fg),
                                    {xs[0], xs[1], xs[2], cg}, false);
        }));
      });
}

} // namespace gradc::lowering
