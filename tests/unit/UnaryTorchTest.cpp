//===- UnaryTorchTest.cpp - nn.unary and its gradient against PyTorch -----===//
//
// The reference kernels of nn.unary and nn.unary_grad (the oracle the JIT is
// compared with in JitOpsTest), every function of ir/UnaryFunctions.def,
// against Debian's PyTorch in float64 on x from -6 to 6 (0 and the kinks
// included): the values, and the gradients at the domain's edges (sqrt,
// log, rsqrt and reciprocal at 0, abs at 0, NaN below 0) as PyTorch gives
// them.
//
//===----------------------------------------------------------------------===//

#include "GradientCheck.h"
#include "TorchScript.h"
#include "ir/UnaryFunctions.h"

#include <cmath>

using namespace gradc;
using namespace gradc::test;

namespace {

constexpr int kPoints = 49; // -6, -5.75, ..., 6

double pointAt(int i) { return -6.0 + 12.0 * i / (kPoints - 1); }

struct Case {
  const char *fn;
  double alpha;
  const char *torch; // of the float64 tensor x
  // PyTorch's Hardsigmoid gradient multiplies by 1/6 rounded to float, also
  // in float64.
  double gradTol = 1e-12;
};

// PyTorch's function of each row; hard_sigmoid at alpha 1/6 is PyTorch's
// Hardsigmoid (at 0.2, Keras 2's, it is the same clamp of a line).
const Case kCases[] = {
    {"exp", 0, "torch.exp(x)"},
    {"log", 0, "torch.log(x)"},
    {"sqrt", 0, "torch.sqrt(x)"},
    {"rsqrt", 0, "torch.rsqrt(x)"},
    {"abs", 0, "torch.abs(x)"},
    {"neg", 0, "torch.neg(x)"},
    {"reciprocal", 0, "torch.reciprocal(x)"},
    {"erf", 0, "torch.erf(x)"},
    {"softplus", 0, "F.softplus(x)"},
    {"softsign", 0, "F.softsign(x)"},
    {"elu", 1.0, "F.elu(x)"},
    {"elu", 0.5, "F.elu(x, alpha=0.5)"},
    {"selu", 0, "F.selu(x)"},
    {"silu", 0, "F.silu(x)"},
    {"hard_sigmoid", 1.0 / 6.0, "F.hardsigmoid(x)", 1e-7},
    {"hard_swish", 0, "F.hardswish(x)"},
    {"sin", 0, "torch.sin(x)"},
    {"cos", 0, "torch.cos(x)"},
    {"tan", 0, "torch.tan(x)"},
    {"asin", 0, "torch.asin(x)"},
    {"acos", 0, "torch.acos(x)"},
    {"atan", 0, "torch.atan(x)"},
    {"sinh", 0, "torch.sinh(x)"},
    {"cosh", 0, "torch.cosh(x)"},
    {"asinh", 0, "torch.asinh(x)"},
    {"acosh", 0, "torch.acosh(x)"},
    {"atanh", 0, "torch.atanh(x)"},
};

std::string attrs(double alpha) {
  if (alpha == 0)
    return "";
  char text[64];
  std::snprintf(text, sizeof(text), " {alpha = %.17e : f64}", alpha);
  return text;
}

/// Equal as PyTorch's float64: NaN for NaN, the same infinity, else within
/// `tol` relative.
void expectTorch(double got, double torch, double tol) {
  if (std::isnan(torch))
    EXPECT_TRUE(std::isnan(got)) << got;
  else if (std::isinf(torch))
    EXPECT_EQ(got, torch);
  else
    EXPECT_NEAR(got, torch, tol * std::max(1.0, std::fabs(torch)));
}

TEST(UnaryTorch, EveryFunctionAndGradientMatchPyTorch) {
  std::string script = "import torch\n"
                       "import torch.nn.functional as F\n"
                       "for f in [";
  for (const Case &c : kCases)
    script += std::string("lambda x: ") + c.torch + ", ";
  script += "]:\n"
            "    x = torch.linspace(-6, 6, " +
            std::to_string(kPoints) +
            ", dtype=torch.float64, requires_grad=True)\n"
            "    y = f(x)\n"
            "    (g,) = torch.autograd.grad(y.sum(), x)\n"
            "    for v in list(y.tolist()) + list(g.tolist()):\n"
            "        print(repr(v))\n";
  std::vector<double> torch;
  if (!runTorchScript(script, torch))
    GTEST_SKIP() << "PyTorch is not installed";
  constexpr size_t kCount = sizeof(kCases) / sizeof(kCases[0]);
  ASSERT_EQ(torch.size(), kCount * 2 * kPoints);

  // Every row of the table has a case.
  for (const nn::UnaryFnInfo &f : nn::unaryFns())
    EXPECT_TRUE(
        std::any_of(std::begin(kCases), std::end(kCases),
                    [&](const Case &c) { return std::string(c.fn) == f.name; }))
        << f.name << " has no PyTorch comparison";

  auto ctx = makeContext();
  std::string t = "tensor<" + std::to_string(kPoints) + "xf32>";
  Tensor x({kPoints});
  for (int i = 0; i < kPoints; ++i)
    x[i] = pointAt(i);
  for (size_t k = 0; k < kCount; ++k) {
    const Case &c = kCases[k];
    std::string fn = std::string("\"") + c.fn + "\"";
    auto module =
        parse(*ctx, "func.func @f(%x: " + t + ") -> (" + t + ", " + t +
                        ") {\n  %one = nn.constant 1.0 : " + t +
                        "\n  %y = nn.unary " + fn + " %x" + attrs(c.alpha) +
                        " : " + t + "\n  %g = nn.unary_grad " + fn +
                        " %one, %x" + attrs(c.alpha) + " : " + t +
                        "\n  return %y, %g : " + t + ", " + t + "\n}\n");
    ASSERT_TRUE(module);
    auto f = *module->getOps<mlir::func::FuncOp>().begin();
    auto results = valueOrFail(evaluate<double>(f, {Value64(x)}));
    ASSERT_EQ(results.size(), 2u);
    for (int r = 0; r < 2; ++r)
      for (int i = 0; i < kPoints; ++i) {
        SCOPED_TRACE(std::string(c.torch) + (r ? " gradient" : "") +
                     " at x = " + std::to_string(pointAt(i)));
        expectTorch(std::get<Tensor>(results[r])[i],
                    torch[(2 * k + r) * kPoints + i], r ? c.gradTol : 1e-12);
      }
  }
}

} // namespace
