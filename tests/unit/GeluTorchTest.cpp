//===- GeluTorchTest.cpp - nn.gelu and its gradient against PyTorch -------===//
//
// The reference kernels of nn.gelu and nn.gelu_grad (the oracle the JIT is
// compared with in JitOpsTest) against Debian's PyTorch in float64, both
// forms (approximate='none' and 'tanh'), on x from -6 to 6.
//
//===----------------------------------------------------------------------===//

#include "GradientCheck.h"
#include "TorchScript.h"

using namespace gradc;
using namespace gradc::test;

namespace {

constexpr int kPoints = 49;

double pointAt(int i) { return -6.0 + 12.0 * i / (kPoints - 1); }

TEST(GeluTorch, ForwardAndGradientMatchPyTorch) {
  std::string script = "import torch\n"
                       "x = torch.linspace(-6, 6, " +
                       std::to_string(kPoints) +
                       ", dtype=torch.float64, requires_grad=True)\n"
                       "for form in ('none', 'tanh'):\n"
                       "    y = torch.nn.functional.gelu(x, approximate=form)\n"
                       "    (g,) = torch.autograd.grad(y.sum(), x)\n"
                       "    for v in list(y.tolist()) + list(g.tolist()):\n"
                       "        print(repr(v))\n";
  std::vector<double> torch;
  if (!runTorchScript(script, torch))
    GTEST_SKIP() << "PyTorch is not installed";
  ASSERT_EQ(torch.size(), size_t(4 * kPoints));

  auto ctx = makeContext();
  std::string t = "tensor<" + std::to_string(kPoints) + "xf32>";
  auto module =
      parse(*ctx, "func.func @f(%x: " + t + ") -> (" + t + ", " + t + ", " + t +
                      ", " + t + ") {\n" + "  %one = nn.constant 1.0 : " + t +
                      "\n" + "  %y = nn.gelu %x : " + t + "\n" +
                      "  %g = nn.gelu_grad %one, %x : " + t + "\n" +
                      "  %ty = nn.gelu %x {approximate = true} : " + t + "\n" +
                      "  %tg = nn.gelu_grad %one, %x {approximate = "
                      "true} : " +
                      t + "\n" + "  return %y, %g, %ty, %tg : " + t + ", " + t +
                      ", " + t + ", " + t + "\n}\n");
  ASSERT_TRUE(module);
  Tensor x({kPoints});
  for (int i = 0; i < kPoints; ++i)
    x[i] = pointAt(i);
  auto fn = *module->getOps<mlir::func::FuncOp>().begin();
  auto results = valueOrFail(evaluate<double>(fn, {Value64(x)}));
  ASSERT_EQ(results.size(), 4u);
  for (int r = 0; r < 4; ++r)
    for (int i = 0; i < kPoints; ++i) {
      SCOPED_TRACE("result " + std::to_string(r) +
                   " at x = " + std::to_string(pointAt(i)));
      EXPECT_NEAR(std::get<Tensor>(results[r])[i], torch[r * kPoints + i],
                  1e-12);
    }
}

} // namespace
