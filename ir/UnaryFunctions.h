//===- UnaryFunctions.h - the functions of nn.unary, from one table -*- C++
//-*-===//
//
// The elementwise functions of ir/UnaryFunctions.def: their enum, names,
// and their forward value and derivative over any algebra (MLIR scalar
// builders in the lowering, float/double in the reference kernels), so
// that each formula is written once.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_IR_UNARYFUNCTIONS_H
#define GRADC_IR_UNARYFUNCTIONS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cmath>
#include <limits>

namespace gradc::nn {

enum class UnaryFn {
#define GRADC_UNARY_FN(Name, name, PROTO, onnxIn, onnxOut, alpha, fwd, deriv)  \
  Name,
#include "ir/UnaryFunctions.def"
};

struct UnaryFnInfo {
  UnaryFn fn;
  const char *name;    // nn.unary's `fn`
  const char *onnxIn;  // the ONNX operator imported as it, or ""
  const char *onnxOut; // the ONNX nodes exported for it
  double defaultAlpha; // 0: takes no alpha
};

/// Every row of the table, in its order.
llvm::ArrayRef<UnaryFnInfo> unaryFns();
/// The row named `name` (nn.unary's `fn`), or null.
const UnaryFnInfo *findUnaryFn(llvm::StringRef name);
const UnaryFnInfo &unaryFnInfo(UnaryFn fn);

/// f(x) over the algebra `a` (see ir/UnaryFunctions.def).
template <typename A, typename V>
V unaryForward(A &a, UnaryFn fn, V x, double alpha) {
  (void)alpha;
  switch (fn) {
#define GRADC_UNARY_FN(Name, name, PROTO, onnxIn, onnxOut, dflt, fwd, deriv)   \
  case UnaryFn::Name:                                                          \
    return fwd;
#include "ir/UnaryFunctions.def"
  }
  return x;
}

/// f'(x) over the algebra `a`.
template <typename A, typename V>
V unaryDerivative(A &a, UnaryFn fn, V x, double alpha) {
  auto y = [&] { return unaryForward(a, fn, x, alpha); };
  (void)y;
  switch (fn) {
#define GRADC_UNARY_FN(Name, name, PROTO, onnxIn, onnxOut, dflt, fwd, deriv)   \
  case UnaryFn::Name:                                                          \
    return deriv;
#include "ir/UnaryFunctions.def"
  }
  return x;
}

/// The algebra of plain numbers: the reference kernels' (std::erf,
/// std::log1p, std::expm1; max and min propagate NaN like arith.maximumf).
template <typename T> struct NumberAlgebra {
  T c(double v) { return T(v); }
  T add(T x, T y) { return x + y; }
  T sub(T x, T y) { return x - y; }
  T mul(T x, T y) { return x * y; }
  T div(T x, T y) { return x / y; }
  T neg(T x) { return -x; }
  T exp(T x) { return std::exp(x); }
  T expm1(T x) { return std::expm1(x); }
  T log(T x) { return std::log(x); }
  T log1p(T x) { return std::log1p(x); }
  T sqrt(T x) { return std::sqrt(x); }
  T abs(T x) { return std::fabs(x); }
  T sign(T x) { return x > 0 ? T(1) : x < 0 ? T(-1) : T(0); }
  T erf(T x) { return std::erf(x); }
  T sin(T x) { return std::sin(x); }
  T cos(T x) { return std::cos(x); }
  T atan(T x) { return std::atan(x); }
  T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }
  T max(T x, T y) {
    return std::isnan(x) || std::isnan(y) ? x + y : x > y ? x : y;
  }
  T min(T x, T y) {
    return std::isnan(x) || std::isnan(y) ? x + y : x < y ? x : y;
  }
  bool gt(T x, T y) { return x > y; }
  bool lt(T x, T y) { return x < y; }
  T select(bool c, T x, T y) { return c ? x : y; }
};

} // namespace gradc::nn

#endif // GRADC_IR_UNARYFUNCTIONS_H
