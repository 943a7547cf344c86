//===- SoftmaxCrossEntropyTest.cpp - fused loss = softmax + cross-entropy -===//
//
// The fusion pass replaces cross_entropy(softmax(x)) by
// softmax_cross_entropy(x) before autodiff, so the two must agree in value
// and gradient wherever the unfused form is accurate, and the fused one
// must stay finite and exact where softmax underflows (logits of +-1e4),
// which is the point of fusing.
//
//===----------------------------------------------------------------------===//

#include "GradientCheck.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace gradc;
using namespace gradc::test;

namespace {

constexpr const char *kUnfused = R"mlir(
  func.func @f(%x: tensor<3x4xf32>, %l: tensor<3xi32>) -> tensor<f32> {
    %p = nn.softmax %x : tensor<3x4xf32>
    %loss = nn.cross_entropy %p, %l : (tensor<3x4xf32>, tensor<3xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  })mlir";

constexpr const char *kFused = R"mlir(
  func.func @f(%x: tensor<3x4xf32>, %l: tensor<3xi32>) -> tensor<f32> {
    %loss = nn.softmax_cross_entropy %x, %l : (tensor<3x4xf32>, tensor<3xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  })mlir";

/// Loss and d loss / d x of @f in `src`, by differentiateFunction, in T.
template <typename T>
std::pair<double, std::vector<double>>
lossAndGradient(const char *src, const std::vector<double> &x,
                std::vector<int32_t> labels, bool fuse = false) {
  auto ctx = makeContext();
  auto module = parse(*ctx, src);
  if (!module)
    return {};
  auto f = module->lookupSymbol<mlir::func::FuncOp>("f");
  if (fuse) {
    mlir::RewritePatternSet patterns(ctx.get());
    populateFuseSoftmaxCrossEntropyPatterns(patterns);
    EXPECT_TRUE(mlir::succeeded(
        mlir::applyPatternsAndFoldGreedily(f, std::move(patterns))));
    bool fused = false;
    f.walk([&](nn::SoftmaxCrossEntropyOp) { fused = true; });
    EXPECT_TRUE(fused) << "the fusion pattern did not apply";
  }
  EXPECT_TRUE(mlir::succeeded(differentiateFunction(f, {0})));
  auto results = valueOrFail(
      evaluate<T>(f, {HostTensor<T>({3, 4}, std::vector<T>(x.begin(), x.end())),
                      HostTensor<int32_t>({3}, std::move(labels))}));
  if (results.size() != 2)
    return {};
  auto &g = std::get<HostTensor<T>>(results[1]).data;
  return {double(std::get<HostTensor<T>>(results[0])[0]),
          std::vector<double>(g.begin(), g.end())};
}

TEST(SoftmaxCrossEntropy, FusedEqualsUnfusedInValueAndGradient) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-4, 4);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<double> x(12);
    for (double &v : x)
      v = u(rng);
    std::vector<int32_t> labels = {int32_t(rng() % 4), int32_t(rng() % 4),
                                   int32_t(rng() % 4)};
    auto [fusedLoss, fusedGrad] = lossAndGradient<double>(kFused, x, labels);
    auto [loss, grad] = lossAndGradient<double>(kUnfused, x, labels);
    auto [passLoss, passGrad] =
        lossAndGradient<double>(kUnfused, x, labels, /*fuse=*/true);
    EXPECT_NEAR(fusedLoss, loss, 1e-12);
    EXPECT_DOUBLE_EQ(passLoss, fusedLoss);
    ASSERT_EQ(fusedGrad.size(), 12u);
    ASSERT_EQ(grad.size(), 12u);
    ASSERT_EQ(passGrad.size(), 12u);
    for (int i = 0; i < 12; ++i) {
      EXPECT_NEAR(fusedGrad[i], grad[i], 1e-12) << "element " << i;
      EXPECT_DOUBLE_EQ(passGrad[i], fusedGrad[i]) << "element " << i;
    }
  }
}

TEST(SoftmaxCrossEntropy, FusedGradientMatchesFiniteDifferences) {
  CheckOptions opts;
  opts.lo = -5;
  opts.hi = 5;
  expectFunctionGradientsMatch(kFused, opts);
  expectFunctionGradientsMatch(kUnfused, opts);
}

/// Rows of logits at +-1e4, where softmax underflows to exact 0 and 1.
const std::vector<double> kLarge = {1e4,  -1e4, 0,   0,    // label 1
                                    -1e4, 1e4,  1e4, -1e4, // label 2
                                    1e4,  0,    0,   0};   // label 0
const std::vector<int32_t> kLargeLabels = {1, 2, 0};

template <typename T> void expectExactAtLargeLogits() {
  auto [loss, grad] = lossAndGradient<T>(kFused, kLarge, kLargeLabels);
  // Rows: lse - x[y] = 1e4 - (-1e4) = 2e4; 1e4 + log 2 - 1e4 = log 2; 0 (up
  // to exp(-1e4)). The batch mean:
  double expected = (2e4 + std::log(2.0)) / 3;
  EXPECT_TRUE(std::isfinite(loss));
  double tol = std::is_same_v<T, float> ? 2e-3 : 1e-9;
  EXPECT_NEAR(loss, expected, tol);
  // (softmax - onehot) / N.
  std::vector<double> expectedGrad = {1, -1, 0, 0, 0, 0.5, -0.5, 0, 0, 0, 0, 0};
  ASSERT_EQ(grad.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    EXPECT_TRUE(std::isfinite(grad[i])) << "element " << i;
    EXPECT_NEAR(grad[i], expectedGrad[i] / 3, 1e-7) << "element " << i;
  }
}

TEST(SoftmaxCrossEntropy, StaysFiniteAndExactAtLargeLogitsInDouble) {
  expectExactAtLargeLogits<double>();
}

TEST(SoftmaxCrossEntropy, StaysFiniteAndExactAtLargeLogitsInFloat) {
  expectExactAtLargeLogits<float>();
}

} // namespace
