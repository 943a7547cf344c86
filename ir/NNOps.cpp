//===- NNOps.cpp - the nn ops' definitions and shared verifier helpers ----===//
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

/// `axes` (or `dims`) are increasing and within [0, rank).
LogicalResult checkAxes(EmitErrorFn emitError, ArrayRef<int64_t> axes,
                        int64_t rank, StringRef what) {
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] < 0 || axes[i] >= rank || (i > 0 && axes[i] <= axes[i - 1])) {
      std::string list;
      llvm::raw_string_ostream os(list);
      llvm::interleaveComma(axes, os);
      return emitError() << "expects " << what << " increasing and within [0, "
                         << rank << "), got [" << list << "]";
    }
  return success();
}

/// The input's shape without `axes`.
FailureOr<SmallVector<int64_t>>
reduceOutputShape(EmitErrorFn emitError, Value input, ArrayRef<int64_t> axes) {
  auto in = shapeOf(input);
  if (failed(checkAxes(emitError, axes, in.size(), "axes")))
    return failure();
  SmallVector<int64_t> out;
  for (int64_t d = 0; d < int64_t(in.size()); ++d)
    if (!llvm::is_contained(axes, d))
      out.push_back(in[d]);
  return out;
}

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
  return expectRank(opErrors(op), v, rank, what);
}

LogicalResult expectRank(EmitErrorFn emitError, Value v, int64_t rank,
                         StringRef what) {
  int64_t actual = cast<RankedTensorType>(v.getType()).getRank();
  if (actual != rank)
    return emitError() << "expects " << what << " of rank " << rank
                       << ", got rank " << actual << " ("
                       << shapeStr(shapeOf(v)) << ")";
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

FailureOr<Window2D> windowFrom(EmitErrorFn emitError, ArrayRef<int64_t> size,
                               ArrayRef<int64_t> strides,
                               ArrayRef<int64_t> pads,
                               ArrayRef<int64_t> dilations) {
  if (size.size() != 2 || strides.size() != 2 || dilations.size() != 2 ||
      pads.size() != 4) {
    emitError() << "expects 2 window sizes, 2 strides, 2 dilations and "
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
    emitError() << err;
    return failure();
  }
  return w;
}

/// Output height and width of a window; unknown where the input size is.
LogicalResult windowOutput(EmitErrorFn emitError, ArrayRef<int64_t> inHW,
                           const Window2D &w, std::array<int64_t, 2> &hw) {
  for (int i = 0; i < 2; ++i) {
    hw[i] =
        ShapedType::isDynamic(inHW[i])
            ? ShapedType::kDynamic
            : windowOutputSize(inHW[i], w.size[i], w.strides[i], w.dilations[i],
                               w.pads[2 * i], w.pads[2 * i + 1]);
    if (hw[i] < 0 && !ShapedType::isDynamic(hw[i]))
      return emitError() << "expects window " << w.size[0] << "x" << w.size[1]
                         << " (dilation " << w.dilations[0] << "x"
                         << w.dilations[1] << ") to fit input "
                         << shapeStr(inHW) << " (padding " << w.pads[0] << ","
                         << w.pads[1] << "," << w.pads[2] << "," << w.pads[3]
                         << ")";
  }
  return success();
}

} // namespace gradc::nn
